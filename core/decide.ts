import { type ErrorRateComparison, type JudgeMode, judgeRelative, type RelativeRules } from './judge.ts';
import type { VersionMetricsSample } from './ports.ts';
import type { HealthVerdict, NextAction } from './traffic.ts';

export interface Thresholds {
  readonly maxErrorRatePercent: number;
  readonly minInvocations: number;
  readonly maxErrors: number;
  readonly maxP99DurationMs?: number | undefined;
}

/** The verdict on one sample against the fixed thresholds, with every reason that led to it. */
export function judgeSample(
  sample: VersionMetricsSample,
  thresholds: Thresholds,
  firing: readonly string[],
): { verdict: HealthVerdict; reasons: string[] } {
  const reasons: string[] = [];
  const enough = sample.invocations >= thresholds.minInvocations;
  const rate = sample.invocations > 0 ? (sample.errors / sample.invocations) * 100 : 0;
  // The absolute limit guards low traffic, where a rate means little; with enough traffic the rate decides, so a
  // busy service's normal background errors never add up to a rollback.
  if (!enough && sample.errors >= thresholds.maxErrors) {
    reasons.push(
      `${sample.errors} errors reach the limit of ${thresholds.maxErrors} on too little traffic to judge a rate`,
    );
  }
  if (enough && rate > thresholds.maxErrorRatePercent) {
    reasons.push(`error rate ${rate.toFixed(2)}% exceeds ${thresholds.maxErrorRatePercent}%`);
  }
  if (
    enough &&
    thresholds.maxP99DurationMs !== undefined &&
    sample.p99DurationMs !== null &&
    sample.p99DurationMs > thresholds.maxP99DurationMs
  ) {
    reasons.push(`p99 duration ${Math.round(sample.p99DurationMs)} ms exceeds ${thresholds.maxP99DurationMs} ms`);
  }
  for (const alarm of firing) reasons.push(`alarm ${alarm} is firing`);
  if (reasons.length > 0) return { verdict: 'unhealthy', reasons };
  if (!enough) {
    return {
      verdict: 'insufficient-data',
      reasons: [`${sample.invocations} invocations, fewer than the ${thresholds.minInvocations} needed to judge`],
    };
  }
  return { verdict: 'healthy', reasons: [`error rate ${rate.toFixed(2)}% over ${sample.invocations} invocations`] };
}

/** The judged samples: green's, and blue's over the same window and step when the relative judge reads them. */
export interface JudgedWindow {
  readonly green: VersionMetricsSample;
  readonly greenStep: VersionMetricsSample;
  readonly blue?: VersionMetricsSample | undefined;
  readonly blueStep?: VersionMetricsSample | undefined;
  readonly firingAlarms: readonly string[];
  /** Periods judged by earlier checks, read again because their data may have arrived late (core/check-health.ts). */
  readonly greenLate?: {
    readonly sample: VersionMetricsSample;
    /** Blue over the same periods, where blue still serves a share: an outage that fails both is not green's. */
    readonly blue?: VersionMetricsSample;
    readonly from: string;
    readonly to: string;
  };
}

/** The release's rules and where the loop stands: everything `decide` needs besides the samples. */
export interface DecisionPolicy {
  readonly thresholds: Thresholds;
  readonly onUnhealthy: 'roll-back' | 'alert';
  readonly onInsufficientData: 'roll-back' | 'promote-with-warning';
  readonly judge: JudgeMode;
  readonly relative: RelativeRules;
  /** What to do when blue fails as badly as green: the environment is unhealthy, not the release. */
  readonly onEnvironmentUnhealthy: 'hold' | 'alert' | 'roll-back';
  /** The step's bake time is up. */
  readonly bakeOver: boolean;
  /** The data up to the end of the bake is complete (always true before the bake is over). */
  readonly settled: boolean;
  /** The step has a bake of its own (a fast-forwarded or zero-minute step has no traffic to judge as a whole). */
  readonly stepHasBake: boolean;
  readonly lastStep: boolean;
  /** An operator asked to skip the rest of the bake. */
  readonly fastForward: boolean;
  /**
   * An operator paused the bake (core/pause.ts): `held` keeps the step where it is, `expired` (paused past the
   * limit, or the lock lost) rolls back. Only a health verdict's rollback comes before it.
   */
  readonly pause: 'none' | 'held' | 'expired';
}

export interface Decision {
  readonly verdict: HealthVerdict;
  readonly next: NextAction;
  /** Why, for the window just judged. */
  readonly windowReasons: string[];
  /** Why, for the whole step (judged once its bake is over and settled). */
  readonly stepReasons: string[];
  /** The step passes on without enough traffic to judge it (promote-with-warning). */
  readonly promotedWithoutData: boolean;
  /** The verdict is to be raised as an alert rather than acted on. */
  readonly alert: boolean;
  /** Fast-forward: the next shift goes straight to the last step. */
  readonly skipToLastStep: boolean;
  /** The relative judge's error-rate test for the window, when blue served as the control. */
  readonly comparison?: ErrorRateComparison | undefined;
}

interface Judgement {
  readonly verdict: HealthVerdict;
  readonly reasons: string[];
  readonly comparison?: ErrorRateComparison | undefined;
  /** Under `both`, green is unhealthy only on the thresholds: blue was compared and green was not worse. */
  readonly thresholdsOnly?: boolean;
}

/** One window (or step) under the policy's judge mode. */
export function judgeWindow(
  green: VersionMetricsSample,
  blue: VersionMetricsSample | undefined,
  firing: readonly string[],
  policy: Pick<DecisionPolicy, 'thresholds' | 'judge' | 'relative'>,
): Judgement {
  const absolute = judgeSample(green, policy.thresholds, firing);
  // Blue unread (a 100% step, or no blue at all): thresholds alone, as the absolute judge.
  if (policy.judge === 'absolute' || blue === undefined) return absolute;
  const relative = judgeRelative(green, blue, policy.relative, policy.thresholds.minInvocations);
  if (relative.finding === 'no-control') {
    return { ...absolute, reasons: [...absolute.reasons, `${relative.reasons.join('; ')}: judged on thresholds`] };
  }
  const comparison = relative.errorRates;
  if (relative.finding === 'green-worse') {
    return { verdict: 'unhealthy', reasons: relative.reasons, comparison };
  }
  const blueBreaks = blue !== undefined && judgeSample(blue, policy.thresholds, []).verdict === 'unhealthy';
  if (absolute.verdict === 'unhealthy' && blueBreaks) {
    return {
      verdict: 'environment-unhealthy',
      reasons: ['blue fails as badly as green: the environment is unhealthy, not the release', ...relative.reasons],
      comparison,
    };
  }
  if (policy.judge === 'both') {
    return {
      ...absolute,
      reasons: [...absolute.reasons, ...relative.reasons],
      comparison,
      thresholdsOnly: absolute.verdict === 'unhealthy' && firing.length === 0,
    };
  }
  // Relative alone: green no worse than blue passes, but a watched alarm still fails it and a quiet green is no proof.
  if (firing.length > 0) {
    return { verdict: 'unhealthy', reasons: firing.map((a) => `alarm ${a} is firing`), comparison };
  }
  if (green.invocations < policy.thresholds.minInvocations) {
    return {
      verdict: 'insufficient-data',
      reasons: [
        `${green.invocations} invocations, fewer than the ${policy.thresholds.minInvocations} needed to judge`,
        ...relative.reasons,
      ],
      comparison,
    };
  }
  return { verdict: 'healthy', reasons: relative.reasons, comparison };
}

/**
 * The Check health decision, with no I/O: the verdict on the window just judged (and, once the bake is over and its
 * data complete, on the whole step) and what the loop does next. Every row of the policy matrix is in
 * test/unit/core/decide.test.ts.
 */
export function decide(window: JudgedWindow, policy: DecisionPolicy): Decision {
  let judged = judgeWindow(window.green, window.blue, window.firingAlarms, policy);
  // A short window holds few requests: a few background errors can push its rate over a threshold by chance. With
  // blue as the control and green no worse than it, a window's breach counts once the step so far breaches too.
  if (judged.thresholdsOnly && judgeSample(window.greenStep, policy.thresholds, []).verdict !== 'unhealthy') {
    judged = {
      verdict: 'healthy',
      reasons: [
        ...judged.reasons,
        'not blamed yet: green is no worse than blue, and the step so far is within the thresholds',
      ],
      comparison: judged.comparison,
    };
  }
  // Data that arrived after its period was judged: the periods read again are held to the thresholds on their own.
  if (judged.verdict !== 'unhealthy' && window.greenLate) {
    const late = judgeSample(window.greenLate.sample, policy.thresholds, []);
    const blueAlike =
      window.greenLate.blue !== undefined &&
      judgeSample(window.greenLate.blue, policy.thresholds, []).verdict === 'unhealthy';
    if (late.verdict === 'unhealthy' && !blueAlike) {
      judged = {
        verdict: 'unhealthy',
        reasons: [
          ...judged.reasons,
          ...late.reasons.map((r) => `late data, ${window.greenLate?.from}–${window.greenLate?.to} read again: ${r}`),
        ],
        comparison: judged.comparison,
      };
    }
  }
  // The step so far, green against blue: both versions share its span, so the comparison gains power with every
  // check instead of being diluted, and a regression too small for one short window still shows.
  if (policy.judge !== 'absolute' && judged.verdict !== 'unhealthy' && window.blueStep !== undefined) {
    const toDate = judgeRelative(window.greenStep, window.blueStep, policy.relative, policy.thresholds.minInvocations);
    if (toDate.finding === 'green-worse') {
      judged = {
        verdict: 'unhealthy',
        reasons: [...judged.reasons, ...toDate.reasons.map((r) => `step so far: ${r}`)],
        comparison: toDate.errorRates,
      };
    }
  }
  let verdict = judged.verdict;
  const stepReasons: string[] = [];
  let stepInconclusive = false;
  let promotedWithoutData = false;

  const passing = verdict !== 'unhealthy' && verdict !== 'environment-unhealthy';
  if (policy.bakeOver && policy.settled && passing && policy.stepHasBake) {
    // The step as a whole must have been judged on enough traffic; a quiet step never passes silently.
    const step = judgeWindow(window.greenStep, window.blueStep, [], policy);
    stepReasons.push(...step.reasons);
    if (step.verdict === 'unhealthy' || step.verdict === 'environment-unhealthy') verdict = step.verdict;
    else if (step.verdict === 'insufficient-data') {
      if (policy.onInsufficientData === 'roll-back') {
        verdict = 'insufficient-data';
        stepInconclusive = true;
      } else promotedWithoutData = true;
    }
  }

  const environmentAct = verdict === 'environment-unhealthy' ? policy.onEnvironmentUnhealthy : undefined;
  let next: NextAction;
  if (verdict === 'unhealthy' && policy.onUnhealthy === 'roll-back') next = 'roll-back';
  else if (environmentAct === 'roll-back') next = 'roll-back';
  else if (policy.pause !== 'none') next = policy.pause === 'held' ? 'bake' : 'roll-back';
  else if (policy.fastForward) next = policy.lastStep ? 'finalize' : 'shift';
  else if (stepInconclusive) next = 'roll-back';
  // Hold: the step does not pass on while blue fails alike; it proceeds once a check sees the environment recover.
  else if (environmentAct === 'hold') next = 'bake';
  else if (!policy.bakeOver || !policy.settled) next = 'bake';
  else if (!policy.lastStep) next = 'shift';
  else next = 'finalize';

  return {
    verdict,
    next,
    windowReasons: judged.reasons,
    stepReasons,
    promotedWithoutData: promotedWithoutData && (next === 'shift' || next === 'finalize'),
    alert:
      (verdict === 'unhealthy' && policy.onUnhealthy === 'alert') ||
      (verdict === 'environment-unhealthy' && environmentAct !== 'roll-back'),
    skipToLastStep: policy.fastForward && next === 'shift',
    comparison: judged.comparison,
  };
}

/**
 * One outcome within a check, and whether it judged data new to this check: a metric source's decision for one
 * target, or a target's combined decision for the release.
 */
export interface OutcomeDecision {
  readonly decision: Decision;
  readonly fresh: boolean;
}

const SEVERITY: Readonly<Record<HealthVerdict, number>> = {
  healthy: 0,
  'insufficient-data': 1,
  'environment-unhealthy': 2,
  unhealthy: 3,
};

/**
 * Several outcomes of one check as one, the same rule for a target's metric sources and for a release's targets: any
 * roll-back rolls back (the first); otherwise an alert is reported over a plain verdict, then the worse verdict on
 * fresh data (the earlier outcome on a tie). The step moves on only when every outcome lets it. Returns the index of
 * the outcome whose verdict stands, and what happens next.
 */
export function combineOutcomes(sources: readonly OutcomeDecision[]): { deciding: number; next: NextAction } {
  if (sources.length === 0) throw new Error('combineOutcomes needs at least one outcome');
  const indexed = sources.map((source, index) => ({ ...source, index }));
  const rollback = indexed.find((s) => s.decision.next === 'roll-back');
  const alerting = indexed.filter((s) => s.decision.alert);
  const fresh = indexed.filter((s) => s.fresh);
  const candidates = rollback ? [rollback] : alerting.length > 0 ? alerting : fresh.length > 0 ? fresh : indexed;
  const deciding = candidates.reduce((worst, s) =>
    SEVERITY[s.decision.verdict] > SEVERITY[worst.decision.verdict] ? s : worst,
  );
  const next: NextAction = rollback
    ? 'roll-back'
    : indexed.some((s) => s.decision.next === 'bake')
      ? 'bake'
      : deciding.decision.next;
  return { deciding: deciding.index, next };
}
