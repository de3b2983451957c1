import {
  ENVIRONMENT_NAMES,
  type EnvironmentConfig,
  EnvironmentNameSchema,
  type Environments,
  parseEnvironments,
  type Strategy,
  StrategySchema,
} from './schema.ts';

export type { EnvironmentConfig, EnvironmentName, Environments, SmokeRequest, Strategy } from './schema.ts';
export { ENVIRONMENT_NAMES, InvalidConfig, parseEnvironments } from './schema.ts';
export { type PlannedStep, STRATEGY_PRESETS, strategyPreset, strategyRefusal, trafficPlan } from './traffic-plan.ts';

/** The application Switchyard ships; one ECR repository feeds every environment. */
export const APPLICATION = {
  name: 'switchyard-api',
  repositoryName: 'switchyard-api',
} as const;

const smokeRequests = [
  { name: 'version', method: 'GET', path: '/version', signed: false, expectStatus: 200 },
  { name: 'list-orders', method: 'GET', path: '/orders', signed: true, expectStatus: 200 },
  { name: 'unsigned-request-refused', method: 'GET', path: '/orders', signed: false, expectStatus: 401 },
] as const;

/** Counted in dev and staging, blocked in prod: the lower environments show what prod's rule would stop. */
const GEO_BLOCKED_COUNTRIES = ['KP', 'IR'];

const shared = {
  aliases: { live: 'live', green: 'green', blue: 'blue' },
  repositoryName: APPLICATION.repositoryName,
  verification: { healthPath: '/health', timeoutMs: 3000, firstCallTimeoutMs: 15_000, smoke: [...smokeRequests] },
  approvalTimeoutMinutes: 60,
  lockTtlMinutes: 120,
  maxPauseMinutes: 60,
} as const;

/**
 * The seed's matrix: memory 256/512/1024 MB; WAF count/count/block; logs basic/full/full;
 * blue-green off/on/on; auto-rollback off/off/on.
 */
const configured = {
  dev: {
    ...shared,
    name: 'dev',
    functionName: `${APPLICATION.name}-dev`,
    releaseOnPush: true,
    memoryMb: 256,
    waf: { mode: 'count', rateLimitPer5Minutes: 2000, blockedCountries: GEO_BLOCKED_COUNTRIES },
    logging: 'basic',
    blueGreen: false,
    strategy: { kind: 'all-at-once' },
    bake: { minutes: 2, checkIntervalSeconds: 60, metricDelaySeconds: 120 },
    health: { maxErrorRatePercent: 5, minInvocations: 5, maxErrors: 20, alarms: [] },
    approvalRequired: false,
    onUnhealthy: 'alert',
    onInsufficientData: 'promote-with-warning',
    judge: { mode: 'both', confidence: 0.99, latencyTolerancePercent: 50, onEnvironmentUnhealthy: 'alert' },
    promotesTo: 'staging',
    scanAndProvision: true,
  },
  staging: {
    ...shared,
    name: 'staging',
    functionName: `${APPLICATION.name}-staging`,
    releaseOnPush: false,
    memoryMb: 512,
    waf: { mode: 'count', rateLimitPer5Minutes: 2000, blockedCountries: GEO_BLOCKED_COUNTRIES },
    logging: 'full',
    blueGreen: true,
    strategy: { kind: 'canary', percent: 10, bakeMinutes: 5 },
    bake: { minutes: 5, checkIntervalSeconds: 60, metricDelaySeconds: 120 },
    health: {
      maxErrorRatePercent: 2,
      minInvocations: 20,
      maxErrors: 10,
      maxP99DurationMs: 3000,
      alarms: [`${APPLICATION.name}-staging-5xx`, `${APPLICATION.name}-staging-errors`],
    },
    approvalRequired: false,
    onUnhealthy: 'alert',
    onInsufficientData: 'roll-back',
    judge: { mode: 'both', confidence: 0.99, latencyTolerancePercent: 50, onEnvironmentUnhealthy: 'alert' },
    promotesTo: 'prod',
    scanAndProvision: true,
  },
  prod: {
    ...shared,
    name: 'prod',
    functionName: `${APPLICATION.name}-prod`,
    releaseOnPush: false,
    memoryMb: 1024,
    waf: { mode: 'block', rateLimitPer5Minutes: 2000, blockedCountries: GEO_BLOCKED_COUNTRIES },
    logging: 'full',
    blueGreen: true,
    strategy: { kind: 'canary', percent: 10, bakeMinutes: 5 },
    // Checks every 10 s on the application's 10-second periods (complete 15 s after they end); Lambda's 1-minute
    // metrics, complete 120 s after their minute, stay as the second source (docs/verdicts.md).
    bake: {
      minutes: 10,
      checkIntervalSeconds: 10,
      metricDelaySeconds: 120,
      highResolution: { periodSeconds: 10, metricDelaySeconds: 15 },
    },
    health: {
      maxErrorRatePercent: 1,
      minInvocations: 50,
      maxErrors: 10,
      maxP99DurationMs: 2000,
      alarms: [`${APPLICATION.name}-prod-5xx`, `${APPLICATION.name}-prod-errors`, `${APPLICATION.name}-prod-latency`],
    },
    approvalRequired: true,
    onUnhealthy: 'roll-back',
    onInsufficientData: 'roll-back',
    judge: { mode: 'both', confidence: 0.999, latencyTolerancePercent: 25, onEnvironmentUnhealthy: 'alert' },
    scanAndProvision: true,
  },
};

let parsed: Environments | undefined;

/**
 * The configured environments, parsed (and so validated) at the first read of any of them rather than at import:
 * a Lambda handler's cold start then builds no config schema and parses nothing until its first invocation needs
 * the config (docs/speed.md, "Handler bundles"). Each environment is an enumerable property, so indexing,
 * `Object.values`, spreading and `structuredClone` see the parsed config.
 */
export const environments: Environments = Object.defineProperties(
  {} as Environments,
  Object.fromEntries(
    ENVIRONMENT_NAMES.map((name) => [
      name,
      {
        enumerable: true,
        get: () => {
          parsed ??= parseEnvironments(configured);
          return parsed[name];
        },
      },
    ]),
  ),
);

export class UnknownEnvironment extends Error {
  override readonly name = 'UnknownEnvironment';
}

export function environmentNamed(name: string, envs: Environments = environments): EnvironmentConfig {
  const parsed = EnvironmentNameSchema.safeParse(name);
  const env = parsed.success ? envs[parsed.data] : undefined;
  if (!env) {
    throw new UnknownEnvironment(`unknown environment "${name}"; expected one of: ${Object.keys(envs).join(', ')}`);
  }
  return env;
}

export function parseStrategy(raw: unknown): Strategy {
  return StrategySchema.parse(raw);
}

/** Settings derived from the `logging` level, for the CDK handlers and the Terraform application. */
export function loggingSettings(env: EnvironmentConfig): { logLevel: 'WARN' | 'INFO'; retentionDays: 14 | 90 } {
  return env.logging === 'full' ? { logLevel: 'INFO', retentionDays: 90 } : { logLevel: 'WARN', retentionDays: 14 };
}

/** The lock and record key: one release per function and environment at a time. */
export function lockKey(env: Pick<EnvironmentConfig, 'functionName' | 'name'>): string {
  return `${env.functionName}#${env.name}`;
}

/**
 * The Secrets Manager secret holding the environment's client keys (Terraform's `${function_name}/client-keys`);
 * Verify green signs its smoke requests with the `smoke-tests` client in it.
 */
export function clientKeysSecretName(env: EnvironmentConfig): string {
  return `${env.functionName}/client-keys`;
}

/** Environments whose pushes start a release (the EventBridge rule and the local registry both use this). */
export function pushTargets(envs: Environments = environments): EnvironmentConfig[] {
  return Object.values(envs).filter((e) => e.releaseOnPush);
}

/**
 * The "Await approval" state's timeout: one state machine serves every environment, so it waits as long as the
 * most patient one; decideApproval refuses answers after the release's own environment's deadline.
 */
export function longestApprovalWindowSeconds(envs: Environments = environments): number {
  return Math.max(...Object.values(envs).map((e) => e.approvalTimeoutMinutes * 60));
}
