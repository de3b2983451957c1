import { combineOutcomes, type Decision, decide } from './decide.ts';
import {
  type CheckTarget,
  completeAt,
  hhmmss,
  type PlannedSource,
  periodName,
  type Samples,
  sourceLabel,
} from './metric-windows.ts';
import { heldTraffic, holdForPause, type PauseHold } from './pause.ts';
import type { AlarmState, Alarms, ReleaseRecord, ReleaseStore, VersionMetricsSample } from './ports.ts';
import type { ReleaseContext } from './release-context.ts';
import type { HealthCheck, NextAction, SourceCheck, TrafficState } from './traffic.ts';

/**
 * Decide: each target judged over every metric source from the batched read, and the targets' outcomes combined the
 * same way a target's sources are (decide.ts `combineOutcomes`): docs/architecture.md, "Measure, decide, act".
 */

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

/** The judge's default when a release carries none. */
export function judgeOf(release: ReleaseContext): NonNullable<ReleaseContext['judge']> {
  return release.judge ?? DEFAULT_JUDGE;
}

/** One target judged over every source: the combined decision, its evidence and how long its data takes to settle. */
export interface TargetJudgement {
  /** The deciding source's decision. */
  readonly decision: Decision;
  /** What happens next for this target, every source considered (combineOutcomes). */
  readonly next: NextAction;
  /** The check's evidence for this target; its reasons are the sources' (the deciding source's first). */
  readonly check: HealthCheck;
  /** The deciding source's reasons alone. */
  readonly decidingReasons: readonly string[];
  readonly settled: boolean;
  readonly settleSeconds: number;
  readonly promotedWithoutData: boolean;
  /** Some source judged data new to this check. */
  readonly fresh: boolean;
  /** Where each source's judged data ends, for the next check's windows. */
  readonly judgedUntil: Pick<TrafficState, 'judgedUntil' | 'highResolutionJudgedUntil'>;
}

/** Judges one target from its samples in the batched read; either source's rollback rolls back (combineOutcomes). */
export function judgeTarget(
  target: CheckTarget,
  planned: readonly PlannedSource[],
  samples: Samples,
  ctx: CheckContext,
): TargetJudgement {
  const { traffic, now, judge, bakeOver, bakeEndedAt } = ctx;
  const sampleAt = (id: string | undefined) => samples.of(id);
  const blueVersion = target.blueVersion;
  const multiple = planned.length > 1;
  const judged = planned.map((p, index) => {
    const settled = bakeEndedAt === undefined || traffic.bakeSeconds === 0 || p.windowEnd >= bakeEndedAt;
    const blue = blueVersion ? { sample: sampleAt(p.blue), step: sampleAt(p.blueStep) } : undefined;
    const decision = decide(
      {
        green: sampleAt(p.green),
        greenStep: sampleAt(p.greenStep),
        ...(p.greenLate !== undefined
          ? {
              greenLate: {
                sample: sampleAt(p.greenLate),
                ...(p.blueLate !== undefined ? { blue: sampleAt(p.blueLate) } : {}),
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
  const combined = combineOutcomes(judged);
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
    fresh: judged.some((j) => j.fresh),
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
