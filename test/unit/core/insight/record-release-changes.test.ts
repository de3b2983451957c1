import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../adapters/memory/clocks.ts';
import { MemoryInsightStore } from '../../../../adapters/memory/memory-insight-store.ts';
import type { ChangeSet } from '../../../../core/insight/change-set.ts';
import { recordReleaseChanges } from '../../../../core/insight/record-release-changes.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const set = (c: string, commit: string, previousCommit?: string): ChangeSet => ({
  digest: digest(c),
  commit,
  ...(previousCommit ? { previousCommit } : {}),
  commits: [{ sha: commit, subject: `build ${c}`, author: 'Ada', time: '2026-01-01T00:00:00Z' }],
  commitsOmitted: 0,
  packages: [],
  vulnerabilities: [],
  sbomKey: `sboms/${c}.cdx.json`,
  recordedAt: '2026-01-01T00:00:00Z',
});
const clock = new ManualClock(new Date('2026-01-02T00:00:00Z'));
const release = { releaseId: 'rel-prod-1', functionName: 'fn', blueVersion: '3', greenDigest: digest('c') };

describe('recordReleaseChanges', () => {
  it("reads blue's digest from its version and follows the builds in between, once", async () => {
    const insight = new MemoryInsightStore();
    for (const s of [
      set('a', 'a'.repeat(40)),
      set('b', 'b'.repeat(40), 'a'.repeat(40)),
      set('c', 'c'.repeat(40), 'b'.repeat(40)),
    ]) {
      await insight.putChangeSet(s);
    }
    const functions = {
      versionImageDigest: async (_fn: string, version: string) => (version === '3' ? digest('a') : undefined),
    };
    const changes = await recordReleaseChanges(release, { insight, functions, clock });
    expect(changes.commits.items.map((c) => c.subject)).toEqual(['build c', 'build b']);
    expect(changes.summary).toBe('2 commits');
    await insight.putChangeSet(set('d', 'd'.repeat(40), 'c'.repeat(40)));
    const again = await recordReleaseChanges({ ...release, greenDigest: digest('d') }, { insight, functions, clock });
    expect(again).toEqual(changes);
  });

  it('records a read that failed as a note, not as a failed release', async () => {
    const insight = new MemoryInsightStore();
    await insight.putChangeSet(set('c', 'c'.repeat(40)));
    const functions = {
      versionImageDigest: async () => {
        throw new Error('GetFunction was throttled');
      },
    };
    const changes = await recordReleaseChanges(release, { insight, functions, clock });
    expect(changes.notes).toEqual(["blue's digest could not be read: GetFunction was throttled"]);
    expect(changes.summary).toMatch(/incomplete \(see notes\)$/);
    expect(await insight.getReleaseChanges('rel-prod-1')).toEqual(changes);
  });
});
