import { lockKey } from '../config/environments.ts';
import type { Environments } from '../config/schema.ts';
import { ReleaseNotRunning } from './errors.ts';
import type { Clock, FunctionVersions, Notifier, ReleaseStore } from './ports.ts';
import type { ReleaseContext } from './release-context.ts';
import { notifyBestEffort, stillRunning } from './release-guard.ts';
import type { TrafficState } from './traffic.ts';

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

function releaseLockKey(release: ReleaseContext, envs: Environments): string {
  const env = envs[release.environment];
  return env ? lockKey(env) : `${release.functionName}#${release.environment}`;
}

export interface RollbackOutcome {
  readonly outcome: 'rolled-back';
  readonly live: { version: string | null };
  readonly reason: string;
  readonly evidence: Record<string, unknown>;
}

/**
 * Puts `live` back on blue with no routing, then records, unlocks and notifies. Aliases first: whatever fails
 * after that, production traffic is already on the verified version.
 */
export async function rollBack(
  release: ReleaseContext,
  greenVersion: string | undefined,
  traffic: TrafficState | undefined,
  error: CaughtError | undefined,
  deps: ConcludeDeps,
): Promise<RollbackOutcome> {
  const reason = error
    ? causeMessage(error)
    : (traffic?.lastCheck?.reasons.join('; ') ?? 'the new version was judged unhealthy');
  const before = await deps.store.getRelease(release.releaseId);
  if (before?.status === 'released') {
    // Finalize recorded the release and then failed (or timed out) before answering: green is live and verified,
    // so nothing is undone. The reconcile handler frees whatever Finalize did not get to.
    throw new ReleaseNotRunning(`release ${release.releaseId} is already released; live stays on ${greenVersion}`);
  }
  // Undo only what this release did: live on green, or routing part of live's traffic to green.
  const live = await deps.functions.getAlias(release.functionName, release.aliases.live);
  const onGreen =
    live !== undefined &&
    greenVersion !== undefined &&
    (live.version === greenVersion || live.routing?.version === greenVersion);
  let restored: string | null = null;
  if (release.blueVersion && onGreen) {
    await deps.functions.updateAlias(release.functionName, release.aliases.live, release.blueVersion, undefined, live);
    restored = release.blueVersion;
  }
  const evidence = {
    greenVersion: greenVersion ?? null,
    stepIndex: traffic?.stepIndex ?? null,
    percent: traffic?.percent ?? null,
    lastCheck: traffic?.lastCheck ?? null,
    error: error ?? null,
  };
  const at = deps.clock.now().toISOString();
  const summary = restored
    ? `${release.aliases.live} restored to version ${restored}: ${reason}`
    : onGreen
      ? `no earlier version to restore; ${release.aliases.live} left on ${greenVersion}: ${reason}`
      : `${release.aliases.live} is not on this release's version (${live?.version ?? 'none'}), left as it is: ${reason}`;
  // A record the reconcile handler already closed keeps its status; the rollback is added to its history.
  const running = await stillRunning(deps.store, release.releaseId);
  try {
    await deps.store.updateRelease(release.releaseId, running ? { status: 'rolled-back', reason, endedAt: at } : {}, {
      at,
      kind: 'rolled-back',
      summary,
      evidence,
    });
  } catch (error) {
    // live is back on blue whatever the record says: a refused write must not keep the environment locked. The
    // failed task is retried (and alerts then), and the reconcile handler closes a record that stays open.
    await deps.store.releaseLock(releaseLockKey(release, deps.environments), release.releaseId);
    throw error;
  }
  // The alert before the unlock: if unlocking fails, the reconcile handler frees the lock, and the alert is out.
  await notifyBestEffort(deps, {
    subject: `Switchyard: ${release.environment} release ${release.releaseId} rolled back`,
    releaseId: release.releaseId,
    environment: release.environment,
    outcome: 'rolled-back',
    detail: { reason, restoredVersion: restored, ...evidence },
  });
  await deps.store.releaseLock(releaseLockKey(release, deps.environments), release.releaseId);
  const current = restored ?? live?.version ?? null;
  return { outcome: 'rolled-back', live: { version: current }, reason, evidence };
}

export interface FinalizeOutcome {
  readonly outcome: 'released' | 'released-with-warnings';
  readonly live: { version: string };
  readonly blue: { version: string | null };
  readonly warnings: string[];
  readonly promotesTo: string | null;
}

/** Keeps the previous live version on `blue` as the instant-rollback target, then records, unlocks, notifies. */
export async function finalize(
  release: ReleaseContext,
  greenVersion: string,
  traffic: TrafficState | undefined,
  deps: ConcludeDeps,
): Promise<FinalizeOutcome> {
  // live is on green already; a stop whose reconcile closed the record first has put it back on blue.
  const { warnings, outcome } = await recordReleased(
    release,
    traffic,
    `${release.aliases.live} → version ${greenVersion}; ${release.aliases.blue} keeps ${release.blueVersion ?? 'nothing'}`,
    deps,
  );
  if (release.blueVersion) {
    await deps.functions.ensureAlias(release.functionName, release.aliases.blue, release.blueVersion);
  }
  // The alert before the unlock: if unlocking fails, the reconcile handler frees the lock, and the alert is out.
  await notifyBestEffort(deps, {
    subject: `Switchyard: ${release.environment} release ${release.releaseId} is live`,
    releaseId: release.releaseId,
    environment: release.environment,
    outcome,
    detail: { liveVersion: greenVersion, blueVersion: release.blueVersion, warnings, promotesTo: release.promotesTo },
  });
  await deps.store.releaseLock(releaseLockKey(release, deps.environments), release.releaseId);
  return {
    outcome,
    live: { version: greenVersion },
    blue: { version: release.blueVersion },
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
  if (env) await deps.store.releaseLock(lockKey(env), releaseId);
  // A pending approval dies with the release: its token must not be answered later.
  await deps.store.takeApprovalRequest(releaseId);
  // Validate release may have recorded the release before it failed, without handing its context on.
  if (release || (await stillRunning(deps.store, releaseId))) {
    await deps.store.updateRelease(
      releaseId,
      { status: 'failed', reason, endedAt: at },
      { at, kind: 'failed', summary: `release failed before traffic moved: ${reason}`, evidence: { error } },
    );
  }
  return { outcome: refused ? 'refused' : 'failed', reason, error: error.Error };
}
