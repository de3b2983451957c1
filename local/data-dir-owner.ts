import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { API_TOKEN_FILE } from './api-token.ts';

/** The file whose OS lock says who owns a data directory, and the one naming that owner. */
export const OWNER_LOCK_FILE = 'owner.lock';
export const OWNER_FILE = 'owner.json';

/** Who holds a data directory: what a second process names when it refuses. */
export interface DataDirOwner {
  readonly pid: number;
  readonly command: string;
  readonly since: string;
}

/** A second `local serve`, `local rehearse` or `npm start` on a data directory another process owns. */
export class DataDirInUse extends Error {
  override readonly name = 'DataDirInUse';
  constructor(
    readonly dataDir: string,
    readonly owner: DataDirOwner | undefined,
  ) {
    super(
      `data directory ${dataDir} is in use by ${owner ? `PID ${owner.pid} (${owner.command})` : 'another process'}: stop it or pass another --data-dir`,
    );
  }
}

function readOwner(dataDir: string): DataDirOwner | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, OWNER_FILE), 'utf8')) as DataDirOwner;
  } catch {
    return undefined;
  }
}

/** The command line a process was started with, as `ps` would show it (the node binary left out). */
function commandLine(): string {
  return process.argv
    .slice(1)
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a)))
    .join(' ');
}

/**
 * The exclusive lock one process holds on a data directory for its whole life. It is SQLite's own file lock (POSIX
 * `fcntl`, taken by `BEGIN EXCLUSIVE` on a file of its own and never committed): the kernel drops it when the process
 * ends in any way, kill -9 included, so there is no stale lock to guess about. A second process, in this one or
 * another, is refused at once (no busy timeout).
 */
export class DataDirLock {
  private constructor(
    private readonly db: DatabaseSync,
    readonly dataDir: string,
  ) {}

  /** Takes the lock, or throws `DataDirInUse` naming the owner; the directory must exist. Changes nothing else. */
  static acquire(dataDir: string): DataDirLock {
    const db = new DatabaseSync(join(dataDir, OWNER_LOCK_FILE), { timeout: 0 });
    try {
      // No journal file: the transaction never writes, it only holds the lock.
      db.exec('PRAGMA journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if ((error as { errcode?: number }).errcode === SQLITE_BUSY) throw new DataDirInUse(dataDir, readOwner(dataDir));
      throw error;
    }
    const owner: DataDirOwner = { pid: process.pid, command: commandLine(), since: new Date().toISOString() };
    // Written whole and renamed into place, so a refused process never reads half of it.
    const staged = join(dataDir, `${OWNER_FILE}.${process.pid}`);
    writeFileSync(staged, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
    renameSync(staged, join(dataDir, OWNER_FILE));
    return new DataDirLock(db, dataDir);
  }

  /** Gives the lock back (closing the connection ends the open transaction and drops the file lock). */
  release(): void {
    if (this.db.isOpen) this.db.close();
  }
}

/** SQLite's primary result code for a lock another connection holds. */
const SQLITE_BUSY = 5;

/** What only the data directory's owner may read: history, keys, token, logs and the owner's own files. */
const OWNER_ONLY_FILES = [
  'releases.sqlite',
  'releases.sqlite-wal',
  'releases.sqlite-shm',
  'client-keys.json',
  API_TOKEN_FILE,
  'lambda.log',
  'lambda.log.1',
  OWNER_LOCK_FILE,
  OWNER_FILE,
];

/**
 * The data directory 0700 and its files 0600, on every start and not only when they are created: a file an earlier
 * version (or a copy) left readable by others is fixed too.
 */
export function restrictToOwner(dataDir: string): void {
  chmodSync(dataDir, 0o700);
  for (const file of OWNER_ONLY_FILES) {
    try {
      chmodSync(join(dataDir, file), 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
