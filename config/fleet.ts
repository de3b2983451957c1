import type { EnvironmentConfig } from './schema.ts';
import {
  EXECUTION_HISTORY_LIMIT,
  HISTORY_EVENTS_PER_CHECK,
  RELEASE_WINDOW_MARGIN_MINUTES,
  trafficPlan,
} from './traffic-plan.ts';

/**
 * Lambda's control-plane quota: "Remainder of the control plane API requests (excludes invocation, GetFunction, and
 * GetPolicy requests): 15 requests per second" per account and Region, not adjustable
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "Lambda API requests"). UpdateFunctionCode,
 * GetFunctionConfiguration (the update waiter), ListVersionsByFunction, PublishVersion, GetAlias and UpdateAlias all
 * count against it.
 */
export const LAMBDA_CONTROL_PLANE_RPS = 15;
/**
 * The share of that quota Switchyard keeps to, all its calls at once: two thirds, the rest left to Terraform, the
 * console and whatever else the account runs. A rate, not a concurrency: ten calls in flight at once can still be a
 * hundred a second.
 */
export const CONTROL_PLANE_BUDGET_RPS = (LAMBDA_CONTROL_PLANE_RPS * 2) / 3;
/**
 * The Map's iterations that run at most at once (`fleet.deployConcurrency` is capped here): each is its own Lambda
 * invocation, so an in-process limiter only sees its own calls.
 */
export const MAX_DEPLOY_CONCURRENCY = 10;

/**
 * The control-plane rate one invocation may use when `concurrent` invocations can call at once: the budget, shared.
 * The one place the budget is divided (adapters/aws/lambda-function-versions.ts waits to keep to it).
 */
export function controlPlaneShare(concurrent: number): number {
  if (!Number.isInteger(concurrent) || concurrent < 1) {
    throw new RangeError(`concurrent invocations must be a whole number of at least 1, got ${concurrent}`);
  }
  return CONTROL_PLANE_BUDGET_RPS / concurrent;
}

/**
 * Calls a second each invocation may make. Deploy green runs as the Map's iterations (up to MAX_DEPLOY_CONCURRENCY
 * at once, a member's deploy makes about five control-plane calls), so it gets an equal share. Every other state runs
 * alone in its release (the fleet's Shift traffic, Roll back and Finalize are one invocation each, after the Map),
 * and so do the release API's environment rollback (which holds the environment's lock) and reconcile: each gets the
 * whole budget. Two fleet environments moving aliases in the same second would overlap; the adapter's adaptive
 * retries absorb that, and docs/fleet.md says so.
 */
export const CONTROL_PLANE_RPS = {
  mapIteration: controlPlaneShare(MAX_DEPLOY_CONCURRENCY),
  alone: controlPlaneShare(1),
} as const;
/** The fleet size the design is sized and measured for (docs/fleet.md): every payload and the history stay well inside AWS's limits. */
export const MAX_FLEET_MEMBERS = 100;
/** Waves beyond this multiply the bake without adding safety. */
export const MAX_FLEET_WAVES = 10;
/**
 * Minutes one batch of `deployConcurrency` members takes through Deploy and Verify: an image update, a version, the
 * health check (a cold start) and the smoke requests.
 */
export const DEPLOY_MINUTES_PER_BATCH = 3;

export type FleetConfig = NonNullable<EnvironmentConfig['fleet']>;
export type FleetWave = FleetConfig['waves'][number];

/** What the fleet's member functions are named under: `fleet.functionNamePrefix`, or the environment's name and a dash. */
export function fleetFunctionPrefix(env: Pick<EnvironmentConfig, 'functionName' | 'fleet'>): string {
  return env.fleet?.functionNamePrefix ?? `${env.functionName}-`;
}

/** The cumulative number of members moved by the end of each wave (the last is every member). */
export function waveSizes(waves: readonly FleetWave[], memberCount: number): number[] {
  return waves.map((wave) =>
    'members' in wave ? Math.min(wave.members, memberCount) : Math.ceil((wave.percent / 100) * memberCount),
  );
}

/** Each member's wave (0-based), in config order: the first members move first. */
export function memberWaves(fleet: Pick<FleetConfig, 'waves' | 'members'>): number[] {
  const sizes = waveSizes(fleet.waves, fleet.members.length);
  return fleet.members.map((_, index) => {
    const wave = sizes.findIndex((size) => index < size);
    return wave === -1 ? sizes.length - 1 : wave;
  });
}

/** Why the waves cannot move the fleet, or undefined: each wave must move more members, and the last all of them. */
export function wavesRefusal(fleet: Pick<FleetConfig, 'waves' | 'members'>): string | undefined {
  const sizes = waveSizes(fleet.waves, fleet.members.length);
  for (const [index, size] of sizes.entries()) {
    if (size <= (sizes[index - 1] ?? 0)) {
      return `wave ${index + 1} moves no member the earlier waves did not (cumulative ${size} of ${fleet.members.length})`;
    }
  }
  if (sizes.at(-1) !== fleet.members.length) {
    return `the last wave must move every member (it reaches ${sizes.at(-1) ?? 0} of ${fleet.members.length}); end with { percent: 100 }`;
  }
  return undefined;
}

/**
 * The modelled length of a fleet release in minutes: Deploy & Verify in batches of `deployConcurrency`, each wave's
 * whole traffic plan (each baked step waits out its last minute and the metric delay), the approval window and the
 * margin every release keeps. The lock must outlast it.
 */
export function fleetReleaseMinutes(env: EnvironmentConfig, fleet: FleetConfig): number {
  const planMinutes = trafficPlan(env).reduce(
    (sum, step) => sum + (step.bakeSeconds > 0 ? step.bakeSeconds / 60 + 1 + env.bake.metricDelaySeconds / 60 : 0),
    0,
  );
  const deployMinutes = Math.ceil(fleet.members.length / fleet.deployConcurrency) * DEPLOY_MINUTES_PER_BATCH;
  return Math.ceil(
    deployMinutes +
      fleet.waves.length * planMinutes +
      (env.approvalRequired ? env.approvalTimeoutMinutes : 0) +
      RELEASE_WINDOW_MARGIN_MINUTES,
  );
}

/**
 * Execution history events per member in the Map: MapIterationStarted and MapIterationSucceeded, and two Task states
 * of five events each (entered, scheduled, started, succeeded, exited).
 */
export const HISTORY_EVENTS_PER_MEMBER = 12;
/** The states outside the Map and the bake loop, with their retries. */
const HISTORY_EVENTS_OUTSIDE = 200;

/**
 * The execution history a fleet release needs at most: every member through the Map, and one bake loop for the
 * whole fleet (each wave runs the plan; each step's checks until its last minute's data is complete).
 */
export function fleetHistoryEvents(env: EnvironmentConfig, fleet: FleetConfig): number {
  const interval = env.bake.checkIntervalSeconds;
  const checksPerPlan = trafficPlan(env).reduce(
    (sum, step) => sum + 1 + Math.ceil((step.bakeSeconds + 60 + env.bake.metricDelaySeconds) / interval),
    0,
  );
  const pauseChecks = Math.ceil(((env.maxPauseMinutes ?? 0) * 60) / interval);
  return (
    HISTORY_EVENTS_OUTSIDE +
    fleet.members.length * HISTORY_EVENTS_PER_MEMBER +
    (fleet.waves.length * checksPerPlan + pauseChecks) * HISTORY_EVENTS_PER_CHECK
  );
}

/** Why the fleet's release could outgrow Step Functions' execution history, or undefined. */
export function fleetHistoryRefusal(env: EnvironmentConfig, fleet: FleetConfig): string | undefined {
  const events = fleetHistoryEvents(env, fleet);
  if (events <= EXECUTION_HISTORY_LIMIT) return undefined;
  return `${fleet.members.length} members in ${fleet.waves.length} waves of this plan need about ${events} execution history events, more than Step Functions' ${EXECUTION_HISTORY_LIMIT}`;
}
