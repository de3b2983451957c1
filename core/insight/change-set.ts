import * as z from 'zod';

/**
 * What one build put into one image, recorded by the image's digest (docs/insight.md): the commit it was built from
 * and the commits since the previous image's commit, the packages that ship (from its CycloneDX SBOM) and the
 * vulnerabilities its scan listed. The build stage writes it (buildspec.yml, scripts/record-change-set.ts), and so
 * does every local build; a release reads the change sets of its blue and green digests once, when it starts.
 */

/** The most commits one change set keeps; a longer range keeps the newest and says how many it left out. */
export const MAX_RECORDED_COMMITS = 200;

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const SHA = /^[0-9a-f]{7,64}$/;

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CommitSchema = z.strictObject({
  sha: z.string().regex(SHA),
  subject: z.string().max(500),
  author: z.string().max(200),
  /** When it was committed (ISO 8601): lead time for changes runs from here. */
  time: z.iso.datetime({ offset: true }),
});
export type CommitRecord = z.infer<typeof CommitSchema>;

export const PackageSchema = z.strictObject({
  name: z.string().min(1).max(214),
  version: z.string().min(1).max(100),
});
export type PackageRecord = z.infer<typeof PackageSchema>;

export const VulnerabilitySchema = z.strictObject({
  id: z.string().min(1).max(100),
  severity: z.enum(SEVERITIES),
  package: z.string().min(1).max(214),
  installedVersion: z.string().max(100),
  fixedVersion: z.string().max(100).optional(),
});
export type VulnerabilityRecord = z.infer<typeof VulnerabilitySchema>;

export const ChangeSetSchema = z.strictObject({
  digest: z.string().regex(DIGEST),
  commit: z.string().regex(SHA),
  /** The previous image's commit, where the commits start; absent for a first build (the newest commits then). */
  previousCommit: z.string().regex(SHA).optional(),
  /** Newest first, as `git log` lists them; at most MAX_RECORDED_COMMITS. */
  commits: z.array(CommitSchema).max(MAX_RECORDED_COMMITS),
  /** Commits in the range that were not kept (the oldest). */
  commitsOmitted: z.number().int().nonnegative(),
  /** Every package the SBOM lists, by name and version. */
  packages: z.array(PackageSchema),
  vulnerabilities: z.array(VulnerabilitySchema),
  /** Where the full CycloneDX SBOM is kept (an S3 key of the state bucket, or a path of the local data directory). */
  sbomKey: z.string().min(1),
  recordedAt: z.iso.datetime({ offset: true }),
});
export type ChangeSet = z.infer<typeof ChangeSetSchema>;

/** A change set that does not parse: the error names the field. */
export class InvalidChangeSet extends Error {
  override readonly name = 'InvalidChangeSet';
}

export function parseChangeSet(value: unknown): ChangeSet {
  const parsed = ChangeSetSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidChangeSet(
      `change set is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unknown'}`,
    );
  }
  return parsed.data;
}

/**
 * The packages a CycloneDX SBOM lists (its `components`, nested ones included), by name and version, sorted and
 * without duplicates. An npm component's group (`@scope`) is part of its name.
 */
export function packagesOfSbom(sbom: unknown): PackageRecord[] {
  const seen = new Map<string, PackageRecord>();
  const visit = (components: unknown): void => {
    if (!Array.isArray(components)) return;
    for (const component of components) {
      if (typeof component !== 'object' || component === null) continue;
      const { name, group, version, components: nested } = component as Record<string, unknown>;
      if (typeof name === 'string' && typeof version === 'string' && name && version) {
        const full = typeof group === 'string' && group ? `${group}/${name}` : name;
        seen.set(`${full}@${version}`, { name: full, version });
      }
      visit(nested);
    }
  };
  if (typeof sbom === 'object' && sbom !== null) visit((sbom as Record<string, unknown>).components);
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** The vulnerabilities of a Trivy JSON report (`Results[].Vulnerabilities[]`), each once. */
export function vulnerabilitiesOfTrivyReport(report: unknown): VulnerabilityRecord[] {
  const found = new Map<string, VulnerabilityRecord>();
  const results = (report as { Results?: unknown } | null)?.Results;
  if (!Array.isArray(results)) return [];
  for (const result of results) {
    const list = (result as { Vulnerabilities?: unknown } | null)?.Vulnerabilities;
    if (!Array.isArray(list)) continue;
    for (const v of list as Record<string, unknown>[]) {
      const id = typeof v.VulnerabilityID === 'string' ? v.VulnerabilityID : undefined;
      const pkg = typeof v.PkgName === 'string' ? v.PkgName : undefined;
      if (!id || !pkg) continue;
      const severity = (SEVERITIES as readonly string[]).includes(String(v.Severity))
        ? (v.Severity as Severity)
        : 'UNKNOWN';
      const record: VulnerabilityRecord = {
        id,
        severity,
        package: pkg,
        installedVersion: typeof v.InstalledVersion === 'string' ? v.InstalledVersion : '',
        ...(typeof v.FixedVersion === 'string' && v.FixedVersion ? { fixedVersion: v.FixedVersion } : {}),
      };
      found.set(`${id} ${pkg}`, record);
    }
  }
  return [...found.values()].sort((a, b) => a.id.localeCompare(b.id) || a.package.localeCompare(b.package));
}

/**
 * `git log --format=%H%x1f%an%x1f%cI%x1f%s` output (one commit a line, fields split by the unit separator) as
 * commits, newest first. A line that does not have the four fields is an error, not a commit left out.
 */
export function commitsOfGitLog(output: string): CommitRecord[] {
  return output
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [sha, author, time, ...subject] = line.split('\x1f');
      if (!sha || author === undefined || !time || subject.length === 0) {
        throw new InvalidChangeSet(`git log line is not <sha> <author> <time> <subject>: ${JSON.stringify(line)}`);
      }
      return CommitSchema.parse({
        sha,
        author: author.slice(0, 200),
        time,
        subject: subject.join('\x1f').slice(0, 500),
      });
    });
}
