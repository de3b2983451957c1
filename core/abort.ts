import { ReleaseNotFound, ReleaseNotRunning } from './errors.ts';
import type { Clock, ReleaseExecutions, ReleaseStore } from './ports.ts';

export interface AbortDeps extends Pick<ReleaseExecutions, 'describeExecution' | 'stopExecution'> {
  readonly store: ReleaseStore;
  readonly clock: Clock;
}

export interface AbortRequest {
  readonly releaseId: string;
  readonly by: string;
  readonly reason?: string | undefined;
}

export interface AbortOutcome {
  readonly releaseId: string;
  readonly by: string;
  /** What the execution was stopped with, and the record's history says. */
  readonly cause: string;
}

/**
 * Stops a running release: records who asked and why, then stops the execution. The reconcile rule on the
 * execution's status change then puts `live` back on the verified version, closes the record and frees the lock.
 * A release still in Validate release has an execution but no record yet: it is stopped all the same, and the
 * reconcile handler records it as aborted so that Validate release starts nothing.
 */
export async function abortRelease(request: AbortRequest, deps: AbortDeps): Promise<AbortOutcome> {
  const { releaseId, by, reason } = request;
  const record = await deps.store.getRelease(releaseId);
  const execution = record ? undefined : await deps.describeExecution(releaseId);
  if (!record && execution?.status !== 'RUNNING') throw new ReleaseNotFound(`no running release ${releaseId}`);
  if (record && record.status !== 'running') {
    throw new ReleaseNotRunning(`release ${releaseId} has ended (${record.status})`);
  }
  const cause = `aborted by ${by}${reason ? `: ${reason}` : ''}`;
  if (record) {
    await deps.store.update(
      releaseId,
      {},
      { at: deps.clock.now().toISOString(), kind: 'abort-requested', summary: cause, evidence: { by, reason } },
    );
  }
  await deps.stopExecution(releaseId, cause);
  return { releaseId, by, cause };
}
