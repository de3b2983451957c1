import type { EnvironmentConfig, Strategy } from './schema.ts';

/** One traffic step as the state machine runs it: weight on the new version, then a bake of `bakeSeconds`. */
export interface PlannedStep {
  readonly percent: number;
  readonly bakeSeconds: number;
}

type PlanSettings = Pick<EnvironmentConfig, 'bake' | 'strategy'>;
type WindowSettings = PlanSettings &
  Pick<EnvironmentConfig, 'blueGreen' | 'approvalRequired' | 'approvalTimeoutMinutes' | 'lockTtlMinutes'>;
type PauseSettings = WindowSettings & Pick<EnvironmentConfig, 'maxPauseMinutes'>;

/** Minutes the lock must outlast a release by: scan, deploy, verify and the checks themselves take time too. */
export const RELEASE_WINDOW_MARGIN_MINUTES = 15;

/** Expands a strategy into explicit steps; the last step is always 100% with the environment's bake. */
export function trafficPlan(env: PlanSettings, strategy: Strategy = env.strategy): PlannedStep[] {
  const finalBake = Math.round(env.bake.minutes * 60);
  switch (strategy.kind) {
    case 'all-at-once':
      return [{ percent: 100, bakeSeconds: finalBake }];
    case 'canary':
      return [
        { percent: strategy.percent, bakeSeconds: Math.round(strategy.bakeMinutes * 60) },
        { percent: 100, bakeSeconds: finalBake },
      ];
    case 'linear': {
      const steps: PlannedStep[] = [];
      for (let p = strategy.percentPerStep; p < 100; p += strategy.percentPerStep) {
        steps.push({ percent: p, bakeSeconds: Math.round(strategy.minutesPerStep * 60) });
      }
      steps.push({ percent: 100, bakeSeconds: finalBake });
      return steps;
    }
    case 'steps':
      return strategy.steps.map((s) => ({ percent: s.percent, bakeSeconds: Math.round(s.bakeMinutes * 60) }));
  }
}

/**
 * Why an environment cannot run a strategy, or undefined when it can. The config's validation and a release's
 * strategy override both ask this, so a release can never get round a rule the config itself must keep.
 */
export function strategyRefusal(
  env: WindowSettings,
  strategy: Strategy = env.strategy,
): { field: 'strategy' | 'lockTtlMinutes'; message: string; neededMinutes?: number } | undefined {
  if (!env.blueGreen && strategy.kind !== 'all-at-once') {
    return { field: 'strategy', message: 'an environment without blue-green must use the all-at-once strategy' };
  }
  // The lock must outlive the release, or a second release could start while the first still bakes.
  // A step with a bake ends only once its last minute's data is complete: up to a minute plus the metric delay.
  const bakeMinutes = trafficPlan(env, strategy).reduce(
    (sum, step) => sum + (step.bakeSeconds > 0 ? step.bakeSeconds / 60 + 1 + env.bake.metricDelaySeconds / 60 : 0),
    0,
  );
  const needed = Math.ceil(
    bakeMinutes + (env.approvalRequired ? env.approvalTimeoutMinutes : 0) + RELEASE_WINDOW_MARGIN_MINUTES,
  );
  if (needed > env.lockTtlMinutes) {
    return {
      field: 'lockTtlMinutes',
      neededMinutes: needed,
      message: `must be at least ${needed}: the release window (bakes and their wait for complete data, approval and ${RELEASE_WINDOW_MARGIN_MINUTES} minutes of margin)`,
    };
  }
  return undefined;
}

/**
 * Step Functions fails a Standard execution whose history reaches 25,000 events ("Maximum execution history size",
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). A bake loop turn is Bake (Wait: 2
 * events), Check health (Task with its Lambda: 5) and Healthy? (Choice: 2); 10 per turn leaves room for retries.
 */
export const EXECUTION_HISTORY_LIMIT = 25_000;
export const HISTORY_EVENTS_PER_CHECK = 10;
/** The states outside the bake loop, with their retries: well under this many events. */
const HISTORY_EVENTS_OUTSIDE_BAKE = 200;

/**
 * The longest a release of this environment can run, in minutes: its release window (what the lock is sized to) and
 * the longest pause. The state machine's execution timeout is the longest of these among the environments.
 */
export function longestReleaseMinutes(env: Pick<EnvironmentConfig, 'lockTtlMinutes' | 'maxPauseMinutes'>): number {
  return env.lockTtlMinutes + (env.maxPauseMinutes ?? 0);
}

/**
 * Why an environment's checks could outgrow the execution history, or undefined when they cannot: the bakes' checks
 * (each step's bake, its wait for complete data, one check per interval) and a pause held to its limit.
 */
export function historyRefusal(env: PauseSettings, strategy: Strategy = env.strategy): string | undefined {
  const interval = env.bake.checkIntervalSeconds;
  const bakeChecks = trafficPlan(env, strategy).reduce(
    (sum, step) => sum + 1 + Math.ceil((step.bakeSeconds + 60 + env.bake.metricDelaySeconds) / interval),
    0,
  );
  const pauseChecks = Math.ceil(((env.maxPauseMinutes ?? 0) * 60) / interval);
  const events = HISTORY_EVENTS_OUTSIDE_BAKE + (bakeChecks + pauseChecks) * HISTORY_EVENTS_PER_CHECK;
  if (events <= EXECUTION_HISTORY_LIMIT) return undefined;
  return `with a check every ${interval} s, the bakes and a ${env.maxPauseMinutes ?? 0}-minute pause need about ${events} execution history events, more than Step Functions' ${EXECUTION_HISTORY_LIMIT}`;
}

/** Strategies by name, for command-line options (`--strategy canary`); `config` means the environment's own. */
export const STRATEGY_PRESETS: Readonly<Record<'all-at-once' | 'canary' | 'linear', Strategy>> = {
  'all-at-once': { kind: 'all-at-once' },
  canary: { kind: 'canary', percent: 10, bakeMinutes: 5 },
  linear: { kind: 'linear', percentPerStep: 25, minutesPerStep: 2 },
};

/** The preset a `--strategy` value names, undefined for `config` (or nothing), or an error naming the choices. */
export function strategyPreset(name: string | undefined): Strategy | undefined {
  if (name === undefined || name === 'config') return undefined;
  const preset = (STRATEGY_PRESETS as Record<string, Strategy>)[name];
  if (!preset)
    throw new Error(`--strategy must be one of config, ${Object.keys(STRATEGY_PRESETS).join(', ')}; got "${name}"`);
  return preset;
}
