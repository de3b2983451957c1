import type { FleetMemberPhase, ReleaseEvent, ReleaseStore } from './ports.ts';
import type { ReleaseContext } from './release-context.ts';

/** A fleet member's events name it in their evidence; a single function's carry nothing extra. */
export function memberOf(release: Pick<ReleaseContext, 'member'>): { member?: string } {
  return release.member ? { member: release.member } : {};
}

/** "payments: " in a member's summaries. */
export function memberPrefix(release: Pick<ReleaseContext, 'member'>): string {
  return release.member ? `${release.member}: ` : '';
}

/**
 * Records a step's event on the release, or, inside a fleet's Map iteration, on its member with the member's new
 * phase in the same write (concurrent iterations each write their own member).
 */
export async function recordMemberOrRelease(
  store: ReleaseStore,
  release: Pick<ReleaseContext, 'releaseId' | 'member'>,
  phase: FleetMemberPhase,
  event: ReleaseEvent,
): Promise<void> {
  if (release.member) await store.updateFleetMember(release.releaseId, release.member, { phase }, event);
  else await store.updateRelease(release.releaseId, {}, event);
}
