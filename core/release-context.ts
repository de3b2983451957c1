import * as z from 'zod';
import { EnvironmentNameSchema } from '../config/schema.ts';

/**
 * The release as Validate release fixes it: every later state reads this, never the live config, so a config
 * change mid-release cannot change the rules of a running release.
 */
export const ReleaseContextSchema = z.object({
  releaseId: z.string().min(1),
  executionArn: z.string().min(1),
  environment: EnvironmentNameSchema,
  functionName: z.string().min(1),
  aliases: z.object({ live: z.string(), green: z.string(), blue: z.string() }),
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
  health: z.object({
    maxErrorRatePercent: z.number(),
    minInvocations: z.number(),
    maxErrors: z.number(),
    maxP99DurationMs: z.number().optional(),
    alarms: z.array(z.string()),
  }),
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
