import { memberWaves } from '../config/fleet.ts';
import type { EnvironmentConfig } from '../config/schema.ts';
import { type ReleaseChange, singleTarget, type TargetSet, type TargetState } from './ports.ts';
import type { TargetContext } from './release-context.ts';

/** Thrown by a store asked to change a target the release does not have. */
export class UnknownTarget extends Error {
  override readonly name = 'UnknownTarget';
}

/** The target-set part of a change: the wave, the target that tripped, and each named target's own change. */
export function withTargetChanges(releaseId: string, targets: TargetSet, change: ReleaseChange): TargetSet {
  for (const name of Object.keys(change.targets ?? {})) {
    if (!targets.members.some((m) => m.name === name)) {
      throw new UnknownTarget(`release ${releaseId} has no target "${name}"`);
    }
  }
  return {
    ...targets,
    ...(change.currentWave !== undefined ? { currentWave: change.currentWave } : {}),
    ...(change.trippedBy !== undefined ? { trippedBy: change.trippedBy } : {}),
    members: targets.members.map((m) => {
      const own = change.targets?.[m.name];
      return own ? { ...m, ...structuredClone(own) } : m;
    }),
  };
}

/** The record fields a change sets besides its targets. */
export function recordFields(change: ReleaseChange): Partial<Pick<ReleaseChange, 'status' | 'reason' | 'endedAt'>> {
  return {
    ...(change.status !== undefined ? { status: change.status } : {}),
    ...(change.reason !== undefined ? { reason: change.reason } : {}),
    ...(change.endedAt !== undefined ? { endedAt: change.endedAt } : {}),
  };
}

/** Whether a change touches the target set (and so must not lose a concurrent target write). */
export function changesTargets(change: ReleaseChange): boolean {
  return change.currentWave !== undefined || change.trippedBy !== undefined || change.targets !== undefined;
}

/** A release's targets as it starts: each pending on its blue, in its wave. */
export function pendingTargets(
  targets: readonly Pick<TargetState, 'name' | 'functionName' | 'wave' | 'blueVersion'>[],
  waveCount: number,
): TargetSet {
  return {
    waveCount,
    currentWave: null,
    members: targets.map((t) => ({
      name: t.name,
      functionName: t.functionName,
      wave: t.wave,
      blueVersion: t.blueVersion,
      phase: 'pending',
      percent: 0,
    })),
  };
}

/** The functions an environment releases: its own function, or each member of its fleet, in its wave. */
export function environmentTargets(env: EnvironmentConfig): Omit<TargetContext, 'blueVersion'>[] {
  if (!env.fleet) {
    return [
      { name: env.functionName, functionName: env.functionName, aliases: { ...env.aliases }, wave: 0, frontDoor: true },
    ];
  }
  const waves = memberWaves(env.fleet);
  return env.fleet.members.map((member, index) => ({
    name: member.name,
    functionName: member.functionName,
    aliases: { ...(member.aliases ?? env.aliases) },
    wave: waves[index] ?? 0,
    ...(member.health ? { health: { ...env.health, ...member.health, alarms: [...env.health.alarms] } } : {}),
    // The environment's green stage fronts its own function only: a fleet member is verified directly.
    frontDoor: false,
  }));
}

/**
 * The targets of a record written before every release carried them: a fleet's `fleet` (its members' verdicts as
 * `{healthy}`), or a single function's versions on the record itself. Stores read such records through this, so a
 * history kept across the upgrade still reads, lists and reconciles.
 */
export function legacyTargets(raw: Readonly<Record<string, unknown>>): TargetSet {
  const fleet = raw.fleet as (Omit<TargetSet, 'members'> & { members: Record<string, unknown>[] }) | undefined;
  if (fleet && Array.isArray(fleet.members)) {
    return {
      ...fleet,
      members: fleet.members.map(({ verdict, ...member }) => {
        const old = verdict as { healthy?: boolean; reason?: string; at?: string } | undefined;
        return {
          ...(member as unknown as TargetState),
          ...(old?.at
            ? { verdict: { verdict: old.healthy ? 'healthy' : 'unhealthy', reason: old.reason ?? '', at: old.at } }
            : {}),
        };
      }),
    };
  }
  const text = (field: string) => (typeof raw[field] === 'string' ? (raw[field] as string) : undefined);
  const greenVersion = text('greenVersion');
  return singleTarget({
    functionName: text('functionName') ?? '',
    blueVersion: text('blueVersion') ?? null,
    ...(greenVersion ? { greenVersion } : {}),
  });
}
