import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { restProxyEvent } from '../../core/api-gateway-event.ts';
import { singleTarget } from '../../core/ports.ts';
import { LocalGateway } from '../../local/gateway.ts';
import { fleetRehearsalEnvironments } from '../../local/rehearsal.ts';
import type { LocalRuntime, LocalRuntimeOptions } from '../../local/runtime.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { openLocalRuntime } from '../../wiring/local.ts';

const opened: { runtime: LocalRuntime; dir: string }[] = [];
function runtime(options: LocalRuntimeOptions = {}, dir = mkdtempSync(join(tmpdir(), 'sy-'))) {
  const rt = openLocalRuntime({ dataDir: dir, speedup: 600, ...options });
  opened.push({ runtime: rt, dir });
  return rt;
}
afterEach(async () => {
  for (const { runtime: rt, dir } of opened.splice(0)) {
    await rt.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

async function twoVersions(rt: LocalRuntime) {
  const one = await rt.registry.build('switchyard-api', { commit: 'one' });
  await rt.bootstrap('prod', one);
  const two = await rt.registry.build('switchyard-api', { commit: 'two' });
  const fn = 'switchyard-api-prod';
  const { codeSha256 } = await rt.functions.updateCodeAndWait(
    fn,
    `000000000000.dkr.ecr.local.amazonaws.com/switchyard-api@${two.digest}`,
  );
  await rt.functions.publishVersion(fn, 'second', codeSha256);
  return fn;
}

describe('the local Lambda', () => {
  it('logs the workers of many versions into one file without piling listeners on it', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const rt = runtime();
      const images = [
        await rt.registry.build('switchyard-api', { commit: 'one' }),
        await rt.registry.build('switchyard-api', { commit: 'two' }),
      ];
      await rt.bootstrap('prod', images[0] as (typeof images)[0]);
      const fn = 'switchyard-api-prod';
      const health = restProxyEvent({ method: 'GET', path: '/health', body: '', query: {}, headers: {} });
      for (let i = 0; i < 7; i++) {
        const image = images[(i + 1) % 2] as (typeof images)[0];
        const uri = `000000000000.dkr.ecr.local.amazonaws.com/switchyard-api@${image.digest}`;
        const { codeSha256 } = await rt.functions.updateCodeAndWait(fn, uri);
        const { version } = await rt.functions.publishVersion(fn, `v${i}`, codeSha256);
        expect((await rt.functions.invoke(fn, version, health, 10_000)).statusCode).toBe(200);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, 60_000);

  it("writes each invocation's log and EMF lines to the log file before its reply, per version, none lost", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-'));
    const rt = runtime({}, dir);
    const fn = await twoVersions(rt);
    const health = restProxyEvent({ method: 'GET', path: '/health', body: '', query: {}, headers: {} });
    const emfVersions = () =>
      readFileSync(join(dir, 'lambda.log'), 'utf8')
        .split('\n')
        .filter((line) => line.includes('"CloudWatchMetrics"'))
        .map((line) => (JSON.parse(line) as { FunctionVersion: string }).FunctionVersion);
    for (const version of ['1', '2', '1']) {
      expect((await rt.functions.invoke(fn, version, health, 10_000)).statusCode).toBe(200);
    }
    // Read right after the replies, with no wait: each reply comes after its lines are written.
    expect(emfVersions()).toEqual(['1', '2', '1']);
    const served = readFileSync(join(dir, 'lambda.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"request served"'));
    expect(served).toHaveLength(3);
    await rt.close();
    expect(emfVersions()).toEqual(['1', '2', '1']);
  }, 60_000);

  it('runs each version in its own worker: module state never leaks between versions', async () => {
    const rt = runtime();
    const fn = await twoVersions(rt);
    const body = JSON.stringify({
      customerId: 'c-1',
      currency: 'EUR',
      items: [{ sku: 'SKU-1', quantity: 1, unitPriceCents: 5 }],
    });
    const post = { method: 'POST', path: '/orders', body, query: {}, headers: { 'content-type': 'application/json' } };
    const signed = async (request: typeof post) => ({
      ...request,
      headers: { ...request.headers, ...(await rt.smokeSigner.sign(request)) },
    });
    const created = await rt.functions.invoke(fn, '1', restProxyEvent(await signed(post)), 5000);
    expect((created.payload as { statusCode: number }).statusCode).toBe(201);
    const list = { ...post, method: 'GET', body: '', headers: { 'content-type': 'application/json' } };
    const onOne = await rt.functions.invoke(fn, '1', restProxyEvent(await signed(list)), 5000);
    const onTwo = await rt.functions.invoke(fn, '2', restProxyEvent(await signed(list)), 5000);
    const count = (r: { payload: unknown }) => (JSON.parse((r.payload as { body: string }).body) as unknown[]).length;
    // Both start from the same seed orders; only version 1 saw the new one.
    expect(count(onOne)).toBe(count(onTwo) + 1);
    const health = await rt.functions.invoke(fn, '2', restProxyEvent({ method: 'GET', path: '/health' }), 5000);
    expect(JSON.parse((health.payload as { body: string }).body)).toMatchObject({ version: '2' });
  });

  it('routes live by weight through the gateway and records per-version metrics under the alias', async () => {
    const rt = runtime();
    const fn = await twoVersions(rt);
    await rt.functions.updateAlias(fn, 'live', '1', { version: '2', weight: 0.5 });
    const gateway = new LocalGateway({ functions: rt.functions, functionName: fn, alias: 'live' });
    const url = await gateway.start();
    try {
      for (let i = 0; i < 60; i++) expect((await fetch(`${url}/version`)).status).toBe(200);
    } finally {
      await gateway.stop();
    }
    const byVersion = (v: string) => rt.metrics.all().filter((p) => p.resource === 'live' && p.version === v).length;
    expect(byVersion('1') + byVersion('2')).toBe(60);
    expect(byVersion('1')).toBeGreaterThan(10);
    expect(byVersion('2')).toBeGreaterThan(10);
  });
});

/** Version 1 live in prod, and a release of a second build started through the API's input. */
async function prodRelease(rt: LocalRuntime) {
  const base = await rt.registry.build('switchyard-api', { commit: 'base' });
  await rt.bootstrap('prod', base);
  const next = await rt.registry.build('switchyard-api', { commit: 'next' });
  return rt.startRelease({ trigger: 'api', environment: 'prod', imageDigest: next.digest, requestedBy: 't' });
}

describe('stopping a release', () => {
  it('an aborted release is reconciled: live back on blue, record closed, lock freed', async () => {
    const rt = runtime({ approvals: 'auto' });
    const release = await prodRelease(rt);
    // Wait until the canary has moved live, then abort mid-bake.
    for (let i = 0; i < 1000; i++) {
      const live = await rt.functions.getAlias('switchyard-api-prod', 'live');
      if (live?.routing) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await rt.functions.getAlias('switchyard-api-prod', 'live'))?.routing).toEqual({
      version: '2',
      weight: 0.1,
    });
    await rt.abort(release.releaseId);
    const result = await release.result;
    expect(result.status).toBe('ABORTED');
    expect(await rt.functions.getAlias('switchyard-api-prod', 'live')).toEqual({ name: 'live', version: '1' });
    expect(await rt.store.getRelease(release.releaseId)).toMatchObject({ status: 'aborted' });
    expect(await rt.store.getLock('switchyard-api-prod#prod')).toBeUndefined();
    expect(result.events.map((e) => e.state)).toContain(STATES.bake);
  });

  it('an approval nobody answers fails safe when its window closes on the scaled clock', async () => {
    // ×3600: prod's 60-minute approval window closes after one real second, long before its lock could expire.
    const rt = runtime({ approvals: 'manual', speedup: 3600 });
    const release = await prodRelease(rt);
    const result = await release.result;
    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain('States.Timeout');
    expect(await rt.functions.getAlias('switchyard-api-prod', 'live')).toEqual({ name: 'live', version: '1' });
    expect(await rt.store.getLock('switchyard-api-prod#prod')).toBeUndefined();
    await expect(rt.approve(release.releaseId, 'late')).rejects.toThrow('is not waiting for approval');
  });

  it('frees a lock a stopped process left behind when the runtime starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-'));
    const first = runtime({}, dir);
    const now = new Date();
    await first.store.createRelease({
      releaseId: 'rel-orphan',
      executionArn: 'arn:local:rel-orphan',
      environment: 'prod',
      targets: singleTarget({ functionName: 'switchyard-api-prod', blueVersion: '1' }),
      imageUri: 'x@sha256:1',
      digest: 'sha256:1',
      status: 'running',
      startedAt: now.toISOString(),
      trigger: 'api:t',
      events: [],
    });
    await first.store.acquireLock(
      'switchyard-api-prod#prod',
      {
        releaseId: 'rel-orphan',
        executionArn: 'arn:local:rel-orphan',
        acquiredAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
      },
      now,
    );
    await first.close();
    opened.splice(0);
    const second = runtime({}, dir);
    expect(await second.reconcileLeftovers()).toEqual(['rel-orphan']);
    expect(await second.store.getLock('switchyard-api-prod#prod')).toBeUndefined();
    expect(await second.store.getRelease('rel-orphan')).toMatchObject({ status: 'aborted' });
  });
});

describe('the local ECR event rule', () => {
  it('two deliveries of one push event start one release and record one duplicate', async () => {
    const rt = runtime({ approvals: 'auto' });
    const base = await rt.registry.build('switchyard-api', { commit: 'base' });
    await rt.bootstrap('dev', base);
    const next = await rt.registry.build('switchyard-api', { commit: 'next' });
    const event = rt.registry.pushEvent(next, rt.clock.now());
    const started = [...rt.onImageEvent(event), ...rt.onImageEvent(event)];
    expect(started).toHaveLength(2);
    const results = await Promise.all(started.map((s) => s.result));
    const ends = results.map((r) => r.events.filter((e) => e.type === 'StateEntered').at(-1)?.state).sort();
    expect(ends).toEqual([STATES.duplicate, STATES.released].sort());
    const releases = (await rt.store.listReleases({ environment: 'dev' })).releases.filter(
      (r) => r.trigger !== 'rehearsal:first-release',
    );
    expect(releases).toHaveLength(1);
    expect(releases[0]?.status).toBe('released');
    const copy = started.find((s) => s.releaseId !== releases[0]?.releaseId)?.releaseId;
    const delivery = await rt.store.recordDelivery(
      `ecr-push#dev#${String(event.id)}`,
      releases[0]?.releaseId ?? '',
      '',
    );
    expect(delivery.duplicates).toEqual([copy]);
    // One alert, for the release; none for the copy.
    expect(rt.notifier.sent.map((n) => n.releaseId)).toEqual([releases[0]?.releaseId]);
  }, 60_000);

  it("starts a fleet environment's release from the push once its members are set up", async () => {
    const rt = runtime({ environments: fleetRehearsalEnvironments('dev', 2) });
    const next = await rt.registry.build('switchyard-api', { commit: 'next' });
    // No member set up yet: nothing on this machine to release into.
    expect(rt.onImageEvent(rt.registry.pushEvent(next, rt.clock.now()))).toEqual([]);
    await rt.bootstrap('dev', await rt.registry.build('switchyard-api', { commit: 'base' }));
    const started = rt.onImageEvent(rt.registry.pushEvent(next, rt.clock.now()));
    expect(started.map((s) => s.releaseId)).toEqual([expect.stringMatching(/^rel-dev-/)]);
    for (const s of started) await rt.abort(s.releaseId);
  }, 60_000);
});

describe('one clock for the timeline', () => {
  it('execution steps are stamped on the same (scaled) clock as the release events', async () => {
    const seen: number[] = [];
    const rt = runtime({ approvals: 'auto', speedup: 600, onEvent: (_id, event) => seen.push(event.at) });
    const release = await prodRelease(rt);
    await release.result;
    const record = await rt.store.getRelease(release.releaseId);
    const started = Date.parse(record?.startedAt ?? '');
    const ended = Date.parse(record?.endedAt ?? '');
    // The canary's bake alone takes 5 virtual minutes: on one clock the last step ends with the release, not
    // minutes before it.
    expect(ended - started).toBeGreaterThan(4 * 60_000);
    expect(Math.max(...seen)).toBeGreaterThanOrEqual(ended - 60_000);
    expect(Math.min(...seen)).toBeLessThanOrEqual(started + 60_000);
  }, 60_000);
});

describe('a local runtime that restarts on its data directory', () => {
  it('still knows the images and tags pushed before the restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-'));
    const first = runtime({}, dir);
    const image = await first.registry.build('switchyard-api', { commit: 'before-restart' });
    await first.close();
    const second = runtime({}, dir);
    expect(await second.imageIndex.digestExists('switchyard-api', image.digest)).toBe(true);
    expect(await second.imageIndex.resolveTag('switchyard-api', 'git-before-restart')).toBe(image.digest);
  });

  it('reconciles a release killed during its canary: live was split onto green and goes back to blue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-'));
    const killed = runtime({ approvals: 'auto', speedup: 60, resume: true }, dir);
    const release = await prodRelease(killed);
    for (let i = 0; i < 1000; i++) {
      if ((await killed.functions.getAlias('switchyard-api-prod', 'live'))?.routing) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await killed.functions.getAlias('switchyard-api-prod', 'live'))?.routing).toMatchObject({ weight: 0.1 });

    // A new process on the same data directory, while the old one is gone (it never ran its own reconcile): the
    // kernel drops a dead process's lock on the directory, as this does. (test/local/kill-nine.test.ts kills for real.)
    killed.ownerLock.release();
    const restarted = runtime({ approvals: 'auto', speedup: 60, resume: true }, dir);
    expect(await restarted.reconcileLeftovers()).toEqual([release.releaseId]);
    expect(await restarted.functions.getAlias('switchyard-api-prod', 'live')).toEqual({ name: 'live', version: '1' });
    const record = await restarted.store.getRelease(release.releaseId);
    expect(record?.status).toBe('aborted');
    const reconciled = record?.events.find((e) => e.kind === 'reconciled')?.summary;
    expect(reconciled).toContain('restored live to verified version 1');
    expect(reconciled).not.toContain('was not moved');
    killed.executions.get(release.releaseId)?.abort();
    await release.result.catch(() => undefined);
  }, 60_000);
});
