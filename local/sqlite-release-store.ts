import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { decodeOffsetCursor } from '../adapters/memory/memory-release-store.ts';
import { applyStateChange, withInitialState } from '../core/model/release-events.ts';
import { legacyTargets, recordFields, withTargetChanges } from '../core/model/target-set.ts';
import type { PolicyEntry, PolicyKind } from '../core/policy/policy-entry.ts';
import type {
  ApprovalRequest,
  CloseResult,
  DeliveryRecord,
  LockHolder,
  LockResult,
  ReleaseChange,
  ReleaseClose,
  ReleaseEvent,
  ReleaseFilter,
  ReleasePage,
  ReleaseRecord,
  ReleaseStore,
} from '../core/ports/ports.ts';

const MAX_LIMIT = 100;

/** A local execution as stored when it started, and how it ended. */
export interface StoredExecution {
  readonly releaseId: string;
  readonly executionArn: string;
  readonly input: unknown;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  readonly startedAt: string;
}

interface ExecutionRow {
  release_id: string;
  execution_arn: string;
  input: string;
  status: StoredExecution['status'];
  started_at: string;
}

function storedExecution(row: ExecutionRow): StoredExecution {
  return {
    releaseId: row.release_id,
    executionArn: row.execution_arn,
    input: JSON.parse(row.input) as unknown,
    status: row.status,
    startedAt: row.started_at,
  };
}

/**
 * The local runtime's lock and release history, in a SQLite file in the data directory, so history survives
 * restarts. The lock takes the same conditional write as DynamoDB: free, expired, or already ours.
 */
export class SqliteReleaseStore implements ReleaseStore {
  private readonly db: DatabaseSync;
  /** Compiled statements by their SQL: a release's checks run the same few statements hundreds of times. */
  private readonly statements = new Map<string, StatementSync>();

  /** `readOnly` opens an existing history to read it (`local releases`): nothing is created or written. */
  constructor(path: string, options: { readonly readOnly?: boolean } = {}) {
    this.db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
    if (options.readOnly) return;
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      -- WAL's recommended setting: a commit survives the process stopping at any point; only a power loss can undo the
      -- last ones, and never corrupts the file. FULL synced every one of a rehearsal's thousands of small writes.
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS locks (key TEXT PRIMARY KEY, release_id TEXT NOT NULL, expires_at TEXT NOT NULL, holder TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS releases (
        release_id TEXT PRIMARY KEY, environment TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, record TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS releases_by_start ON releases (started_at DESC, release_id DESC);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS approvals (release_id TEXT PRIMARY KEY, request TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, release_id TEXT NOT NULL, first_at TEXT NOT NULL, duplicates TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS policy (key TEXT PRIMARY KEY, kind TEXT NOT NULL, version INTEGER NOT NULL, entry TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS executions (
        release_id TEXT PRIMARY KEY, execution_arn TEXT NOT NULL, input TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL);
    `);
  }

  /**
   * The local engine's StartExecution: the execution is on disk before it runs and before anyone is told it
   * started, as Step Functions has it stored when StartExecution answers, so a process killed at any later point
   * leaves a record a restart reconciles (`LocalRuntime.reconcileLeftovers`).
   */
  recordExecution(execution: { releaseId: string; executionArn: string; input: unknown; startedAt: string }): void {
    this.prepare(
      `INSERT INTO executions (release_id, execution_arn, input, status, started_at) VALUES (?, ?, ?, 'RUNNING', ?)`,
    ).run(execution.releaseId, execution.executionArn, JSON.stringify(execution.input ?? null), execution.startedAt);
  }

  /** The execution ended (and, if it stopped, was reconciled). */
  endExecution(releaseId: string, status: StoredExecution['status']): void {
    this.prepare('UPDATE executions SET status = ? WHERE release_id = ?').run(status, releaseId);
  }

  getExecution(releaseId: string): StoredExecution | undefined {
    const row = this.prepare('SELECT * FROM executions WHERE release_id = ?').get(releaseId) as
      | ExecutionRow
      | undefined;
    return row ? storedExecution(row) : undefined;
  }

  /** Executions recorded as started that never ended: a stopped process left them. */
  unfinishedExecutions(): StoredExecution[] {
    const rows = this.prepare(
      `SELECT * FROM executions WHERE status = 'RUNNING' ORDER BY started_at`,
    ).all() as unknown as ExecutionRow[];
    return rows.map(storedExecution);
  }

  async acquireLock(key: string, holder: LockHolder, now: Date): Promise<LockResult> {
    const result = this.prepare(
      `INSERT INTO locks (key, release_id, expires_at, holder) VALUES (?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET release_id = excluded.release_id, expires_at = excluded.expires_at, holder = excluded.holder
         WHERE locks.expires_at < ? OR locks.release_id = excluded.release_id`,
    ).run(key, holder.releaseId, holder.expiresAt, JSON.stringify(holder), now.toISOString());
    if (Number(result.changes) > 0) return { acquired: true };
    const current = await this.getLock(key);
    if (!current) return this.acquireLock(key, holder, now);
    return { acquired: false, holder: current };
  }

  async releaseLock(key: string, releaseId: string): Promise<boolean> {
    const result = this.prepare('DELETE FROM locks WHERE key = ? AND release_id = ?').run(key, releaseId);
    return Number(result.changes) > 0;
  }

  async renewLock(key: string, releaseId: string, expiresAt: string): Promise<boolean> {
    const result = this.prepare(
      `UPDATE locks SET expires_at = ?, holder = json_set(holder, '$.expiresAt', ?)
         WHERE key = ? AND release_id = ?`,
    ).run(expiresAt, expiresAt, key, releaseId);
    return Number(result.changes) > 0;
  }

  async getLock(key: string): Promise<LockHolder | undefined> {
    const row = this.prepare('SELECT holder FROM locks WHERE key = ?').get(key) as { holder: string } | undefined;
    return row ? (JSON.parse(row.holder) as LockHolder) : undefined;
  }

  /** Every lock held, for reconciling releases a stopped process left behind. */
  heldLocks(): { key: string; holder: LockHolder }[] {
    const rows = this.prepare('SELECT key, holder FROM locks').all() as { key: string; holder: string }[];
    return rows.map((r) => ({ key: r.key, holder: JSON.parse(r.holder) as LockHolder }));
  }

  async createRelease(record: ReleaseRecord): Promise<void> {
    this.prepare(
      'INSERT OR IGNORE INTO releases (release_id, environment, status, started_at, record) VALUES (?, ?, ?, ?, ?)',
    ).run(
      record.releaseId,
      record.environment,
      record.status,
      record.startedAt,
      JSON.stringify(withInitialState(record)),
    );
  }

  async getRelease(releaseId: string): Promise<ReleaseRecord | undefined> {
    return this.readRelease(releaseId);
  }

  /** Synchronous, so an update reads and writes its row with no other write in between. */
  private readRelease(releaseId: string): ReleaseRecord | undefined {
    const row = this.prepare('SELECT record FROM releases WHERE release_id = ?').get(releaseId) as
      | { record: string }
      | undefined;
    return row ? parseRecord(row.record) : undefined;
  }

  async update(releaseId: string, change: ReleaseChange, event?: ReleaseEvent): Promise<void> {
    // Read and write in one immediate transaction: no other writer (another process too) comes between.
    this.inTransaction(() => {
      const record = this.readRelease(releaseId);
      if (!record) throw new Error(`release ${releaseId} has no record`);
      this.writeRelease(record, change, event);
    });
  }

  /** One row holds the record, its history and its typed state: the event and the state it sets are one write. */
  private writeRelease(record: ReleaseRecord, change: ReleaseChange, event: ReleaseEvent | undefined): void {
    const patched: ReleaseRecord = {
      ...record,
      ...recordFields(change),
      targets: withTargetChanges(record.releaseId, record.targets, change),
    };
    const updated: ReleaseRecord = event
      ? { ...applyStateChange(patched, event), events: [...record.events, event] }
      : patched;
    this.prepare('UPDATE releases SET status = ?, record = ? WHERE release_id = ?').run(
      updated.status,
      JSON.stringify(updated),
      record.releaseId,
    );
  }

  private inTransaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  async closeRelease(releaseId: string, close: ReleaseClose, event?: ReleaseEvent): Promise<CloseResult> {
    // Read and write in one immediate transaction: another process's close cannot come between.
    return this.inTransaction(() => {
      const record = this.readRelease(releaseId);
      if (!record) throw new Error(`release ${releaseId} has no record`);
      const closed = record.status === 'running';
      if (closed) this.writeRelease(record, close, event);
      return { closed, status: closed ? close.status : record.status };
    });
  }

  async listReleases(filter: ReleaseFilter): Promise<ReleasePage> {
    const limit = Math.min(filter.limit ?? 20, MAX_LIMIT);
    const offset = filter.cursor ? decodeOffsetCursor(filter.cursor) : 0;
    const rows = this.prepare(
      `SELECT record FROM releases WHERE (?1 IS NULL OR environment = ?1) AND (?2 IS NULL OR status = ?2)
         ORDER BY started_at DESC, release_id DESC LIMIT ?3 OFFSET ?4`,
    ).all(filter.environment ?? null, filter.status ?? null, limit + 1, offset) as { record: string }[];
    const releases = rows.slice(0, limit).map((r) => parseRecord(r.record));
    return rows.length > limit
      ? { releases, nextCursor: Buffer.from(String(offset + limit)).toString('base64url') }
      : { releases };
  }

  async saveApprovalRequest(releaseId: string, request: ApprovalRequest): Promise<void> {
    this.prepare(
      'INSERT INTO approvals (release_id, request) VALUES (?, ?) ON CONFLICT(release_id) DO UPDATE SET request = excluded.request',
    ).run(releaseId, JSON.stringify(request));
  }

  async takeApprovalRequest(releaseId: string): Promise<ApprovalRequest | undefined> {
    const row = this.prepare('DELETE FROM approvals WHERE release_id = ? RETURNING request').get(releaseId) as
      | { request: string }
      | undefined;
    return row ? (JSON.parse(row.request) as ApprovalRequest) : undefined;
  }

  async recordDelivery(key: string, releaseId: string, at: string): Promise<DeliveryRecord> {
    this.prepare(`INSERT OR IGNORE INTO deliveries (key, release_id, first_at, duplicates) VALUES (?, ?, ?, '[]')`).run(
      key,
      releaseId,
      at,
    );
    // A later copy joins the duplicates once; the first release's own retries change nothing.
    this.prepare(
      `UPDATE deliveries SET duplicates = json_insert(duplicates, '$[#]', ?2)
         WHERE key = ?1 AND release_id <> ?2 AND NOT EXISTS (SELECT 1 FROM json_each(duplicates) WHERE value = ?2)`,
    ).run(key, releaseId);
    const row = this.prepare('SELECT release_id, first_at, duplicates FROM deliveries WHERE key = ?').get(key) as {
      release_id: string;
      first_at: string;
      duplicates: string;
    };
    return { releaseId: row.release_id, firstAt: row.first_at, duplicates: JSON.parse(row.duplicates) as string[] };
  }

  getMeta(key: string): string | undefined {
    const row = this.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }

  private prepare(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.db.close();
  }

  async getPolicyEntry(key: string): Promise<PolicyEntry | undefined> {
    const row = this.prepare('SELECT entry FROM policy WHERE key = ?').get(key) as { entry: string } | undefined;
    return row ? (JSON.parse(row.entry) as PolicyEntry) : undefined;
  }

  /** One conditional statement: an insert for version 1, an update only while the stored version is the one before. */
  async putPolicyEntry(entry: PolicyEntry): Promise<boolean> {
    const text = JSON.stringify(entry);
    const result =
      entry.version === 1
        ? this.prepare('INSERT OR IGNORE INTO policy (key, kind, version, entry) VALUES (?, ?, 1, ?)').run(
            entry.key,
            entry.kind,
            text,
          )
        : this.prepare('UPDATE policy SET version = ?, entry = ? WHERE key = ? AND version = ?').run(
            entry.version,
            text,
            entry.key,
            entry.version - 1,
          );
    return Number(result.changes) === 1;
  }

  async listPolicyEntries(kind: PolicyKind): Promise<PolicyEntry[]> {
    const rows = this.prepare('SELECT entry FROM policy WHERE kind = ? ORDER BY key').all(kind) as unknown as {
      entry: string;
    }[];
    return rows.map((row) => JSON.parse(row.entry) as PolicyEntry);
  }
}

/** A stored record; one written before every release carried targets reads with its targets rebuilt. */
function parseRecord(text: string): ReleaseRecord {
  const record = JSON.parse(text) as ReleaseRecord & Record<string, unknown>;
  if (record.targets) return record;
  const { fleet: _fleet, functionName: _fn, blueVersion: _blue, greenVersion: _green, ...rest } = record;
  return { ...rest, targets: legacyTargets(record) } as ReleaseRecord;
}
