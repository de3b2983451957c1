import { type ChangeSet, parseChangeSet } from '../../core/insight/change-set.ts';
import type { ChangeSetRecorder, InsightStore } from '../../core/insight/insight-store.ts';
import type { ReleaseChanges } from '../../core/insight/release-changes.ts';

/** Change sets and release diffs in memory (the tests, and the local runtime's in-memory world). */
export class MemoryInsightStore implements InsightStore, ChangeSetRecorder {
  private readonly changeSets = new Map<string, ChangeSet>();
  private readonly byCommit = new Map<string, string>();
  private readonly releases = new Map<string, ReleaseChanges>();

  async putChangeSet(changeSet: ChangeSet): Promise<void> {
    const parsed = parseChangeSet(changeSet);
    this.changeSets.set(parsed.digest, structuredClone(parsed));
    this.byCommit.set(parsed.commit, parsed.digest);
  }

  async getChangeSet(digest: string): Promise<ChangeSet | undefined> {
    const found = this.changeSets.get(digest);
    return found ? structuredClone(found) : undefined;
  }

  async changeSetOfCommit(commit: string): Promise<ChangeSet | undefined> {
    const digest = this.byCommit.get(commit);
    return digest ? this.getChangeSet(digest) : undefined;
  }

  async putReleaseChanges(releaseId: string, changes: ReleaseChanges): Promise<ReleaseChanges> {
    if (!this.releases.has(releaseId)) this.releases.set(releaseId, structuredClone(changes));
    return structuredClone(this.releases.get(releaseId) ?? changes);
  }

  async getReleaseChanges(releaseId: string): Promise<ReleaseChanges | undefined> {
    const found = this.releases.get(releaseId);
    return found ? structuredClone(found) : undefined;
  }
}
