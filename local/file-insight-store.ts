import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChangeSet, parseChangeSet } from '../core/insight/change-set.ts';
import type { ChangeSetRecorder, InsightStore } from '../core/insight/insight-store.ts';
import type { ReleaseChanges } from '../core/insight/release-changes.ts';

const FILE_NAME = /^[A-Za-z0-9_:.-]{1,200}$/;

/**
 * Change sets and release diffs as JSON files of the local data directory (`insight/`), so they outlive the
 * process as the local release records do. Each file is written whole (temporary file, then rename).
 */
export class FileInsightStore implements InsightStore, ChangeSetRecorder {
  constructor(private readonly dataDir: string) {}

  private path(kind: 'change-sets' | 'commits' | 'releases', name: string): string {
    if (!FILE_NAME.test(name)) throw new Error(`not a storable name: ${JSON.stringify(name)}`);
    return join(this.dataDir, 'insight', kind, `${name.replace(':', '-')}.json`);
  }

  private async write(path: string, value: unknown): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(value, null, 2));
    await rename(temporary, path);
  }

  private async read(path: string): Promise<unknown> {
    return existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as unknown) : undefined;
  }

  async putChangeSet(changeSet: ChangeSet): Promise<void> {
    const parsed = parseChangeSet(changeSet);
    await this.write(this.path('change-sets', parsed.digest), parsed);
    await this.write(this.path('commits', parsed.commit), { digest: parsed.digest });
  }

  async getChangeSet(digest: string): Promise<ChangeSet | undefined> {
    const found = await this.read(this.path('change-sets', digest));
    return found === undefined ? undefined : parseChangeSet(found);
  }

  async changeSetOfCommit(commit: string): Promise<ChangeSet | undefined> {
    const pointer = (await this.read(this.path('commits', commit))) as { digest?: string } | undefined;
    return pointer?.digest ? this.getChangeSet(pointer.digest) : undefined;
  }

  async putReleaseChanges(releaseId: string, changes: ReleaseChanges): Promise<ReleaseChanges> {
    const existing = await this.getReleaseChanges(releaseId);
    if (existing) return existing;
    await this.write(this.path('releases', releaseId), changes);
    return changes;
  }

  async getReleaseChanges(releaseId: string): Promise<ReleaseChanges | undefined> {
    return (await this.read(this.path('releases', releaseId))) as ReleaseChanges | undefined;
  }
}
