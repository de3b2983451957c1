import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MemoryImageRegistry } from '../adapters/memory/memory-registry.ts';
import { buildApp, buildKey, type FaultOptions } from '../app/build.ts';
import type { ChangeSetRecorder } from '../core/insight/insight-store.ts';
import { isCommit, recordChangeSet, sbomKeyOf } from './change-set-recorder.ts';
import {
  type CachedBuild,
  filesUnchangedSync,
  hashFilesSync,
  localCacheDir,
  readCachedBuild,
  storeCachedBuild,
} from './local-cache.ts';

/** Rehearsal faults compiled into a build (never into the production build). */
export type { FaultOptions };

export interface LocalImage {
  readonly repositoryName: string;
  readonly digest: string;
  readonly tag: string;
  readonly commit: string;
  readonly fault?: FaultOptions;
}

interface ImageConfig {
  readonly cmd: string;
  readonly env: Record<string, string>;
  readonly fault?: FaultOptions;
}

export const LOCAL_REGISTRY_HOST = '000000000000.dkr.ecr.local.amazonaws.com';

/** Where a local build's change set comes from and goes to (docs/insight.md). */
export interface LocalChangeSets {
  readonly store: ChangeSetRecorder;
  /** The git repository builds are made from, unless a build names its own `source`. */
  readonly sourceDir: string;
}

/**
 * This process's builds of `app/`, by their rehearsal faults. A rehearsal builds a base and a candidate, most often
 * from the same sources and faults: the second reuses the first's bytes when no input file changed, instead of
 * running esbuild again, and so does the next run, from the local cache (local-cache.ts). Staging folders sit at the
 * same depth, so the source map's relative paths hold.
 */
const builds = new Map<string, CachedBuild>();

/**
 * A content-addressed image store standing in for ECR: an image is the esbuild bundle of `app/` plus its config
 * (command and environment), and its digest is the sha256 of both, so the same build always has the same digest.
 */
export class LocalRegistry {
  constructor(
    private readonly dataDir: string,
    private readonly index: MemoryImageRegistry,
    /** Where builds are kept between runs. @default localCacheDir() */
    private readonly cacheDir = localCacheDir(),
    /** Records each build's change set, as the build stage does. @default none recorded */
    private readonly changeSets?: LocalChangeSets,
  ) {
    // Images stay on disk across restarts, and so do their tags: what was pushed before can still be released.
    if (existsSync(this.indexFile)) {
      for (const line of readFileSync(this.indexFile, 'utf8').split('\n').filter(Boolean)) {
        const pushed = JSON.parse(line) as { repositoryName: string; digest: string; tag: string };
        if (existsSync(this.imageDir(pushed.digest))) this.index.push(pushed.repositoryName, pushed.digest, pushed.tag);
      }
    }
  }

  /** One line per push: repository, digest and tag. */
  private get indexFile(): string {
    return join(this.dataDir, 'images', 'index.jsonl');
  }

  private imageDir(digest: string): string {
    return join(this.dataDir, 'images', digest.replace(':', '-'));
  }

  /** Builds `app/` (with rehearsal faults when asked) and stores it under its digest, tagged immutably. */
  async build(
    repositoryName: string,
    options: {
      commit: string;
      tag?: string;
      fault?: FaultOptions;
      /** The git repository whose commit and lock file the change set records. @default the registry's source */
      source?: string;
    },
  ): Promise<LocalImage> {
    const staging = join(this.dataDir, 'build', randomUUID());
    const built = await this.buildOrReuse(staging, options.fault);
    const config: ImageConfig = {
      cmd: 'index.handler',
      env: { SWITCHYARD_COMMIT: options.commit },
      ...(options.fault ? { fault: options.fault } : {}),
    };
    const digest = `sha256:${createHash('sha256').update(built.sha256).update('\n').update(JSON.stringify(config)).digest('hex')}`;
    const target = this.imageDir(digest);
    if (!existsSync(target)) {
      await mkdir(join(this.dataDir, 'images'), { recursive: true });
      await cp(staging, target, { recursive: true });
      await writeFile(join(target, 'config.json'), JSON.stringify(config, null, 2));
    }
    await rm(staging, { recursive: true, force: true });
    const tag = options.tag ?? `git-${options.commit}`;
    if (this.changeSets) await this.recordChangeSet(repositoryName, digest, options.commit, options.source);
    this.index.push(repositoryName, digest, tag);
    mkdirSync(join(this.dataDir, 'images'), { recursive: true });
    appendFileSync(this.indexFile, `${JSON.stringify({ repositoryName, digest, tag })}\n`);
    return { repositoryName, digest, tag, commit: options.commit, ...(options.fault ? { fault: options.fault } : {}) };
  }

  /**
   * The build's change set, made from its source repository like the build stage's (local/change-set-recorder.ts),
   * the previous image being the repository's last build of another commit. A commit that is only a name (a
   * rehearsal's "rehearsal-base") is no commit of the repository: such a build has no change set.
   */
  private async recordChangeSet(repositoryName: string, digest: string, commit: string, source?: string) {
    if (!this.changeSets) return;
    const sourceDir = source ?? this.changeSets.sourceDir;
    if (!(await isCommit(sourceDir, commit))) return;
    const key = `${repositoryName} ${sourceDir}`;
    const previous = this.lastCommit.get(key);
    const { changeSet, sbom } = await recordChangeSet({
      sourceDir,
      digest,
      commit,
      previousCommit: previous && previous !== commit ? previous : undefined,
      sbomKey: join('insight', sbomKeyOf(digest)),
      now: new Date(),
    });
    await mkdir(join(this.dataDir, 'insight', 'sboms'), { recursive: true });
    await writeFile(join(this.dataDir, changeSet.sbomKey), sbom);
    await this.changeSets.store.putChangeSet(changeSet);
    this.lastCommit.set(key, changeSet.commit);
  }

  /** The last commit built per repository and source, for the next build's change set. */
  private readonly lastCommit = new Map<string, string>();

  /** Builds `app/` into `staging`, or writes the bytes of an earlier build whose input files are all unchanged. */
  private async buildOrReuse(staging: string, fault: FaultOptions | undefined): Promise<{ sha256: string }> {
    const key = buildKey(fault);
    const name = `app ${key}`;
    const inProcess = builds.get(key);
    const cached = inProcess && filesUnchangedSync(inProcess.inputs) ? inProcess : readCachedBuild(name, this.cacheDir);
    if (cached) {
      builds.set(key, cached);
      await mkdir(staging, { recursive: true });
      for (const [file, bytes] of cached.files) await writeFile(join(staging, file), bytes);
      return cached;
    }
    const startedAt = Date.now();
    const built = await buildApp({ outDir: staging, ...(fault ? { fault } : {}) });
    const files = new Map<string, Buffer>();
    for (const file of await readdir(staging)) files.set(file, await readFile(join(staging, file)));
    const build: CachedBuild = { files, sha256: built.sha256, inputs: hashFilesSync(built.inputs) };
    builds.set(key, build);
    storeCachedBuild(name, build, startedAt, this.cacheDir);
    return built;
  }

  /** Where a pushed image's bundle lives, and the environment its config sets. */
  async imageFor(imageUri: string): Promise<{ bundlePath: string; environment: Record<string, string> }> {
    const digest = imageUri.split('@')[1];
    if (!digest) throw new Error(`image URI ${imageUri} has no digest`);
    const dir = this.imageDir(digest);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as ImageConfig;
    return { bundlePath: join(dir, 'index.mjs'), environment: { ...config.env, SWITCHYARD_IMAGE_DIGEST: digest } };
  }

  /** The event ECR sends EventBridge for a successful push, in its published shape. */
  pushEvent(image: LocalImage, time: Date): Record<string, unknown> {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'ECR Image Action',
      source: 'aws.ecr',
      account: '000000000000',
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'local',
      resources: [],
      detail: {
        result: 'SUCCESS',
        'repository-name': image.repositoryName,
        'image-digest': image.digest,
        'action-type': 'PUSH',
        'image-tag': image.tag,
      },
    };
  }
}
