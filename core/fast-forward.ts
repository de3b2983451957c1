import { InvalidRelease, ReleaseNotFound, ReleaseNotRunning } from './errors.ts';
import type { Clock, ReleaseStore } from './ports.ts';

export interface FastForwardDeps {
  readonly store: ReleaseStore;
  readonly clock: Clock;
}

export const FAST_FORWARD_EVENT = 'fast-forward-requested';

/**
 * Records an operator's request to skip the rest of the bake. The next Check health honours it: it moves `live`
 * to 100% if it is not there yet and finalizes; the reason stays in the release's history.
 */
export async function requestFastForward(
  releaseId: string,
  by: string,
  reason: string,
  deps: FastForwardDeps,
): Promise<void> {
  if (!reason.trim()) throw new InvalidRelease('a fast-forward needs a reason', { field: 'reason' });
  const record = await deps.store.getRelease(releaseId);
  if (!record) throw new ReleaseNotFound(`no release ${releaseId}`);
  if (record.status !== 'running') throw new ReleaseNotRunning(`release ${releaseId} has ended (${record.status})`);
  await deps.store.update(
    releaseId,
    {},
    {
      at: deps.clock.now().toISOString(),
      kind: FAST_FORWARD_EVENT,
      summary: `fast-forward requested by ${by}: ${reason}`,
      evidence: { by, reason },
    },
  );
}
