import { describe, expect, it } from 'vitest';
import { environments } from '../../config/environments.ts';
import { STRATEGY_PRESETS, trafficPlan } from '../../config/traffic-plan.ts';
import { IDLE_RATE, LOAD_MARGIN, loadPlan } from '../../local/load-plan.ts';
import { DEFAULT_SPEEDUP, REHEARSAL_SPEEDUP, rehearsalRate } from '../../local/local-defaults.ts';

describe('the local server load plan', () => {
  it('gives every environment enough calls on the new version in every step, at the default speed', () => {
    for (const env of Object.values(environments)) {
      const plan = loadPlan(env, DEFAULT_SPEEDUP);
      for (const strategy of [env.strategy, ...Object.values(STRATEGY_PRESETS)]) {
        for (const step of trafficPlan(env, strategy)) {
          if (step.bakeSeconds === 0) continue;
          // Calls the new version gets over the step at the release rate, before the margin.
          const calls = (plan.releaseRate / LOAD_MARGIN) * (step.percent / 100) * (step.bakeSeconds / DEFAULT_SPEEDUP);
          expect([env.name, step, calls >= env.health.minInvocations]).toEqual([env.name, step, true]);
        }
      }
      expect(plan.idleRate).toBe(IDLE_RATE);
    }
  });

  it("says why: prod's 5-minute canary at 10% needs 50 calls, so 100 req/s and a margin", () => {
    const prod = loadPlan(environments.prod, DEFAULT_SPEEDUP);
    expect(prod.releaseRate).toBe(150);
    expect(prod.reason).toBe('a 5-minute step at 10% needs 50 calls: 50 ÷ 10% ÷ 5 s (at ×60) = 100 req/s, ×1.5 margin');
    // Twice the speed halves the real time of a step, so twice the rate.
    expect(loadPlan(environments.prod, 120).releaseRate).toBe(300);
  });
});

describe("the rehearsal's load (npm start)", () => {
  it('keeps at least 200 req/s and at least the ×60 traffic per virtual minute, up to what --rate accepts', () => {
    expect(rehearsalRate(15)).toBe(200);
    expect(rehearsalRate(60)).toBe(200);
    expect(rehearsalRate(120)).toBe(400);
    expect(rehearsalRate(3600)).toBe(2000);
    // Requests a virtual minute at npm start's speedup: as many as ×60 at 200 req/s gave the checks.
    expect((rehearsalRate(REHEARSAL_SPEEDUP) * 60) / REHEARSAL_SPEEDUP).toBeGreaterThanOrEqual(200);
  });
});
