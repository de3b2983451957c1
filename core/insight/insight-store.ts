import type { ChangeSet } from './change-set.ts';
import type { ReleaseChanges } from './release-changes.ts';

/**
 * Where change sets and release diffs are kept (docs/insight.md): the state bucket (change sets, SBOMs) and the
 * release table (release diffs) in the cloud, the local data directory on one machine, memory in the tests.
 */
export interface InsightStore {
  getChangeSet(digest: string): Promise<ChangeSet | undefined>;
  /** The change set of the build of `commit`, for the builds between a release's blue and green. */
  changeSetOfCommit(commit: string): Promise<ChangeSet | undefined>;
  /**
   * Keeps a release's diff, once: a retry of the release's start finds the first one there and leaves it, so what an
   * approver saw never changes. Returns the diff kept.
   */
  putReleaseChanges(releaseId: string, changes: ReleaseChanges): Promise<ReleaseChanges>;
  getReleaseChanges(releaseId: string): Promise<ReleaseChanges | undefined>;
}

/**
 * Where a build's change set is written: the local registry's builds (local/). In the cloud the build stage writes
 * it to the state bucket itself (buildspec.yml), so no function is granted a write.
 */
export interface ChangeSetRecorder {
  /** Keeps a build's change set under its digest (and its commit); a second build of the same digest replaces it. */
  putChangeSet(changeSet: ChangeSet): Promise<void>;
}
