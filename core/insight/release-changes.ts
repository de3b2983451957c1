import {
  type ChangeSet,
  type CommitRecord,
  type PackageRecord,
  SEVERITIES,
  type Severity,
  type VulnerabilityRecord,
} from './change-set.ts';

/**
 * The release diff, blue against green (docs/insight.md): the commits new on green, the packages added, removed,
 * upgraded and downgraded, the vulnerabilities fixed and introduced. Computed once, when the release starts, from the
 * two digests' change sets, and kept with the release. Every list is bounded: its count plus its first
 * ITEMS_PER_LIST items, so a release with thousands of changes still fits one store item and one notification.
 */

export const ITEMS_PER_LIST = 20;

/** The most commit times a release keeps for its lead time (docs/insight.md). */
export const MAX_COMMIT_TIMES = 500;

/** The most a serialized ReleaseChanges can take (checked by the tests on the largest inputs). */
export const MAX_RELEASE_CHANGES_BYTES = 64 * 1024;

export interface Bounded<T> {
  /** How many there are in all. */
  readonly count: number;
  /** The first ITEMS_PER_LIST of them. */
  readonly items: readonly T[];
}

export interface PackageChange {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

export type SeverityCounts = Readonly<Record<Severity, number>>;

export interface VulnerabilityChanges extends Bounded<VulnerabilityRecord> {
  readonly bySeverity: SeverityCounts;
}

export interface ReleaseChanges {
  readonly blueDigest: string | null;
  readonly greenDigest: string;
  readonly blueCommit: string | null;
  readonly greenCommit: string | null;
  /** Newest first. */
  readonly commits: Bounded<CommitRecord> & {
    /** False when the recorded history did not reach blue's commit: the count is then a lower bound. */
    readonly complete: boolean;
    /** When each commit was made, newest first, for up to MAX_COMMIT_TIMES commits: lead time starts here. */
    readonly times: readonly string[];
  };
  readonly packages: {
    readonly added: Bounded<PackageRecord>;
    readonly removed: Bounded<PackageRecord>;
    readonly upgraded: Bounded<PackageChange>;
    readonly downgraded: Bounded<PackageChange>;
  };
  readonly vulnerabilities: {
    readonly fixed: VulnerabilityChanges;
    readonly introduced: VulnerabilityChanges;
  };
  /** What could not be compared, and why (no change set for a digest, history that did not reach blue). */
  readonly notes: readonly string[];
  /** One line, e.g. "3 commits, 2 packages upgraded, 1 high vulnerability fixed". */
  readonly summary: string;
  readonly computedAt: string;
}

function bounded<T>(all: readonly T[]): Bounded<T> {
  return { count: all.length, items: all.slice(0, ITEMS_PER_LIST) };
}

/** Compares versions as semver orders them: the numeric core part by part, then a pre-release before its release. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [core = '', ...pre] = (v.split('+')[0] ?? '').split('-');
    return { core: core.split('.'), pre: pre.join('-') };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.core.length, y.core.length); i++) {
    const order = (x.core[i] ?? '0').localeCompare(y.core[i] ?? '0', 'en', { numeric: true });
    if (order !== 0) return order;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === '') return 1;
  if (y.pre === '') return -1;
  return x.pre.localeCompare(y.pre, 'en', { numeric: true });
}

function versionsByName(packages: readonly PackageRecord[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const p of packages) map.set(p.name, [...(map.get(p.name) ?? []), p.version]);
  for (const versions of map.values()) versions.sort(compareVersions);
  return map;
}

function packageChanges(blue: readonly PackageRecord[], green: readonly PackageRecord[]) {
  const before = versionsByName(blue);
  const after = versionsByName(green);
  const added: PackageRecord[] = [];
  const removed: PackageRecord[] = [];
  const upgraded: PackageChange[] = [];
  const downgraded: PackageChange[] = [];
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const was = before.get(name) ?? [];
    const is = after.get(name) ?? [];
    const gone = was.filter((v) => !is.includes(v));
    const fresh = is.filter((v) => !was.includes(v));
    if (gone.length > 0 && fresh.length > 0) {
      const change = { name, from: gone.join(', '), to: fresh.join(', ') };
      const newestGone = gone[gone.length - 1] ?? '';
      const newestFresh = fresh[fresh.length - 1] ?? '';
      (compareVersions(newestFresh, newestGone) >= 0 ? upgraded : downgraded).push(change);
    } else {
      for (const version of fresh) added.push({ name, version });
      for (const version of gone) removed.push({ name, version });
    }
  }
  return {
    added: bounded(added),
    removed: bounded(removed),
    upgraded: bounded(upgraded),
    downgraded: bounded(downgraded),
  };
}

const SEVERITY_RANK = new Map<Severity, number>(SEVERITIES.map((s, i) => [s, i]));

function vulnerabilityList(list: readonly VulnerabilityRecord[]): VulnerabilityChanges {
  const sorted = [...list].sort(
    (a, b) => (SEVERITY_RANK.get(a.severity) ?? 9) - (SEVERITY_RANK.get(b.severity) ?? 9) || a.id.localeCompare(b.id),
  );
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const v of sorted) bySeverity[v.severity] += 1;
  return { ...bounded(sorted), bySeverity };
}

function vulnerabilityChanges(blue: readonly VulnerabilityRecord[], green: readonly VulnerabilityRecord[]) {
  const key = (v: VulnerabilityRecord) => `${v.id} ${v.package}`;
  const before = new Set(blue.map(key));
  const after = new Set(green.map(key));
  return {
    fixed: vulnerabilityList(blue.filter((v) => !after.has(key(v)))),
    introduced: vulnerabilityList(green.filter((v) => !before.has(key(v)))),
  };
}

/**
 * The commits new on green: green's recorded history down to blue's commit, following `chain` (the change sets of
 * the builds between them, newest first, green's first) across builds. Complete only when blue's commit was reached.
 */
function newCommits(
  chain: readonly ChangeSet[],
  blueCommit: string | null,
): { commits: CommitRecord[]; complete: boolean } {
  const commits: CommitRecord[] = [];
  if (blueCommit !== null && chain[0]?.commit === blueCommit) return { commits, complete: true };
  for (const set of chain) {
    for (const commit of set.commits) {
      if (commit.sha === blueCommit) return { commits, complete: true };
      commits.push(commit);
    }
    if (set.commitsOmitted > 0) return { commits, complete: false };
    if (blueCommit !== null && set.previousCommit === blueCommit) return { commits, complete: true };
  }
  return { commits, complete: false };
}

/** The builds between green and blue, newest first: the change set of each previous commit, as far as it is known. */
export async function changeSetChain(
  green: ChangeSet,
  blueCommit: string | null,
  changeSetOfCommit: (commit: string) => Promise<ChangeSet | undefined>,
  maxBuilds = 20,
): Promise<ChangeSet[]> {
  const chain = [green];
  let current = green;
  while (chain.length < maxBuilds && current.previousCommit && current.previousCommit !== blueCommit) {
    if (current.commits.some((c) => c.sha === blueCommit)) break;
    const previous = await changeSetOfCommit(current.previousCommit);
    if (!previous) break;
    chain.push(previous);
    current = previous;
  }
  return chain;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "3 commits, 2 packages upgraded, 1 high vulnerability fixed": what an operator reads first, in one line. */
export function summarizeChanges(changes: Omit<ReleaseChanges, 'summary'>): string {
  const parts: string[] = [];
  const { commits, packages, vulnerabilities } = changes;
  parts.push(`${commits.complete ? '' : 'at least '}${plural(commits.count, 'commit')}`);
  const packagePart = (n: number, what: string) => n > 0 && parts.push(`${plural(n, 'package')} ${what}`);
  packagePart(packages.upgraded.count, 'upgraded');
  packagePart(packages.downgraded.count, 'downgraded');
  packagePart(packages.added.count, 'added');
  packagePart(packages.removed.count, 'removed');
  for (const [what, list] of [
    ['fixed', vulnerabilities.fixed],
    ['introduced', vulnerabilities.introduced],
  ] as const) {
    for (const severity of SEVERITIES) {
      const n = list.bySeverity[severity];
      if (n > 0) parts.push(`${n} ${severity.toLowerCase()} ${n === 1 ? 'vulnerability' : 'vulnerabilities'} ${what}`);
    }
  }
  // No blue and nothing that failed to read: a first release. A blue whose digest could not be read is not one.
  if (changes.notes.length > 0) parts.push('incomplete (see notes)');
  else if (changes.blueDigest === null) parts.unshift('first release');
  return parts.join(', ');
}

export interface ReleaseChangesInput {
  readonly blueDigest: string | null;
  readonly greenDigest: string;
  /** Blue's change set; absent when blue has none (a first release, or an image built before change sets). */
  readonly blue?: ChangeSet | undefined;
  /** Green's change set and the builds before it (changeSetChain), newest first; empty when green has none. */
  readonly greenChain: readonly ChangeSet[];
  readonly computedAt: string;
}

export function releaseChanges(input: ReleaseChangesInput): ReleaseChanges {
  const green = input.greenChain[0];
  const notes: string[] = [];
  if (!green) notes.push(`no change set is recorded for green ${input.greenDigest}`);
  if (input.blueDigest !== null && !input.blue) notes.push(`no change set is recorded for blue ${input.blueDigest}`);
  const blueCommit = input.blue?.commit ?? null;
  const { commits, complete } = green ? newCommits(input.greenChain, blueCommit) : { commits: [], complete: false };
  if (green && !complete && input.blue) {
    notes.push(`the recorded history of green does not reach blue's commit ${blueCommit}: the commits are the newest`);
  }
  const changes: Omit<ReleaseChanges, 'summary'> = {
    blueDigest: input.blueDigest,
    greenDigest: input.greenDigest,
    blueCommit,
    greenCommit: green?.commit ?? null,
    commits: {
      ...bounded(commits),
      complete: complete && notes.length === 0,
      times: commits.slice(0, MAX_COMMIT_TIMES).map((c) => c.time),
    },
    packages: packageChanges(input.blue?.packages ?? [], green?.packages ?? []),
    vulnerabilities: vulnerabilityChanges(input.blue?.vulnerabilities ?? [], green?.vulnerabilities ?? []),
    notes,
    computedAt: input.computedAt,
  };
  return { ...changes, summary: summarizeChanges(changes) };
}
