import { InvalidCursor } from '../../core/model/errors.ts';
import { applyStateChange, withInitialState } from '../../core/model/release-events.ts';
import { recordFields, withTargetChanges } from '../../core/model/target-set.ts';
import type { PolicyEntry, PolicyKind } from '../../core/policy/policy-entry.ts';
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
} from '../../core/ports/ports.ts';

/** The lock and release records in memory, with DynamoDB's conditional-write semantics. */
export class MemoryReleaseStore implements ReleaseStore {
  protected readonly locks = new Map<string, LockHolder>();
  protected readonly releases = new Map<string, ReleaseRecord>();
  protected readonly approvals = new Map<string, ApprovalRequest>();
  protected readonly deliveries = new Map<string, DeliveryRecord>();
  protected readonly policy = new Map<string, PolicyEntry>();

  async acquireLock(key: string, holder: LockHolder, now: Date): Promise<LockResult> {
    const current = this.locks.get(key);
    const free = !current || Date.parse(current.expiresAt) < now.getTime() || current.releaseId === holder.releaseId;
    if (!free) return { acquired: false, holder: { ...current } };
    this.locks.set(key, { ...holder });
    this.persist();
    return { acquired: true };
  }

  async releaseLock(key: string, releaseId: string): Promise<boolean> {
    if (this.locks.get(key)?.releaseId !== releaseId) return false;
    this.locks.delete(key);
    this.persist();
    return true;
  }

  async renewLock(key: string, releaseId: string, expiresAt: string): Promise<boolean> {
    const current = this.locks.get(key);
    if (current?.releaseId !== releaseId) return false;
    this.locks.set(key, { ...current, expiresAt });
    this.persist();
    return true;
  }

  async getLock(key: string): Promise<LockHolder | undefined> {
    const lock = this.locks.get(key);
    return lock ? { ...lock } : undefined;
  }

  async createRelease(record: ReleaseRecord): Promise<void> {
    if (this.releases.has(record.releaseId)) return;
    this.releases.set(record.releaseId, withInitialState(structuredClone(record)));
    this.persist();
  }

  async getRelease(releaseId: string): Promise<ReleaseRecord | undefined> {
    const record = this.releases.get(releaseId);
    return record ? structuredClone(record) : undefined;
  }

  async update(releaseId: string, change: ReleaseChange, event?: ReleaseEvent): Promise<void> {
    const record = this.releases.get(releaseId);
    if (!record) throw new Error(`release ${releaseId} has no record`);
    // The typed state changes with its event in the same write: no reader sees one without the other.
    const patched: ReleaseRecord = {
      ...record,
      ...recordFields(change),
      targets: withTargetChanges(releaseId, record.targets, change),
    };
    this.releases.set(
      releaseId,
      event ? { ...applyStateChange(patched, event), events: [...record.events, structuredClone(event)] } : patched,
    );
    this.persist();
  }

  async closeRelease(releaseId: string, close: ReleaseClose, event?: ReleaseEvent): Promise<CloseResult> {
    const record = this.releases.get(releaseId);
    if (!record) throw new Error(`release ${releaseId} has no record`);
    if (record.status !== 'running') return { closed: false, status: record.status };
    await this.update(releaseId, close, event);
    return { closed: true, status: close.status };
  }

  async listReleases(filter: ReleaseFilter): Promise<ReleasePage> {
    const limit = filter.limit ?? 20;
    const all = [...this.releases.values()]
      .filter(
        (r) =>
          (!filter.environment || r.environment === filter.environment) &&
          (!filter.status || r.status === filter.status),
      )
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.releaseId.localeCompare(a.releaseId));
    const offset = filter.cursor ? decodeOffsetCursor(filter.cursor) : 0;
    const page = all.slice(offset, offset + limit).map((r) => structuredClone(r));
    const nextOffset = offset + limit;
    return nextOffset < all.length
      ? { releases: page, nextCursor: Buffer.from(String(nextOffset)).toString('base64url') }
      : { releases: page };
  }

  async saveApprovalRequest(releaseId: string, request: ApprovalRequest): Promise<void> {
    this.approvals.set(releaseId, { ...request });
  }

  async takeApprovalRequest(releaseId: string): Promise<ApprovalRequest | undefined> {
    const request = this.approvals.get(releaseId);
    this.approvals.delete(releaseId);
    return request;
  }

  async recordDelivery(key: string, releaseId: string, at: string): Promise<DeliveryRecord> {
    const current = this.deliveries.get(key);
    if (!current) {
      const first = { releaseId, firstAt: at, duplicates: [] };
      this.deliveries.set(key, first);
      return structuredClone(first);
    }
    if (current.releaseId !== releaseId && !current.duplicates.includes(releaseId)) {
      this.deliveries.set(key, { ...current, duplicates: [...current.duplicates, releaseId] });
    }
    return structuredClone(this.deliveries.get(key) ?? current);
  }

  async getPolicyEntry(key: string): Promise<PolicyEntry | undefined> {
    const entry = this.policy.get(key);
    return entry ? structuredClone(entry) : undefined;
  }

  async putPolicyEntry(entry: PolicyEntry): Promise<boolean> {
    if ((this.policy.get(entry.key)?.version ?? 0) !== entry.version - 1) return false;
    this.policy.set(entry.key, structuredClone(entry));
    this.persist();
    return true;
  }

  async listPolicyEntries(kind: PolicyKind): Promise<PolicyEntry[]> {
    return [...this.policy.values()]
      .filter((e) => e.kind === kind)
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((e) => structuredClone(e));
  }

  /** Subclasses that keep the data on disk write it here after every change. */
  protected persist(): void {}
}

/** The offset a list cursor of the in-memory and SQLite stores carries; anything else is refused. */
export function decodeOffsetCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!/^\d{1,9}$/.test(text)) throw new InvalidCursor('the cursor is not one this release store issued');
  return Number(text);
}
