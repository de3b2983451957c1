import * as z from 'zod';
import { EnvironmentNameSchema } from '../config/schema.ts';

/**
 * The release as Validate release fixes it: every later state reads this, never the live config, so a config
 * change mid-release cannot change the rules of a running release.
 */
const HealthSchema = z.object({
  maxErrorRatePercent: z.number(),
  minInvocations: z.number(),
  maxErrors: z.number(),
  maxP99DurationMs: z.number().optional(),
  alarms: z.array(z.string()),
});
const AliasesSchema = z.object({ live: z.string(), green: z.string(), blue: z.string() });

/**
 * One fleet member as the release fixed it. Its keys are the release context's own (`functionName`, `aliases`,
 * `blueVersion`, `health`), so the Map's ItemSelector merges it over the fleet's context
 * (`States.JsonMerge($.release, $$.Map.Item.Value, false)`) and Deploy green / Verify green run on the member.
 */
export const FleetMemberContextSchema = z.object({
  member: z.string().min(1),
  functionName: z.string().min(1),
  aliases: AliasesSchema,
  blueVersion: z.string().nullable(),
  wave: z.number().int().nonnegative(),
  /** The member's whole health policy where it overrides the environment's thresholds (a low-traffic member). */
  health: HealthSchema.optional(),
});
export type FleetMemberContext = z.infer<typeof FleetMemberContextSchema>;

export const ReleaseContextSchema = z.object({
  releaseId: z.string().min(1),
  executionArn: z.string().min(1),
  environment: EnvironmentNameSchema,
  functionName: z.string().min(1),
  aliases: AliasesSchema,
  repositoryName: z.string(),
  digest: z.string(),
  imageUri: z.string(),
  /** The version `live` pointed at when the release started; null on the first release into an environment. */
  blueVersion: z.string().nullable(),
  plan: z.array(z.object({ percent: z.number(), bakeSeconds: z.number() })).min(1),
  checkIntervalSeconds: z.number().int().positive(),
  /** How long CloudWatch data may take to be complete: a minute is judged only this long after it ended. */
  metricDelaySeconds: z.number().int().nonnegative(),
  /**
   * The high-resolution source (config `bake.highResolution`), judged first; Lambda's 1-minute metrics (the delay
   * above) are the second source. Absent (a release validated before it existed, or an environment without it): the
   * 1-minute source alone, as before.
   */
  highResolution: z
    .object({ periodSeconds: z.number().int().positive(), metricDelaySeconds: z.number().int().nonnegative() })
    .optional(),
  health: HealthSchema,
  onUnhealthy: z.enum(['roll-back', 'alert']),
  onInsufficientData: z.enum(['roll-back', 'promote-with-warning']),
  /**
   * How green is judged (config `judge`). Optional: a release started before the relative judge existed carries
   * none and is judged on thresholds alone, as it was when it started.
   */
  judge: z
    .object({
      mode: z.enum(['absolute', 'relative', 'both']),
      confidence: z.number(),
      latencyTolerancePercent: z.number(),
      onEnvironmentUnhealthy: z.enum(['hold', 'alert', 'roll-back']),
    })
    .optional(),
  verification: z.object({
    healthPath: z.string(),
    timeoutMs: z.number(),
    firstCallTimeoutMs: z.number(),
    smoke: z.array(
      z.object({
        name: z.string(),
        method: z.string(),
        path: z.string(),
        body: z.unknown().optional(),
        signed: z.boolean(),
        expectStatus: z.number(),
      }),
    ),
  }),
  approvalRequired: z.boolean(),
  approvalTimeoutSeconds: z.number().int().positive(),
  scanAndProvision: z.boolean(),
  /** The commit the image was built from ("Scan & provision" checks it out); set whenever scanAndProvision is. */
  sourceCommit: z.string().min(1).optional(),
  /** Watched alarms already in ALARM at the start: they do not fail this release (it may be their fix). */
  preexistingAlarms: z.array(z.string()),
  startedAt: z.string(),
  trigger: z.string(),
  promotesTo: EnvironmentNameSchema.nullable(),
  /** How long a pause may hold a bake; absent (a release validated before pauses existed) or 0: none is held. */
  maxPauseSeconds: z.number().int().nonnegative().optional(),
  /** The lock's lifetime: a paused bake renews the lock to this long after each check. */
  lockTtlMinutes: z.number().int().positive().optional(),
  /**
   * A fleet release (docs/fleet.md): its members and waves. Deploy & verify runs once per member; the traffic states
   * move the members wave by wave, as one unit.
   */
  fleet: z
    .object({
      waves: z.number().int().positive(),
      /** The Map's MaxConcurrency (MaxConcurrencyPath). */
      deployConcurrency: z.number().int().positive(),
      members: z.array(FleetMemberContextSchema).min(1),
    })
    .optional(),
  /** Set in one Map iteration's context: the fleet member this state acts on (its function, aliases and blue). */
  member: z.string().min(1).optional(),
  /**
   * Set when the release arrived outside its environment's windows in `wait` mode (core/policy/release-gate.ts):
   * nothing is locked or recorded yet; "Await release window" waits until `opensAt` and Validate release runs again.
   */
  awaitingWindow: z.object({ window: z.string().nullable(), opensAt: z.string(), summary: z.string() }).optional(),
});
export type ReleaseContext = z.infer<typeof ReleaseContextSchema>;

/** The state machine's payload as it travels between states. Each key is written by one state's ResultPath. */
export const WorkflowStateSchema = z.object({
  release: ReleaseContextSchema,
  green: z.object({ version: z.string(), codeSha256: z.string(), reused: z.boolean() }).optional(),
  verification: z.unknown().optional(),
  traffic: z.unknown().optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type WorkflowState = z.infer<typeof WorkflowStateSchema>;
