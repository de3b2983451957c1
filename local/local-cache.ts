import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import * as z from 'zod';
import type { AslDefinition } from '../state-machine/synthesize.ts';

/**
 * What the local runtime keeps between runs to skip set-up that does not change from one run to the next: the
 * synthesized state machine, builds of the app and which definitions asl-validator has already passed. Every entry
 * names the files it was made from with their SHA-256, and is used only while each of them still has that hash;
 * anything missing, unreadable or corrupt is a miss and the normal path runs. Every entry also carries the SHA-256
 * of its own content, checked when it is read: an entry changed after it was written (by hand, by a bad disk) is a
 * miss that says so, never a definition or a build nobody made.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Git-ignored (node_modules is), and gone with a fresh `npm ci`. */
export const DEFAULT_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'switchyard');

/** `$SWITCHYARD_CACHE_DIR`, else `node_modules/.cache/switchyard` in the repository. */
export function localCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.SWITCHYARD_CACHE_DIR || DEFAULT_CACHE_DIR;
}

/** The lock file: every package the synthesis or the validator runs, at its exact version. */
export const PACKAGE_LOCK = join(ROOT, 'package-lock.json');

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where a refused entry is reported: one line on stderr unless the caller listens itself. */
export type CacheWarning = (line: string) => void;

const warnOnStderr: CacheWarning = (line) => {
  process.stderr.write(`${line}\n`);
};

/** The hash an entry is written with and checked against: its whole content but the hash itself. */
function contentHash(content: Record<string, unknown>): string {
  return sha256(JSON.stringify(content));
}

/** Reads an entry and checks it against its own content hash; a mismatch is reported and read as no entry. */
function readVerified<T extends { readonly integrity: string }>(
  file: string,
  schema: z.ZodType<T>,
  warn: CacheWarning,
): T | undefined {
  let entry: T;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
    entry = schema.parse(raw);
  } catch {
    return undefined;
  }
  // Hashed as written (the parsed schema's output may order keys otherwise).
  const { integrity, ...content } = raw;
  if (contentHash(content) !== integrity) {
    warn(`local cache: ${file} does not match its content hash; not used (it is rebuilt and written again)`);
    return undefined;
  }
  return entry;
}

/** Writes an entry with its content hash. */
function writeVerified(file: string, content: Record<string, unknown>): void {
  writeAtomically(file, JSON.stringify({ ...content, integrity: contentHash(content) }));
}

/** The SHA-256 of each file, by path; a file that cannot be read has none. */
export function hashFilesSync(paths: readonly string[]): Record<string, string | null> {
  const hashes: Record<string, string | null> = {};
  for (const path of paths) {
    try {
      hashes[path] = sha256(readFileSync(path));
    } catch {
      hashes[path] = null;
    }
  }
  return hashes;
}

/** Whether every file still has the hash `recorded` holds for it (a missing or unreadable file never matches). */
export function filesUnchangedSync(recorded: Readonly<Record<string, string | null>>): boolean {
  const now = hashFilesSync(Object.keys(recorded));
  return Object.entries(recorded).every(([path, hash]) => hash !== null && now[path] === hash);
}

/**
 * Every file of this repository `entry` imports, directly or not (esbuild's metafile, packages left out: the lock
 * file stands for them). Imports name their files with extensions, so a file outside this list cannot change what
 * the entry loads without one inside it changing too.
 */
export function importedFiles(entry: string): string[] {
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  return Object.keys(result.metafile.inputs).map((input) => resolve(ROOT, input));
}

const DefinitionEntrySchema = z.strictObject({
  key: z.string(),
  inputs: z.record(z.string(), z.string().nullable()),
  definition: z.looseObject({ StartAt: z.string(), States: z.record(z.string(), z.record(z.string(), z.unknown())) }),
  integrity: z.string(),
});

/** What the synthesis depends on besides its input files: Node's version and the CDK's environment variables. */
function environmentKey(env: Readonly<Record<string, string | undefined>>): string {
  const cdk = Object.entries(env)
    .filter(([name]) => name.startsWith('CDK_'))
    .sort(([a], [b]) => a.localeCompare(b));
  return sha256(JSON.stringify({ node: process.versions.node, cdk }));
}

export interface CachedDefinitionOptions {
  /** The module whose import graph the synthesis runs (its files are the cache's inputs). */
  readonly entry: string;
  /** Runs on a miss only (importing the CDK is itself a second or two). */
  readonly synthesize: () => Promise<AslDefinition>;
  /** @default localCacheDir() */
  readonly cacheDir?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default one line on stderr */
  readonly warn?: CacheWarning;
}

/** Whether the definition came from the cache, and the definition. */
export interface CachedDefinition {
  readonly definition: AslDefinition;
  readonly hit: boolean;
}

/**
 * The synthesized definition, from the cache when every file the synthesis imports and the lock file are unchanged,
 * else synthesized and stored. The inputs are hashed before the synthesis, and nothing is stored when one of them
 * changed after this process started: the process may have loaded another text than the one hashed.
 */
export async function cachedDefinition(options: CachedDefinitionOptions): Promise<CachedDefinition> {
  const env = options.env ?? process.env;
  const dir = options.cacheDir ?? localCacheDir(env);
  const key = environmentKey(env);
  // One entry per entry module and checkout: worktrees sharing a cache directory do not evict each other.
  const file = join(dir, `definition-${sha256(options.entry).slice(0, 16)}.json`);
  // No entry, one that cannot be read or one that fails its content hash: synthesize.
  const entry = readVerified(file, DefinitionEntrySchema, options.warn ?? warnOnStderr);
  if (entry && entry.key === key && filesUnchangedSync(entry.inputs)) {
    return { definition: entry.definition as AslDefinition, hit: true };
  }
  const paths = [...importedFiles(options.entry), PACKAGE_LOCK];
  const inputs = hashFilesSync(paths);
  const definition = await options.synthesize();
  const loadedAtStart = paths.every((path) => {
    try {
      return statSync(path).mtimeMs < performance.timeOrigin;
    } catch {
      return false;
    }
  });
  if (loadedAtStart && Object.values(inputs).every((hash) => hash !== null)) {
    writeVerified(file, { key, inputs, definition });
  }
  return { definition, hit: false };
}

/** Writes a whole file or nothing (a concurrent reader never sees half of it); a failed write only costs a miss. */
function writeAtomically(file: string, text: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${randomUUID()}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  } catch {
    // A read-only or full disk: the next run synthesizes again.
  }
}

/** The key of a definition asl-validator passed: the definition's text and the locked validator version. */
function validationKey(definition: AslDefinition): string | undefined {
  try {
    return sha256(`${sha256(readFileSync(PACKAGE_LOCK))}\n${JSON.stringify(definition)}`);
  } catch {
    return undefined;
  }
}

/** Whether asl-validator already passed this exact definition with the locked packages. */
export function definitionValidated(definition: AslDefinition, cacheDir = localCacheDir()): boolean {
  const key = validationKey(definition);
  if (!key) return false;
  try {
    return readFileSync(join(cacheDir, 'asl-validated', key), 'utf8') === key;
  } catch {
    return false;
  }
}

/** Records that asl-validator passed the definition, so later runs skip validating it again. */
export function recordDefinitionValidated(definition: AslDefinition, cacheDir = localCacheDir()): void {
  const key = validationKey(definition);
  if (key) writeAtomically(join(cacheDir, 'asl-validated', key), key);
}

/** A finished build: its output files, the SHA-256 it is known by, and the hash of every input it read. */
export interface CachedBuild {
  readonly files: ReadonlyMap<string, Buffer>;
  readonly sha256: string;
  readonly inputs: Readonly<Record<string, string | null>>;
}

const BuildEntrySchema = z.strictObject({
  sha256: z.string(),
  inputs: z.record(z.string(), z.string().nullable()),
  /** File name → bytes in base64. */
  files: z.record(z.string(), z.string()),
  integrity: z.string(),
});

/** The bundle among a build's files: the one its SHA-256 names. */
const BUNDLE_FILE = 'index.mjs';

function buildFile(name: string, cacheDir: string): string {
  return join(cacheDir, `build-${sha256(`${ROOT}\n${name}`).slice(0, 16)}.json`);
}

/**
 * Builds kept at most: a few sets of faults are rehearsed again and again, while some are made once (a downstream
 * outage's switch names its run's data directory), and each build is a few megabytes.
 */
export const MAX_CACHED_BUILDS = 8;

/** Removes all but the `MAX_CACHED_BUILDS` most recently written builds. */
function pruneBuilds(cacheDir: string): void {
  try {
    const builds = readdirSync(cacheDir)
      .filter((name) => name.startsWith('build-') && name.endsWith('.json'))
      .map((name) => ({ path: join(cacheDir, name), at: statSync(join(cacheDir, name)).mtimeMs }))
      .sort((a, b) => b.at - a.at);
    for (const old of builds.slice(MAX_CACHED_BUILDS)) rmSync(old.path, { force: true });
  } catch {
    // Another run pruning at the same moment: whatever is left is still valid.
  }
}

/**
 * The stored build called `name` (a checkout's own), while every one of its inputs is unchanged and the entry
 * matches its content hash. Its SHA-256 is the hash of the bundle's bytes as read, checked against the recorded one:
 * the digest an image is known by always describes the code it runs.
 */
export function readCachedBuild(
  name: string,
  cacheDir = localCacheDir(),
  warn: CacheWarning = warnOnStderr,
): CachedBuild | undefined {
  const file = buildFile(name, cacheDir);
  const entry = readVerified(file, BuildEntrySchema, warn);
  if (!entry || !filesUnchangedSync(entry.inputs)) return undefined;
  const files = new Map(Object.entries(entry.files).map(([path, bytes]) => [path, Buffer.from(bytes, 'base64')]));
  const bundle = files.get(BUNDLE_FILE);
  const digest = bundle ? sha256(bundle) : undefined;
  if (digest !== entry.sha256) {
    warn(`local cache: ${file} holds a bundle whose SHA-256 is not the recorded one; not used (it is rebuilt)`);
    return undefined;
  }
  return { files, sha256: digest, inputs: entry.inputs };
}

/**
 * Stores a build made from `inputs` as hashed after it finished, unless one of them changed since `startedAtMs`
 * (the build may have read another text than the one hashed) or could not be read.
 */
export function storeCachedBuild(name: string, build: CachedBuild, startedAtMs: number, cacheDir = localCacheDir()) {
  const unchangedSinceStart = Object.entries(build.inputs).every(([path, hash]) => {
    try {
      return hash !== null && statSync(path).mtimeMs < startedAtMs;
    } catch {
      return false;
    }
  });
  if (!unchangedSinceStart) return;
  const files = Object.fromEntries([...build.files].map(([file, bytes]) => [file, bytes.toString('base64')]));
  writeVerified(buildFile(name, cacheDir), { sha256: build.sha256, inputs: build.inputs, files });
  pruneBuilds(cacheDir);
}
