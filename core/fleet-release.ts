import { memberWaves } from '../config/fleet.ts';
import type { EnvironmentConfig } from '../config/schema.ts';
import { InvalidRelease } from './errors.ts';
import type { FleetState, FunctionVersions, ReleaseStore } from './ports.ts';
import type { FleetMemberContext, ReleaseContext } from './release-context.ts';

/** Calls to one AWS API at once for a whole fleet: bounded, so 100 members never burst past a control-plane quota. */
export const FLEET_CALL_CONCURRENCY = 10;

/** Runs `task` for every item, at most `limit` at a time; every item is tried, then the first failure is thrown. */
export async function forEachBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      try {
        results[index] = { status: 'fulfilled', value: await task(item) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}

/** The versions releases of this environment made live after verifying them, per function (`function#version#digest`). */
async function verifiedVersions(store: ReleaseStore, environment: string): Promise<Set<string>> {
  const verified = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.listReleases({
      environment,
      status: 'released',
      limit: 50,
      ...(cursor ? { cursor } : {}),
    });
    for (const release of page.releases) {
      for (const member of release.fleet?.members ?? []) {
        if (member.greenVersion) verified.add(`${member.functionName}#${member.greenVersion}#${release.digest}`);
      }
      if (release.greenVersion) verified.add(`${release.functionName}#${release.greenVersion}#${release.digest}`);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return verified;
}

export interface CheckedFleet {
  readonly members: readonly FleetMemberContext[];
  /** Members whose live runs a version no release verified (a first release): they have no blue. */
  readonly unverified: readonly string[];
}

/**
 * Reads every member's `live` (its blue): refuses the release when any member's live still splits traffic, or when
 * every member already runs the digest. A member whose live no release verified has no blue (its first release).
 */
export async function checkFleet(
  env: EnvironmentConfig,
  digest: string,
  deps: { readonly functions: FunctionVersions; readonly store: ReleaseStore },
): Promise<CheckedFleet> {
  const fleet = env.fleet;
  if (!fleet) throw new InvalidRelease(`${env.name} has no fleet`);
  const waves = memberWaves(fleet);
  const lives = await forEachBounded(fleet.members, FLEET_CALL_CONCURRENCY, async (member) => {
    const aliases = member.aliases ?? env.aliases;
    const live = await deps.functions.getAlias(member.functionName, aliases.live);
    const liveDigest = live ? await deps.functions.versionImageDigest(member.functionName, live.version) : undefined;
    return { member, aliases, live, liveDigest };
  });
  const splitting = lives.filter((l) => l.live?.routing);
  if (splitting.length > 0) {
    const names = splitting.map(
      (l) => `${l.member.name} (${l.member.functionName} routes to ${l.live?.routing?.version})`,
    );
    throw new InvalidRelease(
      `fleet member live aliases still split traffic: ${names.join(', ')}; finish or roll back that release first`,
      { field: 'environment' },
    );
  }
  const verified = await verifiedVersions(deps.store, env.name);
  const unverified: string[] = [];
  const members = lives.map(({ member, aliases, live, liveDigest }, index): FleetMemberContext => {
    const isVerified = live !== undefined && verified.has(`${member.functionName}#${live.version}#${liveDigest}`);
    if (live && !isVerified) unverified.push(member.name);
    return {
      member: member.name,
      functionName: member.functionName,
      aliases: { ...aliases },
      blueVersion: live && isVerified ? live.version : null,
      wave: waves[index] ?? 0,
      ...(member.health ? { health: { ...env.health, ...member.health, alarms: [...env.health.alarms] } } : {}),
    };
  });
  if (lives.every((l) => l.liveDigest === digest && l.live !== undefined)) {
    throw new InvalidRelease(`${digest} is already live on every member of the ${env.name} fleet`, {
      field: 'imageDigest',
    });
  }
  return { members, unverified };
}

/** The record's fleet at the start: every member pending on its blue, in its wave. */
export function initialFleetState(release: ReleaseContext): FleetState | undefined {
  if (!release.fleet) return undefined;
  return {
    waveCount: release.fleet.waves,
    currentWave: null,
    members: release.fleet.members.map((m) => ({
      name: m.member,
      functionName: m.functionName,
      wave: m.wave,
      blueVersion: m.blueVersion,
      phase: 'pending',
      percent: 0,
    })),
  };
}
