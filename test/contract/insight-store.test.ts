import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryInsightStore } from '../../adapters/memory/memory-insight-store.ts';
import type { ChangeSet } from '../../core/insight/change-set.ts';
import type { ChangeSetRecorder, InsightStore } from '../../core/insight/insight-store.ts';
import { releaseChanges } from '../../core/insight/release-changes.ts';
import { FileInsightStore } from '../../local/file-insight-store.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const changeSet = (c: string): ChangeSet => ({
  digest: `sha256:${c.repeat(64)}`,
  commit: c.repeat(40),
  commits: [],
  commitsOmitted: 0,
  packages: [{ name: 'zod', version: '4.1.0' }],
  vulnerabilities: [],
  sbomKey: `sboms/${c}.cdx.json`,
  recordedAt: '2026-01-01T00:00:00.000Z',
});

const stores: [string, () => InsightStore & ChangeSetRecorder][] = [
  ['memory', () => new MemoryInsightStore()],
  [
    'local files',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'switchyard-insight-store-'));
      dirs.push(dir);
      return new FileInsightStore(dir);
    },
  ],
];

describe.each(stores)('the insight store (%s)', (_name, open) => {
  it('finds a change set by digest and by commit, and nothing for others', async () => {
    const store = open();
    await store.putChangeSet(changeSet('a'));
    expect(await store.getChangeSet(`sha256:${'a'.repeat(64)}`)).toEqual(changeSet('a'));
    expect(await store.changeSetOfCommit('a'.repeat(40))).toEqual(changeSet('a'));
    expect(await store.getChangeSet(`sha256:${'b'.repeat(64)}`)).toBeUndefined();
    expect(await store.changeSetOfCommit('b'.repeat(40))).toBeUndefined();
  });

  it('refuses a change set that does not parse, storing nothing', async () => {
    const store = open();
    await expect(store.putChangeSet({ ...changeSet('c'), digest: 'sha256:nope' })).rejects.toThrow(/at digest/);
    expect(await store.changeSetOfCommit('c'.repeat(40))).toBeUndefined();
  });

  it("keeps a release's first diff: a second put answers the first", async () => {
    const store = open();
    const first = releaseChanges({ blueDigest: null, greenDigest: 'g', greenChain: [changeSet('a')], computedAt: 'x' });
    const second = { ...first, summary: 'another' };
    expect(await store.putReleaseChanges('rel-1', first)).toEqual(first);
    expect(await store.putReleaseChanges('rel-1', second)).toEqual(first);
    expect(await store.getReleaseChanges('rel-1')).toEqual(first);
    expect(await store.getReleaseChanges('rel-2')).toBeUndefined();
  });
});
