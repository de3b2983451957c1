/**
 * The fleet's cost and scale model (docs/fleet-bench.md): what a release of N members costs in state transitions,
 * execution history events, CloudWatch calls and payload bytes, from the states a real local run entered. Pure
 * functions; `bench/run.ts` feeds them a run and prints the table.
 */
import { type FleetWave, waveSizes, wavesRefusal } from '../config/fleet.ts';

/**
 * Step Functions Standard: "$0.025 per 1,000 state transitions" (US East, Europe (Ireland) and most Regions), "each
 * retry will be charged as an additional state transition" (https://aws.amazon.com/step-functions/pricing/).
 */
export const USD_PER_TRANSITION = 0.025 / 1000;

/** The AWS limits each figure is held against; each cites its source. */
export const LIMITS = {
  /**
   * "Maximum execution history size: 25,000 events. If the execution history reaches this quota, the execution will
   * fail." (https://docs.aws.amazon.com/step-functions/latest/dg/limits.html, Standard Workflows, hard quota).
   */
  historyEvents: 25_000,
  /**
   * "Maximum input or output size for a task, state, or execution: 262,144 bytes of data as a UTF-8 encoded string"
   * (same page).
   */
  payloadBytes: 262_144,
  /**
   * "A GetMetricData operation that does not include a query can retrieve as many as 500 different metrics in a
   * single request, with a total of as many as 100,800 data points"
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
   */
  metricsPerGetMetricData: 500,
  dataPointsPerGetMetricData: 100_800,
  /** GetMetricData: 50 transactions per second per account and Region, adjustable (CloudWatch service quotas). */
  getMetricDataTps: 50,
  /**
   * Lambda's control plane: 15 requests per second per account and Region, not adjustable
   * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); UpdateAlias counts against it.
   */
  lambdaControlPlaneRps: 15,
} as const;

/** A state the execution entered, with the ASL it ran. */
export interface EnteredState {
  readonly name: string;
  readonly type: string;
  /** A Task's `Resource`. */
  readonly resource?: string;
}

/**
 * The history events Step Functions records for one pass through a state that succeeds the first time (no retry,
 * no catch): a Lambda Task records TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded and TaskStateExited; an
 * integration that waits (`.sync`, `.waitForTaskToken`) also TaskSubmitted; every other state its Entered and Exited.
 * (HistoryEventType in https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html.)
 */
export function historyEventsOf(state: Pick<EnteredState, 'type' | 'resource'>): number {
  if (state.type !== 'Task') return 2;
  return /\.(sync|waitForTaskToken)$/.test(state.resource ?? '') ? 6 : 5;
}

/** A single-function release as three runs of states: before the first shift, one traffic plan, the ending. */
export interface ReleaseShape {
  readonly beforeTraffic: readonly EnteredState[];
  /** From the first Shift traffic up to (not including) Finalize: the whole traffic plan, as each wave repeats it. */
  readonly trafficPlan: readonly EnteredState[];
  readonly ending: readonly EnteredState[];
}

export const SHIFT_STATE = 'Shift traffic';
export const FINALIZE_STATE = 'Finalize';
/** One Map iteration's states: a single function's release runs them once, a fleet's once per member. */
export const SINGLE_DEPLOY_STATES = ['Deploy green', 'Verify green'] as const;

export function releaseShape(entered: readonly EnteredState[]): ReleaseShape {
  const shift = entered.findIndex((s) => s.name === SHIFT_STATE);
  const finalize = entered.findIndex((s) => s.name === FINALIZE_STATE);
  if (shift < 0 || finalize < shift) {
    throw new Error(
      `a released run passes ${SHIFT_STATE} before ${FINALIZE_STATE}; this one entered ${entered.length} states`,
    );
  }
  return {
    beforeTraffic: entered.slice(0, shift),
    trafficPlan: entered.slice(shift, finalize),
    ending: entered.slice(finalize),
  };
}

/**
 * The waves the example gives N members: one canary member, then 25% of them, then the rest; a wave that
 * would move no new member (a small fleet) is left out, as the config refuses it.
 */
export function exampleWaves(members: number): FleetWave[] {
  const wanted: FleetWave[] = [{ members: 1 }, { percent: 25 }, { percent: 100 }];
  const kept: FleetWave[] = [];
  let moved = 0;
  for (const wave of wanted) {
    const size = waveSizes([wave], members)[0] ?? 0;
    if (size > moved) {
      kept.push(wave);
      moved = size;
    }
  }
  const named = Array.from({ length: members }, (_, i) => ({ name: `m${i}`, functionName: `f${i}` }));
  const refusal = wavesRefusal({ waves: kept, members: named });
  if (refusal) throw new Error(`example waves for ${members} members: ${refusal}`);
  return kept;
}

/** Each Map iteration: Deploy green and Verify green, Lambda Tasks. */
const MEMBER_STATES: readonly EnteredState[] = SINGLE_DEPLOY_STATES.map((name) => ({
  name,
  type: 'Task',
  resource: 'arn:aws:states:::lambda:invoke',
}));
/** MapStateStarted and MapStateSucceeded, beside the Map's own Entered/Exited. */
const MAP_RUN_EVENTS = 2;
/** MapIterationStarted and MapIterationSucceeded per member. */
const MAP_ITERATION_EVENTS = 2;
/** ExecutionStarted and the execution's end. */
const EXECUTION_EVENTS = 2;

export interface FleetReleaseModel {
  readonly members: number;
  readonly waves: number;
  readonly transitions: number;
  readonly historyEvents: number;
}

const eventsOf = (states: readonly EnteredState[]) => states.reduce((n, s) => n + historyEventsOf(s), 0);

/**
 * A fleet release that goes out wave by wave without a retry: the single function's states before traffic (the same
 * path: the deploy Map with one iteration), its one iteration's Deploy green and Verify green repeated per member,
 * then the whole traffic plan once per wave (each wave shifts, bakes and checks its members in the same states), then
 * the ending.
 */
export function modelFleetRelease(shape: ReleaseShape, members: number, waves: number): FleetReleaseModel {
  const before = shape.beforeTraffic.filter((s) => !(SINGLE_DEPLOY_STATES as readonly string[]).includes(s.name));
  const transitions =
    before.length + members * MEMBER_STATES.length + waves * shape.trafficPlan.length + shape.ending.length;
  const historyEvents =
    EXECUTION_EVENTS +
    eventsOf(before) +
    MAP_RUN_EVENTS +
    members * (MAP_ITERATION_EVENTS + eventsOf(MEMBER_STATES)) +
    waves * eventsOf(shape.trafficPlan) +
    eventsOf(shape.ending);
  return { members, waves, transitions, historyEvents };
}

/**
 * The CloudWatch metric series one version's check reads (`adapters/aws/cloudwatch-version-metrics.ts`): on Lambda's
 * 1-minute source Invocations, Errors, Throttles and Duration p99 (AWS/Lambda) and the application's Errors; on the
 * high-resolution source the application's Requests, Errors and Latency p99.
 */
export const LAMBDA_SERIES_PER_VERSION = 5;
export const HIGH_RESOLUTION_SERIES_PER_VERSION = 3;

/** The metric sources a check reads: Lambda's 1-minute metrics always, the high-resolution ones when configured. */
export interface CheckSources {
  /** The high-resolution source's period in seconds, when the environment has it (config `bake.highResolution`). */
  readonly highResolutionPeriodSeconds?: number;
}

export interface MetricCalls {
  /** Distinct metric series the check reads. */
  readonly series: number;
  /** GetMetricData calls with every member's series batched, 500 to a call (`VersionMetrics.sampleAll`). */
  readonly batched: number;
  /** The most data points one call returns: 500 series (or fewer) at their period over the step. */
  readonly dataPointsPerCall: number;
}

/**
 * GetMetricData calls for one fleet check (`core/steps/check-health.ts` judges every member that moved and reads all
 * their windows in one `sampleAll`): `atFull` members of earlier waves are read on green alone, the `splitting` members of
 * the wave in its canary on green and blue. Each member's check window and its whole step are two windows of the same
 * series, so each series is read once, and 500 go in a call.
 */
export function metricCallsPerCheck(
  atFull: number,
  splitting: number,
  stepMinutes: number,
  sources: CheckSources = {},
): MetricCalls {
  const versions = atFull + 2 * splitting;
  const period = sources.highResolutionPeriodSeconds;
  const lambdaSeries = versions * LAMBDA_SERIES_PER_VERSION;
  const highResolutionSeries = period ? versions * HIGH_RESOLUTION_SERIES_PER_VERSION : 0;
  const series = lambdaSeries + highResolutionSeries;
  // The worst call is full of the finest series: a high-resolution series has 60 / period points a minute.
  const pointsPerMinute = period ? 60 / period : 1;
  const finest = Math.min(highResolutionSeries, LIMITS.metricsPerGetMetricData);
  const coarse = Math.min(series, LIMITS.metricsPerGetMetricData) - finest;
  return {
    series,
    batched: Math.ceil(series / LIMITS.metricsPerGetMetricData),
    dataPointsPerCall: Math.ceil(stepMinutes) * (finest * pointsPerMinute + coarse),
  };
}

/**
 * The largest fleet snapshot Validate release adds to `$.release` (the Map's items), every field at its longest:
 * a 32-character member name, a 64-character function name, its own alias names, memory and health overrides, its
 * blue version and wave. Every state carries `$.release`, so this is what each payload grows by.
 */
export function fleetSnapshotBytes(members: number): number {
  const member = (i: number) => ({
    name: `m${String(i).padStart(31, '0')}`,
    functionName: `f${String(i).padStart(63, '0')}`,
    aliases: { live: 'live-traffic-alias', green: 'green-candidate-alias', blue: 'blue-previous-alias' },
    memoryMb: 2048,
    health: { maxErrorRatePercent: 12.5, minInvocations: 10_000, maxErrors: 10_000, maxP99DurationMs: 30_000 },
    blueVersion: '99999',
    wave: 9,
  });
  const snapshot = {
    fleet: {
      deployConcurrency: 10,
      waves: [{ members: 1 }, { percent: 25 }, { percent: 100 }],
      members: Array.from({ length: members }, (_, i) => member(i)),
    },
  };
  return Buffer.byteLength(JSON.stringify(snapshot), 'utf8');
}

/**
 * What the check's state adds at most for a fleet (the `health-check` event's shape): the worst member's name and
 * the tally with every unhealthy member named, all of them at their longest.
 */
export function fleetCheckBytes(members: number): number {
  const names = Array.from({ length: members }, (_, i) => `m${String(i).padStart(31, '0')}`);
  return Buffer.byteLength(
    JSON.stringify({ member: names[0], fleet: { judged: members, healthy: 0, unhealthy: names } }),
    'utf8',
  );
}

/** The largest JSON input or output of any state a run entered, in UTF-8 bytes, and the state it was. */
export function largestPayload(
  events: readonly { readonly state?: string; readonly input?: unknown; readonly output?: unknown }[],
): { bytes: number; state: string } {
  let largest = { bytes: 0, state: '' };
  for (const event of events) {
    for (const payload of [event.input, event.output]) {
      if (payload === undefined) continue;
      const bytes = Buffer.byteLength(JSON.stringify(payload), 'utf8');
      if (bytes > largest.bytes) largest = { bytes, state: event.state ?? '' };
    }
  }
  return largest;
}

/** An ASL state as the model reads it: its type, a Task's resource, a Map's first inner state. */
export interface AslState {
  readonly Type?: string;
  readonly Resource?: string;
  readonly ItemProcessor?: { readonly StartAt?: string; readonly States?: Record<string, AslState> };
  readonly Iterator?: { readonly StartAt?: string; readonly States?: Record<string, AslState> };
}

/** Every state of a definition by name, the states inside a Map's ItemProcessor included. */
export function aslStates(states: Record<string, AslState>): Map<string, AslState> {
  const all = new Map<string, AslState>();
  for (const [name, state] of Object.entries(states)) {
    all.set(name, state);
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner?.States) for (const [n, s] of aslStates(inner.States)) all.set(n, s);
  }
  return all;
}

/** The states a run entered, each with its ASL type and resource. */
export function enteredStates(
  events: readonly { readonly type: string; readonly state?: string; readonly stateType?: string }[],
  states: ReadonlyMap<string, AslState>,
): EnteredState[] {
  return events
    .filter((e) => e.type === 'StateEntered' && e.state !== undefined)
    .map((e) => {
      const state = states.get(e.state ?? '');
      return {
        name: e.state ?? '',
        type: state?.Type ?? e.stateType ?? 'Unknown',
        ...(state?.Resource ? { resource: state.Resource } : {}),
      };
    });
}

/**
 * The history events AWS would record for a run that entered these states: each state's own events, the Map's
 * started/succeeded pair and an iteration pair per iteration (each iteration enters the Map's first inner state
 * once), and the execution's start and end.
 */
export function runHistoryEvents(entered: readonly EnteredState[], states: ReadonlyMap<string, AslState>): number {
  const firstInner = new Set(
    [...states.values()].flatMap((s) => {
      const start = (s.ItemProcessor ?? s.Iterator)?.StartAt;
      return start ? [start] : [];
    }),
  );
  const maps = entered.filter((s) => s.type === 'Map').length;
  const iterations = entered.filter((s) => firstInner.has(s.name)).length;
  return EXECUTION_EVENTS + eventsOf(entered) + maps * MAP_RUN_EVENTS + iterations * MAP_ITERATION_EVENTS;
}
