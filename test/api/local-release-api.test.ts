import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseApiHandler } from '../../api/release-api.ts';
import { environmentNamed } from '../../config/environments.ts';
import { LOCAL_REGISTRY_HOST, type LocalImage } from '../../local/local-registry.ts';
import { ExecutionLog, LocalReleaseOperations } from '../../local/local-release-operations.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { eventually, invoke, releasePath, signedEvent } from './api-events.ts';
import { type ApiFixture, bakingEvents, CALLER, releaseApiContract, releasedRecord } from './release-api.contract.ts';

let dataDir: string;
let runtime: LocalRuntime;
let ops: LocalReleaseOperations;
let candidate: LocalImage;
let handler: ReturnType<typeof releaseApiHandler>;

const call: ApiFixture['call'] = (method, path, body, headers) =>
  invoke(handler, signedEvent(method, path, body, CALLER, headers));

const show = (id: string) => call('GET', `/releases/${id}`);

async function parkForApproval(): Promise<string> {
  await eventually(
    () => runtime.store.getLock('switchyard-api-prod#prod'),
    (lock) => lock === undefined,
  );
  const started = await call('POST', '/environments/prod/releases', { imageDigest: candidate.digest });
  expect(started.status).toBe(202);
  const id: string = started.body.releaseId;
  await eventually(
    () => show(id),
    (r) => {
      if (r.body.status !== 'running' && r.body.status !== 'starting')
        throw new Error(`${id} ended: ${r.body.lastEvent}`);
      return r.body.awaitingApproval !== null && r.body.currentState === 'Await approval';
    },
  );
  return id;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-api-'));
  const log = new ExecutionLog();
  runtime = openLocalRuntime({ dataDir, speedup: 1200, approvals: 'manual', onEvent: (id, e) => log.record(id, e) });
  ops = new LocalReleaseOperations(runtime, log);
  handler = releaseApiHandler(ops);
  const base = await runtime.registry.build('switchyard-api', { commit: 'base' });
  candidate = await runtime.registry.build('switchyard-api', { commit: 'candidate' });
  for (const env of ['dev', 'staging', 'prod']) await runtime.bootstrap(env, base);
});

afterAll(async () => {
  for (const [id] of runtime.executions) {
    if (ops.log.view(id)?.status === 'RUNNING') await ops.stopExecution(id);
  }
  await runtime.close();
  rmSync(dataDir, { recursive: true, force: true });
});

releaseApiContract('local runtime', () => ({
  call,
  get digest() {
    return candidate.digest;
  },
  get tag() {
    return candidate.tag;
  },
  parkForApproval,
  get store() {
    return runtime.store;
  },
  async markBaking(releaseId) {
    for (const event of bakingEvents()) await runtime.store.update(releaseId, {}, event);
  },
  async liveAheadOfBlue(environment) {
    const env = environmentNamed(environment);
    const { codeSha256 } = await runtime.functions.updateCodeAndWait(
      env.functionName,
      `${LOCAL_REGISTRY_HOST}/${env.repositoryName}@${candidate.digest}`,
    );
    const version = await runtime.functions.publishVersion(env.functionName, 'contract', codeSha256);
    await runtime.functions.updateAlias(env.functionName, env.aliases.live, version.version);
    await runtime.store.createRelease(
      releasedRecord(
        env,
        version.version,
        `${LOCAL_REGISTRY_HOST}/${env.repositoryName}@${candidate.digest}`,
        candidate.digest,
      ),
    );
  },
}));

describe('the release API on the local runtime', () => {
  it('GET /environments reports the live, blue and green aliases of each environment as they are', async () => {
    const reply = await call('GET', '/environments');
    expect(reply.status).toBe(200);
    for (const name of ['dev', 'staging', 'prod']) {
      const env = environmentNamed(name);
      const alias = (a: string) => runtime.functions.getAlias(env.functionName, a);
      const live = await alias(env.aliases.live);
      expect(reply.body.environments.find((e: { name: string }) => e.name === name)).toMatchObject({
        functionName: env.functionName,
        live: { version: live?.version },
        blue: (await alias(env.aliases.blue))?.version,
        green: (await alias(env.aliases.green))?.version,
      });
      expect(live?.version).toMatch(/^\d+$/);
    }
  });

  it('serves the input and output of each state on /steps, and keeps them out of the release detail', async () => {
    const id = await parkForApproval();
    const reply = await call('GET', `/releases/${id}/steps`);
    expect(reply.status).toBe(200);
    const validate = reply.body.steps.find((s: { name: string }) => s.name === 'Validate release');
    expect(validate.input.request).toMatchObject({ trigger: 'api', imageDigest: expect.stringMatching(/^sha256:/) });
    expect(validate.output.release).toMatchObject({
      environment: 'prod',
      targets: [expect.objectContaining({ blueVersion: expect.any(String) })],
    });
    const detail = await show(id);
    expect(detail.body.steps.find((s: { name: string }) => s.name === 'Validate release')).not.toHaveProperty('output');
    expect((await call('GET', '/releases/rel-prod-nope/steps')).status).toBe(404);
    await call('POST', `${releasePath(id)}/abort`, { reason: 'test cleanup' });
  });

  it('retries an aborted release as a new release of the same digest, linked to it, once', async () => {
    const id = await parkForApproval();
    const running = await call('POST', `${releasePath(id)}/retry`, {});
    expect([running.status, running.body.message]).toEqual([
      409,
      `release ${id} is running; only a failed, rolled-back or aborted release is retried`,
    ]);
    await call('POST', `${releasePath(id)}/abort`, { reason: 'wrong window' });
    const retried = await call('POST', `${releasePath(id)}/retry`, { reason: 'window open now' });
    expect(retried.status).toBe(202);
    expect(retried.body.releaseId).toBe(`${id}-retry`);
    const original = await show(id);
    const retry = await eventually(
      () => show(`${id}-retry`),
      (r) => r.body.status === 'running' && r.body.digest !== null,
    );
    expect(retry.body).toMatchObject({ environment: 'prod', digest: original.body.digest });
    const validated = retry.body.events.find((e: { kind: string }) => e.kind === 'validated');
    expect(validated.summary).toContain(`; retry of ${id}`);
    expect(validated.evidence).toMatchObject({ retryOf: id, requestReason: `retry of ${id}: window open now` });
    const again = await call('POST', `${releasePath(id)}/retry`, {});
    expect([again.status, again.body.replayed]).toEqual([200, true]);
    await eventually(
      () => show(`${id}-retry`),
      (r) => r.body.awaitingApproval !== null,
    );
    await call('POST', `${releasePath(`${id}-retry`)}/abort`, { reason: 'test cleanup' });
  });

  it('aborts: the execution stops, the record is reconciled and the lock is free', async () => {
    const id = await parkForApproval();
    expect((await call('POST', `${releasePath(id)}/abort`, { reason: 'change freeze' })).status).toBe(202);
    const shown = await show(id);
    expect(shown.body).toMatchObject({ status: 'aborted', executionStatus: 'ABORTED' });
    expect(shown.body.events.map((e: { kind: string }) => e.kind)).toEqual(
      expect.arrayContaining(['abort-requested', 'reconciled']),
    );
    expect(await runtime.store.getLock('switchyard-api-prod#prod')).toBeUndefined();
  });

  it('a rejected release fails before traffic moves', async () => {
    const id = await parkForApproval();
    await call('POST', `${releasePath(id)}/reject`, { reason: 'not today' });
    const done = await eventually(
      () => show(id),
      (r) => r.body.status !== 'running',
    );
    expect(done.body.status).toBe('failed');
    expect(done.body.steps.map((s: { name: string }) => s.name)).not.toContain('Shift traffic');
  });

  it('promotes a released dev digest to staging by the same digest, once', async () => {
    const started = await call('POST', '/environments/dev/releases', {
      imageTag: candidate.tag,
      idempotencyKey: 'ci-build-42',
    });
    const id: string = started.body.releaseId;
    const done = await eventually(
      () => show(id),
      (r) => r.body.status !== 'running' && r.body.status !== 'starting',
    );
    expect(done.body.status).toBe('released');
    // No load runs here, so dev went live with a warning (too little traffic): promotion needs it accepted.
    const held = await call('POST', `/environments/staging/promotions/${id}`, { reason: 'dev is green' });
    expect(held.status).toBe(409);
    expect(held.body.message).toContain('went live with warnings');
    const promoted = await call('POST', `/environments/staging/promotions/${id}`, {
      reason: 'dev is green',
      acceptWarnings: true,
    });
    expect(promoted.status).toBe(202);
    // Named after the environment it releases into, first: rel-staging-from-dev-….
    const promotionId = `rel-staging-from-${id.slice('rel-'.length)}`;
    expect(promoted.body).toMatchObject({
      releaseId: promotionId,
      environment: 'staging',
      imageDigest: candidate.digest,
    });
    const again = await call('POST', `/environments/staging/promotions/${id}`, { acceptWarnings: true });
    expect(again.body).toMatchObject({ releaseId: promotionId, replayed: true });
    // Promoting into prod is a prod route: the same dev release has no promotion there.
    const skipping = await call('POST', `/environments/prod/promotions/${id}`, { acceptWarnings: true });
    expect([skipping.status, skipping.body.message]).toEqual([409, 'dev promotes to staging, not prod']);
  });
  // Last: once released, the candidate is live in prod and cannot be released there again.
  it('takes an approved, fast-forwarded prod release to Released; prod promotes nowhere', async () => {
    const id = await parkForApproval();
    // Asked before traffic moves, so the first Check health honours it (no load runs here: without it the canary
    // would be judged inconclusive and prod rolls back).
    expect((await call('POST', `${releasePath(id)}/fast-forward`, { reason: 'ship it' })).status).toBe(202);
    expect((await call('POST', `${releasePath(id)}/approve`, {})).status).toBe(200);
    // Finalize ends the record before the execution reaches Released: wait for both.
    const done = await eventually(
      () => show(id),
      (r) => r.body.status !== 'running' && r.body.executionStatus !== 'RUNNING',
    );
    expect(done.body).toMatchObject({ status: 'released', executionStatus: 'SUCCEEDED' });
    expect(done.body.steps.map((s: { name: string }) => s.name)).toEqual(
      expect.arrayContaining(['Await approval', 'Shift traffic', 'Check health', 'Finalize', 'Released']),
    );
    expect(done.body.healthChecks.length).toBeGreaterThan(0);
    expect(done.body.healthChecks[0]).toMatchObject({ maxErrorRatePercent: 1, evidence: expect.any(Object) });
    const next = await call('POST', `/environments/prod/promotions/${id}`, {});
    expect(next.status).toBe(409);
    expect(next.body.message).toContain('promotes to no other environment');
  });
});
