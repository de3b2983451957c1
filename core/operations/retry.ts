import { environmentNamed } from '../../config/environments.ts';
import { ReleaseConflict, ReleaseNotFound } from '../model/errors.ts';
import { retryReleaseId } from '../model/release-id.ts';
import { followOnInput } from './follow-on.ts';
import { type StartedRelease, type StartReleaseDeps, startNamedRelease } from './start-release.ts';

export interface RetryRequest {
  readonly releaseId: string;
  readonly by: string;
  readonly reason?: string | undefined;
}

/**
 * A new release of the same digest into the same environment, for a release that failed, rolled back or stopped.
 * Retrying twice is one release (retry the retry to go again).
 */
export async function retryRelease(request: RetryRequest, deps: StartReleaseDeps): Promise<StartedRelease> {
  const { releaseId, reason } = request;
  const record = await deps.store.getRelease(releaseId);
  if (!record) throw new ReleaseNotFound(`no release ${releaseId}`);
  if (record.status === 'running' || record.status === 'released') {
    throw new ReleaseConflict(
      `release ${releaseId} is ${record.status}; only a failed, rolled-back or aborted release is retried`,
    );
  }
  const env = environmentNamed(record.environment, deps.environments);
  const input = followOnInput(record, env, request.by, `retry of ${releaseId}${reason ? `: ${reason}` : ''}`, {
    retryOf: releaseId,
  });
  return startNamedRelease(env, retryReleaseId(env.name, releaseId), input, true, deps);
}
