import * as z from 'zod';
import { EnvironmentNameSchema } from '../../config/schema.ts';

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
 * One function the release moves, as Validate release fixed it (docs/architecture.md, "One release model"): a single
 * function is one target in one wave, a fleet one target a member. The Map's ItemSelector hands each iteration its
 * target beside the release (`{release, target}`), and Deploy green / Verify green act on it.
 */
export const TargetContextSchema = z.object({
  /** The member's name in a fleet; the function's name for a single function. */
  name: z.string().min(1),
  functionName: z.string().min(1),
  aliases: AliasesSchema,
  /** The version `live` pointed at when the release started, if a release verified it; null: no blue. */
  blueVersion: z.string().nullable(),
  /** 0-based. */
  wave: z.number().int().nonnegative(),
  /** The target's whole health policy where it overrides the environment's thresholds (a low-traffic member). */
  health: HealthSchema.optional(),
  /** The environment's green stage (API Gateway and the WAF) fronts this function: Verify green calls it there too. */
  frontDoor: z.boolean(),
});
export type TargetContext = z.infer<typeof TargetContextSchema>;

export const ReleaseContextSchema = z.object({
  releaseId: z.string().min(1),
  executionArn: z.string().min(1),
  environment: EnvironmentNameSchema,
  /** The environment's lock, as Validate release took it: every later state frees this key. */
  lockKey: z.string().min(1),
  repositoryName: z.string(),
  digest: z.string(),
  imageUri: z.string(),
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
  /** The functions the release moves, wave by wave (one target in one wave for a single function). */
  targets: z.array(TargetContextSchema).min(1),
  waves: z.number().int().positive(),
  /** The Map's MaxConcurrency (MaxConcurrencyPath): targets deployed and verified at once. */
  deployConcurrency: z.number().int().positive(),
  /**
   * Set when the release arrived outside its environment's windows in `wait` mode (core/policy/release-gate.ts):
   * nothing is locked or recorded yet; "Await release window" waits until `opensAt` and Validate release runs again.
   */
  awaitingWindow: z.object({ window: z.string().nullable(), opensAt: z.string(), summary: z.string() }).optional(),
});
export type ReleaseContext = z.infer<typeof ReleaseContextSchema>;

/** One target's green version, as its Map iteration hands it back. */
export const GreenSchema = z.object({
  target: z.string(),
  version: z.string(),
  codeSha256: z.string(),
  /** True when a retry found the version this release had already published. */
  reused: z.boolean(),
});
export type Green = z.infer<typeof GreenSchema>;

/** The state machine's payload as it travels between states. Each key is written by one state's ResultPath. */
export const WorkflowStateSchema = z.object({
  release: ReleaseContextSchema,
  /** Every target's green version, from the deploy Map: the traffic states read them here, not from the record. */
  greens: z.array(GreenSchema).optional(),
  traffic: z.unknown().optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type WorkflowState = z.infer<typeof WorkflowStateSchema>;

/** A target's green version in `greens`, or undefined before it was deployed. */
export function greenOf(greens: readonly Green[] | undefined, target: string): string | undefined {
  return greens?.find((g) => g.target === target)?.version;
}

/** Several targets: their events and summaries name the target; a single function's read as they always have. */
export function isFleet(release: Pick<ReleaseContext, 'targets'>): boolean {
  return release.targets.length > 1;
}

/** A fleet member's events name it, and its summaries start with its name; a single function's read as always. */
export function targetLabel(
  release: Pick<ReleaseContext, 'targets'>,
  target: Pick<TargetContext, 'name'>,
): { readonly member?: string; readonly prefix: string } {
  return isFleet(release) ? { member: target.name, prefix: `${target.name}: ` } : { prefix: '' };
}
