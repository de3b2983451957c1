import type { ReleaseEvent, ReleaseRecord, ReleaseStatus, TargetPhase, TargetSet } from '../core/ports.ts';
import type { HealthCheckEvent } from '../core/release-events.ts';
import { type HealthCheck, HealthCheckSchema } from '../core/traffic.ts';
import {
  type ExecutionStatus,
  type ExecutionStep,
  type ExecutionView,
  executionConsoleUrl,
} from './release-operations.ts';

/** A release in a list: the record without its history, plus where to watch it. */
export interface ReleaseSummary {
  readonly releaseId: string;
  readonly environment: string;
  readonly status: ReleaseStatus;
  readonly digest: string;
  readonly imageUri: string;
  readonly blueVersion: string | null;
  readonly greenVersion?: string;
  readonly trigger: string;
  readonly reason?: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly executionArn: string;
  readonly consoleUrl: string;
  /** The newest event's summary: what happened last. */
  readonly lastEvent?: string;
  /** The release's targets at a glance; each target is in the release's detail only (a list stays small). */
  readonly targets: TargetsSummary;
}

/** A release's targets at a glance, for lists: one for a single function, one a member for a fleet. */
export interface TargetsSummary {
  readonly members: number;
  readonly waveCount: number;
  readonly currentWave: number | null;
  readonly trippedBy?: string;
}

/** One wave of a release: how many targets, how many in each phase, and which are unhealthy now. */
export interface WaveView {
  /** 0-based, as the members' `wave`. */
  readonly wave: number;
  readonly members: number;
  readonly phases: Partial<Record<TargetPhase, number>>;
  /** Members whose last verdict was unhealthy, in config order. */
  readonly unhealthy: readonly string[];
}

/**
 * A release's targets as `GET /releases/{id}` shows them: the record's targets as they are (every target's wave,
 * phase, percent and verdict, the current wave, the target that tripped), plus per-wave tallies and the halt's
 * evidence. A single function is one target in one wave.
 */
export interface TargetsView extends TargetSet {
  readonly waves: readonly WaveView[];
  /** The check that rolled the release back: the target whose verdict stopped every wave, and why. */
  readonly halted: {
    readonly trippedBy: string;
    readonly wave: number | null;
    readonly at: string;
    readonly reasons: readonly string[];
  } | null;
}

/** One turn of the bake loop, with the numbers it was decided on. */
export interface HealthDecision {
  readonly at: string;
  readonly verdict: HealthCheck['verdict'];
  readonly next: string;
  /** Share of `live` traffic on the new version when the check ran. */
  readonly percent: number | null;
  readonly invocations: number;
  readonly errors: number;
  readonly errorRatePercent: number | null;
  readonly maxErrorRatePercent: number;
  readonly reasons: readonly string[];
  readonly evidence: HealthCheck;
}

/** Where the traffic plan stands: Argo's weight, step and bake at a glance (a view of the history, not a decision). */
export interface RolloutProgress {
  /** 0-based index of the step traffic is on. */
  readonly stepIndex: number;
  readonly stepCount: number | null;
  /** Share of `live` on the new version since the last shift. */
  readonly percent: number;
  readonly bakeSeconds: number;
  /** Virtual seconds baked so far at this step, as of the last check. */
  readonly bakedSeconds: number;
  readonly shiftedAt: string;
  readonly lastCheck: HealthDecision | null;
}

export interface ReleaseDetail
  extends Omit<ReleaseSummary, 'status' | 'digest' | 'imageUri' | 'blueVersion' | 'trigger' | 'startedAt' | 'targets'> {
  /** `starting` while the execution runs but Validate release has not recorded the release yet. */
  readonly status: ReleaseStatus | 'starting';
  readonly digest: string | null;
  readonly imageUri: string | null;
  readonly blueVersion: string | null;
  readonly trigger: string | null;
  readonly startedAt: string | null;
  readonly executionStatus: ExecutionStatus | null;
  readonly currentState: string | null;
  readonly awaitingApproval: { readonly requestedAt: string; readonly expiresAt: string | null } | null;
  /** Set while an operator holds the bake (`POST /environments/{env}/releases/{id}/pause`), until it is resumed or the release ends. */
  readonly paused: { readonly pausedAt: string; readonly by: string; readonly reason: string | null } | null;
  /** The states the execution went through, in order. */
  readonly steps: readonly ExecutionStep[];
  /** The release record's history: each step's outcome and each decision, with evidence. */
  readonly events: readonly ReleaseEvent[];
  readonly healthChecks: readonly HealthDecision[];
  /** Null until traffic first moves. */
  readonly progress: RolloutProgress | null;
  /** The functions the release moves; null before Validate release recorded it. */
  readonly targets: TargetsView | null;
  readonly error?: string;
  readonly cause?: string;
}

export function summarize(record: ReleaseRecord, region: string): ReleaseSummary {
  // The typed state is for decisions (and the detail's `awaitingApproval`); the list shows the record as it was.
  const {
    events,
    fastForwardRequested: _fastForward,
    awaitingApproval: _approval,
    releasedWithWarnings: _warnings,
    notedDuplicates: _duplicates,
    currentStep: _step,
    paused: _paused,
    targets,
    ...rest
  } = record;
  const last = events.at(-1);
  return {
    ...rest,
    ...singleVersions(targets),
    consoleUrl: executionConsoleUrl(region, record.executionArn),
    ...(last ? { lastEvent: last.summary } : {}),
    targets: targetsSummary(targets),
  };
}

/** A single function's blue and green, as a release of one target has always shown them; a fleet's are per member. */
function singleVersions(targets: TargetSet | undefined): Pick<ReleaseSummary, 'blueVersion' | 'greenVersion'> {
  const only = targets?.members.length === 1 ? targets.members[0] : undefined;
  return {
    blueVersion: only?.blueVersion ?? null,
    ...(only?.greenVersion ? { greenVersion: only.greenVersion } : {}),
  };
}

export function targetsSummary(targets: TargetSet): TargetsSummary {
  return {
    members: targets.members.length,
    waveCount: targets.waveCount,
    currentWave: targets.currentWave,
    ...(targets.trippedBy ? { trippedBy: targets.trippedBy } : {}),
  };
}

/** The record's targets with each wave's tally and the halt's evidence (a view of the record, not a decision). */
export function targetsView(targets: TargetSet, events: readonly ReleaseEvent[]): TargetsView {
  const waves: WaveView[] = Array.from({ length: targets.waveCount }, (_, wave) => {
    const members = targets.members.filter((m) => m.wave === wave);
    const phases: Partial<Record<TargetPhase, number>> = {};
    for (const m of members) phases[m.phase] = (phases[m.phase] ?? 0) + 1;
    return {
      wave,
      members: members.length,
      phases,
      unhealthy: members.filter((m) => m.verdict?.verdict === 'unhealthy').map((m) => m.name),
    };
  });
  const trippedBy = targets.trippedBy;
  const halt = trippedBy
    ? events.findLast((e): e is HealthCheckEvent => e.kind === 'health-check' && e.evidence?.next === 'roll-back')
    : undefined;
  const check = halt ? HealthCheckSchema.safeParse(halt.evidence?.check) : undefined;
  const tripped = targets.members.find((m) => m.name === trippedBy);
  return {
    ...targets,
    waves,
    halted:
      halt && trippedBy
        ? {
            trippedBy,
            wave: tripped ? tripped.wave : null,
            at: halt.at,
            reasons: check?.success ? check.data.reasons : [halt.summary],
          }
        : null,
  };
}

/** The health-check events of a record, with their evidence parsed. */
export function healthDecisions(events: readonly ReleaseEvent[]): HealthDecision[] {
  const decisions: HealthDecision[] = [];
  for (const event of events) {
    if (event.kind !== 'health-check') continue;
    const parsed = HealthCheckSchema.safeParse(event.evidence?.check);
    if (!parsed.success) continue;
    const check = parsed.data;
    const percent = /\bat (\d+(?:\.\d+)?)%/.exec(event.summary)?.[1];
    decisions.push({
      at: check.at,
      verdict: check.verdict,
      next: typeof event.evidence?.next === 'string' ? event.evidence.next : 'unknown',
      percent: percent === undefined ? null : Number(percent),
      invocations: check.sample.invocations,
      errors: check.sample.errors,
      errorRatePercent: check.sample.errorRatePercent,
      maxErrorRatePercent: check.thresholds.maxErrorRatePercent,
      reasons: check.reasons,
      evidence: check,
    });
  }
  return decisions;
}

/** The step traffic is on and its bake, from the last shift and the checks after it. */
export function rolloutProgress(events: readonly ReleaseEvent[]): RolloutProgress | null {
  const shiftIndex = events.findLastIndex((e) => e.kind === 'traffic-shifted');
  const shift = events[shiftIndex];
  if (shift?.kind !== 'traffic-shifted') return null;
  const evidence = shift.evidence;
  const number = (v: unknown) => (typeof v === 'number' ? v : null);
  const bakeSeconds = number(evidence?.bakeSeconds) ?? 0;
  const lastCheck = healthDecisions(events.slice(shiftIndex + 1)).at(-1) ?? null;
  const baked = lastCheck ? Math.max(0, (Date.parse(lastCheck.at) - Date.parse(shift.at)) / 1000) : 0;
  return {
    stepIndex: number(evidence?.stepIndex) ?? 0,
    stepCount: number(evidence?.stepCount),
    percent: number(evidence?.percent) ?? 0,
    bakeSeconds,
    bakedSeconds: Math.min(bakeSeconds, baked),
    shiftedAt: shift.at,
    lastCheck,
  };
}

/** The pending approval, if the release is parked at "Await approval" and nobody has answered yet. */
export function pendingApproval(record: ReleaseRecord): ReleaseDetail['awaitingApproval'] {
  if (record.status !== 'running' || !record.awaitingApproval) return null;
  return { requestedAt: record.awaitingApproval.requestedAt, expiresAt: record.awaitingApproval.expiresAt };
}

/** Everything known about one release: its record (if Validate release wrote it) and its execution. */
export function releaseDetail(
  releaseId: string,
  record: ReleaseRecord | undefined,
  execution: ExecutionView | undefined,
  fallback: { environment: string | null; executionArn: string; region: string },
): ReleaseDetail {
  const executionArn = record?.executionArn ?? execution?.executionArn ?? fallback.executionArn;
  const events = record?.events ?? [];
  const last = events.at(-1);
  const running = execution?.status === 'RUNNING';
  return {
    releaseId,
    environment: record?.environment ?? fallback.environment ?? 'unknown',
    status: record?.status ?? (running ? 'starting' : 'failed'),
    digest: record?.digest ?? null,
    imageUri: record?.imageUri ?? null,
    ...singleVersions(record?.targets),
    trigger: record?.trigger ?? null,
    ...(record?.reason ? { reason: record.reason } : {}),
    startedAt: record?.startedAt ?? execution?.steps[0]?.enteredAt ?? null,
    ...(record?.endedAt ? { endedAt: record.endedAt } : {}),
    executionArn,
    consoleUrl: executionConsoleUrl(fallback.region, executionArn),
    ...(last ? { lastEvent: last.summary } : {}),
    executionStatus: execution?.status ?? null,
    currentState: execution?.currentState ?? null,
    awaitingApproval: record ? pendingApproval(record) : null,
    paused:
      record?.status === 'running' && record.paused
        ? { pausedAt: record.paused.pausedAt, by: record.paused.by, reason: record.paused.reason ?? null }
        : null,
    // Each state's input and output are served apart (GET /releases/{id}/steps): they would swell every poll.
    steps: (execution?.steps ?? []).map(({ input: _input, output: _output, ...step }) => step),
    events,
    healthChecks: healthDecisions(events),
    progress: rolloutProgress(events),
    targets: record ? targetsView(record.targets, events) : null,
    ...(execution?.error ? { error: execution.error } : {}),
    ...(execution?.cause ? { cause: execution.cause } : {}),
  };
}
