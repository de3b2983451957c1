import * as z from 'zod';
import {
  fleetFunctionPrefix,
  fleetHistoryRefusal,
  fleetReleaseMinutes,
  MAX_DEPLOY_CONCURRENCY,
  MAX_FLEET_MEMBERS,
  MAX_FLEET_WAVES,
  wavesRefusal,
} from './fleet.ts';
import { freezeOverlaps, policyOverlaps, releasePolicySchema } from './release-windows.ts';
import { historyRefusal, strategyRefusal } from './traffic-plan.ts';

export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export const EnvironmentNameSchema = z.enum(ENVIRONMENT_NAMES);
export type EnvironmentName = z.infer<typeof EnvironmentNameSchema>;

/**
 * A CloudWatch alarm name: 1 to 255 characters, no ASCII control characters (PutMetricAlarm `AlarmName`,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html). The names also become
 * IAM resource ARNs (`arn:aws:cloudwatch:…:alarm:<name>`), where `*` and `?` are wildcards
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html): a name holding one
 * would grant the handlers and Terraform every alarm it matches, so they are refused.
 */
export const AlarmNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters (CloudWatch alarm names)')
  .refine(
    (name) => [...name].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f),
    'must not hold ASCII control characters (CloudWatch alarm names)',
  )
  .refine((name) => !/[*?]/.test(name), 'must not hold "*" or "?": IAM reads them as wildcards in the alarm ARN');

const Percent = z.number().int().min(1).max(100);
const Minutes = z
  .number()
  .min(0)
  .max(24 * 60);

const TrafficStepSchema = z.strictObject({
  /** Share of `live` traffic sent to the new version during this step. */
  percent: Percent,
  /** How long this step is watched before the next one starts. */
  bakeMinutes: Minutes,
});
export type TrafficStep = z.infer<typeof TrafficStepSchema>;

/**
 * How traffic moves from blue to green. Presets expand to explicit steps (see `trafficPlan`);
 * `steps` takes any schedule whose last step is 100%.
 */
export const StrategySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('all-at-once') }),
  z.strictObject({ kind: z.literal('canary'), percent: Percent.max(99), bakeMinutes: Minutes }),
  z.strictObject({ kind: z.literal('linear'), percentPerStep: Percent.max(50), minutesPerStep: Minutes.min(1) }),
  z.strictObject({
    kind: z.literal('steps'),
    steps: z
      .array(TrafficStepSchema)
      .min(1)
      .max(20)
      .refine((steps) => steps.at(-1)?.percent === 100, { message: 'the last step must send 100% of traffic' })
      .refine((steps) => steps.every((step, i) => i === 0 || step.percent > (steps[i - 1]?.percent ?? 0)), {
        message: 'step percentages must increase',
      }),
  }),
]);
export type Strategy = z.infer<typeof StrategySchema>;

/**
 * The schemas of a whole environment config, built at first use rather than at import: building them is most of
 * what a Lambda handler's own code costs at cold start, and a handler needs them only once it reads the config
 * (docs/speed.md, "Handler bundles"). The schemas other modules compose at import (environment names, strategies)
 * stay above.
 */
function buildConfigSchemas() {
  const SmokeRequestSchema = z.strictObject({
    name: z.string().min(1),
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE']),
    path: z.string().startsWith('/'),
    body: z.unknown().optional(),
    /** Signed with the smoke-test client's key (the workload's API key + HMAC scheme). */
    signed: z.boolean(),
    expectStatus: z.number().int().min(100).max(599),
  });

  const AliasNamesSchema = z
    .strictObject({
      live: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-_]{0,127}$/),
      green: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-_]{0,127}$/),
      blue: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-_]{0,127}$/),
    })
    .refine((a) => new Set([a.live, a.green, a.blue]).size === 3, { message: 'alias names must differ' });

  const MemoryMbSchema = z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048)]);
  const FunctionNameSchema = z.string().regex(/^[a-zA-Z0-9-_]{1,64}$/);

  const FleetMemberSchema = z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be lower-case letters, digits and dashes, 1–32 long'),
    functionName: FunctionNameSchema,
    /** @default the environment's aliases */
    aliases: AliasNamesSchema.optional(),
    memoryMb: MemoryMbSchema.optional(),
    /** Thresholds for a member whose traffic differs (a low-traffic worker); the rest come from the environment. */
    health: z
      .strictObject({
        maxErrorRatePercent: z.number().min(0).max(100),
        minInvocations: z.number().int().min(1),
        maxErrors: z.number().int().min(1),
        maxP99DurationMs: z.number().int().min(1),
      })
      .partial()
      .optional(),
  });

  /**
   * Several functions released as one unit from one image (docs/fleet.md): one lock, one record, Deploy & Verify of
   * every member in a Map state, then traffic in waves; any unhealthy member halts the fleet and rolls back every
   * member that moved.
   */
  const FleetSchema = z.strictObject({
    /** Members deployed and verified at once (the Map's MaxConcurrency), bounded by Lambda's control-plane quota. */
    deployConcurrency: z
      .number()
      .int()
      .min(1)
      .max(
        MAX_DEPLOY_CONCURRENCY,
        `at most ${MAX_DEPLOY_CONCURRENCY}: Lambda allows 15 control-plane requests a second per account and Region (UpdateFunctionCode, PublishVersion, UpdateAlias, …), and each deploying member keeps to a tenth of Switchyard's budget of 10 a second`,
      ),
    /**
     * What every member's function name starts with (besides the environment's own function, which may be a member
     * too). The release service's IAM grants, the Terraform role and the image repository's policy cover the fleet's
     * functions by this prefix, not one ARN per member: at 100 members those ARNs would exceed IAM's and ECR's policy
     * size limits (docs/iam.md, "Policy sizes").
     * @default the environment's functionName and a dash
     */
    functionNamePrefix: z
      .string()
      .regex(
        /^[a-zA-Z0-9-_]{3,63}$/,
        'must be 3–63 letters, digits, dashes or underscores (the start of a function name)',
      )
      .optional(),
    /** The cumulative share of members moved by the end of each wave; the last reaches every member. */
    waves: z
      .array(
        z.union([
          z.strictObject({ members: z.number().int().min(1) }),
          z.strictObject({ percent: z.number().min(1).max(100) }),
        ]),
      )
      .min(1)
      .max(MAX_FLEET_WAVES),
    members: z
      .array(FleetMemberSchema)
      .min(1)
      .max(
        MAX_FLEET_MEMBERS,
        `at most ${MAX_FLEET_MEMBERS} members: the design keeps every payload and the execution history well inside Step Functions' limits up to there (docs/fleet.md)`,
      ),
  });

  const EnvironmentConfigSchema = z
    .strictObject({
      name: EnvironmentNameSchema,
      /** The application's Lambda function; Terraform creates it, the state machine owns its versions. */
      functionName: FunctionNameSchema,
      aliases: AliasNamesSchema,
      /** ECR repository whose pushes release into this environment (when `releaseOnPush`). */
      repositoryName: z.string().regex(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/),
      releaseOnPush: z.boolean(),
      memoryMb: MemoryMbSchema,
      waf: z.strictObject({
        mode: z.enum(['count', 'block']),
        rateLimitPer5Minutes: z.number().int().min(100),
        blockedCountries: z.array(z.string().regex(/^[A-Z]{2}$/)),
      }),
      logging: z.enum(['basic', 'full']),
      /** Off: the new version takes all traffic at once (the seed's dev setting). */
      blueGreen: z.boolean(),
      strategy: StrategySchema,
      bake: z.strictObject({
        /** Watch time at 100% before the release is final (the seed's "monitor errors 10 minutes" in prod). */
        minutes: Minutes,
        checkIntervalSeconds: z.number().int().min(10).max(3600),
        /**
         * How long after a minute ends its CloudWatch data can be taken as complete. A check judges only complete
         * minutes, and a step ends only once its last minute is complete: each step with a bake lasts up to this
         * much (plus the rest of its last minute) longer.
         */
        metricDelaySeconds: z.number().int().min(0).max(900),
        /**
         * The application's high-resolution metrics (`Requests`, `Errors`, `Latency` by `FunctionVersion`, 1-second
         * storage) as the first source, read in `periodSeconds` periods and judged once a period is
         * `metricDelaySeconds` old. Lambda's 1-minute metrics (the delay above) stay as the second source. Absent: the
         * 1-minute source alone.
         */
        highResolution: z
          .strictObject({
            periodSeconds: z.union([z.literal(1), z.literal(5), z.literal(10), z.literal(20), z.literal(30)]),
            metricDelaySeconds: z.number().int().min(0).max(900),
          })
          .optional(),
      }),
      health: z.strictObject({
        maxErrorRatePercent: z.number().min(0).max(100),
        /** A check (or a whole step) with fewer invocations than this is "insufficient data". */
        minInvocations: z.number().int().min(1),
        /** Errors at or above this count are unhealthy whatever the traffic. */
        maxErrors: z.number().int().min(1),
        maxP99DurationMs: z.number().int().min(1).optional(),
        /** CloudWatch alarm names; one that enters ALARM after the release started fails the check. */
        alarms: z.array(AlarmNameSchema),
      }),
      verification: z.strictObject({
        healthPath: z.string().startsWith('/'),
        timeoutMs: z.number().int().min(100).max(30_000),
        /**
         * The first call to a freshly published version (the health check) meets a cold start: Lambda's Init phase
         * alone may take 10 s, so it gets this longer allowance.
         */
        firstCallTimeoutMs: z.number().int().min(100).max(30_000),
        smoke: z.array(SmokeRequestSchema),
        /**
         * The application API's `green` stage (Terraform's `green_stage_url` output): Verify green sends its health
         * check and smoke requests through it too (API Gateway + WAF to the green alias). Without it that check fails.
         */
        greenStageUrl: z
          .url({ protocol: /^https$/, error: 'must be an https:// URL (Terraform output green_stage_url)' })
          .optional(),
      }),
      approvalRequired: z.boolean(),
      /**
       * Separation of duties: whoever requested a release (the caller that started, promoted or retried it through
       * the release API) may not approve it; the release API answers them 403 `ApproverIsRequester`. A release an
       * image push started names no requester. Absent: false.
       */
      approverMustDifferFromRequester: z.boolean().optional(),
      approvalTimeoutMinutes: z
        .number()
        .int()
        .min(1)
        .max(7 * 24 * 60),
      onUnhealthy: z.enum(['roll-back', 'alert']),
      onInsufficientData: z.enum(['roll-back', 'promote-with-warning']),
      /** How Check health judges green (docs/verdicts.md). */
      judge: z.strictObject({
        /** `absolute`: the thresholds above; `relative`: green against blue over the same window; `both`. */
        mode: z.enum(['absolute', 'relative', 'both']),
        /** One-sided confidence that green errs more than blue before the relative judge blames it. */
        confidence: z.number().min(0.5).max(0.999999),
        /** Green's p99 may exceed blue's by this share. */
        latencyTolerancePercent: z.number().min(0).max(1000),
        /** Blue fails as badly as green: hold the step, alert and carry on, or roll back anyway. */
        onEnvironmentUnhealthy: z.enum(['hold', 'alert', 'roll-back']),
      }),
      promotesTo: EnvironmentNameSchema.optional(),
      /** Run the CodeBuild release stage (image scan by digest + Terraform apply) before deploying. */
      scanAndProvision: z.boolean(),
      lockTtlMinutes: z
        .number()
        .int()
        .min(5)
        .max(24 * 60),
      /**
       * How long an operator may hold a bake (`release pause`); past it, the next check rolls the release back. The
       * lock is renewed at each check while paused. Absent or 0: this environment refuses a pause.
       */
      maxPauseMinutes: z
        .number()
        .int()
        .min(0)
        .max(24 * 60)
        .optional(),
      /** Release several functions built from the same image as one unit (docs/fleet.md). */
      fleet: FleetSchema.optional(),
      /**
       * When releases may start: allowed windows in a time zone, freezes, and what a release outside a window does
       * (config/release-windows.ts, docs/operate.md). Absent: at any time.
       */
      policy: releasePolicySchema().optional(),
    })
    .superRefine((env, ctx) => {
      if (env.fleet) fleetRefusals(env, env.fleet, ctx);
      for (const refusal of env.policy ? freezeOverlaps(env.policy) : []) {
        ctx.addIssue({ code: 'custom', path: [...refusal.path], message: refusal.message });
      }
      if (env.promotesTo === env.name) {
        ctx.addIssue({ code: 'custom', path: ['promotesTo'], message: 'an environment cannot promote to itself' });
      }
      const refusal = strategyRefusal(env);
      if (refusal) ctx.addIssue({ code: 'custom', path: [refusal.field], message: refusal.message });
      const history = historyRefusal(env);
      if (history) ctx.addIssue({ code: 'custom', path: ['maxPauseMinutes'], message: history });
      if (env.verification.firstCallTimeoutMs < env.verification.timeoutMs) {
        ctx.addIssue({
          code: 'custom',
          path: ['verification', 'firstCallTimeoutMs'],
          message: 'the first call (a cold start) needs at least the timeout of the others',
        });
      }
      if (env.bake.minutes * 60 < env.bake.checkIntervalSeconds && env.bake.minutes > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['bake', 'minutes'],
          message: 'bake must last at least one check interval',
        });
      }
    });

  const EnvironmentsSchema = z.record(EnvironmentNameSchema, EnvironmentConfigSchema).superRefine((envs, ctx) => {
    for (const [key, env] of Object.entries(envs)) {
      if (env.name !== key) {
        ctx.addIssue({ code: 'custom', path: [key, 'name'], message: `must be "${key}"` });
      }
      if (env.promotesTo && !(env.promotesTo in envs)) {
        ctx.addIssue({ code: 'custom', path: [key, 'promotesTo'], message: `unknown environment "${env.promotesTo}"` });
      }
    }
    const functions = Object.values(envs).map((e) => e.functionName);
    if (new Set(functions).size !== functions.length) {
      ctx.addIssue({ code: 'custom', path: [], message: 'each environment needs its own function' });
    }
    // A fleet member's function belongs to its fleet alone: another environment releasing it would race this one.
    const owners = new Map<string, string>();
    for (const env of Object.values(envs)) owners.set(env.functionName, `${env.name}.functionName`);
    for (const env of Object.values(envs)) {
      for (const [index, member] of (env.fleet?.members ?? []).entries()) {
        const owner = owners.get(member.functionName);
        if (owner && owner !== `${env.name}.functionName`) {
          ctx.addIssue({
            code: 'custom',
            path: [env.name, 'fleet', 'members', index, 'functionName'],
            message: `function ${member.functionName} is already ${owner}`,
          });
        }
        if (!owner) owners.set(member.functionName, `${env.name}.fleet.members.${index}`);
      }
    }
  });
  return { SmokeRequestSchema, FleetSchema, EnvironmentConfigSchema, EnvironmentsSchema };
}
type ConfigSchemas = ReturnType<typeof buildConfigSchemas>;
let configSchemas: ConfigSchemas | undefined;

export type SmokeRequest = z.infer<ConfigSchemas['SmokeRequestSchema']>;
export type EnvironmentConfig = z.infer<ConfigSchemas['EnvironmentConfigSchema']>;
export type Environments = z.infer<ConfigSchemas['EnvironmentsSchema']>;

type Fleet = z.infer<ConfigSchemas['FleetSchema']>;

/** The fleets that cannot work, each naming its field. */
function fleetRefusals(env: EnvironmentConfig, fleet: Fleet, ctx: z.RefinementCtx): void {
  const names = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [index, member] of fleet.members.entries()) {
    const sameName = names.get(member.name);
    if (sameName !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['fleet', 'members', index, 'name'],
        message: `duplicate member "${member.name}" (also members.${sameName})`,
      });
    }
    names.set(member.name, index);
    const sameFunction = functions.get(member.functionName);
    if (sameFunction !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['fleet', 'members', index, 'functionName'],
        message: `function ${member.functionName} is already member ${fleet.members[sameFunction]?.name}`,
      });
    }
    functions.set(member.functionName, index);
    const prefix = fleetFunctionPrefix(env);
    if (member.functionName !== env.functionName && !member.functionName.startsWith(prefix)) {
      ctx.addIssue({
        code: 'custom',
        path: ['fleet', 'members', index, 'functionName'],
        message: `must be ${env.functionName} or start with "${prefix}" (fleet.functionNamePrefix): the release service's IAM grants and the image repository's policy cover a fleet's functions by that prefix, not one ARN per member (docs/fleet.md)`,
      });
    }
  }
  const waves = wavesRefusal(fleet);
  if (waves) ctx.addIssue({ code: 'custom', path: ['fleet', 'waves'], message: waves });
  const history = fleetHistoryRefusal(env, fleet);
  if (history) ctx.addIssue({ code: 'custom', path: ['fleet', 'waves'], message: history });
  const needed = fleetReleaseMinutes(env, fleet);
  if (needed > env.lockTtlMinutes) {
    ctx.addIssue({
      code: 'custom',
      path: ['lockTtlMinutes'],
      message: `must be at least ${needed} for this fleet: deploying ${fleet.members.length} members ${fleet.deployConcurrency} at a time, ${fleet.waves.length} waves of the whole traffic plan (bakes and their wait for complete data), approval and margin`,
    });
  }
}

export class InvalidConfig extends Error {
  override readonly name = 'InvalidConfig';
}

/** Parses a config and fails fast with every offending field named by its path. */
export function parseEnvironments(raw: unknown): Environments {
  configSchemas ??= buildConfigSchemas();
  // Without zod's JIT: a config is parsed once per process, and compiling the fast path for each object schema costs
  // more than it saves (about 21 against 14 ms of CPU for the first parse in a fresh process; docs/speed.md).
  const parsed = configSchemas.EnvironmentsSchema.safeParse(raw, { jitless: true });
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new InvalidConfig(`invalid environment config: ${fields.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Refuses, with one line naming each field, windows whose occurrences overlap (config/release-windows.ts
 * `policyOverlaps`). Enumerating a year of openings in a time zone costs about 75 ms per window, so it runs where the
 * config is synthesized (`SwitchyardStack`), not in every handler's first parse of the config.
 */
export function refuseWindowOverlaps(envs: Environments, from: Date = new Date()): void {
  const fields = Object.values(envs).flatMap((env) =>
    (env.policy ? policyOverlaps(env.policy, from) : []).map(
      (refusal) => `${[env.name, ...refusal.path].join('.')}: ${refusal.message}`,
    ),
  );
  if (fields.length > 0) throw new InvalidConfig(`invalid environment config: ${fields.join('; ')}`);
}
