import { describe, expect, it } from 'vitest';
import { LambdaFunctionVersions } from '../../adapters/aws/lambda-function-versions.ts';
import { CONTROL_PLANE_BUDGET_RPS, CONTROL_PLANE_RPS } from '../../config/fleet.ts';
import { rollbackEnvironment } from '../../core/environment-rollback.ts';
import type { TaskHandler } from '../../handlers/task-handler.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { ControlPlaneQuota, quotaLambdaClient, VirtualTime } from '../support/lambda-quota-stand-in.ts';
import { FleetWorld, memberFunction } from './fleet-harness.ts';

/**
 * A 100-member fleet against Lambda's control-plane quota (test/support/lambda-quota-stand-in.ts, written from
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 15 requests per second per account for
 * the rest of the control plane, counted here across every invocation at once). Each Task invocation gets its own
 * Lambda adapter, as each is its own Lambda invocation: the Map's iterations (up to 10 at once) their share of the
 * budget, every other state the whole budget.
 */

const MEMBERS = Array.from({ length: 100 }, (_, i) => `q${String(i + 1).padStart(3, '0')}`);
const DIGEST_THIRD = `sha256:${'3'.repeat(64)}`;
const FAULTY = 'q100';

function adapterFor(state: string, world: FleetWorld, quota: ControlPlaneQuota, time: VirtualTime) {
  const mapIteration = state === STATES.deploy || state === STATES.verify;
  return new LambdaFunctionVersions({
    client: quotaLambdaClient(world.functions, quota),
    clock: time,
    updateWait: { maxWaitTime: 5, minDelay: 0.001, maxDelay: 0.002 },
    controlPlaneRps: mapIteration ? CONTROL_PLANE_RPS.mapIteration : CONTROL_PLANE_RPS.alone,
  });
}

/** The harness's handlers, each invocation on a Lambda adapter of its own over the quota. */
function quotaHandlers(world: FleetWorld, quota: ControlPlaneQuota, time: VirtualTime): Record<string, TaskHandler> {
  const states = Object.keys(world.handlers());
  return Object.fromEntries(
    states.map((state) => [
      state,
      (input: unknown) => {
        const functions = adapterFor(state, world, quota, time);
        const handler = world.handlers({ ...world.deps, functions })[state];
        if (!handler) throw new Error(`no handler for ${state}`);
        return handler(input);
      },
    ]),
  );
}

async function fleetWorld() {
  // From the first check of the second release on, one member of the last wave fails half its calls.
  const traffic = { perCheck: 60, errorRate: { [FAULTY]: 0.5 }, fromCheck: Number.POSITIVE_INFINITY };
  const world = await new FleetWorld(traffic, MEMBERS, {
    patch: {
      strategy: { kind: 'canary', percent: 10, bakeMinutes: 1 },
      bake: { minutes: 2 },
      // Few calls per check keep 100 members' traffic cheap to simulate; the thresholds are scaled to match.
      health: { minInvocations: 5, maxErrors: 2 },
      fleet: {
        deployConcurrency: 10,
        waves: [{ members: 1 }, { percent: 25 }, { percent: 100 }],
        members: MEMBERS.map((name) => ({ name, functionName: memberFunction(name) })),
      },
    },
  }).seed();
  world.registry.push('switchyard-api', DIGEST_THIRD, 'git-3');
  return { world, traffic };
}

/** Every member live on a version 2 of the next image, blue still on version 1: what a released fleet leaves. */
async function liveOnANewVersion(world: FleetWorld): Promise<void> {
  for (const name of MEMBERS) {
    const fn = memberFunction(name);
    const { codeSha256 } = await world.functions.updateCodeAndWait(fn, `registry/switchyard-api@${DIGEST_THIRD}`);
    const next = await world.functions.publishVersion(fn, 'release-1', codeSha256);
    await world.functions.updateAlias(fn, 'live', next.version);
  }
}

async function memberVersions(world: FleetWorld): Promise<string[]> {
  return Promise.all(MEMBERS.map(async (name) => (await world.memberLive(name))?.version ?? 'none'));
}

describe('a 100-member fleet within the Lambda control-plane quota', () => {
  it('rolls out, rolls back and rolls the environment back with no throttle reaching the release logic', async () => {
    const time = new VirtualTime();
    const quota = new ControlPlaneQuota(time);
    const { world, traffic } = await fleetWorld();
    const handlers = quotaHandlers(world, quota, time);
    const phases: string[] = [];
    const measure = async <T>(phase: string, run: () => Promise<T>): Promise<T> => {
      const [from, calls] = [time.now(), quota.controlPlaneCalls.length];
      const out = await run();
      const seconds = (time.now() - from) / 1000;
      const made = quota.controlPlaneCalls.length - calls;
      phases.push(
        `${phase}: ${made} control-plane calls in ${seconds.toFixed(1)} s (${(made / seconds).toFixed(1)}/s)`,
      );
      return out;
    };

    const rolledOut = await measure('rolled out', () => world.run(world.apiRequest(), { handlers }));
    expect(rolledOut.status).toBe('SUCCEEDED');
    expect(new Set(await memberVersions(world))).toEqual(new Set(['2']));

    traffic.fromCheck = rolledOut.events.filter((e) => e.type === 'StateEntered' && e.state === STATES.check).length;
    const rolledBack = await measure('rolled back', () =>
      world.run(world.apiRequest({ imageDigest: DIGEST_THIRD }), { handlers, name: 'release-2' }),
    );
    expect(rolledBack.error).toBe('ReleaseRolledBack');
    expect((await world.store.getRelease('release-2'))?.targets.trippedBy).toBe(FAULTY);
    expect(new Set(await memberVersions(world))).toEqual(new Set(['2']));

    const environment = await measure('environment rolled back', () =>
      rollbackEnvironment('prod', 'oncall', 'back to the previous build', {
        ...world.deps,
        functions: adapterFor('api', world, quota, time),
      }),
    );
    expect(environment.members).toHaveLength(100);
    expect(new Set(await memberVersions(world))).toEqual(new Set(['1']));

    // No call ever went over the quota, so none could reach a handler as a throttle.
    expect(quota.throttles).toBe(0);
    // Each invocation keeps to its share; where one hands over to the next (a Map iteration to the next, one state to
    // the next), their calls can meet in one sliding second: the budget plus one call.
    expect(quota.peakPerSecond()).toBeLessThanOrEqual(CONTROL_PLANE_BUDGET_RPS + 1);
    expect(rolledOut.events.filter((e) => e.type === 'StateRetried')).toEqual([]);
    expect(rolledBack.events.filter((e) => e.type === 'StateRetried')).toEqual([]);
    process.stdout.write(
      `control-plane quota, 100 members: ${phases.join('; ')}; peak ${quota.peakPerSecond()} calls in any second ` +
        `(quota ${ControlPlaneQuota.CONTROL_PLANE_RPS}, budget ${CONTROL_PLANE_BUDGET_RPS}); ` +
        `${(time.now() / 1000).toFixed(0)} s of Lambda time in all, ${quota.throttles} throttles\n`,
    );
  }, 600_000);

  it('when other callers take most of the quota, the adapter slows down on throttles and core never sees one', async () => {
    const time = new VirtualTime();
    // Terraform or the console at 8 calls a second: 7 left, under Switchyard's budget of 10.
    const quota = new ControlPlaneQuota(time, 8);
    const { world } = await fleetWorld();
    await liveOnANewVersion(world);

    const result = await rollbackEnvironment('prod', 'oncall', 'back to the previous build', {
      ...world.deps,
      functions: adapterFor('api', world, quota, time),
    });

    expect(quota.throttles).toBeGreaterThan(0);
    expect(result.members).toHaveLength(100);
    expect(result.skipped).toEqual([]);
    expect(new Set(await memberVersions(world))).toEqual(new Set(['1']));
  }, 600_000);
});

describe('the same fleet on a Lambda adapter with no budget of its own', () => {
  it('is throttled: 10 alias calls in flight at once are far more than 15 a second', async () => {
    const time = new VirtualTime();
    const { world } = await fleetWorld();
    await liveOnANewVersion(world);
    const quota = new ControlPlaneQuota(time);
    // A rate no quota bounds: every call in flight goes at once, as before the budget.
    const unbounded = new LambdaFunctionVersions({
      client: quotaLambdaClient(world.functions, quota),
      clock: time,
      controlPlaneRps: 1_000_000,
    });

    await rollbackEnvironment('prod', 'oncall', 'back', { ...world.deps, functions: unbounded }).catch(() => undefined);

    expect(quota.throttles).toBeGreaterThan(0);
  }, 600_000);
});
