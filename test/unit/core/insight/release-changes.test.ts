import { describe, expect, it } from 'vitest';
import {
  type ChangeSet,
  type CommitRecord,
  commitsOfGitLog,
  InvalidChangeSet,
  MAX_RECORDED_COMMITS,
  packagesOfSbom,
  parseChangeSet,
  vulnerabilitiesOfTrivyReport,
} from '../../../../core/insight/change-set.ts';
import {
  changeSetChain,
  compareVersions,
  ITEMS_PER_LIST,
  MAX_RELEASE_CHANGES_BYTES,
  releaseChanges,
} from '../../../../core/insight/release-changes.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const sha = (n: number) => n.toString(16).padStart(40, '0');
const commit = (n: number, subject = `change ${n}`): CommitRecord => ({
  sha: sha(n),
  subject,
  author: 'Dev',
  time: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
});

function changeSet(overrides: Partial<ChangeSet> & Pick<ChangeSet, 'digest' | 'commit'>): ChangeSet {
  return {
    commits: [],
    commitsOmitted: 0,
    packages: [],
    vulnerabilities: [],
    sbomKey: `sboms/${overrides.digest}.cdx.json`,
    recordedAt: '2026-01-02T00:00:00.000Z',
    ...overrides,
  };
}

const blue = changeSet({
  digest: digest('b'),
  commit: sha(10),
  previousCommit: sha(8),
  commits: [commit(10), commit(9)],
  packages: [
    { name: 'zod', version: '4.1.0' },
    { name: 'left-pad', version: '1.3.0' },
    { name: 'semver', version: '7.5.4' },
  ],
  vulnerabilities: [
    { id: 'CVE-2024-1', severity: 'HIGH', package: 'semver', installedVersion: '7.5.4', fixedVersion: '7.6.0' },
    { id: 'CVE-2024-2', severity: 'LOW', package: 'zod', installedVersion: '4.1.0' },
  ],
});
const green = changeSet({
  digest: digest('a'),
  commit: sha(12),
  previousCommit: sha(10),
  commits: [commit(12, 'Upgrade semver'), commit(11, 'Add a route')],
  packages: [
    { name: 'zod', version: '4.1.0' },
    { name: 'semver', version: '7.6.0' },
    { name: '@smithy/types', version: '4.0.0' },
  ],
  vulnerabilities: [{ id: 'CVE-2024-2', severity: 'LOW', package: 'zod', installedVersion: '4.1.0' }],
});

describe('the release diff, blue against green', () => {
  it('lists the commits new on green, each package change and each vulnerability fixed or introduced', () => {
    const changes = releaseChanges({
      blueDigest: blue.digest,
      greenDigest: green.digest,
      blue,
      greenChain: [green],
      computedAt: '2026-01-03T00:00:00.000Z',
    });
    expect(changes.commits).toMatchObject({ count: 2, complete: true });
    expect(changes.commits.items.map((c) => c.subject)).toEqual(['Upgrade semver', 'Add a route']);
    expect(changes.packages.upgraded.items).toEqual([{ name: 'semver', from: '7.5.4', to: '7.6.0' }]);
    expect(changes.packages.added.items).toEqual([{ name: '@smithy/types', version: '4.0.0' }]);
    expect(changes.packages.removed.items).toEqual([{ name: 'left-pad', version: '1.3.0' }]);
    expect(changes.packages.downgraded.count).toBe(0);
    expect(changes.vulnerabilities.fixed.items.map((v) => v.id)).toEqual(['CVE-2024-1']);
    expect(changes.vulnerabilities.fixed.bySeverity.HIGH).toBe(1);
    expect(changes.vulnerabilities.introduced.count).toBe(0);
    expect(changes.notes).toEqual([]);
    expect(changes.summary).toBe(
      '2 commits, 1 package upgraded, 1 package added, 1 package removed, 1 high vulnerability fixed',
    );
  });

  it('reads a downgrade as one, by semver order rather than by text', () => {
    const changes = releaseChanges({
      blueDigest: green.digest,
      greenDigest: blue.digest,
      blue: green,
      greenChain: [changeSet({ ...blue, packages: [{ name: 'semver', version: '7.10.0' }] })],
      computedAt: 'x',
    });
    expect(changes.packages.upgraded.items).toEqual([{ name: 'semver', from: '7.6.0', to: '7.10.0' }]);
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBeLessThan(0);
    expect(compareVersions('2.0.0', '10.0.0')).toBeLessThan(0);
    expect(compareVersions('1.2.3+build.5', '1.2.3')).toBe(0);
  });

  it('follows the builds between blue and green when green was not built right after blue', async () => {
    const middle = changeSet({ digest: digest('c'), commit: sha(11), previousCommit: sha(10), commits: [commit(11)] });
    const latest = changeSet({ digest: digest('d'), commit: sha(13), previousCommit: sha(11), commits: [commit(13)] });
    const byCommit = new Map([[sha(11), middle]]);
    const chain = await changeSetChain(latest, blue.commit, async (c) => byCommit.get(c));
    expect(chain.map((s) => s.commit)).toEqual([sha(13), sha(11)]);
    const changes = releaseChanges({
      blueDigest: blue.digest,
      greenDigest: latest.digest,
      blue,
      greenChain: chain,
      computedAt: 'x',
    });
    expect(changes.commits.items.map((c) => c.sha)).toEqual([sha(13), sha(11)]);
    expect(changes.commits.complete).toBe(true);
  });

  it('says so when the recorded history does not reach blue, and counts what it has as a lower bound', () => {
    const far = changeSet({ digest: digest('e'), commit: sha(30), previousCommit: sha(29), commits: [commit(30)] });
    const changes = releaseChanges({
      blueDigest: blue.digest,
      greenDigest: far.digest,
      blue,
      greenChain: [far],
      computedAt: 'x',
    });
    expect(changes.commits.complete).toBe(false);
    expect(changes.notes[0]).toMatch(/does not reach blue's commit/);
    expect(changes.summary).toMatch(/^at least 1 commit, .*incomplete \(see notes\)$/);
  });

  it('a first release has no blue: everything green ships is new', () => {
    const changes = releaseChanges({
      blueDigest: null,
      greenDigest: green.digest,
      greenChain: [green],
      computedAt: 'x',
    });
    expect(changes.packages.added.count).toBe(3);
    expect(changes.summary).toMatch(/^first release, /);
  });

  it('names the digest that has no change set instead of inventing one', () => {
    const changes = releaseChanges({
      blueDigest: blue.digest,
      greenDigest: green.digest,
      greenChain: [],
      computedAt: 'x',
    });
    expect(changes.notes).toEqual([
      `no change set is recorded for green ${green.digest}`,
      `no change set is recorded for blue ${blue.digest}`,
    ]);
    expect(changes.commits.count).toBe(0);
  });

  it('bounds every list to counts plus the first items, and the whole to its byte limit', () => {
    const long = 'x'.repeat(500);
    const huge = changeSet({
      digest: digest('f'),
      commit: sha(5000),
      commits: Array.from({ length: MAX_RECORDED_COMMITS }, (_, i) => commit(5000 - i, long)),
      packages: Array.from({ length: 3000 }, (_, i) => ({ name: `@scope/${'p'.repeat(150)}-${i}`, version: '2.0.0' })),
      vulnerabilities: Array.from({ length: 3000 }, (_, i) => ({
        id: `CVE-2026-${i}`,
        severity: 'CRITICAL' as const,
        package: 'q'.repeat(200),
        installedVersion: '1.0.0',
        fixedVersion: '1.0.1',
      })),
    });
    const old = changeSet({
      ...huge,
      digest: digest('0'),
      commit: sha(1),
      commits: [],
      packages: [
        ...huge.packages.map((p) => ({ ...p, version: '1.0.0' })),
        ...Array.from({ length: 3000 }, (_, i) => ({ name: `${'r'.repeat(200)}${i}`, version: '1.0.0' })),
      ],
      vulnerabilities: huge.vulnerabilities.map((v) => ({ ...v, id: `GHSA-${v.id}` })),
    });
    const changes = releaseChanges({
      blueDigest: old.digest,
      greenDigest: huge.digest,
      blue: old,
      greenChain: [huge],
      computedAt: 'x',
    });
    expect(changes.packages.upgraded.count).toBe(3000);
    expect(changes.packages.removed.count).toBe(3000);
    expect(changes.vulnerabilities.introduced.count).toBe(3000);
    expect(changes.vulnerabilities.fixed.count).toBe(3000);
    for (const list of [
      changes.commits,
      changes.packages.upgraded,
      changes.packages.removed,
      changes.vulnerabilities.fixed,
      changes.vulnerabilities.introduced,
    ]) {
      expect(list.items).toHaveLength(ITEMS_PER_LIST);
    }
    expect(Buffer.byteLength(JSON.stringify(changes))).toBeLessThanOrEqual(MAX_RELEASE_CHANGES_BYTES);
  });
});

describe('reading a build into a change set', () => {
  it('takes name and version of every SBOM component, nested ones and npm scopes included', () => {
    const sbom = {
      components: [
        { type: 'library', group: '@aws-sdk', name: 'client-sns', version: '3.1.0' },
        { type: 'library', name: 'zod', version: '4.1.0', components: [{ name: 'inner', version: '0.1.0' }] },
        { type: 'library', name: 'zod', version: '4.1.0' },
        { type: 'library', name: 'no-version' },
      ],
    };
    expect(packagesOfSbom(sbom)).toEqual([
      { name: '@aws-sdk/client-sns', version: '3.1.0' },
      { name: 'inner', version: '0.1.0' },
      { name: 'zod', version: '4.1.0' },
    ]);
  });

  it('takes every vulnerability of a Trivy report once, an unknown severity as UNKNOWN', () => {
    const report = {
      Results: [
        {
          Vulnerabilities: [
            { VulnerabilityID: 'CVE-1', PkgName: 'a', InstalledVersion: '1', FixedVersion: '2', Severity: 'HIGH' },
            { VulnerabilityID: 'CVE-1', PkgName: 'a', InstalledVersion: '1', FixedVersion: '2', Severity: 'HIGH' },
          ],
        },
        { Vulnerabilities: [{ VulnerabilityID: 'CVE-2', PkgName: 'b', InstalledVersion: '3', Severity: 'WEIRD' }] },
        {},
      ],
    };
    expect(vulnerabilitiesOfTrivyReport(report)).toEqual([
      { id: 'CVE-1', severity: 'HIGH', package: 'a', installedVersion: '1', fixedVersion: '2' },
      { id: 'CVE-2', severity: 'UNKNOWN', package: 'b', installedVersion: '3' },
    ]);
  });

  it('reads git log lines, and refuses one that is not a commit', () => {
    const line = `${sha(1)}\x1fAda\x1f2026-01-01T10:00:00+01:00\x1fFix: a\x1fb`;
    expect(commitsOfGitLog(`${line}\n`)).toEqual([
      { sha: sha(1), author: 'Ada', time: '2026-01-01T10:00:00+01:00', subject: 'Fix: a\x1fb' },
    ]);
    expect(() => commitsOfGitLog('not a commit')).toThrow(InvalidChangeSet);
  });

  it('refuses a change set with a bad digest, naming the field', () => {
    expect(() => parseChangeSet({ ...green, digest: 'sha256:zz' })).toThrow(/at digest/);
    expect(parseChangeSet(green)).toEqual(green);
  });
});
