import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Enums, Models, Serialize, Spec, Validation } from '@cyclonedx/cyclonedx-library';
import {
  type ChangeSet,
  commitsOfGitLog,
  InvalidChangeSet,
  MAX_RECORDED_COMMITS,
  packagesOfSbom,
  parseChangeSet,
  vulnerabilitiesOfTrivyReport,
} from '../core/insight/change-set.ts';

/**
 * Makes a build's change set from its source repository (docs/insight.md): the commits since the previous image's
 * commit (`git log`), a CycloneDX SBOM of the production dependencies the lock file pins (what the bundle can hold:
 * dev tooling never ships), validated with the CycloneDX library's JSON schema validator before it is used, and the
 * vulnerabilities of the image scan. The build stage runs it through scripts/record-change-set.ts; the local
 * registry runs it for every local build.
 */

const run = promisify(execFile);

/** The SBOM does not validate against the CycloneDX schema: the error holds the validator's findings. */
export class InvalidSbom extends Error {
  override readonly name = 'InvalidSbom';
}

const SPEC = Spec.Spec1dot6;

interface LockPackage {
  readonly version?: string;
  readonly dev?: boolean;
  readonly devOptional?: boolean;
  readonly link?: boolean;
}

/**
 * A CycloneDX 1.6 JSON SBOM of what `package-lock.json` (lockfileVersion 2 or 3) installs for production: every
 * `node_modules/…` entry that is not dev-only, by name and version, with the project itself as the metadata component.
 */
export function sbomOfLockfile(lockfile: unknown, commit: string, now: Date): string {
  const lock = lockfile as { name?: unknown; version?: unknown; packages?: Record<string, LockPackage> } | null;
  if (!lock || typeof lock.packages !== 'object' || lock.packages === null) {
    throw new InvalidChangeSet('package-lock.json has no "packages" (lockfileVersion 2 or later is needed)');
  }
  const bom = new Models.Bom();
  bom.metadata.timestamp = now;
  bom.metadata.component = new Models.Component(Enums.ComponentType.Application, String(lock.name ?? 'app'), {
    version: `${String(lock.version ?? '0.0.0')}+git.${commit.slice(0, 12)}`,
    bomRef: 'application',
  });
  const seen = new Set<string>();
  for (const [path, pkg] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || pkg.dev || pkg.devOptional || pkg.link || !pkg.version) continue;
    const fullName = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const ref = `${fullName}@${pkg.version}`;
    if (seen.has(ref)) continue;
    seen.add(ref);
    const scoped = fullName.startsWith('@') ? fullName.split('/') : undefined;
    bom.components.add(
      new Models.Component(Enums.ComponentType.Library, scoped?.[1] ?? fullName, {
        ...(scoped?.[0] ? { group: scoped[0] } : {}),
        version: pkg.version,
        bomRef: ref,
      }),
    );
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(SPEC));
  return serializer.serialize(bom, { sortLists: true, space: 2 });
}

/** Validates an SBOM against the CycloneDX JSON schema of its spec version, with the CycloneDX library. */
export async function validateSbom(sbom: string): Promise<void> {
  const found = await new Validation.JsonStrictValidator(SPEC.version).validate(sbom);
  if (found !== null)
    throw new InvalidSbom(`the SBOM is not valid CycloneDX ${SPEC.version}: ${JSON.stringify(found)}`);
}

async function git(sourceDir: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', sourceDir, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Whether `name` is a commit of the git repository at `sourceDir` (false when it is not a repository). */
export async function isCommit(sourceDir: string, name: string): Promise<boolean> {
  try {
    await git(sourceDir, ['rev-parse', '--quiet', '--verify', `${name}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/** `previous..commit`, newest first, at most MAX_RECORDED_COMMITS, and how many older ones were left out. */
export async function commitsSince(
  sourceDir: string,
  commit: string,
  previousCommit: string | undefined,
): Promise<{ commits: ChangeSet['commits']; omitted: number }> {
  const range = previousCommit ? [`${previousCommit}..${commit}`] : [commit];
  const total = Number((await git(sourceDir, ['rev-list', '--count', ...range])).trim());
  const log = await git(sourceDir, [
    'log',
    `--max-count=${MAX_RECORDED_COMMITS}`,
    '--format=%H%x1f%an%x1f%cI%x1f%s',
    ...range,
    '--',
  ]);
  const commits = commitsOfGitLog(log);
  return { commits, omitted: Math.max(0, total - commits.length) };
}

export interface RecordChangeSetInput {
  readonly sourceDir: string;
  readonly digest: string;
  /** The commit built; resolved with git, so a branch or `HEAD` is accepted. */
  readonly commit: string;
  readonly previousCommit?: string | undefined;
  /** The image scan's Trivy JSON report, when the build scanned the image. */
  readonly trivyReport?: unknown;
  readonly sbomKey: string;
  readonly now: Date;
}

/** The build's change set and its validated SBOM. */
export async function recordChangeSet(input: RecordChangeSetInput): Promise<{ changeSet: ChangeSet; sbom: string }> {
  const commit = (await git(input.sourceDir, ['rev-parse', '--verify', `${input.commit}^{commit}`])).trim();
  const previous = input.previousCommit
    ? (await git(input.sourceDir, ['rev-parse', '--verify', `${input.previousCommit}^{commit}`])).trim()
    : undefined;
  const lockfile = JSON.parse(await git(input.sourceDir, ['show', `${commit}:package-lock.json`])) as unknown;
  const sbom = sbomOfLockfile(lockfile, commit, input.now);
  await validateSbom(sbom);
  const { commits, omitted } = await commitsSince(input.sourceDir, commit, previous);
  const changeSet = parseChangeSet({
    digest: input.digest,
    commit,
    ...(previous ? { previousCommit: previous } : {}),
    commits,
    commitsOmitted: omitted,
    packages: packagesOfSbom(JSON.parse(sbom)),
    vulnerabilities: input.trivyReport === undefined ? [] : vulnerabilitiesOfTrivyReport(input.trivyReport),
    sbomKey: input.sbomKey,
    recordedAt: input.now.toISOString(),
  });
  return { changeSet, sbom };
}

/** Reads a JSON file, or undefined when it is not there. */
export async function readJsonIfPresent(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export const sbomKeyOf = (digest: string) => join('sboms', `${digest}.cdx.json`);
export const changeSetKeyOf = (digest: string) => join('change-sets', `${digest}.json`);
