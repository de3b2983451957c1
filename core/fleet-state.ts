import type { FleetChange, FleetMemberChange, FleetState } from './ports.ts';

/** Thrown by a store asked to change a member the release does not have (or a release that is no fleet). */
export class UnknownFleetMember extends Error {
  override readonly name = 'UnknownFleetMember';
}

/** `fleet` with one member changed; every other member stays as it was. */
export function withMemberChange(
  releaseId: string,
  fleet: FleetState | undefined,
  name: string,
  change: FleetMemberChange,
): FleetState {
  if (!fleet) throw new UnknownFleetMember(`release ${releaseId} is not a fleet release`);
  if (!fleet.members.some((m) => m.name === name)) {
    throw new UnknownFleetMember(`release ${releaseId} has no fleet member "${name}"`);
  }
  return {
    ...fleet,
    members: fleet.members.map((m) => (m.name === name ? { ...m, ...structuredClone(change) } : m)),
  };
}

/** `fleet` after a fleet-wide change: the wave, the member that tripped and any members' own changes. */
export function withFleetChange(releaseId: string, fleet: FleetState | undefined, change: FleetChange): FleetState {
  if (!fleet) throw new UnknownFleetMember(`release ${releaseId} is not a fleet release`);
  let next: FleetState = {
    ...fleet,
    ...(change.currentWave !== undefined ? { currentWave: change.currentWave } : {}),
    ...(change.trippedBy !== undefined ? { trippedBy: change.trippedBy } : {}),
  };
  for (const [name, memberChange] of Object.entries(change.members ?? {})) {
    next = withMemberChange(releaseId, next, name, memberChange);
  }
  return next;
}
