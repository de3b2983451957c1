import type { CheckEvidence } from '../steps/verify-green.ts';
import type { HealthCheck, NextAction } from './traffic.ts';

/**
 * A release's history, one type per kind with its evidence. The history is for people (the API, the CLI, the
 * console) and for audit; what a later decision needs is kept apart as typed fields on the record (`ReleaseState`),
 * set by the store in the same write as the event that causes them (`stateChange`), so nothing decides by scanning
 * history.
 */
interface EventOf<K extends string, E extends object> {
  readonly at: string;
  readonly kind: K;
  readonly summary: string;
  /** Absent only in records written by hand (a rehearsal's set-up, an environment rollback) or by older code. */
  readonly evidence?: E | Omitted<E>;
}

/** What the DynamoDB store keeps of an event whose evidence is too large for one item (`MAX_EVENT_BYTES`). */
export interface EvidenceOmitted {
  readonly omitted: string;
}

/** Omitted evidence has none of the kind's own fields. */
type Omitted<E extends object> = EvidenceOmitted & { readonly [F in keyof E]?: never };

/** An event whose summary says it all. */
interface BareEvent<K extends string> {
  readonly at: string;
  readonly kind: K;
  readonly summary: string;
  readonly evidence?: undefined;
}

export type ValidatedEvent = EventOf<
  'validated',
  {
    readonly plan: readonly { readonly percent: number; readonly bakeSeconds: number }[];
    readonly preexistingAlarms: readonly string[];
    readonly unverifiedLiveVersion: string | null;
    readonly requestReason?: string;
    readonly retryOf?: string;
    readonly promotedFrom?: string;
  }
>;
/**
 * A release that started past the release policy (core/policy/release-gate.ts): an operator's override of a window
 * or a freeze through its own route, or an API release passing an environment's hold. Who, why, and what it passed.
 */
export type PolicyOverriddenEvent = EventOf<
  'policy-overridden',
  {
    readonly by: string;
    readonly reason: string;
    readonly overrode: 'freeze' | 'window' | 'hold';
    /** The freeze's or the window's name; the hold's environment. */
    readonly name: string;
    readonly detail: string;
  }
>;
export type DuplicateDeliveryEvent = EventOf<
  'duplicate-delivery',
  { readonly eventId: string; readonly execution: string }
>;
/** A fleet member's own event names the member (docs/fleet.md); a single function's events carry none. */
interface OfMember {
  readonly member?: string;
}

export type DeployedEvent = EventOf<
  'deployed',
  { readonly version: string; readonly codeSha256: string; readonly reused: boolean } & OfMember
>;
export type VerifiedEvent = EventOf<'verified', { readonly checks: readonly CheckEvidence[] } & OfMember>;
export type VerificationFailedEvent = EventOf<
  'verification-failed',
  { readonly checks: readonly CheckEvidence[] } & OfMember
>;
export type ApprovalRequestedEvent = EventOf<'approval-requested', { readonly expiresAt: string }>;
export type ApprovedEvent = BareEvent<'approved'>;
export type RejectedEvent = BareEvent<'rejected'>;
/** A fleet's shift names its wave and the members it moved. */
export interface FleetShift {
  readonly wave: number;
  readonly waveCount: number;
  readonly members: readonly string[];
}

export type TrafficShiftedEvent = EventOf<
  'traffic-shifted',
  {
    readonly stepIndex: number;
    readonly stepCount: number;
    readonly percent: number;
    readonly bakeSeconds: number;
    readonly fleet?: FleetShift;
  }
>;
/** A fleet's check: the member it names is the one whose verdict decided (the one that tripped, if any), with the tally. */
export type HealthCheckEvent = EventOf<
  'health-check',
  {
    readonly check: HealthCheck;
    readonly next: NextAction;
    readonly member?: string;
    readonly fleet?: { readonly judged: number; readonly healthy: number; readonly unhealthy: readonly string[] };
  }
>;
export type FastForwardRequestedEvent = EventOf<
  'fast-forward-requested',
  { readonly by: string; readonly reason: string }
>;
export type AbortRequestedEvent = EventOf<'abort-requested', { readonly by: string; readonly reason?: string }>;
/** An operator holds the bake: checks go on (an unhealthy one still rolls back), the step does not advance. */
export type PauseRequestedEvent = EventOf<'pause-requested', { readonly by: string; readonly reason?: string }>;
/** An operator lets a paused bake go on from where it was held. */
export type ResumedEvent = EventOf<'resumed', { readonly by: string; readonly pausedSeconds: number }>;
/** Finalize's record; a rehearsal's set-up record of a first release carries no evidence. */
export type ReleasedEvent = EventOf<
  'released',
  { readonly lastCheck: HealthCheck | null; readonly warnings: readonly string[] }
>;
/**
 * Roll back's record, with what it undid: a fleet's names every member that went back to its blue, the members that
 * had not moved, and the one that tripped the release. An environment rollback outside a release carries no evidence.
 */
export type RolledBackEvent = EventOf<
  'rolled-back',
  {
    readonly restored?: readonly { readonly member: string; readonly version: string }[];
    readonly untouched?: readonly string[];
    readonly trippedBy?: string | null;
    readonly greenVersion: string | null;
    readonly stepIndex: number | null;
    readonly percent: number | null;
    readonly lastCheck: HealthCheck | null;
    readonly error: { readonly Error: string; readonly Cause?: string } | null;
  }
>;
export type FailedEvent = EventOf<'failed', { readonly error: { readonly Error: string; readonly Cause?: string } }>;
export type ReconciledEvent = EventOf<'reconciled', { readonly status: string }>;
export type NotificationFailedEvent = BareEvent<'notification-failed'>;

export type ReleaseEvent =
  | ValidatedEvent
  | PolicyOverriddenEvent
  | DuplicateDeliveryEvent
  | DeployedEvent
  | VerifiedEvent
  | VerificationFailedEvent
  | ApprovalRequestedEvent
  | ApprovedEvent
  | RejectedEvent
  | TrafficShiftedEvent
  | HealthCheckEvent
  | FastForwardRequestedEvent
  | AbortRequestedEvent
  | PauseRequestedEvent
  | ResumedEvent
  | ReleasedEvent
  | RolledBackEvent
  | FailedEvent
  | ReconciledEvent
  | NotificationFailedEvent;

export type ReleaseEventKind = ReleaseEvent['kind'];

/** A release waiting at "Await approval" and not answered yet (the task token stays in the approval request). */
export interface PendingApproval {
  readonly requestedAt: string;
  readonly expiresAt: string;
}

/** The traffic step a release is on, from its first shift until it ends: what "baking" means to a pause. */
export interface CurrentStep {
  readonly stepIndex: number;
  readonly stepCount: number;
  readonly percent: number;
  readonly shiftedAt: string;
}

/** A bake an operator holds (`pause-requested`), until it is resumed or the release ends. */
export interface Pause {
  readonly pausedAt: string;
  readonly by: string;
  readonly reason?: string;
}

/**
 * What later decisions read from a release record, each field set by the event that causes it. An absent field is
 * the default (a record written before the field existed reads as "not requested", "no warnings", …).
 */
export interface ReleaseState {
  /** The first operator request to skip the rest of the bake; the next Check health honours it. */
  readonly fastForwardRequested?: FastForwardRequestedEvent;
  /** Set while the release waits for an approval nobody has given or refused. */
  readonly awaitingApproval?: PendingApproval;
  /** The warnings the release went live with (unhealthy checks in alert mode, quiet steps); absent when none. */
  readonly releasedWithWarnings?: readonly string[];
  /** The executions of duplicate deliveries already noted on this (the first) release, each once. */
  readonly notedDuplicates?: readonly string[];
  /** The step traffic is on; absent before the first shift and after the release ends. */
  readonly currentStep?: CurrentStep;
  /** Set while an operator holds the bake. */
  readonly paused?: Pause;
}

export type ReleaseStateField = keyof ReleaseState;

/**
 * How one event changes the typed state, in the forms a conditional store write can apply atomically with the
 * event itself (DynamoDB: `SET`, `SET … = if_not_exists(…)`, `REMOVE`, `list_append` in one UpdateItem).
 */
export interface StateChange {
  readonly set: Partial<ReleaseState>;
  /** Set only when the field is absent: the first such event wins. */
  readonly setOnce: Partial<ReleaseState>;
  readonly clear: readonly ReleaseStateField[];
  readonly append: { readonly notedDuplicates?: readonly string[] };
}

const NO_CHANGE: StateChange = { set: {}, setOnce: {}, clear: [], append: {} };

/** The events that end a release: nobody waits for an approval, no step bakes, nothing is paused any more. */
const ENDS_RELEASE: ReadonlySet<ReleaseEventKind> = new Set(['released', 'rolled-back', 'failed', 'reconciled']);

/** The events after which nobody waits for an approval any more. */
const ENDS_APPROVAL: ReadonlySet<ReleaseEventKind> = new Set([
  'approved',
  'rejected',
  'released',
  'rolled-back',
  'failed',
  'reconciled',
]);

function hasEvidence<E extends object>(evidence: E | Omitted<E> | undefined): evidence is E {
  return typeof evidence === 'object' && evidence !== null && !('omitted' in evidence);
}

/** The change `event` makes to the record's typed state (computed from the event as written, before any bounding). */
export function stateChange(event: ReleaseEvent): StateChange {
  switch (event.kind) {
    case 'fast-forward-requested':
      return { ...NO_CHANGE, setOnce: { fastForwardRequested: event } };
    case 'approval-requested':
      return hasEvidence(event.evidence)
        ? { ...NO_CHANGE, set: { awaitingApproval: { requestedAt: event.at, expiresAt: event.evidence.expiresAt } } }
        : NO_CHANGE;
    case 'duplicate-delivery':
      return hasEvidence(event.evidence)
        ? { ...NO_CHANGE, append: { notedDuplicates: [event.evidence.execution] } }
        : NO_CHANGE;
    case 'traffic-shifted':
      return hasEvidence(event.evidence)
        ? {
            ...NO_CHANGE,
            set: {
              currentStep: {
                stepIndex: event.evidence.stepIndex,
                stepCount: event.evidence.stepCount,
                percent: event.evidence.percent,
                shiftedAt: event.at,
              },
            },
          }
        : NO_CHANGE;
    case 'pause-requested': {
      const reason = hasEvidence(event.evidence) ? event.evidence.reason : undefined;
      const by = hasEvidence(event.evidence) ? event.evidence.by : 'unknown';
      return { ...NO_CHANGE, setOnce: { paused: { pausedAt: event.at, by, ...(reason ? { reason } : {}) } } };
    }
    case 'resumed':
      return { ...NO_CHANGE, clear: ['paused'] };
    case 'released': {
      const warnings =
        hasEvidence(event.evidence) && Array.isArray(event.evidence.warnings) ? event.evidence.warnings : [];
      return {
        ...NO_CHANGE,
        ...(warnings.length > 0 ? { set: { releasedWithWarnings: [...warnings] } } : {}),
        clear: ['awaitingApproval', 'currentStep', 'paused'],
      };
    }
    default:
      if (ENDS_RELEASE.has(event.kind)) return { ...NO_CHANGE, clear: ['awaitingApproval', 'currentStep', 'paused'] };
      return ENDS_APPROVAL.has(event.kind) ? { ...NO_CHANGE, clear: ['awaitingApproval'] } : NO_CHANGE;
  }
}

/** The record's typed state after `event`, for the stores that hold a record as one value (memory, SQLite). */
export function applyStateChange<R extends ReleaseState>(record: R, event: ReleaseEvent): R {
  const change = stateChange(event);
  const next = { ...record } as Record<string, unknown>;
  for (const field of change.clear) delete next[field];
  Object.assign(next, structuredClone(change.set));
  for (const [field, value] of Object.entries(change.setOnce)) {
    if (next[field] === undefined) next[field] = structuredClone(value);
  }
  if (change.append.notedDuplicates) {
    next.notedDuplicates = [...(record.notedDuplicates ?? []), ...change.append.notedDuplicates];
  }
  return next as R;
}

/** A created record's typed state: its initial events applied in order. */
export function withInitialState<R extends ReleaseState & { readonly events: readonly ReleaseEvent[] }>(record: R): R {
  return record.events.reduce((state, event) => applyStateChange(state, event), record);
}
