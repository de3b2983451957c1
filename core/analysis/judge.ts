import hypergeometricCdf from '@stdlib/stats-base-dists-hypergeometric-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import type { VersionMetricsSample } from '../ports/ports.ts';

/** How green is judged: against fixed thresholds, against blue over the same window, or both. */
export type JudgeMode = 'absolute' | 'relative' | 'both';

export interface RelativeRules {
  /** One-sided confidence that green's error rate exceeds blue's before green is blamed (0.99 = p < 0.01). */
  readonly confidence: number;
  /** Green's p99 may exceed blue's by this share before it is blamed. */
  readonly latencyTolerancePercent: number;
}

/** The one-sided test behind a relative error-rate verdict, with its inputs, so the evidence can be re-checked. */
export interface ErrorRateComparison {
  readonly test: 'two-proportion z-test' | "Fisher's exact test";
  /** P(green's errors at least this many | both versions share one error rate). */
  readonly pValue: number;
  readonly greenRatePercent: number;
  readonly blueRatePercent: number;
}

/** Below this many expected errors (or successes) in any cell the normal approximation is poor: use Fisher's test. */
const MIN_EXPECTED_FOR_Z = 5;

/**
 * One-sided test that green's error rate exceeds blue's. The two-proportion z-test with the pooled rate is the
 * standard large-sample test; when any cell's expected count is under 5 (low traffic, rare errors) Fisher's exact
 * test conditions on the total errors and sums the hypergeometric upper tail instead.
 */
export function compareErrorRates(green: VersionMetricsSample, blue: VersionMetricsSample): ErrorRateComparison {
  const n1 = green.invocations;
  const n2 = blue.invocations;
  const x1 = Math.min(green.errors, n1);
  const x2 = Math.min(blue.errors, n2);
  const greenRatePercent = n1 > 0 ? (x1 / n1) * 100 : 0;
  const blueRatePercent = n2 > 0 ? (x2 / n2) * 100 : 0;
  const total = n1 + n2;
  const errors = x1 + x2;
  if (n1 === 0 || n2 === 0 || errors === 0) {
    return { test: "Fisher's exact test", pValue: 1, greenRatePercent, blueRatePercent };
  }
  const pooled = errors / total;
  const expected = [n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)];
  if (expected.some((e) => e < MIN_EXPECTED_FOR_Z)) {
    // Green's errors among all errors, drawing green's invocations from the whole population.
    const pValue = x1 === 0 ? 1 : 1 - hypergeometricCdf(x1 - 1, total, errors, n1);
    return { test: "Fisher's exact test", pValue: clampProbability(pValue), greenRatePercent, blueRatePercent };
  }
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = standardError > 0 ? (x1 / n1 - x2 / n2) / standardError : 0;
  return {
    test: 'two-proportion z-test',
    pValue: clampProbability(1 - normalCdf(z, 0, 1)),
    greenRatePercent,
    blueRatePercent,
  };
}

function clampProbability(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/**
 * A p99 rests on the slowest 1% of requests: under 5 of them (500 invocations) it is one or two requests and swings
 * by tens of percent between two samples of one version, so the latency comparison waits for that much traffic.
 */
export const MIN_INVOCATIONS_FOR_P99 = 500;

/** What comparing green with blue over one window found. */
export type RelativeFinding =
  /** Blue served too little in the window to compare with (a 100% step, or a first release with no blue). */
  | 'no-control'
  /** Green errs significantly more than blue, or is slower beyond the tolerance. */
  | 'green-worse'
  /** Green is no worse than blue, as far as this window shows. */
  | 'comparable';

export interface RelativeJudgement {
  readonly finding: RelativeFinding;
  readonly reasons: string[];
  readonly errorRates?: ErrorRateComparison;
}

/**
 * Green against blue over the same window. Blue needs `minInvocations` of its own to serve as the control; green
 * needs at least one invocation. The latency comparison needs both p99s.
 */
export function judgeRelative(
  green: VersionMetricsSample,
  blue: VersionMetricsSample | undefined,
  rules: RelativeRules,
  minInvocations: number,
): RelativeJudgement {
  if (!blue || blue.invocations < minInvocations || green.invocations === 0) {
    return {
      finding: 'no-control',
      reasons: [
        `blue served ${blue?.invocations ?? 0} invocations, fewer than the ${minInvocations} needed to compare with`,
      ],
    };
  }
  const errorRates = compareErrorRates(green, blue);
  const alpha = 1 - rules.confidence;
  const reasons: string[] = [];
  const rates = `green ${errorRates.greenRatePercent.toFixed(2)}% (${green.errors}/${green.invocations}) vs blue ${errorRates.blueRatePercent.toFixed(2)}% (${blue.errors}/${blue.invocations})`;
  const errorsWorse = errorRates.pValue < alpha && errorRates.greenRatePercent > errorRates.blueRatePercent;
  reasons.push(
    errorsWorse
      ? `error rate ${rates} is higher at ${(rules.confidence * 100).toFixed(1)}% confidence (${errorRates.test}, p=${formatP(errorRates.pValue)})`
      : `error rate ${rates}: no significant difference (${errorRates.test}, p=${formatP(errorRates.pValue)})`,
  );
  let latencyWorse = false;
  if (
    green.p99DurationMs !== null &&
    blue.p99DurationMs !== null &&
    Math.min(green.invocations, blue.invocations) >= MIN_INVOCATIONS_FOR_P99
  ) {
    const limit = blue.p99DurationMs * (1 + rules.latencyTolerancePercent / 100);
    latencyWorse = green.p99DurationMs > limit;
    reasons.push(
      `p99 green ${Math.round(green.p99DurationMs)} ms vs blue ${Math.round(blue.p99DurationMs)} ms ${
        latencyWorse ? 'exceeds' : 'within'
      } blue + ${rules.latencyTolerancePercent}%`,
    );
  }
  return { finding: errorsWorse || latencyWorse ? 'green-worse' : 'comparable', reasons, errorRates };
}

function formatP(p: number): string {
  return p < 0.0001 ? p.toExponential(1) : p.toFixed(4);
}
