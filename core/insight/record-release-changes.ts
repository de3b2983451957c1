import { errorMessage } from '../model/errors.ts';
import type { Clock, FunctionVersions } from '../ports/ports.ts';
import type { ChangeSet } from './change-set.ts';
import type { InsightStore } from './insight-store.ts';
import { changeSetChain, type ReleaseChanges, releaseChanges, summarizeChanges } from './release-changes.ts';

export interface RecordReleaseChangesDeps {
  readonly insight: InsightStore;
  readonly functions: Pick<FunctionVersions, 'versionImageDigest'>;
  readonly clock: Clock;
}

export interface ReleaseSides {
  readonly releaseId: string;
  readonly functionName: string;
  /** Blue's version, or null for a first release. */
  readonly blueVersion: string | null;
  readonly greenDigest: string;
}

/**
 * Computes the release's diff, blue against green, and keeps it with the release: once, when the release starts
 * (Validate release). A change set that cannot be read is a note in the diff, not a failed release: knowing what
 * changed helps a person decide, it does not decide.
 */
export async function recordReleaseChanges(
  release: ReleaseSides,
  deps: RecordReleaseChangesDeps,
): Promise<ReleaseChanges> {
  const existing = await deps.insight.getReleaseChanges(release.releaseId);
  if (existing) return existing;
  const notes: string[] = [];
  const attempt = async <T>(what: string, read: () => Promise<T | undefined>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      notes.push(`${what} could not be read: ${errorMessage(error)}`);
      return undefined;
    }
  };
  const blueDigest = release.blueVersion
    ? ((await attempt(`blue's digest`, () =>
        deps.functions.versionImageDigest(release.functionName, release.blueVersion ?? ''),
      )) ?? null)
    : null;
  const blue = blueDigest ? await attempt(`blue's change set`, () => deps.insight.getChangeSet(blueDigest)) : undefined;
  const green = await attempt(`green's change set`, () => deps.insight.getChangeSet(release.greenDigest));
  const chain: ChangeSet[] = green
    ? ((await attempt(`the builds between blue and green`, () =>
        changeSetChain(green, blue?.commit ?? null, (commit) => deps.insight.changeSetOfCommit(commit)),
      )) ?? [green])
    : [];
  const changes = releaseChanges({
    blueDigest,
    greenDigest: release.greenDigest,
    blue,
    greenChain: chain,
    computedAt: deps.clock.now().toISOString(),
  });
  if (notes.length === 0) return deps.insight.putReleaseChanges(release.releaseId, changes);
  const noted = { ...changes, notes: [...changes.notes, ...notes] };
  return deps.insight.putReleaseChanges(release.releaseId, { ...noted, summary: summarizeChanges(noted) });
}
