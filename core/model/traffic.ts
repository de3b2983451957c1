import * as z from 'zod';

/** `environment-unhealthy`: blue fails as badly as green, so the fault lies in the environment, not the release. */
export const HealthVerdictSchema = z.enum(['healthy', 'unhealthy', 'insufficient-data', 'environment-unhealthy']);
export type HealthVerdict = z.infer<typeof HealthVerdictSchema>;

/** What the "Healthy?" choice routes on. */
export const NextActionSchema = z.enum(['bake', 'shift', 'finalize', 'roll-back']);
export type NextAction = z.infer<typeof NextActionSchema>;

const SampleSchema = z.object({
  invocations: z.number(),
  errors: z.number(),
  throttles: z.number(),
  p99DurationMs: z.number().nullable(),
  errorRatePercent: z.number().nullable(),
});

const WindowSchema = z.object({ start: z.string(), end: z.string() });

/** One metric source's own judgement within a check (core/steps/check-health.ts reads each source it is configured with). */
const SourceCheckSchema = z.object({
  source: z.enum(['high-resolution', 'lambda']),
  periodSeconds: z.number(),
  metricDelaySeconds: z.number(),
  window: WindowSchema,
  verdict: HealthVerdictSchema,
  next: NextActionSchema,
  sample: SampleSchema,
  step: SampleSchema,
  blue: z.object({ version: z.string(), sample: SampleSchema, step: SampleSchema }).optional(),
});
export type SourceCheck = z.infer<typeof SourceCheckSchema>;

export const HealthCheckSchema = z.object({
  at: z.string(),
  /**
   * The metric source whose verdict, window and numbers this check reports: the application's high-resolution
   * metrics or Lambda's 1-minute ones. Absent on checks recorded before sources were named (Lambda's).
   */
  source: z.enum(['high-resolution', 'lambda']).optional(),
  /** Every source's own verdict, window and numbers, when the release reads more than one. */
  sources: z.array(SourceCheckSchema).optional(),
  verdict: HealthVerdictSchema,
  reasons: z.array(z.string()),
  window: z.object({ start: z.string(), end: z.string() }),
  sample: SampleSchema,
  step: SampleSchema,
  /** How green was judged; absent on checks recorded before the relative judge existed. */
  judge: z.enum(['absolute', 'relative', 'both']).optional(),
  /** Blue's numbers over the same window and step, side by side with green's (relative judge). */
  blue: z.object({ version: z.string(), sample: SampleSchema, step: SampleSchema }).optional(),
  /** The relative judge's error-rate test for the window. */
  comparison: z
    .object({
      test: z.string(),
      pValue: z.number(),
      confidence: z.number(),
      greenRatePercent: z.number(),
      blueRatePercent: z.number(),
    })
    .optional(),
  thresholds: z.object({
    maxErrorRatePercent: z.number(),
    minInvocations: z.number(),
    maxErrors: z.number(),
    maxP99DurationMs: z.number().nullable(),
  }),
  firingAlarms: z.array(z.string()),
  ignoredAlarms: z.array(z.string()),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

/**
 * The traffic-and-bake state the loop carries in `$.traffic`: Shift traffic starts it for a step, each Check
 * health advances it. `waitSeconds` feeds the Bake state's SecondsPath; `next` feeds the "Healthy?" choice.
 */
export const TrafficStateSchema = z.object({
  stepIndex: z.number().int().nonnegative(),
  stepCount: z.number().int().positive(),
  percent: z.number(),
  stepStartedAt: z.string(),
  bakeSeconds: z.number().nonnegative(),
  bakedSeconds: z.number().nonnegative(),
  waitSeconds: z.number().int().nonnegative(),
  lastCheckAt: z.string(),
  /** The end of the data already judged: the next check's window starts here (the step's start before any). */
  judgedUntil: z.string().optional(),
  /** The same for the high-resolution source, which completes its data sooner (absent: none read yet). */
  highResolutionJudgedUntil: z.string().optional(),
  /** When the bake's time was up: the step ends once the data up to here is complete. */
  bakeEndedAt: z.string().optional(),
  checks: z.number().int().nonnegative(),
  next: NextActionSchema,
  nextStepIndex: z.number().int().nonnegative(),
  lastCheck: HealthCheckSchema.optional(),
  warnings: z.array(z.string()),
  /** Set once an operator fast-forwarded: the remaining steps and bake are skipped. */
  fastForwarded: z.boolean().optional(),
});
export type TrafficState = z.infer<typeof TrafficStateSchema>;

/** What a new step carries over from the step before it. */
export type CarriedTraffic = Pick<TrafficState, 'warnings' | 'fastForwarded'>;

/**
 * The traffic state of a step that traffic has just moved to, at `now`: nothing baked or checked yet, the first
 * wait one check interval (or the whole bake, when shorter). A fast-forwarded release bakes nothing.
 */
export function stepStarted(
  step: {
    readonly stepIndex: number;
    readonly stepCount: number;
    readonly percent: number;
    readonly bakeSeconds: number;
  },
  checkIntervalSeconds: number,
  now: string,
  previous: CarriedTraffic | undefined,
): TrafficState {
  const bakeSeconds = previous?.fastForwarded ? 0 : step.bakeSeconds;
  return {
    stepIndex: step.stepIndex,
    stepCount: step.stepCount,
    percent: step.percent,
    stepStartedAt: now,
    bakeSeconds,
    bakedSeconds: 0,
    waitSeconds: Math.min(checkIntervalSeconds, bakeSeconds),
    lastCheckAt: now,
    checks: 0,
    next: 'bake',
    nextStepIndex: step.stepIndex,
    warnings: previous?.warnings ?? [],
    ...(previous?.fastForwarded ? { fastForwarded: true } : {}),
  };
}

/**
 * The most warnings a release carries in its state. An alert-only release warns on every unhealthy check, and the
 * warnings travel in the Step Functions payload (256 KiB at most) and into the record's reason: past this many, one
 * last entry counts the rest. Each check's own evidence stays in the release history.
 */
export const MAX_WARNINGS = 20;
const MORE = /^(\d+) more warnings? \(each check's evidence is in the release history\)$/;

/** `warnings` with `warning` added, never longer than MAX_WARNINGS. */
export function withWarning(warnings: readonly string[], warning: string): string[] {
  if (warnings.length < MAX_WARNINGS - 1) return [...warnings, warning];
  const last = warnings[MAX_WARNINGS - 1];
  const more = (last ? Number(MORE.exec(last)?.[1] ?? 1) : 0) + 1;
  const note = `${more} more warning${more === 1 ? '' : 's'} (each check's evidence is in the release history)`;
  return [...warnings.slice(0, MAX_WARNINGS - 1), note];
}
