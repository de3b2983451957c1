/**
 * Writes each environment's Terraform variables from the one environment config, so Terraform restates nothing.
 *
 *   npx tsx scripts/generate-tfvars.ts           # (re)write infra/terraform/environments/<env>.tfvars.json
 *   npx tsx scripts/generate-tfvars.ts --check   # exit 1 and name the files that drifted from config/environments.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  APPLICATION,
  type EnvironmentConfig,
  type EnvironmentName,
  type Environments,
  environments,
  loggingSettings,
} from '../config/environments.ts';

export const REPOSITORY_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TERRAFORM_ROOT = join(REPOSITORY_ROOT, 'infra', 'terraform');

/** The metrics an alarm can watch; the alarm name's suffix (`<function>-<metric>`) selects one. */
export const ALARM_METRICS = ['5xx', 'errors', 'latency'] as const;
export type AlarmMetric = (typeof ALARM_METRICS)[number];

export interface AlarmVariable {
  readonly metric: AlarmMetric;
  /** 5xx: share of requests (0..1); errors: count per period; latency: p99 duration in ms. */
  readonly threshold: number;
  readonly period_seconds: number;
  readonly evaluation_periods: number;
}

/** Exactly the variables that `infra/terraform/root/variables.tf` declares without a default. */
export interface TerraformVariables {
  readonly environment: EnvironmentName;
  readonly application: string;
  readonly function_name: string;
  readonly memory_mb: number;
  readonly log_level: 'WARN' | 'INFO';
  readonly log_retention_days: number;
  readonly aliases: { readonly live: string; readonly blue: string; readonly green: string };
  readonly waf_mode: 'count' | 'block';
  readonly waf_rate_limit_per_5_minutes: number;
  readonly waf_blocked_countries: readonly string[];
  /** Keyed by alarm name: the Check health step watches these names, so they come from `health.alarms`. */
  readonly alarms: Readonly<Record<string, AlarmVariable>>;
  /** Fleet members other than the environment's own function, by member name (docs/fleet.md). */
  readonly fleet_members: Readonly<Record<string, FleetMemberVariable>>;
}

export interface FleetMemberVariable {
  readonly function_name: string;
  readonly memory_mb: number;
  readonly aliases: { readonly live: string; readonly blue: string; readonly green: string };
}

/** The members Terraform creates: every one but the environment's own function, which it creates already. */
function fleetMembers(env: EnvironmentConfig): Record<string, FleetMemberVariable> {
  const members = (env.fleet?.members ?? []).filter((m) => m.functionName !== env.functionName);
  return Object.fromEntries(
    members.map((m) => {
      const aliases = m.aliases ?? env.aliases;
      return [
        m.name,
        {
          function_name: m.functionName,
          memory_mb: m.memoryMb ?? env.memoryMb,
          aliases: { live: aliases.live, blue: aliases.blue, green: aliases.green },
        },
      ];
    }),
  );
}

export class UnmappedAlarm extends Error {
  override readonly name = 'UnmappedAlarm';
}

function alarmFor(env: EnvironmentConfig, alarmName: string): AlarmVariable {
  const metric = ALARM_METRICS.find((m) => alarmName === `${env.functionName}-${m}`);
  if (!metric) {
    throw new UnmappedAlarm(
      `${env.name}: alarm "${alarmName}" must be named "${env.functionName}-<metric>" with <metric> one of ${ALARM_METRICS.join(', ')}`,
    );
  }
  // The alarms watch standard-resolution metrics (Lambda's and API Gateway's), whose period "can be as short as one
  // minute (60 seconds) and must be a multiple of 60" (CloudWatch MetricStat): a check interval under a minute (prod's
  // 10 s on the application's high-resolution metrics) keeps 60-second alarms, standard ones, not high-resolution.
  const period_seconds = Math.max(60, Math.ceil(env.bake.checkIntervalSeconds / 60) * 60);
  switch (metric) {
    case '5xx':
      // Two periods in a row, so one unlucky minute of a small sample does not page.
      return { metric, threshold: env.health.maxErrorRatePercent / 100, period_seconds, evaluation_periods: 2 };
    case 'errors':
      return { metric, threshold: env.health.maxErrors, period_seconds, evaluation_periods: 1 };
    case 'latency':
      if (env.health.maxP99DurationMs === undefined) {
        throw new UnmappedAlarm(`${env.name}: alarm "${alarmName}" needs health.maxP99DurationMs in the config`);
      }
      return { metric, threshold: env.health.maxP99DurationMs, period_seconds, evaluation_periods: 2 };
  }
}

export function terraformVariables(env: EnvironmentConfig): TerraformVariables {
  const logging = loggingSettings(env);
  return {
    environment: env.name,
    application: APPLICATION.name,
    function_name: env.functionName,
    memory_mb: env.memoryMb,
    log_level: logging.logLevel,
    log_retention_days: logging.retentionDays,
    aliases: { live: env.aliases.live, blue: env.aliases.blue, green: env.aliases.green },
    waf_mode: env.waf.mode,
    waf_rate_limit_per_5_minutes: env.waf.rateLimitPer5Minutes,
    waf_blocked_countries: [...env.waf.blockedCountries],
    alarms: Object.fromEntries(env.health.alarms.map((name) => [name, alarmFor(env, name)])),
    fleet_members: fleetMembers(env),
  };
}

export function tfvarsPath(name: EnvironmentName): string {
  return join(TERRAFORM_ROOT, 'environments', `${name}.tfvars.json`);
}

/** The exact bytes committed for an environment (two-space JSON with a trailing newline). */
export function renderTfvars(env: EnvironmentConfig): string {
  return `${JSON.stringify(terraformVariables(env), null, 2)}\n`;
}

export interface TfvarsFile {
  readonly path: string;
  readonly expected: string;
}

export function expectedTfvarsFiles(envs: Environments = environments): TfvarsFile[] {
  return Object.values(envs).map((env) => ({ path: tfvarsPath(env.name), expected: renderTfvars(env) }));
}

/** Paths whose committed content differs from what the config generates (a missing file counts). */
export async function driftedTfvarsFiles(envs: Environments = environments): Promise<string[]> {
  const drifted: string[] = [];
  for (const file of expectedTfvarsFiles(envs)) {
    const committed = await readFile(file.path, 'utf8').catch(() => undefined);
    if (committed !== file.expected) {
      drifted.push(file.path);
    }
  }
  return drifted;
}

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--check')) {
    const drifted = await driftedTfvarsFiles();
    for (const path of drifted) {
      console.error(`drifted from config/environments.ts: ${relative(REPOSITORY_ROOT, path)}`);
    }
    if (drifted.length > 0) {
      console.error('run: npx tsx scripts/generate-tfvars.ts');
    }
    return drifted.length > 0 ? 1 : 0;
  }
  for (const file of expectedTfvarsFiles()) {
    await writeFile(file.path, file.expected);
    console.log(`wrote ${relative(REPOSITORY_ROOT, file.path)}`);
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
