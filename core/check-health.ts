import { combineSources, type Decision, decide } from './decide.ts';
import { heldTraffic, holdForPause, type PauseHold } from './pause.ts';
import type {
  AlarmState,
  Alarms,
  Clock,
  MetricSource,
  MetricWindow,
  Notifier,
  ReleaseRecord,
  ReleaseStore,
  VersionMetrics,
  VersionMetricsSample,
} from './ports.ts';
import type { ReleaseContext } from './release-context.ts';
import { notifyBestEffort } from './release-guard.ts';
import { type HealthCheck, type NextAction, type SourceCheck, type TrafficState, withWarning } from './traffic.ts';

export interface CheckHealthDeps {
  readonly metrics: VersionMetrics;
  readonly alarms: Alarms;
  readonly store: ReleaseStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

/** A release started before the relative judge existed is judged on thresholds alone, as when it started. */
const DEFAULT_JUDGE: NonNullable<ReleaseContext['judge']> = {
  mode: 'absolute',
  confidence: 0.99,
  latencyTolerancePercent: 0,
  onEnvironmentUnhealthy: 'alert',
};

function withRate(sample: VersionMetricsSample) {
  return {
    ...sample,
    errorRatePercent: sample.invocations > 0 ? Number(((sample.errors / sample.invocations) * 100).toFixed(3)) : null,
  };
}

/** Alarms in ALARM now, except those already firing before the release started and not re-triggered since. */
export function firingAlarms(
  states: readonly AlarmState[],
  preexisting: readonly string[],
  releaseStartedAt: string,
): { firing: string[]; ignored: string[] } {
  const firing: string[] = [];
  const ignored: string[] = [];
  for (const alarm of states) {
    if (alarm.state !== 'ALARM') continue;
    const predates = preexisting.includes(alarm.name) && Date.parse(alarm.updatedAt) <= Date.parse(releaseStartedAt);
    (predates ? ignored : firing).push(alarm.name);
  }
  return { firing, ignored };
}

export { judgeSample } from './decide.ts';

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

export const EMPTY_SAMPLE: VersionMetricsSample = { invocations: 0, errors: 0, throttles: 0, p99DurationMs: null };

function hhmmss(at: Date): string {
  return at.toISOString().slice(11, 19);
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

function sourceLabel(plan: SourcePlan): string {
  return plan.source === 'lambda' ? '1-minute Lambda metrics' : `high-resolution ${plan.periodSeconds} s metrics`;
}

function periodName(plan: SourcePlan): string {
  return plan.periodSeconds === 60 ? 'minute' : `${plan.periodSeconds}-second period`;
}

function latest(a: Date, b: Date): Date {
  return a > b ? a : b;
}

/** The judge a check applies, with the bake's state and the alarms, the same for every function it judges. */
export interface CheckContext {
  readonly release: ReleaseContext;
  readonly traffic: TrafficState;
  readonly now: Date;
  readonly judge: NonNullable<ReleaseContext['judge']>;
  /** The bake's seconds once this check's wait is counted. */
  readonly bakedSeconds: number;
  readonly firing: readonly string[];
  readonly ignored: readonly string[];
  readonly bakeOver: boolean;
  /** When the bake's time was up (the first check that saw it over), once it is. */
  readonly bakeEndedAt: Date | undefined;
  readonly fastForward: boolean;
  readonly pause: 'held' | 'expired' | 'none';
}

/** One function a check judges: green behind its live alias, and blue beside it while the relative judge reads it. */
export interface CheckTarget {
  readonly functionName: string;
  readonly alias: string;
  readonly greenVersion: string;
  readonly blueVersion: string | undefined;
  readonly thresholds: ReleaseContext['health'];
}

/** One source's windows for one target: where each sits in the batched read (-1: no complete data, read as empty). */
export interface PlannedSource {
  readonly plan: SourcePlan;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  /** Where the periods judged again for late data begin (they end at windowStart). */
  readonly lateFrom: Date;
  readonly greenLate: number;
  readonly blueLate: number;
  readonly green: number;
  readonly greenStep: number;
  readonly blue: number;
  readonly blueStep: number;
}

/** The judge's default when a release carries none. */
export function judgeOf(release: ReleaseContext): NonNullable<ReleaseContext['judge']> {
  return release.judge ?? DEFAULT_JUDGE;
}

/**
 * Plans one target's windows for each source, over the window whose data has become complete since the last check
 * (never a period that may still be missing data points) and over the whole step, appending them to `windows`, the
 * one batched read of the check.
 */
export function planTargetWindows(
  target: CheckTarget,
  plans: readonly SourcePlan[],
  stepStartedAt: string,
  now: Date,
  windows: MetricWindow[],
): PlannedSource[] {
  const stepStart = new Date(stepStartedAt);
  const read = (version: string, plan: SourcePlan, start: Date, end: Date): number => {
    if (end <= start) return -1;
    windows.push({
      functionName: target.functionName,
      alias: target.alias,
      version,
      start,
      end,
      ...(plan.source === 'high-resolution' ? { source: plan.source, periodSeconds: plan.periodSeconds } : {}),
    });
    return windows.length - 1;
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
    const blue = target.blueVersion;
    return {
      plan,
      windowStart,
      windowEnd,
      lateFrom,
      greenLate: plan.lateDataSeconds > 0 ? read(target.greenVersion, plan, lateFrom, windowStart) : -1,
      blueLate: plan.lateDataSeconds > 0 && blue ? read(blue, plan, lateFrom, windowStart) : -1,
      green: read(target.greenVersion, plan, windowStart, windowEnd),
      greenStep: read(target.greenVersion, plan, stepFrom, windowEnd),
      blue: blue ? read(blue, plan, windowStart, windowEnd) : -1,
      blueStep: blue ? read(blue, plan, stepFrom, windowEnd) : -1,
    };
  });
}

/** One target judged over every source: the combined decision, its evidence and how long its data takes to settle. */
export interface TargetJudgement {
  /** The deciding source's decision. */
  readonly decision: Decision;
  /** What happens next for this target, every source considered (combineSources). */
  readonly next: NextAction;
  /** The check's evidence for this target; its reasons are the sources' (the deciding source's first). */
  readonly check: HealthCheck;
  /** The deciding source's reasons alone. */
  readonly decidingReasons: readonly string[];
  readonly settled: boolean;
  readonly settleSeconds: number;
  readonly promotedWithoutData: boolean;
  /** Where each source's judged data ends, for the next check's windows. */
  readonly judgedUntil: Pick<TrafficState, 'judgedUntil' | 'highResolutionJudgedUntil'>;
}

/** Judges one target from its samples in the batched read; either source's rollback rolls back (combineSources). */
export function judgeTarget(
  target: CheckTarget,
  planned: readonly PlannedSource[],
  samples: readonly VersionMetricsSample[],
  ctx: CheckContext,
): TargetJudgement {
  const { traffic, now, judge, bakeOver, bakeEndedAt } = ctx;
  const sampleAt = (index: number) => (index >= 0 ? (samples[index] ?? EMPTY_SAMPLE) : EMPTY_SAMPLE);
  const blueVersion = target.blueVersion;
  const multiple = planned.length > 1;
  const judged = planned.map((p, index) => {
    const settled = bakeEndedAt === undefined || traffic.bakeSeconds === 0 || p.windowEnd >= bakeEndedAt;
    const blue = blueVersion ? { sample: sampleAt(p.blue), step: sampleAt(p.blueStep) } : undefined;
    const decision = decide(
      {
        green: sampleAt(p.green),
        greenStep: sampleAt(p.greenStep),
        ...(p.greenLate >= 0
          ? {
              greenLate: {
                sample: sampleAt(p.greenLate),
                ...(p.blueLate >= 0 ? { blue: sampleAt(p.blueLate) } : {}),
                from: hhmmss(p.lateFrom),
                to: hhmmss(p.windowStart),
              },
            }
          : {}),
        blue: blue?.sample,
        blueStep: blue?.step,
        // The alarms are judged once, with the first source.
        firingAlarms: index === 0 ? [...ctx.firing] : [],
      },
      {
        thresholds: target.thresholds,
        onUnhealthy: ctx.release.onUnhealthy,
        onInsufficientData: ctx.release.onInsufficientData,
        judge: judge.mode,
        relative: judge,
        onEnvironmentUnhealthy: judge.onEnvironmentUnhealthy,
        bakeOver,
        settled,
        stepHasBake: traffic.bakeSeconds > 0,
        lastStep: traffic.stepIndex + 1 >= traffic.stepCount,
        fastForward: ctx.fastForward,
        pause: ctx.pause,
      },
    );
    const label = multiple ? `${sourceLabel(p.plan)}, ` : '';
    // Once the bake's time is up, what is judged is the late window: the bake's last periods, complete only now.
    const windowName = `${label}${bakeOver ? 'final window' : 'window'} ${hhmmss(p.windowStart)}–${hhmmss(p.windowEnd)}`;
    const reasons =
      p.windowEnd > p.windowStart
        ? decision.windowReasons.map((r) => (r.startsWith('alarm ') ? r : `${windowName}: ${r}`))
        : [
            ...decision.windowReasons.filter((r) => r.startsWith('alarm ')),
            `${label}no complete ${periodName(p.plan)} since ${hhmmss(p.windowStart)} yet (metric delay ${p.plan.metricDelaySeconds} s)`,
          ];
    if (!settled && decision.verdict !== 'unhealthy') {
      const complete = completeAt(bakeEndedAt ?? now, p.plan.metricDelaySeconds, p.plan.periodSeconds);
      reasons.push(
        `${label}bake over at ${hhmmss(bakeEndedAt ?? now)}; its last ${periodName(p.plan)}'s data is complete at ${hhmmss(complete)} (metric delay ${p.plan.metricDelaySeconds} s)`,
      );
    }
    // The check windows overlap (each looks back for late data), so the step's own total is named as such.
    const overStep = `${label}over the whole ${traffic.bakeSeconds / 60}-minute step`;
    reasons.push(...decision.stepReasons.map((r) => `${overStep}: ${r}`));
    const settleSeconds = bakeEndedAt
      ? Math.max(
          1,
          Math.ceil(
            (completeAt(bakeEndedAt, p.plan.metricDelaySeconds, p.plan.periodSeconds).getTime() - now.getTime()) / 1000,
          ),
        )
      : 0;
    return { ...p, blue, decision, settled, reasons, settleSeconds, fresh: p.windowEnd > p.windowStart };
  });
  const combined = combineSources(judged);
  const deciding = judged[combined.deciding] ?? judged[0];
  if (!deciding) throw new Error('no metric source was judged');
  const decision = deciding.decision;
  // The deciding source's reasons first, then the others'.
  const reasons = [deciding, ...judged.filter((j) => j !== deciding)].flatMap((j) => j.reasons);
  const blueEvidence = (j: (typeof judged)[number]) =>
    blueVersion && j.blue
      ? { blue: { version: blueVersion, sample: withRate(j.blue.sample), step: withRate(j.blue.step) } }
      : {};
  const windowOf = (j: (typeof judged)[number]) => ({
    start: j.windowStart.toISOString(),
    end: j.windowEnd.toISOString(),
  });
  const sources: SourceCheck[] = judged.map((j) => ({
    source: j.plan.source,
    periodSeconds: j.plan.periodSeconds,
    metricDelaySeconds: j.plan.metricDelaySeconds,
    window: windowOf(j),
    verdict: j.decision.verdict,
    next: j.decision.next,
    sample: withRate(sampleAt(j.green)),
    step: withRate(sampleAt(j.greenStep)),
    ...blueEvidence(j),
  }));
  const check: HealthCheck = {
    at: now.toISOString(),
    verdict: decision.verdict,
    reasons,
    source: deciding.plan.source,
    window: windowOf(deciding),
    sample: withRate(sampleAt(deciding.green)),
    step: withRate(sampleAt(deciding.greenStep)),
    judge: judge.mode,
    ...blueEvidence(deciding),
    ...(multiple ? { sources } : {}),
    ...(decision.comparison ? { comparison: { ...decision.comparison, confidence: judge.confidence } } : {}),
    thresholds: {
      maxErrorRatePercent: target.thresholds.maxErrorRatePercent,
      minInvocations: target.thresholds.minInvocations,
      maxErrors: target.thresholds.maxErrors,
      maxP99DurationMs: target.thresholds.maxP99DurationMs ?? null,
    },
    firingAlarms: [...ctx.firing],
    ignoredAlarms: [...ctx.ignored],
  };
  return {
    decision,
    next: combined.next,
    check,
    decidingReasons: deciding.reasons,
    settled: judged.every((j) => j.settled),
    settleSeconds: Math.max(...judged.filter((j) => !j.settled).map((j) => j.settleSeconds), 0),
    promotedWithoutData: judged.some((j) => j.decision.promotedWithoutData),
    judgedUntil: Object.fromEntries(
      judged.map((j) => [
        j.plan.source === 'lambda' ? 'judgedUntil' : 'highResolutionJudgedUntil',
        j.windowEnd.toISOString(),
      ]),
    ),
  };
}

/** The watched alarms' states; none are described when the release watches none. */
export function watchedAlarms(release: ReleaseContext, alarms: Alarms): Promise<readonly AlarmState[]> {
  return release.health.alarms.length > 0 ? alarms.describe(release.health.alarms) : Promise.resolve([]);
}

/**
 * What one check judges every function with (its judge, the firing alarms, the bake's state), with the pause rule
 * applied (core/pause.ts: a paused bake renews the lock and holds; past its limit it rolls back) and an operator's
 * fast-forward, if one was asked for.
 */
export async function checkContext(
  release: ReleaseContext,
  traffic: TrafficState,
  now: Date,
  alarmStates: readonly AlarmState[],
  record: ReleaseRecord | undefined,
  store: Pick<ReleaseStore, 'renewLock'>,
): Promise<{ ctx: CheckContext; pause: PauseHold; fastForward: ReleaseRecord['fastForwardRequested'] }> {
  const fastForward = record?.fastForwardRequested;
  const pause = await holdForPause(release, record, now, store);
  const { firing, ignored } = firingAlarms(alarmStates, release.preexistingAlarms, release.startedAt);
  const bakedSeconds = traffic.bakedSeconds + traffic.waitSeconds;
  const bakeOver = bakedSeconds >= traffic.bakeSeconds;
  const ctx: CheckContext = {
    release,
    traffic,
    now,
    judge: judgeOf(release),
    bakedSeconds,
    firing,
    ignored,
    bakeOver,
    // When the bake's time was up: at the first check that saw it over.
    bakeEndedAt: bakeOver ? new Date(traffic.bakeEndedAt ?? now.toISOString()) : undefined,
    fastForward: fastForward !== undefined,
    pause: pause.held ? 'held' : pause.expired ? 'expired' : 'none',
  };
  return { ctx, pause, fastForward };
}

/** What a check decided, for the traffic state it hands on. */
export interface CheckOutcome {
  readonly next: NextAction;
  /** Whether every source's data up to the bake's end is complete; if not, how many seconds until it is. */
  readonly settled: boolean;
  readonly settleSeconds: number;
  readonly judgedUntil: Pick<TrafficState, 'judgedUntil' | 'highResolutionJudgedUntil'>;
  /** The step to move to when `next` is `shift`. */
  readonly nextStepIndex: number;
  readonly lastCheck: HealthCheck;
  readonly warnings: string[];
}

/**
 * The traffic state after a check: the next wait (the rest of the bake, one check interval, or until the bake's
 * data is complete), the windows judged so far and the check's evidence. A held step keeps its bake where it was;
 * a check that decided to roll back goes on to Roll back as decided.
 */
export function checkedTraffic(ctx: CheckContext, pause: PauseHold, outcome: CheckOutcome): TrafficState {
  const { release, traffic, now, bakedSeconds, bakeOver, bakeEndedAt } = ctx;
  const { next } = outcome;
  const remaining = Math.max(0, traffic.bakeSeconds - bakedSeconds);
  // A step held over an unhealthy environment after its bake checks again at the usual interval.
  const wait = bakeOver
    ? outcome.settled
      ? release.checkIntervalSeconds
      : Math.min(release.checkIntervalSeconds, outcome.settleSeconds)
    : Math.min(release.checkIntervalSeconds, remaining);
  const checked: TrafficState = {
    ...traffic,
    bakedSeconds,
    waitSeconds: next === 'bake' ? wait : 0,
    lastCheckAt: now.toISOString(),
    ...outcome.judgedUntil,
    ...(bakeEndedAt ? { bakeEndedAt: bakeEndedAt.toISOString() } : {}),
    checks: traffic.checks + 1,
    next,
    nextStepIndex: next === 'shift' ? outcome.nextStepIndex : traffic.stepIndex,
    lastCheck: outcome.lastCheck,
    warnings: outcome.warnings,
    ...(ctx.fastForward ? { fastForwarded: true } : {}),
  };
  return pause.held && next === 'bake' ? heldTraffic(traffic, checked, release.checkIntervalSeconds) : checked;
}

/**
 * One turn of the bake loop. Judges the green version's metrics behind `live` for each metric source
 * (judgeTarget), checks the watched alarms, and decides what happens next: keep baking, move to the next
 * step, finalize, or roll back. A step ends only once every source's data up to the end of its bake is complete.
 * All windows of all sources are read in one `sampleAll`. The returned state carries the evidence, naming the source
 * and window each verdict used.
 */
export async function checkHealth(
  release: ReleaseContext,
  greenVersion: string,
  traffic: TrafficState,
  deps: CheckHealthDeps,
): Promise<TrafficState> {
  const now = deps.clock.now();
  const judge = judgeOf(release);
  // The relative judge reads blue by its own version over the same window, while blue still serves a share.
  const blueVersion =
    judge.mode !== 'absolute' && release.blueVersion !== null && traffic.percent < 100
      ? release.blueVersion
      : undefined;
  const target: CheckTarget = {
    functionName: release.functionName,
    alias: release.aliases.live,
    greenVersion,
    blueVersion,
    thresholds: release.health,
  };
  const windows: MetricWindow[] = [];
  const planned = planTargetWindows(target, metricSources(release, traffic), traffic.stepStartedAt, now, windows);
  const [samples, alarmStates, record] = await Promise.all([
    windows.length > 0 ? deps.metrics.sampleAll(windows) : Promise.resolve([]),
    watchedAlarms(release, deps.alarms),
    deps.store.getRelease(release.releaseId),
  ]);
  const { ctx, pause, fastForward } = await checkContext(release, traffic, now, alarmStates, record, deps.store);
  const judgement = judgeTarget(target, planned, samples, ctx);
  const { decision, next } = judgement;
  const verdict = decision.verdict;
  let warnings = [...traffic.warnings];
  if (judgement.promotedWithoutData && (next === 'shift' || next === 'finalize')) {
    warnings = withWarning(
      warnings,
      `step ${traffic.stepIndex + 1} (${traffic.percent}%) promoted without enough traffic to judge`,
    );
  }
  const nextStepIndex = decision.skipToLastStep ? traffic.stepCount - 1 : traffic.stepIndex + 1;
  const reasons = [
    ...judgement.check.reasons,
    ...(fastForward ? [fastForward.summary] : []),
    ...(pause.held || pause.expired ? [pause.reason] : []),
  ];
  const check: HealthCheck = { ...judgement.check, reasons };

  if (decision.alert) {
    warnings = withWarning(warnings, `check at ${check.at} was ${verdict}: ${judgement.decidingReasons.join('; ')}`);
  }
  // Alert on the turn to unhealthy, not on every check that still sees the same errors.
  if (decision.alert && traffic.lastCheck?.verdict !== verdict) {
    const what =
      verdict === 'environment-unhealthy' ? 'sees an unhealthy environment (blue fails alike)' : 'is unhealthy';
    await notifyBestEffort(deps, {
      subject: `Switchyard: ${release.environment} release ${release.releaseId} ${what} (alert only)`,
      releaseId: release.releaseId,
      environment: release.environment,
      outcome: verdict === 'environment-unhealthy' ? 'environment-unhealthy-alert' : 'unhealthy-alert',
      detail: { check },
    });
  }
  await deps.store.updateRelease(
    release.releaseId,
    {},
    {
      at: check.at,
      kind: 'health-check',
      summary: `${verdict} at ${traffic.percent}% → ${next}: ${reasons.join('; ')}`,
      evidence: { check, next },
    },
  );

  return checkedTraffic(ctx, pause, { ...judgement, nextStepIndex, lastCheck: check, warnings });
}
