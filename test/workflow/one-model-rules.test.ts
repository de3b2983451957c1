/**
 * The rules one target and a fleet share (docs/architecture.md, "One release model: the rules both shapes share"):
 * each is a point where the two shapes once behaved differently. The fast-forward rule (the check that acts on a
 * request names it) is held in release-workflow.test.ts, where the fast-forward scenario runs in both shapes.
 */
import { describe, expect, it } from 'vitest';
import { STATES } from '../../state-machine/state-names.ts';
import { environmentsWith, ONE_MINUTE_BAKE } from '../support/environments.ts';
import { FleetWorld, fleetEnvironments, memberFunction } from './fleet-harness.ts';
import { DIGEST_BLUE, ReleaseWorld } from './harness.ts';

const THREE = ['m1', 'm2', 'm3'];

describe('an alert goes out on the turn to an alerting verdict, once per target, named for what was seen', () => {
  it('a fleet member that stays unhealthy from its wave to the next, with auto-rollback off, alerts once', async () => {
    const world = await new FleetWorld({ errorRate: { m2: 0.08 } }, THREE, {
      patch: { onUnhealthy: 'alert', bake: ONE_MINUTE_BAKE },
    }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));
    expect(result.status).toBe('SUCCEEDED');
    expect(world.notifier.sent.map((n) => n.outcome)).toEqual([
      'approval-requested',
      'unhealthy-alert',
      'released-with-warnings',
    ]);
  });

  it('a fleet member whose blue fails as badly as its green alerts as an unhealthy environment, once', async () => {
    // m2's canary: green fails half its requests, and so does blue beside it: the environment, not the release.
    const world = await new FleetWorld({ errorRate: { m2: 0.5 }, perCheck: 1000 }, THREE, {
      patch: { bake: ONE_MINUTE_BAKE },
    }).seed();
    const handlers = world.handlers();
    const check = handlers[STATES.check];
    handlers[STATES.check] = async (input) => {
      const live = await world.memberLive('m2');
      if (live?.routing) {
        const seconds = (input as { traffic: { waitSeconds: number } }).traffic.waitSeconds;
        const start = world.clock.now().getTime();
        // Blue's 900 healthy requests of the check and 1200 failing ones: blue fails more than green's half.
        for (let i = 0; i < 1200; i++) {
          world.metrics.record({
            functionName: memberFunction('m2'),
            resource: 'live',
            version: live.version,
            at: new Date(start + ((i + 1) / 1201) * seconds * 1000),
            durationMs: 40,
            error: true,
            throttled: false,
          });
        }
      }
      return check?.(input);
    };
    await world.run(world.apiRequest(), { handlers });
    const outcomes = world.notifier.sent.map((n) => n.outcome);
    expect(outcomes.filter((o) => o === 'environment-unhealthy-alert')).toHaveLength(1);
    expect(outcomes).not.toContain('unhealthy-alert');
    // Not counted healthy either: of wave 2's two members only m1 (moved in wave 1) is healthy at that check.
    const seen = (await world.store.getRelease('release-1'))?.events.find(
      (e) => e.kind === 'health-check' && e.summary.includes('blue fails as badly as green'),
    );
    expect(seen?.summary).toMatch(/^wave 2: 1 of 2 members healthy → bake: m2 /);
  });
});

describe('a release is refused as already live only when every target runs the digest on a verified version', () => {
  it('a fleet whose members run the digest on the bootstrap version no release verified is released, not refused', async () => {
    const world = new FleetWorld({}, THREE, { patch: { bake: ONE_MINUTE_BAKE } });
    // The environment's own function as the one-target world seeds it, then the members as Terraform leaves them:
    // version 1 from DIGEST_BLUE behind every alias, and no release record for them.
    await ReleaseWorld.prototype.seed.call(world);
    for (const name of THREE) await world.createOnBlue(memberFunction(name));
    const result = await world.run(world.apiRequest({ imageDigest: DIGEST_BLUE }));
    expect(result.cause ?? '').not.toContain('already live');
    expect(result.status).toBe('SUCCEEDED');
    for (const name of THREE) expect(await world.memberLive(name)).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
  });
});

describe('every state frees the lock key Validate took, whatever the configuration says by then', () => {
  // The environment's function is renamed in the configuration the concluding states read (a config deploy while
  // the release runs): the lock they free is still the one Validate took.
  const shapes = [
    ['one target', () => new ReleaseWorld(), () => environmentsWith('prod', { functionName: 'switchyard-api-next' })],
    [
      'a fleet',
      () => new FleetWorld({}, THREE, { patch: { bake: ONE_MINUTE_BAKE } }),
      () => fleetEnvironments(THREE, { bake: ONE_MINUTE_BAKE, functionName: 'switchyard-api' }),
    ],
  ] as const;
  const outcomes = [
    ['released', 'SUCCEEDED'],
    ['failed verification', 'FAILED'],
  ] as const;
  describe.each(shapes)('%s', (_shape, build, renamed) => {
    it.each(outcomes)('%s', async (_outcome, status) => {
      const world = await build().seed();
      const key = `${world.functionName}#prod`;
      const handlers = world.handlers();
      const concluding = world.handlers({ ...world.deps, environments: renamed() });
      for (const state of [STATES.finalize, STATES.rollBack, STATES.recordFailure]) {
        const handler = concluding[state];
        if (handler) handlers[state] = handler;
      }
      if (status === 'FAILED') {
        handlers[STATES.verify] = async () => {
          throw Object.assign(new Error('verification of version 2 failed: health (got 503)'), {
            name: 'VerificationFailed',
          });
        };
      }
      const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), { handlers });
      expect(result.status).toBe(status);
      expect(await world.store.getLock(key)).toBeUndefined();
    });
  });
});
