import { lockKey } from '../config/environments.ts';
import type { Environments } from '../config/schema.ts';
import { ReleaseNotRunning } from './errors.ts';
import type { Clock, FunctionVersions, Notifier, ReleaseStore, TargetChange } from './ports.ts';
import { type Green, greenOf, isFleet, type ReleaseContext } from './release-context.ts';
import { notifyBestEffort, stillRunning } from './release-guard.ts';
import { requireGreen } from './shift-traffic.ts';
import type { TrafficState } from './traffic.ts';
import { forEachBounded, restoreBlue, TARGET_CALL_CONCURRENCY } from './traffic-router.ts';

export interface ConcludeDeps {
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly environments: Environments;
}

/** A caught error as Step Functions hands it to a Catch (`Error` and `Cause`). */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

/** The message inside a Lambda error's Cause (`{"errorMessage": …}`), or the Cause itself. */
export function causeMessage(error: CaughtError): string {
  if (!error.Cause) return error.Error;
  try {
    const parsed: unknown = JSON.parse(error.Cause);
    const message = parsed && typeof parsed === 'object' ? Reflect.get(parsed, 'errorMessage') : undefined;
    return typeof message === 'string' ? `${error.Error}: ${message}` : `${error.Error}: ${error.Cause}`;
  } catch {
    return `${error.Error}: ${error.Cause}`;
  }
}

export interface RollbackOutcome {
  readonly outcome: 'rolled-back';
  /** The single function's live version after the rollback; null for a fleet (each member's is in the evidence). */
  readonly live: { version: string | null };
  readonly reason: string;
  readonly evidence: Record<string, unknown>;
}

/**
 * Puts every target's `live` back on its blue with no routing, through the traffic router (bounded), then records,
 * alerts and frees the lock. Aliases first: whatever fails after that, production traffic is already on the
 * verified versions. Undoes only what the release did: a target whose live is not on its green is left as it is.
 */
export async function rollBack(
  release: ReleaseContext,
  greens: readonly Green[] | undefined,
  traffic: TrafficState | undefined,
  error: CaughtError | undefined,
  deps: ConcludeDeps,
): Promise<RollbackOutcome> {
  const fleet = isFleet(release);
  const before = await deps.store.getRelease(release.releaseId);
  if (before?.status === 'released') {
    // Finalize recorded the release and then failed (or timed out) before answering: green is live and verified,
    // so nothing is undone. The reconcile handler frees whatever Finalize did not get to.
    throw new ReleaseNotRunning(`release ${release.releaseId} is already released; live stays on green`);
  }
  const trippedBy = fleet ? (before?.targets.trippedBy ?? null) : null;
  const reason = error
    ? causeMessage(error)
    : (traffic?.lastCheck?.reasons.join('; ') ?? 'the new version was judged unhealthy');
  const outcomes = await forEachBounded(release.targets, TARGET_CALL_CONCURRENCY, async (target) => {
    const green = greenOf(greens, target.name);
    return { target, green, ...(await restoreBlue(deps.functions, target, green)) };
  });
  const restored = outcomes.flatMap((o) => (o.restored ? [{ member: o.target.name, version: o.restored }] : []));
  const untouched = outcomes.filter((o) => !o.restored).map((o) => o.target.name);
  const changes: Record<string, TargetChange> = {};
  // A target that never moved keeps its phase (verified, or failed): it was on blue throughout.
  for (const o of outcomes) if (o.restored) changes[o.target.name] = { phase: 'rolled-back', percent: 0 };
  const single = outcomes[0];
  const evidence = {
    greenVersion: fleet ? null : (single?.green ?? null),
    stepIndex: traffic?.stepIndex ?? null,
    percent: traffic?.percent ?? null,
    lastCheck: traffic?.lastCheck ?? null,
    error: error ?? null,
    ...(fleet ? { restored, untouched, trippedBy } : {}),
  };
  const summary =
    fleet || !single
      ? `fleet rolled back${trippedBy ? ` (tripped by ${trippedBy})` : ''}: ${reason}; ${restored.length} member${restored.length === 1 ? '' : 's'} back on blue (${restored.map((r) => `${r.member} → ${r.version}`).join(', ') || 'none had moved'})`
      : single.restored
        ? `${single.target.aliases.live} restored to version ${single.restored}: ${reason}`
        : single.onGreen
          ? `no earlier version to restore; ${single.target.aliases.live} left on ${single.green}: ${reason}`
          : `${single.target.aliases.live} is not on this release's version (${single.live?.version ?? 'none'}), left as it is: ${reason}`;
  const at = deps.clock.now().toISOString();
  // A record the reconcile handler already closed keeps its status; the rollback is added to its history.
  const running = await stillRunning(deps.store, release.releaseId);
  try {
    await deps.store.update(
      release.releaseId,
      { ...(running ? { status: 'rolled-back', reason, endedAt: at } : {}), currentWave: null, targets: changes },
      { at, kind: 'rolled-back', summary, evidence },
    );
  } catch (failure) {
    // live is back on blue whatever the record says: a refused write must not keep the environment locked. The
    // failed task is retried (and alerts then), and the reconcile handler closes a record that stays open.
    await deps.store.releaseLock(release.lockKey, release.releaseId);
    throw failure;
  }
  // The alert before the unlock: if unlocking fails, the reconcile handler frees the lock, and the alert is out.
  await notifyBestEffort(deps, {
    subject: `Switchyard: ${release.environment} ${fleet ? 'fleet ' : ''}release ${release.releaseId} rolled back${trippedBy ? ` (tripped by ${trippedBy})` : ''}`,
    releaseId: release.releaseId,
    environment: release.environment,
    outcome: 'rolled-back',
    detail: { reason, ...(fleet ? {} : { restoredVersion: single?.restored ?? null }), ...evidence },
  });
  await deps.store.releaseLock(release.lockKey, release.releaseId);
  return {
    outcome: 'rolled-back',
    live: { version: fleet ? null : (single?.restored ?? single?.live?.version ?? null) },
    reason: trippedBy ? `tripped by ${trippedBy}: ${reason}` : reason,
    evidence,
  };
}

export interface FinalizeOutcome {
  readonly outcome: 'released' | 'released-with-warnings';
  /** The single function's live version; `fleet` for a fleet (each member runs its own green). */
  readonly live: { version: string };
  readonly blue: { version: string | null };
  readonly warnings: string[];
  readonly promotesTo: string | null;
}

/**
 * Every target live on its green: records the release first, then keeps each target's previous live version on its
 * `blue` alias as the instant-rollback target, frees the lock and notifies.
 */
export async function finalize(
  release: ReleaseContext,
  greens: readonly Green[],
  traffic: TrafficState | undefined,
  deps: ConcludeDeps,
): Promise<FinalizeOutcome> {
  const fleet = isFleet(release);
  const single = release.targets[0];
  const green = single && !fleet ? requireGreen(greens, single) : 'fleet';
  // Recorded first, so a stop that comes now finds the release done instead of undoing it halfway through the blue
  // aliases; a stop whose reconcile closed the record first has put live back on blue.
  const { warnings, outcome } = await recordReleased(
    release,
    traffic,
    fleet || !single
      ? `every member of the ${release.environment} fleet (${release.targets.length}) live on its green; blue keeps the previous versions`
      : `${single.aliases.live} → version ${green}; ${single.aliases.blue} keeps ${single.blueVersion ?? 'nothing'}`,
    deps,
  );
  await forEachBounded(release.targets, TARGET_CALL_CONCURRENCY, async (target) => {
    if (target.blueVersion)
      await deps.functions.ensureAlias(target.functionName, target.aliases.blue, target.blueVersion);
  });
  const changes: Record<string, TargetChange> = {};
  for (const target of release.targets) changes[target.name] = { phase: 'live', percent: 100 };
  await deps.store.update(release.releaseId, { currentWave: null, targets: changes });
  const blueVersion = fleet ? null : (single?.blueVersion ?? null);
  // The alert before the unlock: if unlocking fails, the reconcile handler frees the lock, and the alert is out.
  await notifyBestEffort(deps, {
    subject: `Switchyard: ${release.environment} ${fleet ? 'fleet ' : ''}release ${release.releaseId} is live`,
    releaseId: release.releaseId,
    environment: release.environment,
    outcome,
    detail: fleet
      ? { members: release.targets.length, warnings, promotesTo: release.promotesTo }
      : { liveVersion: green, blueVersion, warnings, promotesTo: release.promotesTo },
  });
  await deps.store.releaseLock(release.lockKey, release.releaseId);
  return {
    outcome,
    live: { version: green },
    blue: { version: blueVersion },
    warnings,
    promotesTo: release.promotesTo,
  };
}

/**
 * Ends the record as released, with the warnings the release went live with, before anything else Finalize does,
 * and only while it still runs (ReleaseStore.closeRelease): a stop that comes later finds the release done and leaves
 * live on green; a record a stop's reconcile closed first is refused with ReleaseNotRunning, and nothing is written.
 * A retry of a Finalize that recorded it already goes on to finish the job.
 */
export async function recordReleased(
  release: Pick<ReleaseContext, 'releaseId'>,
  traffic: TrafficState | undefined,
  summary: string,
  deps: { readonly store: ReleaseStore; readonly clock: Clock },
): Promise<Pick<FinalizeOutcome, 'outcome' | 'warnings'>> {
  const warnings = traffic?.warnings ?? [];
  const at = deps.clock.now().toISOString();
  const { status } = await deps.store.closeRelease(
    release.releaseId,
    { status: 'released', endedAt: at, ...(warnings.length > 0 ? { reason: warnings.join('; ') } : {}) },
    { at, kind: 'released', summary, evidence: { lastCheck: traffic?.lastCheck ?? null, warnings } },
  );
  if (status !== 'released') {
    throw new ReleaseNotRunning(`release ${release.releaseId} was stopped (${status}); finalize skipped`);
  }
  return { warnings, outcome: warnings.length > 0 ? 'released-with-warnings' : 'released' };
}

export interface FailureOutcome {
  readonly outcome: 'failed' | 'refused';
  readonly reason: string;
  readonly error: string;
}

/**
 * A release that ends before traffic moved: `live` is not touched. Unlocks only a lock this release holds
 * (a refused release must never free the lock of the release that refused it).
 */
export async function releaseFailed(
  releaseId: string,
  environment: string | undefined,
  release: ReleaseContext | undefined,
  error: CaughtError,
  deps: ConcludeDeps,
): Promise<FailureOutcome> {
  const reason = causeMessage(error);
  const refused = error.Error === 'ReleaseLocked' || error.Error === 'InvalidRelease';
  const at = deps.clock.now().toISOString();
  const env = environment ? deps.environments[environment as keyof Environments] : undefined;
  // The alert first: whatever fails below, the reconcile handler closes the record and frees the lock, but only
  // this step knows why the release failed.
  await notifyBestEffort(deps, {
    subject: `Switchyard: ${environment ?? 'unknown environment'} release ${releaseId} ${refused ? 'refused' : 'failed'}`,
    releaseId,
    environment: environment ?? 'unknown',
    outcome: refused ? 'refused' : 'failed',
    detail: { reason, error: error.Error },
  });
  const key = release?.lockKey ?? (env ? lockKey(env) : undefined);
  if (key) await deps.store.releaseLock(key, releaseId);
  // A pending approval dies with the release: its token must not be answered later.
  await deps.store.takeApprovalRequest(releaseId);
  // Validate release may have recorded the release before it failed, without handing its context on.
  if (release || (await stillRunning(deps.store, releaseId))) {
    await deps.store.update(
      releaseId,
      { status: 'failed', reason, endedAt: at },
      { at, kind: 'failed', summary: `release failed before traffic moved: ${reason}`, evidence: { error } },
    );
  }
  return { outcome: refused ? 'refused' : 'failed', reason, error: error.Error };
}
