import type { FleetMemberPhase, FleetState, ReleaseEvent, ReleaseRecord, ReleaseStatus } from '../core/ports.ts';
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
  /** A fleet release's size and where it stands; its members are in the release's detail only (a list stays small). */
  readonly fleet?: FleetSummary;
}

/** A fleet release at a glance, for lists. */
export interface FleetSummary {
  readonly members: number;
  readonly waveCount: number;
  readonly currentWave: number | null;
  readonly trippedBy?: string;
}

/** One wave of a fleet: how many members, how many in each phase, and which are unhealthy now. */
export interface FleetWaveView {
  /** 0-based, as the members' `wave`. */
  readonly wave: number;
  readonly members: number;
  readonly phases: Partial<Record<FleetMemberPhase, number>>;
  /** Members whose last verdict was unhealthy, in config order. */
  readonly unhealthy: readonly string[];
}

/**
 * A fleet release as `GET /releases/{id}` shows it: the record's fleet as it is (every member's wave, phase,
 * percent and verdict, the current wave, the member that tripped), plus per-wave tallies and the halt's evidence.
 */
export interface FleetView extends FleetState {
  readonly waves: readonly FleetWaveView[];
  /** From the `fleet-halted` event: the member whose verdict stopped every wave, and why. */
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
  extends Omit<ReleaseSummary, 'status' | 'digest' | 'imageUri' | 'blueVersion' | 'trigger' | 'startedAt' | 'fleet'> {
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
  /** Null unless the release moves a fleet (docs/fleet.md). */
  readonly fleet: FleetView | null;
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
    fleet,
    ...rest
  } = record;
  const last = events.at(-1);
  return {
    ...rest,
    consoleUrl: executionConsoleUrl(region, record.executionArn),
    ...(last ? { lastEvent: last.summary } : {}),
    ...(fleet ? { fleet: fleetSummary(fleet) } : {}),
  };
}

export function fleetSummary(fleet: FleetState): FleetSummary {
  return {
    members: fleet.members.length,
    waveCount: fleet.waveCount,
    currentWave: fleet.currentWave,
    ...(fleet.trippedBy ? { trippedBy: fleet.trippedBy } : {}),
  };
}

/** The record's fleet with each wave's tally and the halt's evidence (a view of the record, not a decision). */
export function fleetView(fleet: FleetState, events: readonly ReleaseEvent[]): FleetView {
  const waves: FleetWaveView[] = Array.from({ length: fleet.waveCount }, (_, wave) => {
    const members = fleet.members.filter((m) => m.wave === wave);
    const phases: Partial<Record<FleetMemberPhase, number>> = {};
    for (const m of members) phases[m.phase] = (phases[m.phase] ?? 0) + 1;
    return {
      wave,
      members: members.length,
      phases,
      unhealthy: members.filter((m) => m.verdict?.healthy === false).map((m) => m.name),
    };
  });
  const halt = events.findLast((e) => e.kind === 'fleet-halted');
  const check = halt ? HealthCheckSchema.safeParse(halt.evidence?.check) : undefined;
  const trippedBy = halt?.evidence?.trippedBy;
  const wave = halt?.evidence?.wave;
  return {
    ...fleet,
    waves,
    halted:
      halt && typeof trippedBy === 'string'
        ? {
            trippedBy,
            wave: typeof wave === 'number' ? wave : null,
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
    blueVersion: record?.blueVersion ?? null,
    ...(record?.greenVersion ? { greenVersion: record.greenVersion } : {}),
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
    fleet: record?.fleet ? fleetView(record.fleet, events) : null,
    ...(execution?.error ? { error: execution.error } : {}),
    ...(execution?.cause ? { cause: execution.cause } : {}),
  };
}
