import { environmentNamed } from '../../config/environments.ts';
import { ReleaseConflict, ReleaseNotFound } from '../model/errors.ts';
import { promotionReleaseId } from '../model/release-id.ts';
import { followOnInput } from './follow-on.ts';
import { type StartedRelease, type StartReleaseDeps, startNamedRelease } from './start-release.ts';

export interface PromotionRequest {
  /** The released release whose digest goes on. */
  readonly releaseId: string;
  readonly by: string;
  readonly reason?: string | undefined;
  /** Needed to promote a release that went live with warnings. */
  readonly acceptWarnings?: boolean | undefined;
  /** The environment the caller expects to promote into; refused unless it is the configured next one. */
  readonly environment?: string | undefined;
}

/**
 * Starts the release of a released digest into the environment its own promotes to (`promotesTo`), as a new
 * release with every check of a start. Promoting twice is one release (its id derives from the source's).
 * Refused (`ReleaseConflict`) when the environment promotes nowhere or elsewhere, when the release is not released,
 * and when it went live with warnings the caller did not accept.
 */
export async function promoteToNext(request: PromotionRequest, deps: StartReleaseDeps): Promise<StartedRelease> {
  const { releaseId } = request;
  const record = await deps.store.getRelease(releaseId);
  if (!record) throw new ReleaseNotFound(`no release ${releaseId}`);
  const from = environmentNamed(record.environment, deps.environments);
  if (!from.promotesTo) throw new ReleaseConflict(`${from.name} promotes to no other environment`);
  if (request.environment !== undefined && request.environment !== from.promotesTo) {
    throw new ReleaseConflict(`${from.name} promotes to ${from.promotesTo}, not ${request.environment}`);
  }
  if (record.status !== 'released') {
    throw new ReleaseConflict(`release ${releaseId} is ${record.status}; only a released digest is promoted`);
  }
  const warnings = record.releasedWithWarnings ?? [];
  if (warnings.length > 0 && !request.acceptWarnings) {
    throw new ReleaseConflict(
      `release ${releaseId} went live with warnings (${warnings.join('; ')}); send acceptWarnings: true to promote it`,
      { warnings },
    );
  }
  const next = environmentNamed(from.promotesTo, deps.environments);
  const input = followOnInput(
    record,
    next,
    request.by,
    request.reason ?? `promotion of ${releaseId} from ${from.name}`,
    {
      promotedFrom: releaseId,
    },
  );
  return startNamedRelease(next, promotionReleaseId(next.name, releaseId), input, true, deps);
}
