import { describe, expect, it } from 'vitest';
import { type DecisionPolicy, decide, type JudgedWindow } from '../../../core/analysis/decide.ts';
import { compareErrorRates } from '../../../core/analysis/judge.ts';
import type { VersionMetricsSample } from '../../../core/ports/ports.ts';

const sample = (invocations: number, errors: number, p99DurationMs: number | null = 100): VersionMetricsSample => ({
  invocations,
  errors,
  throttles: 0,
  p99DurationMs,
});

const base: DecisionPolicy = {
  thresholds: { maxErrorRatePercent: 1, minInvocations: 50, maxErrors: 10, maxP99DurationMs: 2000 },
  onUnhealthy: 'roll-back',
  onInsufficientData: 'roll-back',
  judge: 'both',
  relative: { confidence: 0.999, latencyTolerancePercent: 25 },
  onEnvironmentUnhealthy: 'alert',
  bakeOver: false,
  settled: true,
  stepHasBake: true,
  lastStep: false,
  fastForward: false,
  pause: 'none',
};

/** Samples (window and step alike) that produce each verdict under the `both` judge, blue as the control. */
const windows: Record<string, JudgedWindow> = {
  healthy: {
    green: sample(1000, 1),
    greenStep: sample(1000, 1),
    blue: sample(9000, 9),
    blueStep: sample(9000, 9),
    firingAlarms: [],
  },
  unhealthy: {
    green: sample(1000, 50),
    greenStep: sample(1000, 50),
    blue: sample(9000, 9),
    blueStep: sample(9000, 9),
    firingAlarms: [],
  },
  'insufficient-data': {
    green: sample(10, 0),
    greenStep: sample(10, 0),
    blue: sample(9000, 9),
    blueStep: sample(9000, 9),
    firingAlarms: [],
  },
  'environment-unhealthy': {
    green: sample(1000, 50),
    greenStep: sample(1000, 50),
    blue: sample(9000, 450),
    blueStep: sample(9000, 450),
    firingAlarms: [],
  },
};

const bakePositions = [
  { name: 'baking', bakeOver: false, settled: true },
  { name: 'bake over, last minute not complete', bakeOver: true, settled: false },
  { name: 'bake over and settled', bakeOver: true, settled: true },
] as const;

type Row = {
  verdict: string;
  onUnhealthy: DecisionPolicy['onUnhealthy'];
  onInsufficientData: DecisionPolicy['onInsufficientData'];
  onEnvironmentUnhealthy: DecisionPolicy['onEnvironmentUnhealthy'];
  position: (typeof bakePositions)[number];
  lastStep: boolean;
  fastForward: boolean;
  pause: DecisionPolicy['pause'];
  next: string;
};

/**
 * The policy matrix as docs/verdicts.md states it, in order of precedence: a failing verdict whose policy is to
 * roll back wins; then a pause (held: keep baking; expired: roll back); then a fast-forward; then an inconclusive step under `roll-back`; then a hold; then the bake's
 * progression (bake until over and settled, then shift, or finalize on the last step).
 */
function matrixRows(): Row[] {
  const rows: Row[] = [];
  for (const verdict of Object.keys(windows))
    for (const onUnhealthy of ['roll-back', 'alert'] as const)
      for (const onInsufficientData of ['roll-back', 'promote-with-warning'] as const)
        for (const onEnvironmentUnhealthy of ['hold', 'alert', 'roll-back'] as const)
          for (const position of bakePositions)
            for (const lastStep of [false, true])
              for (const fastForward of [false, true])
                for (const pause of ['none', 'held', 'expired'] as const) {
                  const stepJudged = position.bakeOver && position.settled;
                  const progression = !stepJudged ? 'bake' : lastStep ? 'finalize' : 'shift';
                  const skipped = lastStep ? 'finalize' : 'shift';
                  let next: string;
                  if (verdict === 'unhealthy' && onUnhealthy === 'roll-back') next = 'roll-back';
                  else if (verdict === 'environment-unhealthy' && onEnvironmentUnhealthy === 'roll-back')
                    next = 'roll-back';
                  else if (pause !== 'none') next = pause === 'held' ? 'bake' : 'roll-back';
                  else if (fastForward) next = skipped;
                  else if (verdict === 'insufficient-data' && stepJudged && onInsufficientData === 'roll-back')
                    next = 'roll-back';
                  else if (verdict === 'environment-unhealthy' && onEnvironmentUnhealthy === 'hold') next = 'bake';
                  else next = progression;
                  rows.push({
                    verdict,
                    onUnhealthy,
                    onInsufficientData,
                    onEnvironmentUnhealthy,
                    position,
                    lastStep,
                    fastForward,
                    pause,
                    next,
                  });
                }
  return rows;
}

describe('decide: the policy matrix', () => {
  const rows = matrixRows();

  it('covers every combination (4 verdicts × 2 × 2 × 3 × 3 bake positions × last step × fast-forward × pause)', () => {
    expect(rows).toHaveLength(4 * 2 * 2 * 3 * 3 * 2 * 2 * 3);
  });

  it.each(rows)(
    '$verdict, onUnhealthy $onUnhealthy, onInsufficientData $onInsufficientData, environment $onEnvironmentUnhealthy, $position.name, last step $lastStep, fast-forward $fastForward, pause $pause → $next',
    (row) => {
      const window = windows[row.verdict] as JudgedWindow;
      const decision = decide(window, {
        ...base,
        onUnhealthy: row.onUnhealthy,
        onInsufficientData: row.onInsufficientData,
        onEnvironmentUnhealthy: row.onEnvironmentUnhealthy,
        bakeOver: row.position.bakeOver,
        settled: row.position.settled,
        lastStep: row.lastStep,
        fastForward: row.fastForward,
        pause: row.pause,
      });
      expect(decision.verdict).toBe(row.verdict);
      expect(decision.next).toBe(row.next);
      expect(decision.skipToLastStep).toBe(row.fastForward && row.next === 'shift');
      const alerting =
        (row.verdict === 'unhealthy' && row.onUnhealthy === 'alert') ||
        (row.verdict === 'environment-unhealthy' && row.onEnvironmentUnhealthy !== 'roll-back');
      expect(decision.alert).toBe(alerting);
      const stepJudged = row.position.bakeOver && row.position.settled;
      expect(decision.promotedWithoutData).toBe(
        row.verdict === 'insufficient-data' &&
          stepJudged &&
          row.onInsufficientData === 'promote-with-warning' &&
          (row.next === 'shift' || row.next === 'finalize'),
      );
    },
  );
});

describe('decide: the whole step', () => {
  it('rolls back a step whose windows passed one by one but whose total breaks the rate', () => {
    const window = { ...windows.healthy, greenStep: sample(5000, 100) } as JudgedWindow;
    const decision = decide(window, { ...base, judge: 'absolute', bakeOver: true, settled: true });
    expect(decision).toMatchObject({ verdict: 'unhealthy', next: 'roll-back' });
    expect(decision.stepReasons).toEqual(['error rate 2.00% exceeds 1%']);
  });

  it('does not judge the step of a zero-minute bake', () => {
    const window = { ...windows.healthy, greenStep: sample(0, 0) } as JudgedWindow;
    expect(decide(window, { ...base, bakeOver: true, stepHasBake: false })).toMatchObject({ next: 'shift' });
  });
});

describe('decide: the relative judge', () => {
  const judged = (judge: DecisionPolicy['judge'], w: Partial<JudgedWindow>) =>
    decide({ ...windows.healthy, ...w } as JudgedWindow, { ...base, judge });

  it('blames green that errs significantly more than blue though under the absolute limit', () => {
    // 0.8% against blue's 0.05%: under prod's 1%, yet p far below 0.001.
    const w = { green: sample(5000, 40), blue: sample(45_000, 22) };
    expect(judged('absolute', w).verdict).toBe('healthy');
    expect(judged('relative', w)).toMatchObject({ verdict: 'unhealthy', next: 'roll-back' });
    expect(judged('both', w).comparison).toMatchObject({ test: 'two-proportion z-test' });
  });

  it('calls a fault that hits blue as badly as green the environment, not the release', () => {
    const w = { green: sample(1000, 300), blue: sample(9000, 2700) };
    expect(judged('absolute', w)).toMatchObject({ verdict: 'unhealthy', next: 'roll-back' });
    const both = judged('both', w);
    expect(both).toMatchObject({ verdict: 'environment-unhealthy', next: 'bake', alert: true });
    expect(both.windowReasons[0]).toBe('blue fails as badly as green: the environment is unhealthy, not the release');
    expect(judged('relative', w).verdict).toBe('environment-unhealthy');
  });

  it('still blames green when the environment is bad but green is significantly worse', () => {
    const w = { green: sample(1000, 300), blue: sample(9000, 450) };
    expect(judged('both', w)).toMatchObject({ verdict: 'unhealthy', next: 'roll-back' });
  });

  it('blames green slower than blue beyond the tolerance, and passes it within', () => {
    expect(judged('relative', { green: sample(1000, 0, 400), blue: sample(9000, 0, 300) }).verdict).toBe('unhealthy');
    expect(judged('relative', { green: sample(1000, 0, 360), blue: sample(9000, 0, 300) }).verdict).toBe('healthy');
  });

  it('falls back to the thresholds when blue served too little to compare with', () => {
    const d = judged('relative', { green: sample(1000, 50), blue: sample(20, 0) });
    expect(d.verdict).toBe('unhealthy');
    expect(d.windowReasons.at(-1)).toBe(
      'blue served 20 invocations, fewer than the 50 needed to compare with: judged on thresholds',
    );
  });

  it('under relative alone, a watched alarm still fails green and a quiet green is insufficient data', () => {
    expect(judged('relative', { firingAlarms: ['prod-5xx'] }).verdict).toBe('unhealthy');
    expect(judged('relative', { green: sample(10, 0) }).verdict).toBe('insufficient-data');
  });

  it('under both, green breaking a threshold with blue healthy is unhealthy even when the test is not significant', () => {
    // 12 errors on 40 invocations: under minInvocations, so the absolute count limit decides.
    const d = judged('both', { green: sample(40, 12), blue: sample(9000, 9) });
    expect(d.verdict).toBe('unhealthy');
  });
});

describe('decide: short windows and the step so far', () => {
  it('does not blame green for a window whose few background errors cross the threshold by chance', () => {
    // 3 errors in 236 requests is 1.27%, over prod's 1%; blue errs alike and the step so far is at 0.1%.
    const w = { green: sample(236, 3), greenStep: sample(2360, 3), blue: sample(1829, 3), blueStep: sample(18290, 18) };
    const d = decide({ ...w, firingAlarms: [] }, base);
    expect(d.verdict).toBe('healthy');
    expect(d.windowReasons.at(-1)).toBe(
      'not blamed yet: green is no worse than blue, and the step so far is within the thresholds',
    );
    // The same window judged on thresholds alone rolls back.
    expect(decide({ ...w, firingAlarms: [] }, { ...base, judge: 'absolute' }).next).toBe('roll-back');
  });

  it('blames the window once the step so far breaches the threshold too', () => {
    const w = { green: sample(236, 3), greenStep: sample(472, 6), blue: sample(1829, 3), blueStep: sample(3658, 6) };
    expect(decide({ ...w, firingAlarms: [] }, base).verdict).toBe('unhealthy');
  });

  it('blames green on the step so far when one window is too small to show a regression', () => {
    // One window: 2/200 against 2/1800 is not significant; the step so far, 10/1000 against 9/9000, is.
    const w = { green: sample(200, 2), greenStep: sample(1000, 10), blue: sample(1800, 2), blueStep: sample(9000, 9) };
    const d = decide(
      { ...w, firingAlarms: [] },
      { ...base, thresholds: { ...base.thresholds, maxErrorRatePercent: 5 } },
    );
    expect(d.verdict).toBe('unhealthy');
    expect(d.windowReasons.some((r) => r.startsWith('step so far: error rate green 1.00% (10/1000)'))).toBe(true);
  });
});

describe('compareErrorRates', () => {
  it("uses Fisher's exact test at low counts: 3/10 against 0/10 is p = C(10,3)/C(20,3)", () => {
    const c = compareErrorRates(sample(10, 3), sample(10, 0));
    expect(c.test).toBe("Fisher's exact test");
    expect(c.pValue).toBeCloseTo(120 / 1140, 6);
  });

  it('uses the two-proportion z-test at high counts: equal rates give p = 0.5', () => {
    const c = compareErrorRates(sample(1000, 50), sample(9000, 450));
    expect(c.test).toBe('two-proportion z-test');
    expect(c.pValue).toBeCloseTo(0.5, 6);
  });

  it('gives z = 4.29 (p ≈ 9e-6) for 6% against 3.33%', () => {
    const c = compareErrorRates(sample(1000, 60), sample(9000, 300));
    expect(c.pValue).toBeGreaterThan(5e-6);
    expect(c.pValue).toBeLessThan(1.5e-5);
  });

  it('is 1 when there is nothing to compare', () => {
    expect(compareErrorRates(sample(0, 0), sample(100, 1)).pValue).toBe(1);
    expect(compareErrorRates(sample(100, 0), sample(100, 0)).pValue).toBe(1);
  });
});
