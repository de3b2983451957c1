import type { MetricSource, MetricWindow, VersionMetrics, VersionMetricsSample } from './ports.ts';
import type { ReleaseContext } from './release-context.ts';
import type { TrafficState } from './traffic.ts';

/**
 * Measure: the metric windows a check reads, per source and per target, and one batched read of them all, keyed by
 * window id (docs/architecture.md, "Measure, decide, act").
 */

export const EMPTY_SAMPLE: VersionMetricsSample = { invocations: 0, errors: 0, throttles: 0, p99DurationMs: null };

export function hhmmss(at: Date): string {
  return at.toISOString().slice(11, 19);
}

/**
 * The end of the data a check may judge: CloudWatch stamps a data point at the start of its period and publishes it
 * later, so a period's data can be complete only once the period has ended and the configured metric delay has
 * passed. Lambda "sends metric data to CloudWatch in 1-minute intervals"
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html); the application's EMF metrics travel
 * through CloudWatch Logs first, in 1-second storage read in 10-second periods.
 */
export function completeDataEnd(now: Date, metricDelaySeconds: number, periodSeconds = 60): Date {
  const periodMs = periodSeconds * 1000;
  return new Date(Math.floor((now.getTime() - metricDelaySeconds * 1000) / periodMs) * periodMs);
}

/** When data up to `until` can be complete: the end of its period plus the metric delay. */
export function completeAt(until: Date, metricDelaySeconds: number, periodSeconds = 60): Date {
  const periodMs = periodSeconds * 1000;
  return new Date(Math.ceil(until.getTime() / periodMs) * periodMs + metricDelaySeconds * 1000);
}

/** A metric source as a release reads it: its period, its delay and where its last check stopped. */
export interface SourcePlan {
  readonly source: MetricSource;
  readonly periodSeconds: number;
  readonly metricDelaySeconds: number;
  readonly judgedUntil: string | undefined;
  /** How long after its delay a period is judged again, in every check's window, in case its data arrived late. */
  readonly lateDataSeconds: number;
}

/**
 * The application's high-resolution (EMF) metrics reach CloudWatch through CloudWatch Logs, and AWS documents no
 * delay after which they are all visible: "metric generation depends on your log publishing flow because CloudWatch
 * Logs needs to process logs so they can be transformed into metrics", and on Lambda, "where you can't control the
 * log flush interval", partial data is to be expected
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Alarms.html).
 * The configured delay (prod: 15 s) is when a period is judged first, not a promise that its data is complete, so
 * every check reads the last minute of periods judged already again and judges it apart (a late window, on the
 * thresholds, blue as the control): an error that lands in a period already judged still counts while it is within
 * this minute of its delay, and the fresh window keeps its own 10-second sensitivity. docs/verdicts.md has the
 * trade-off.
 */
export const HIGH_RESOLUTION_LATE_DATA_SECONDS = 60;

/**
 * The sources a release judges, first the one it trusts soonest: the application's high-resolution metrics when the
 * release has them (config `bake.highResolution`), then Lambda's 1-minute metrics, which alone see a request that
 * crashed the function. A release validated before high resolution existed reads the 1-minute source alone.
 */
export function metricSources(release: ReleaseContext, traffic: TrafficState): SourcePlan[] {
  const lambda: SourcePlan = {
    source: 'lambda',
    periodSeconds: 60,
    metricDelaySeconds: release.metricDelaySeconds,
    judgedUntil: traffic.judgedUntil,
    lateDataSeconds: 0,
  };
  if (!release.highResolution) return [lambda];
  return [
    {
      source: 'high-resolution',
      periodSeconds: release.highResolution.periodSeconds,
      metricDelaySeconds: release.highResolution.metricDelaySeconds,
      judgedUntil: traffic.highResolutionJudgedUntil,
      lateDataSeconds: HIGH_RESOLUTION_LATE_DATA_SECONDS,
    },
    lambda,
  ];
}

export function sourceLabel(plan: SourcePlan): string {
  return plan.source === 'lambda' ? '1-minute Lambda metrics' : `high-resolution ${plan.periodSeconds} s metrics`;
}

export function periodName(plan: SourcePlan): string {
  return plan.periodSeconds === 60 ? 'minute' : `${plan.periodSeconds}-second period`;
}

export function latest(a: Date, b: Date): Date {
  return a > b ? a : b;
}

/** One function a check judges: green behind its live alias, and blue beside it while the relative judge reads it. */
export interface CheckTarget {
  /** The target's name: its windows' ids begin with it. */
  readonly name: string;
  readonly functionName: string;
  readonly alias: string;
  readonly greenVersion: string;
  readonly blueVersion: string | undefined;
  readonly thresholds: ReleaseContext['health'];
}

/** One source's windows for one target, each named by its id in the batched read (absent: no complete data yet). */
export interface PlannedSource {
  readonly plan: SourcePlan;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  /** Where the periods judged again for late data begin (they end at windowStart). */
  readonly lateFrom: Date;
  readonly greenLate?: string;
  readonly blueLate?: string;
  readonly green?: string;
  readonly greenStep?: string;
  readonly blue?: string;
  readonly blueStep?: string;
}

/** Every window of one check, by id: what the batched read reads. */
export type WindowPlan = Map<string, MetricWindow>;

/**
 * Plans one target's windows for each source, over the window whose data has become complete since the last check
 * (never a period that may still be missing data points) and over the whole step, adding them to `windows`, the
 * one batched read of the check, each under an id of its target, source and role.
 */
export function planTargetWindows(
  target: CheckTarget,
  plans: readonly SourcePlan[],
  stepStartedAt: string,
  now: Date,
  windows: WindowPlan,
): PlannedSource[] {
  const stepStart = new Date(stepStartedAt);
  const read = (role: string, version: string, plan: SourcePlan, start: Date, end: Date): string | undefined => {
    if (end <= start) return undefined;
    const id = `${target.name}/${plan.source}/${role}`;
    windows.set(id, {
      functionName: target.functionName,
      alias: target.alias,
      version,
      start,
      end,
      ...(plan.source === 'high-resolution' ? { source: plan.source, periodSeconds: plan.periodSeconds } : {}),
    });
    return id;
  };
  return plans.map((plan) => {
    // A step is judged from its first whole period: a period that straddles the shift holds the traffic of before
    // it (blue served all of it), which would dilute blue's rate against green's.
    const periodMs = plan.periodSeconds * 1000;
    const stepFrom = new Date(Math.ceil(stepStart.getTime() / periodMs) * periodMs);
    const dataEnd = completeDataEnd(now, plan.metricDelaySeconds, plan.periodSeconds);
    const windowStart = latest(new Date(plan.judgedUntil ?? stepFrom.toISOString()), stepFrom);
    // The periods judged already whose data may still be arriving: read again, judged apart from the fresh window.
    const lateFrom = latest(new Date(dataEnd.getTime() - plan.lateDataSeconds * 1000), stepFrom);
    const windowEnd = latest(dataEnd, windowStart);
    const green = target.greenVersion;
    const blue = target.blueVersion;
    const late = plan.lateDataSeconds > 0;
    const ids = {
      greenLate: late ? read('green-late', green, plan, lateFrom, windowStart) : undefined,
      blueLate: late && blue ? read('blue-late', blue, plan, lateFrom, windowStart) : undefined,
      green: read('green', green, plan, windowStart, windowEnd),
      greenStep: read('green-step', green, plan, stepFrom, windowEnd),
      blue: blue ? read('blue', blue, plan, windowStart, windowEnd) : undefined,
      blueStep: blue ? read('blue-step', blue, plan, stepFrom, windowEnd) : undefined,
    };
    const defined = Object.fromEntries(Object.entries(ids).filter(([, id]) => id !== undefined));
    return { plan, windowStart, windowEnd, lateFrom, ...defined };
  });
}

/** The samples of a batched read, by window id; a window not read (no complete data) reads as empty. */
export class Samples {
  constructor(private readonly byId: ReadonlyMap<string, VersionMetricsSample>) {}

  of(id: string | undefined): VersionMetricsSample {
    return (id === undefined ? undefined : this.byId.get(id)) ?? EMPTY_SAMPLE;
  }
}

/**
 * Every planned window in one batched read (`sampleAll`: CloudWatch takes up to 500 queries a GetMetricData call),
 * answered by window id. No call at all when nothing has complete data yet.
 */
export async function readWindows(metrics: VersionMetrics, windows: WindowPlan): Promise<Samples> {
  const entries = [...windows.entries()];
  if (entries.length === 0) return new Samples(new Map());
  const samples = await metrics.sampleAll(entries.map(([, window]) => window));
  return new Samples(new Map(entries.map(([id], index) => [id, samples[index] ?? EMPTY_SAMPLE])));
}
