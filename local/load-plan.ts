import type { EnvironmentConfig } from '../config/schema.ts';
import { STRATEGY_PRESETS, trafficPlan } from '../config/traffic-plan.ts';

/** Requests per second an environment gets while nothing is releasing there: enough to keep `live` warm. */
export const IDLE_RATE = 2;

/**
 * Headroom over the bare minimum: routing to the new version is random per request, and the last seconds of a step
 * fall into the next minute's bucket.
 */
export const LOAD_MARGIN = 1.5;

/** The load one environment needs while it releases, and the step that decides it. */
export interface LoadPlan {
  readonly environment: string;
  /** Requests per real second while a release runs. */
  readonly releaseRate: number;
  readonly idleRate: number;
  /** Why that rate: the most demanding step and the arithmetic. */
  readonly reason: string;
}

/**
 * The rate at which every step of the environment's strategy (and of the presets the console and CLI offer) sees at
 * least `minInvocations` calls on the new version over its bake: calls = rate × share × bake seconds ÷ speedup.
 */
export function loadPlan(env: EnvironmentConfig, speedup: number): LoadPlan {
  const strategies = [env.strategy, ...Object.values(STRATEGY_PRESETS)];
  let worst = { needed: 0, percent: 100, bakeSeconds: 0 };
  for (const strategy of strategies) {
    for (const step of trafficPlan(env, strategy)) {
      if (step.bakeSeconds <= 0) continue;
      const needed = env.health.minInvocations / (step.percent / 100) / (step.bakeSeconds / speedup);
      if (needed > worst.needed) worst = { needed, percent: step.percent, bakeSeconds: step.bakeSeconds };
    }
  }
  const releaseRate = Math.max(IDLE_RATE, Math.ceil(worst.needed * LOAD_MARGIN));
  const realSeconds = Math.round((worst.bakeSeconds / speedup) * 10) / 10;
  return {
    environment: env.name,
    releaseRate,
    idleRate: IDLE_RATE,
    reason:
      `a ${worst.bakeSeconds / 60}-minute step at ${worst.percent}% needs ${env.health.minInvocations} calls: ` +
      `${env.health.minInvocations} ÷ ${worst.percent}% ÷ ${realSeconds} s (at ×${speedup}) = ` +
      `${Math.ceil(worst.needed)} req/s, ×${LOAD_MARGIN} margin`,
  };
}
