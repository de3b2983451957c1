import { describe, expect, it } from 'vitest';
import { decideApproval, requestApproval } from '../../../core/approval.ts';
import { checkHealth } from '../../../core/check-health.ts';
import { finalize, rollBack } from '../../../core/conclude-release.ts';
import { judgeSample } from '../../../core/decide.ts';
import { deployGreen } from '../../../core/deploy-green.ts';
import { reconcileStoppedExecution } from '../../../core/reconcile.ts';
import { shiftTraffic } from '../../../core/shift-traffic.ts';
import { validateRelease } from '../../../core/validate-release.ts';
import { environmentsWith } from '../../support/environments.ts';
import { ReleaseWorld } from '../../workflow/harness.ts';

async function started(world: ReleaseWorld, request: Record<string, unknown> = {}) {
  const release = await validateRelease(world.apiRequest(request), { name: 'rel-1', arn: 'arn:rel-1' }, world.deps);
  const target = release.targets[0];
  if (!target) throw new Error('no target');
  const green = await deployGreen(release, target, world.deps);
  return { release, green, greens: [green] };
}

describe('a step still in flight when its release was stopped', () => {
  it('Shift traffic takes its move back once it sees the release was reconciled', async () => {
    const world = await new ReleaseWorld().seed();
    const { release, greens } = await started(world);
    await world.store.update('rel-1', { status: 'aborted' });
    await expect(shiftTraffic(release, greens, 0, undefined, world.deps)).rejects.toThrow(
      'release rel-1 was stopped while traffic moved; live restored',
    );
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  });

  it('Roll back leaves live alone when someone else moved it, and keeps a closed record closed', async () => {
    const world = await new ReleaseWorld().seed();
    const { release, greens } = await started(world);
    const { codeSha256 } = await world.functions.updateCodeAndWait(world.functionName, 'repo@sha256:third');
    const third = await world.functions.publishVersion(world.functionName, 'hotfix', codeSha256);
    await world.functions.updateAlias(world.functionName, 'live', third.version);
    await world.store.update('rel-1', { status: 'aborted' });

    const outcome = await rollBack(release, greens, undefined, { Error: 'ReleaseNotRunning' }, world.deps);
    expect(outcome.live).toEqual({ version: third.version });
    expect(await world.live()).toEqual({ name: 'live', version: third.version });
    expect(await world.store.getRelease('rel-1')).toMatchObject({ status: 'aborted' });
  });

  it('Roll back frees the lock even when the store refuses the record write', async () => {
    const world = await new ReleaseWorld().seed();
    const { release, green, greens } = await started(world);
    await world.functions.updateAlias(world.functionName, 'live', green.version);
    const refusing = Object.assign(Object.create(world.store) as typeof world.store, {
      update: async () => {
        throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
          name: 'ValidationException',
        });
      },
    });

    await expect(
      rollBack(release, greens, undefined, { Error: 'Unhealthy' }, { ...world.deps, store: refusing }),
    ).rejects.toThrow('Item size has exceeded');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
  });
});

describe('Finalize and a stop racing for the record', () => {
  const stopped = { name: 'rel-1', executionArn: 'arn:rel-1', status: 'ABORTED' as const };

  it('a stop that lands while Finalize sets blue finds the release done: live stays on green, the record says released', async () => {
    const world = await new ReleaseWorld().seed();
    const { release, green, greens } = await started(world);
    await world.functions.updateAlias(world.functionName, 'live', green.version);
    // The stop's reconcile runs while Finalize is between its steps (here: setting the blue alias).
    const ensureAlias = world.functions.ensureAlias.bind(world.functions);
    let reconciled: Awaited<ReturnType<typeof reconcileStoppedExecution>> | undefined;
    const functions = Object.assign(Object.create(world.functions) as typeof world.functions, {
      ensureAlias: async (name: string, alias: string, version: string) => {
        reconciled ??= await reconcileStoppedExecution(stopped, world.deps);
        return ensureAlias(name, alias, version);
      },
    });
    await finalize(release, greens, undefined, { ...world.deps, functions });
    expect(reconciled?.actions).not.toContain('closed the release record as aborted');
    expect(await world.store.getRelease('rel-1')).toMatchObject({ status: 'released' });
    expect(await world.live()).toEqual({ name: 'live', version: green.version });
    expect(await world.lock()).toBeUndefined();
  });

  it('a stop whose reconcile ended the record first wins: Finalize writes nothing and live is back on blue', async () => {
    const world = await new ReleaseWorld().seed();
    const { release, green, greens } = await started(world);
    await world.functions.updateAlias(world.functionName, 'live', green.version);
    await reconcileStoppedExecution(stopped, world.deps);
    await expect(finalize(release, greens, undefined, world.deps)).rejects.toThrow(
      'release rel-1 was stopped (aborted); finalize skipped',
    );
    const record = await world.store.getRelease('rel-1');
    expect(record?.status).toBe('aborted');
    expect(record?.events.map((e) => e.kind)).not.toContain('released');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  });
});

describe('health judgement', () => {
  const thresholds = { maxErrorRatePercent: 1, minInvocations: 50, maxErrors: 10, alarms: [] };

  it('judges a busy service on its rate: 0.1% background errors are healthy however many they are', () => {
    const sample = { invocations: 20_000, errors: 20, throttles: 0, p99DurationMs: 120 };
    expect(judgeSample(sample, thresholds, []).verdict).toBe('healthy');
  });

  it('applies the absolute error limit where traffic is too low to judge a rate', () => {
    const sample = { invocations: 30, errors: 12, throttles: 0, p99DurationMs: 120 };
    expect(judgeSample(sample, thresholds, [])).toEqual({
      verdict: 'unhealthy',
      reasons: ['12 errors reach the limit of 10 on too little traffic to judge a rate'],
    });
  });

  it('finalizes a step with enough traffic overall even when its last window was quiet', async () => {
    const world = await new ReleaseWorld().seed();
    const { release, green, greens } = await started(world, { strategy: { kind: 'all-at-once' } });
    const shifted = await shiftTraffic(release, greens, 0, undefined, world.deps);
    const start = world.clock.now().getTime();
    for (let i = 0; i < 100; i++) {
      world.metrics.record({
        functionName: world.functionName,
        resource: 'live',
        version: green.version,
        at: new Date(start + 30_000 + i * 100),
        durationMs: 20,
        error: false,
        throttled: false,
      });
    }
    world.clock.advance(600);
    const lastCheckAt = new Date(world.clock.now().getTime() - 60_000).toISOString();
    let checked = await checkHealth(
      release,
      greens,
      { ...shifted, bakedSeconds: 540, waitSeconds: 60, lastCheckAt },
      world.deps,
    );
    // The bake is over, but its last minutes are judged only once their data is complete (metric delay).
    expect(checked.next).toBe('bake');
    for (let turn = 0; turn < 3 && checked.next === 'bake'; turn++) {
      world.clock.advance(checked.waitSeconds);
      checked = await checkHealth(release, greens, checked, world.deps);
    }
    expect(checked.lastCheck?.sample.invocations).toBe(0);
    expect(checked.lastCheck?.step.invocations).toBe(100);
    expect(checked.next).toBe('finalize');
    // The evidence says what the step was judged on, apart from the quiet window.
    expect(checked.lastCheck?.reasons).toEqual([
      expect.stringMatching(
        /^final window \d\d:\d\d:00–\d\d:\d\d:00: 0 invocations, fewer than the 50 needed to judge$/,
      ),
      `over the whole ${shifted.bakeSeconds / 60}-minute step: error rate 0.00% over 100 invocations`,
    ]);
  });

  it('does not fail a step that has no bake of its own for lack of traffic', async () => {
    const world = await new ReleaseWorld({ traffic: () => ({ invocations: 2, errors: 0 }) }).seed();
    const { release, greens } = await started(world, { strategy: { kind: 'all-at-once' } });
    const shifted = await shiftTraffic(release, greens, 0, { warnings: [], fastForwarded: true }, world.deps);
    expect(shifted.bakeSeconds).toBe(0);
    const checked = await checkHealth(release, greens, shifted, world.deps);
    expect(checked.next).toBe('finalize');
  });
});

describe('strategy overrides keep to the environment', () => {
  it('refuses a canary where the environment has no blue-green', async () => {
    const world = await new ReleaseWorld({ environment: 'dev' }).seed();
    await expect(
      validateRelease(
        world.apiRequest({ strategy: { kind: 'canary', percent: 10, bakeMinutes: 1 } }),
        { name: 'rel-1', arn: 'arn' },
        world.deps,
      ),
    ).rejects.toThrow(
      'the requested strategy cannot run in dev: an environment without blue-green must use the all-at-once strategy',
    );
    expect(await world.lock()).toBeUndefined();
  });

  it('refuses a schedule that would outlast the release window (the lock)', async () => {
    const world = await new ReleaseWorld().seed();
    await expect(
      validateRelease(
        world.apiRequest({ strategy: { kind: 'linear', percentPerStep: 10, minutesPerStep: 10 } }),
        { name: 'rel-1', arn: 'arn' },
        world.deps,
      ),
    ).rejects.toThrow(
      'the requested strategy cannot run in prod: it needs a 205-minute release window (bakes, approval and margin), ' +
        'longer than the 120-minute lock',
    );
    expect(await world.lock()).toBeUndefined();
  });
});

describe('the alarms a release watches', () => {
  it('refuses to start when a watched alarm does not exist, naming it, and takes no lock', async () => {
    const world = await new ReleaseWorld().seed();
    world.alarms.delete('switchyard-api-prod-latency');
    await expect(validateRelease(world.apiRequest(), { name: 'rel-1', arn: 'arn' }, world.deps)).rejects.toThrow(
      'prod watches CloudWatch alarms that do not exist: switchyard-api-prod-latency (health.alarms)',
    );
    expect(await world.lock()).toBeUndefined();
  });

  it('watches every configured alarm when they all exist', async () => {
    const world = await new ReleaseWorld().seed();
    const release = await validateRelease(world.apiRequest(), { name: 'rel-1', arn: 'arn' }, world.deps);
    expect(release.health.alarms).toEqual([
      'switchyard-api-prod-5xx',
      'switchyard-api-prod-errors',
      'switchyard-api-prod-latency',
    ]);
  });
});

describe('answering an approval', () => {
  it('keeps the token when Step Functions could not be reached, so the operator can answer again', async () => {
    const world = await new ReleaseWorld({ environments: environmentsWith('prod', {}) }).seed();
    const { release, greens } = await started(world);
    await requestApproval(release, greens, 'token-1', world.deps);
    const flaky = {
      succeed: async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
      fail: async () => undefined,
    };
    const deps = { store: world.store, clock: world.clock };
    await expect(decideApproval('rel-1', { approved: true, by: 'a' }, { ...deps, tasks: flaky })).rejects.toThrow(
      'Rate exceeded',
    );
    const answered: string[] = [];
    const working = { succeed: async (token: string) => void answered.push(token), fail: async () => undefined };
    await decideApproval('rel-1', { approved: true, by: 'a' }, { ...deps, tasks: working });
    expect(answered).toEqual(['token-1']);
  });
});
