import { decide } from './decide.ts';
import { heldTraffic, holdForPause } from './pause.ts';
import type {
  AlarmState,
  Alarms,
  Clock,
  Notifier,
  ReleaseStore,
  VersionMetrics,
  VersionMetricsSample,
} from './ports.ts';
import type { ReleaseContext } from './release-context.ts';
import { notifyBestEffort } from './release-guard.ts';
import { type HealthCheck, type TrafficState, withWarning } from './traffic.ts';

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

const MINUTE_MS = 60_000;

/**
 * The end of the data a check may judge: CloudWatch stamps a data point at the start of its minute and publishes it
 * later, so a minute's data can be complete only once the minute has ended and the configured metric delay has
 * passed. Lambda "sends metric data to CloudWatch in 1-minute intervals"
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html); the application's EMF metrics travel
 * through CloudWatch Logs first.
 */
export function completeDataEnd(now: Date, metricDelaySeconds: number): Date {
  return new Date(Math.floor((now.getTime() - metricDelaySeconds * 1000) / MINUTE_MS) * MINUTE_MS);
}

/** When data up to `until` can be complete: the end of its minute plus the metric delay. */
export function completeAt(until: Date, metricDelaySeconds: number): Date {
  return new Date(Math.ceil(until.getTime() / MINUTE_MS) * MINUTE_MS + metricDelaySeconds * 1000);
}

const EMPTY_SAMPLE: VersionMetricsSample = { invocations: 0, errors: 0, throttles: 0, p99DurationMs: null };

function hhmmss(at: Date): string {
  return at.toISOString().slice(11, 19);
}

/**
 * One turn of the bake loop. Judges the green version's metrics behind `live` over the window whose data has become
 * complete since the last check (never a minute that may still be missing data points) and over the whole step,
 * checks the watched alarms, and decides what happens next: keep baking, move to the next step, finalize, or roll
 * back. A step ends only once the data of its last minute is complete, so the loop waits out the metric delay after
 * the bake. The returned state carries the evidence.
 */
export async function checkHealth(
  release: ReleaseContext,
  greenVersion: string,
  traffic: TrafficState,
  deps: CheckHealthDeps,
): Promise<TrafficState> {
  const now = deps.clock.now();
  const bakedSeconds = traffic.bakedSeconds + traffic.waitSeconds;
  const target = { functionName: release.functionName, alias: release.aliases.live, version: greenVersion };
  const windowStart = new Date(traffic.judgedUntil ?? traffic.stepStartedAt);
  const dataEnd = completeDataEnd(now, release.metricDelaySeconds);
  const windowEnd = dataEnd > windowStart ? dataEnd : windowStart;
  const sampleOf = (start: Date) =>
    windowEnd > start ? deps.metrics.sample({ ...target, start, end: windowEnd }) : Promise.resolve(EMPTY_SAMPLE);
  // The relative judge reads blue by its own version over the same window, while blue still serves a share.
  const judge = release.judge ?? DEFAULT_JUDGE;
  const blueTarget =
    judge.mode !== 'absolute' && release.blueVersion !== null && traffic.percent < 100
      ? { ...target, version: release.blueVersion }
      : undefined;
  const blueSampleOf = (start: Date) =>
    blueTarget && windowEnd > start
      ? deps.metrics.sample({ ...blueTarget, start, end: windowEnd })
      : Promise.resolve(EMPTY_SAMPLE);
  const [sample, stepSample, blueSample, blueStepSample, alarmStates, record] = await Promise.all([
    sampleOf(windowStart),
    sampleOf(new Date(traffic.stepStartedAt)),
    blueSampleOf(windowStart),
    blueSampleOf(new Date(traffic.stepStartedAt)),
    release.health.alarms.length > 0 ? deps.alarms.describe(release.health.alarms) : Promise.resolve([]),
    deps.store.getRelease(release.releaseId),
  ]);
  const fastForward = record?.fastForwardRequested;
  // A paused bake (core/pause.ts): the lock is renewed and the step holds; past its limit it rolls back.
  const pause = await holdForPause(release, record, now, deps.store);
  const { firing, ignored } = firingAlarms(alarmStates, release.preexistingAlarms, release.startedAt);
  const bakeOver = bakedSeconds >= traffic.bakeSeconds;
  // The bake ended at the first check that saw it over; the step is judged once that minute's data is complete.
  const bakeEndedAt = bakeOver ? new Date(traffic.bakeEndedAt ?? now.toISOString()) : undefined;
  const settled = bakeEndedAt === undefined || traffic.bakeSeconds === 0 || windowEnd >= bakeEndedAt;
  const settleSeconds = bakeEndedAt
    ? Math.max(1, Math.ceil((completeAt(bakeEndedAt, release.metricDelaySeconds).getTime() - now.getTime()) / 1000))
    : 0;
  const decision = decide(
    {
      green: sample,
      greenStep: stepSample,
      blue: blueTarget ? blueSample : undefined,
      blueStep: blueTarget ? blueStepSample : undefined,
      firingAlarms: firing,
    },
    {
      thresholds: release.health,
      onUnhealthy: release.onUnhealthy,
      onInsufficientData: release.onInsufficientData,
      judge: judge.mode,
      relative: judge,
      onEnvironmentUnhealthy: judge.onEnvironmentUnhealthy,
      bakeOver,
      settled,
      stepHasBake: traffic.bakeSeconds > 0,
      lastStep: traffic.stepIndex + 1 >= traffic.stepCount,
      fastForward: fastForward !== undefined,
      pause: pause.held ? 'held' : pause.expired ? 'expired' : 'none',
    },
  );
  const { verdict, next } = decision;
  // Once the bake's time is up, what is judged is the late window: the bake's last minutes, complete only now.
  const windowName = `${bakeOver ? 'final window' : 'window'} ${hhmmss(windowStart)}–${hhmmss(windowEnd)}`;
  const reasons =
    windowEnd > windowStart
      ? decision.windowReasons.map((r) => (r.startsWith('alarm ') ? r : `${windowName}: ${r}`))
      : [
          ...decision.windowReasons.filter((r) => r.startsWith('alarm ')),
          `no complete minute since ${hhmmss(windowStart)} yet (metric delay ${release.metricDelaySeconds} s)`,
        ];
  let warnings = [...traffic.warnings];
  if (!settled && verdict !== 'unhealthy') {
    const complete = completeAt(bakeEndedAt ?? now, release.metricDelaySeconds);
    reasons.push(
      `bake over at ${hhmmss(bakeEndedAt ?? now)}; its last minute's data is complete at ${hhmmss(complete)} (metric delay ${release.metricDelaySeconds} s)`,
    );
  }
  // The check windows overlap (each looks back for late data), so the step's own total is named as such.
  const overStep = `over the whole ${traffic.bakeSeconds / 60}-minute step`;
  reasons.push(...decision.stepReasons.map((r) => `${overStep}: ${r}`));
  if (decision.promotedWithoutData) {
    warnings = withWarning(
      warnings,
      `step ${traffic.stepIndex + 1} (${traffic.percent}%) promoted without enough traffic to judge`,
    );
  }
  if (fastForward) reasons.push(fastForward.summary);
  const nextStepIndex = decision.skipToLastStep ? traffic.stepCount - 1 : traffic.stepIndex + 1;
  if (pause.held || pause.expired) reasons.push(pause.reason);

  const check: HealthCheck = {
    at: now.toISOString(),
    verdict,
    reasons,
    window: { start: windowStart.toISOString(), end: windowEnd.toISOString() },
    sample: withRate(sample),
    step: withRate(stepSample),
    judge: judge.mode,
    ...(blueTarget
      ? { blue: { version: blueTarget.version, sample: withRate(blueSample), step: withRate(blueStepSample) } }
      : {}),
    ...(decision.comparison ? { comparison: { ...decision.comparison, confidence: judge.confidence } } : {}),
    thresholds: {
      maxErrorRatePercent: release.health.maxErrorRatePercent,
      minInvocations: release.health.minInvocations,
      maxErrors: release.health.maxErrors,
      maxP99DurationMs: release.health.maxP99DurationMs ?? null,
    },
    firingAlarms: firing,
    ignoredAlarms: ignored,
  };

  if (decision.alert) {
    warnings = withWarning(warnings, `check at ${check.at} was ${verdict}: ${reasons.join('; ')}`);
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

  const remaining = Math.max(0, traffic.bakeSeconds - bakedSeconds);
  // A step held over an unhealthy environment after its bake checks again at the usual interval.
  const wait = bakeOver
    ? settled
      ? release.checkIntervalSeconds
      : Math.min(release.checkIntervalSeconds, settleSeconds)
    : Math.min(release.checkIntervalSeconds, remaining);
  const checked: TrafficState = {
    ...traffic,
    bakedSeconds,
    waitSeconds: next === 'bake' ? wait : 0,
    lastCheckAt: now.toISOString(),
    judgedUntil: windowEnd.toISOString(),
    ...(bakeEndedAt ? { bakeEndedAt: bakeEndedAt.toISOString() } : {}),
    checks: traffic.checks + 1,
    next,
    nextStepIndex: next === 'shift' ? nextStepIndex : traffic.stepIndex,
    lastCheck: check,
    warnings,
    ...(fastForward ? { fastForwarded: true } : {}),
  };
  // A held step keeps its bake where it was; a check that decided to roll back goes on to Roll back as decided.
  return pause.held && next === 'bake' ? heldTraffic(traffic, checked, release.checkIntervalSeconds) : checked;
}
