import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { RELEASE_TABLE } from '../../contract/release-table.ts';
import { InvalidCursor, TransientFailure } from '../../core/model/errors.ts';
import { type FastForwardRequestedEvent, stateChange, withInitialState } from '../../core/model/release-events.ts';
import {
  changesTargets,
  legacyTargets,
  recordFields,
  UnknownTarget,
  withTargetChanges,
} from '../../core/model/target-set.ts';
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
  ReleaseState,
  ReleaseStatus,
  ReleaseStore,
  TargetChange,
  TargetSet,
  TargetState,
} from '../../core/ports/ports.ts';
import { hasErrorName } from './error-names.ts';

const LOCK_SK = 'LOCK';
/** The one partition of the release policy's entries (abandoned images, holds): a few small items. */
const POLICY_PK = 'POLICY';

/** An entry is stored whole as JSON text beside its version, which the conditional write compares. */
function policyEntryOf(item: Record<string, unknown>): PolicyEntry {
  return JSON.parse(String(item.entry)) as PolicyEntry;
}
const RELEASE_SK = 'RELEASE';
const EVENT_SK_PREFIX = 'EVENT#';
/**
 * The most one event keeps: a larger one keeps its kind, time and summary, and its evidence is replaced by a note
 * saying how large it was. Far below DynamoDB's 400 KB item limit, so an event write is never refused for its size.
 */
export const MAX_EVENT_BYTES = 16 * 1024;

/**
 * The one partition of the all-releases index. Its writes are a release's creation and status changes (keys and
 * status only, under 1 KB each): a handful per release, while DynamoDB allows 1,000 write units a second per
 * partition (docs/architecture.md, "The release table").
 */
const ALL_RELEASES = 'RELEASE';
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
/** Reads per listReleases call when a status filter discards most of what each page reads. */
const MAX_QUERIES_PER_PAGE = 5;
/** BatchGetItem rounds for one page: DynamoDB may leave keys unprocessed (over 16 MB, or throttled) for the next. */
const MAX_BATCH_GET_ROUNDS = 5;

let defaultClient: DynamoDBDocumentClient | undefined;
function documentClient(): DynamoDBDocumentClient {
  defaultClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return defaultClient;
}

export interface DynamoDbReleaseStoreOptions {
  /** The table created from `RELEASE_TABLE`. */
  readonly tableName: string;
  /** @default one `DynamoDBDocumentClient` per module, dropping undefined values. */
  readonly client?: DynamoDBDocumentClient;
}

/** A targets write's condition failed: the release, the target or the revision it read is not there (any more). */
class MissingRelease extends Error {
  override readonly name = 'MissingRelease';
  constructor(releaseId: string) {
    super(`release ${releaseId}: the targets write's condition failed`);
  }
}

/** A cursor this store did not issue (or one that was edited). */
export { InvalidCursor };

const lockKey = (key: string) => ({ pk: `LOCK#${key}`, sk: LOCK_SK });
const releaseKey = (releaseId: string) => ({ pk: `RELEASE#${releaseId}`, sk: RELEASE_SK });
const approvalKey = (releaseId: string) => ({ pk: `APPROVAL#${releaseId}`, sk: 'APPROVAL' });
const eventKey = (releaseId: string, sequence: number) => ({
  pk: `RELEASE#${releaseId}`,
  sk: `${EVENT_SK_PREFIX}${String(sequence).padStart(8, '0')}`,
});
const deliveryKey = (key: string) => ({ pk: `DELIVERY#${key}`, sk: 'DELIVERY' });
/**
 * How long a delivery is remembered: EventBridge retries a delivery for at most 24 hours (its retry policy's
 * ceiling), so a week outlives every copy.
 */
const DELIVERY_RETENTION_SECONDS = 7 * 24 * 3600;
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** DynamoDB stores no undefined, NaN or class instances; evidence is JSON anyway. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function str(item: Record<string, unknown>, field: string): string {
  const value = item[field];
  return typeof value === 'string' ? value : '';
}

function optionalStr(item: Record<string, unknown>, field: string): string | undefined {
  const value = item[field];
  return typeof value === 'string' ? value : undefined;
}

function toHolder(item: Record<string, unknown>): LockHolder {
  return {
    releaseId: str(item, 'releaseId'),
    executionArn: str(item, 'executionArn'),
    acquiredAt: str(item, 'acquiredAt'),
    expiresAt: str(item, 'expiresAt'),
  };
}

/** The event as stored: plain JSON, its evidence replaced by a note when the whole would exceed MAX_EVENT_BYTES. */
export function boundedEvent(event: ReleaseEvent): ReleaseEvent {
  const stored = plain(event);
  const bytes = Buffer.byteLength(JSON.stringify(stored));
  if (bytes <= MAX_EVENT_BYTES) return stored;
  const omitted = `the evidence of this event (${bytes} bytes) exceeds the ${MAX_EVENT_BYTES} bytes an event keeps`;
  // The kind stays what it was; only its evidence is replaced, which every kind's type allows (`EvidenceOmitted`).
  return {
    at: stored.at,
    kind: stored.kind,
    summary: stored.summary.slice(0, 2048),
    evidence: { omitted },
  } as ReleaseEvent;
}

/** An event as this store wrote it (its kind and evidence are read back as written, not re-checked). */
function toEvent(item: Record<string, unknown>): ReleaseEvent {
  const evidence = item.evidence;
  return {
    at: str(item, 'at'),
    kind: str(item, 'kind'),
    summary: str(item, 'summary'),
    ...(evidence && typeof evidence === 'object' ? { evidence } : {}),
  } as ReleaseEvent;
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.map(String) : undefined;
}

/** The typed state a release item holds; an item written before a field existed reads as its default (absent). */
function toState(item: Record<string, unknown>): ReleaseState {
  const fastForward = item.fastForwardRequested;
  const approval = item.awaitingApproval as Record<string, unknown> | undefined;
  const warnings = strings(item.releasedWithWarnings);
  const noted = strings(item.notedDuplicates);
  const step = item.currentStep as Record<string, unknown> | undefined;
  const paused = item.paused as Record<string, unknown> | undefined;
  const pauseReason = paused && typeof paused === 'object' ? optionalStr(paused, 'reason') : undefined;
  return {
    ...(fastForward && typeof fastForward === 'object'
      ? { fastForwardRequested: toEvent(fastForward as Record<string, unknown>) as FastForwardRequestedEvent }
      : {}),
    ...(approval && typeof approval === 'object'
      ? { awaitingApproval: { requestedAt: str(approval, 'requestedAt'), expiresAt: str(approval, 'expiresAt') } }
      : {}),
    ...(warnings ? { releasedWithWarnings: warnings } : {}),
    ...(noted ? { notedDuplicates: noted } : {}),
    ...(step && typeof step === 'object'
      ? {
          currentStep: {
            stepIndex: Number(step.stepIndex),
            stepCount: Number(step.stepCount),
            percent: Number(step.percent),
            shiftedAt: str(step, 'shiftedAt'),
          },
        }
      : {}),
    ...(paused && typeof paused === 'object'
      ? {
          paused: {
            pausedAt: str(paused, 'pausedAt'),
            by: str(paused, 'by'),
            ...(pauseReason ? { reason: pauseReason } : {}),
          },
        }
      : {}),
  };
}

/**
 * A release's targets are kept as `targetSet` (the wave, the target that tripped) and `targets`, a map from target
 * name to its state with its place in the list (`order`): one target's change is a document-path update of its own
 * entry (`SET targets.<name>.phase = …`), so concurrent Map iterations never overwrite each other.
 */
function targetsItem(targets: TargetSet): Record<string, unknown> {
  const { members, ...summary } = targets;
  return {
    targetSet: summary,
    targets: Object.fromEntries(members.map((m, order) => [m.name, { ...m, order }])),
  };
}

function targetsOf(item: Record<string, unknown>): TargetSet {
  const modern = item.targetSet !== undefined;
  // Items written before every release carried targets kept a fleet as `fleet`/`fleetMembers` and a single
  // function's versions on the item itself (legacyTargets).
  const summary = (modern ? item.targetSet : item.fleet) as Record<string, unknown> | undefined;
  const byName = (modern ? item.targets : item.fleetMembers) as Record<string, Record<string, unknown>> | undefined;
  if (!summary || typeof summary !== 'object' || !byName || typeof byName !== 'object') return legacyTargets(item);
  const members = Object.values(byName)
    .sort((a, b) => Number(a.order) - Number(b.order))
    .map(({ order: _order, ...member }) => member as unknown as TargetState);
  const trippedBy = optionalStr(summary, 'trippedBy');
  const wave = summary.currentWave;
  const targets: TargetSet = {
    waveCount: Number(summary.waveCount),
    currentWave: typeof wave === 'number' ? wave : null,
    members,
    ...(trippedBy ? { trippedBy } : {}),
  };
  return modern ? targets : legacyTargets({ fleet: targets });
}

/** How many times an update re-reads a target set another write changed between its read and its write. */
const TARGETS_WRITE_ATTEMPTS = 5;

/** The parts of one UpdateItem on a release item. */
interface ReleaseWrite {
  readonly sets: string[];
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
  readonly condition: string;
  /** A targets write adds to the targets' revision; a close is made only while the release runs. */
  readonly kind?: 'targets' | 'close';
}

/** `SET #field = :field` for each field a patch gives. */
function patchWrite(patch: object): Pick<ReleaseWrite, 'sets' | 'names' | 'values'> {
  const sets: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    sets.push(`#${field} = :${field}`);
    names[`#${field}`] = field;
    values[`:${field}`] = value;
  }
  return { sets, names, values };
}

/** `SET targets.<name>.<field> = …` for one target's change, made only while the target exists. */
function targetWrite(name: string, change: TargetChange): ReleaseWrite {
  const names: Record<string, string> = { '#targets': 'targets', '#target': name };
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  for (const [field, value] of Object.entries(plain(change))) {
    sets.push(`#targets.#target.#t_${field} = :t_${field}`);
    names[`#t_${field}`] = field;
    values[`:t_${field}`] = value;
  }
  return { sets, names, values, condition: 'attribute_exists(#targets.#target)', kind: 'targets' };
}

/** Two writes' sets, names and values in one. */
function merged(
  a: Pick<ReleaseWrite, 'sets' | 'names' | 'values'>,
  b: Pick<ReleaseWrite, 'sets' | 'names' | 'values'>,
): Pick<ReleaseWrite, 'sets' | 'names' | 'values'> {
  return { sets: [...a.sets, ...b.sets], names: { ...a.names, ...b.names }, values: { ...a.values, ...b.values } };
}

/** A release item as listed: its history is the latest event (getRelease reads the whole). */
function toRecord(item: Record<string, unknown>, events?: readonly ReleaseEvent[]): ReleaseRecord {
  const reason = optionalStr(item, 'reason');
  const endedAt = optionalStr(item, 'endedAt');
  return {
    ...toState(item),
    releaseId: str(item, 'releaseId'),
    executionArn: str(item, 'executionArn'),
    environment: str(item, 'environment'),
    imageUri: str(item, 'imageUri'),
    digest: str(item, 'digest'),
    status: str(item, 'status') as ReleaseStatus,
    ...(reason !== undefined ? { reason } : {}),
    startedAt: str(item, 'startedAt'),
    ...(endedAt !== undefined ? { endedAt } : {}),
    trigger: str(item, 'trigger'),
    targets: targetsOf(item),
    events:
      events ??
      (item.lastEvent && typeof item.lastEvent === 'object'
        ? [toEvent(item.lastEvent as Record<string, unknown>)]
        : []),
  };
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key && typeof key === 'object' && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursor('the cursor is not one this release store issued');
}

/** A cursor must name a release item of the index it pages: anything else is forged or from another list. */
function checkedStartKey(key: Record<string, unknown>): Record<string, unknown> {
  const pk = key[RELEASE_TABLE.partitionKey];
  if (typeof pk !== 'string' || !pk.startsWith('RELEASE#') || key[RELEASE_TABLE.sortKey] !== RELEASE_SK) {
    throw new InvalidCursor('the cursor is not one this release store issued');
  }
  return key;
}

/** The lock and the release records in one DynamoDB table, guarded by conditional writes (DESIGN decision 8). */
export class DynamoDbReleaseStore implements ReleaseStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbReleaseStoreOptions) {
    if (!options.tableName) throw new Error('DynamoDbReleaseStore needs a tableName');
    this.tableName = options.tableName;
    this.client = options.client ?? documentClient();
  }

  async acquireLock(key: string, holder: LockHolder, now: Date): Promise<LockResult> {
    // Two tries: the holder can release between the refused write and the read of who holds it.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...lockKey(key),
              ...holder,
              expiresAtEpoch: epochSeconds(new Date(holder.expiresAt)),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAtEpoch < :now OR releaseId = :releaseId',
            ExpressionAttributeValues: { ':now': epochSeconds(now), ':releaseId': holder.releaseId },
          }),
        );
        return { acquired: true };
      } catch (error) {
        if (!hasErrorName(error, 'ConditionalCheckFailedException')) throw error;
      }
      const current = await this.getLock(key);
      if (current) return { acquired: false, holder: current };
    }
    throw new TransientFailure(`the lock ${key} changed hands while it was being taken`);
  }

  async releaseLock(key: string, releaseId: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: lockKey(key),
          ConditionExpression: 'releaseId = :releaseId',
          ExpressionAttributeValues: { ':releaseId': releaseId },
        }),
      );
      return true;
    } catch (error) {
      if (hasErrorName(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }

  async renewLock(key: string, releaseId: string, expiresAt: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: lockKey(key),
          UpdateExpression: 'SET #expiresAt = :expiresAt, #expiresAtEpoch = :expiresAtEpoch',
          ConditionExpression: '#releaseId = :releaseId',
          ExpressionAttributeNames: {
            '#expiresAt': 'expiresAt',
            '#expiresAtEpoch': 'expiresAtEpoch',
            '#releaseId': 'releaseId',
          },
          ExpressionAttributeValues: {
            ':expiresAt': expiresAt,
            ':expiresAtEpoch': epochSeconds(new Date(expiresAt)),
            ':releaseId': releaseId,
          },
        }),
      );
      return true;
    } catch (error) {
      if (hasErrorName(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }

  async saveApprovalRequest(releaseId: string, request: ApprovalRequest): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...approvalKey(releaseId),
          taskToken: request.taskToken,
          requestedAt: request.requestedAt,
          expiresAt: request.expiresAt,
          [RELEASE_TABLE.ttlAttribute]: epochSeconds(new Date(request.expiresAt)),
        },
      }),
    );
  }

  async takeApprovalRequest(releaseId: string): Promise<ApprovalRequest | undefined> {
    const out = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: approvalKey(releaseId), ReturnValues: 'ALL_OLD' }),
    );
    const item = out.Attributes;
    if (!item) return undefined;
    return {
      taskToken: String(item.taskToken),
      requestedAt: String(item.requestedAt),
      expiresAt: String(item.expiresAt),
    };
  }

  async recordDelivery(key: string, releaseId: string, at: string): Promise<DeliveryRecord> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...deliveryKey(key),
            releaseId,
            firstAt: at,
            duplicates: [],
            [RELEASE_TABLE.ttlAttribute]: epochSeconds(new Date(at)) + DELIVERY_RETENTION_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { releaseId, firstAt: at, duplicates: [] };
    } catch (error) {
      if (!hasErrorName(error, 'ConditionalCheckFailedException')) throw error;
    }
    const first = await this.readDelivery(key);
    if (first && first.releaseId !== releaseId) {
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: deliveryKey(key),
            UpdateExpression: 'SET #duplicates = list_append(if_not_exists(#duplicates, :empty), :me)',
            // Each duplicate once, however often its own Validate release is retried.
            ConditionExpression: 'NOT contains(#duplicates, :id)',
            ExpressionAttributeNames: { '#duplicates': 'duplicates' },
            ExpressionAttributeValues: { ':empty': [], ':me': [releaseId], ':id': releaseId },
          }),
        );
      } catch (error) {
        if (!hasErrorName(error, 'ConditionalCheckFailedException')) throw error;
      }
    }
    const current = await this.readDelivery(key);
    if (!current) throw new TransientFailure(`the delivery ${key} expired while it was being recorded`);
    return current;
  }

  private async readDelivery(key: string): Promise<DeliveryRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: deliveryKey(key), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    return {
      releaseId: str(out.Item, 'releaseId'),
      firstAt: str(out.Item, 'firstAt'),
      duplicates: Array.isArray(out.Item.duplicates) ? out.Item.duplicates.map(String) : [],
    };
  }

  async getPolicyEntry(key: string): Promise<PolicyEntry | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: POLICY_PK, sk: key }, ConsistentRead: true }),
    );
    return out.Item ? policyEntryOf(out.Item) : undefined;
  }

  async putPolicyEntry(entry: PolicyEntry): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: POLICY_PK, sk: entry.key, entry: JSON.stringify(entry), version: entry.version },
          ConditionExpression: entry.version === 1 ? 'attribute_not_exists(#pk)' : '#version = :previous',
          ...(entry.version === 1
            ? { ExpressionAttributeNames: { '#pk': RELEASE_TABLE.partitionKey } }
            : {
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':previous': entry.version - 1 },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (hasErrorName(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }

  async listPolicyEntries(kind: PolicyKind): Promise<PolicyEntry[]> {
    const entries: PolicyEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :kind)',
          ExpressionAttributeNames: { '#pk': RELEASE_TABLE.partitionKey, '#sk': RELEASE_TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': POLICY_PK, ':kind': `${kind}#` },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      entries.push(...(out.Items ?? []).map(policyEntryOf));
      start = out.LastEvaluatedKey;
    } while (start);
    return entries;
  }

  async getLock(key: string): Promise<LockHolder | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: lockKey(key), ConsistentRead: true }),
    );
    return out.Item ? toHolder(out.Item) : undefined;
  }

  async createRelease(record: ReleaseRecord): Promise<void> {
    const { events, targets, ...summary } = plain(withInitialState(record));
    const stored = events.map(boundedEvent);
    const lastEvent = stored.at(-1);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...summary,
            ...targetsItem(targets),
            targetsRevision: 0,
            ...releaseKey(record.releaseId),
            eventCount: stored.length,
            ...(lastEvent ? { lastEvent } : {}),
            gsi1pk: `ENV#${record.environment}`,
            gsi1sk: `${record.startedAt}#${record.releaseId}`,
            gsi2pk: ALL_RELEASES,
            gsi2sk: `${record.startedAt}#${record.releaseId}`,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      // An earlier attempt of the same release already wrote it: keep the first record.
      if (hasErrorName(error, 'ConditionalCheckFailedException')) return;
      throw error;
    }
    for (const [sequence, event] of stored.entries()) await this.putEvent(record.releaseId, sequence, event);
  }

  async getRelease(releaseId: string): Promise<ReleaseRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: releaseKey(releaseId), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const events: ReleaseEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :events)',
          ExpressionAttributeNames: { '#pk': RELEASE_TABLE.partitionKey, '#sk': RELEASE_TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': releaseKey(releaseId).pk, ':events': EVENT_SK_PREFIX },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      events.push(...(page.Items ?? []).map(toEvent));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return toRecord(out.Item, events);
  }

  async update(releaseId: string, change: ReleaseChange, event?: ReleaseEvent): Promise<void> {
    const fields = patchWrite(recordFields(change));
    const named = Object.entries(change.targets ?? {});
    const [only] = named;
    if (
      !changesTargets(change) ||
      (named.length === 1 && only && change.currentWave === undefined && !change.trippedBy)
    ) {
      // The record's own fields and at most one target: one conditional update, no read.
      const target = only ? targetWrite(only[0], only[1]) : undefined;
      const write: ReleaseWrite = target
        ? { ...target, ...merged(fields, target) }
        : { ...fields, condition: 'attribute_exists(pk)' };
      try {
        if (event) await this.writeWithEvent(releaseId, write, event);
        else if (write.sets.length > 0) await this.write(releaseId, write);
      } catch (error) {
        if (error instanceof MissingRelease) {
          // The record is missing, or (a target write) the target is.
          if (only) await this.requireRecord(releaseId);
          throw only
            ? new UnknownTarget(`release ${releaseId} has no target "${only[0]}"`)
            : new Error(`release ${releaseId} has no record`);
        }
        throw error;
      }
      return;
    }
    // The wave, the target that tripped or several targets (a 100-target change outgrows one UpdateExpression):
    // read, change, and write back only if no other targets write came between (the revision each one adds to).
    for (let attempt = 0; attempt < TARGETS_WRITE_ATTEMPTS; attempt++) {
      const out = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: releaseKey(releaseId), ConsistentRead: true }),
      );
      if (!out.Item) throw new Error(`release ${releaseId} has no record`);
      const item = plain(targetsItem(withTargetChanges(releaseId, targetsOf(out.Item), change)));
      const revision = out.Item.targetsRevision as number | undefined;
      const write: ReleaseWrite = {
        sets: [...fields.sets, '#targetSet = :targetSet', '#targets = :targets'],
        names: {
          ...fields.names,
          '#targetSet': 'targetSet',
          '#targets': 'targets',
          '#targetsRevision': 'targetsRevision',
        },
        values: {
          ...fields.values,
          ':targetSet': item.targetSet,
          ':targets': item.targets,
          ...(revision === undefined ? {} : { ':revision': revision }),
        },
        // A record written before targets had a revision has none yet: the first targets write adds it.
        condition: revision === undefined ? 'attribute_not_exists(#targetsRevision)' : '#targetsRevision = :revision',
        kind: 'targets',
      };
      try {
        if (event) await this.writeWithEvent(releaseId, write, event);
        else await this.write(releaseId, write);
        return;
      } catch (error) {
        if (!(error instanceof MissingRelease)) throw error;
      }
    }
    throw new TransientFailure(`the targets of release ${releaseId} kept changing while they were being written`);
  }

  private async requireRecord(releaseId: string): Promise<void> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: releaseKey(releaseId), ConsistentRead: true }),
    );
    if (!out.Item) throw new Error(`release ${releaseId} has no record`);
  }

  async closeRelease(releaseId: string, close: ReleaseClose, event?: ReleaseEvent): Promise<CloseResult> {
    const patch = patchWrite(close);
    // The status is the condition: the first writer to end the record wins, a later one writes nothing.
    const write: ReleaseWrite = {
      ...patch,
      values: { ...patch.values, ':running': 'running' },
      condition: 'attribute_exists(pk) AND #status = :running',
      kind: 'close',
    };
    try {
      if (event) await this.writeWithEvent(releaseId, write, event);
      else {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: releaseKey(releaseId),
            UpdateExpression: `SET ${write.sets.join(', ')}`,
            ConditionExpression: write.condition,
            ExpressionAttributeNames: write.names,
            ExpressionAttributeValues: write.values,
          }),
        );
      }
      return { closed: true, status: close.status };
    } catch (error) {
      if (!(error instanceof MissingRelease || hasErrorName(error, 'ConditionalCheckFailedException'))) throw error;
      const out = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: releaseKey(releaseId), ConsistentRead: true }),
      );
      if (!out.Item) throw new Error(`release ${releaseId} has no record`);
      return { closed: false, status: out.Item.status as ReleaseStatus };
    }
  }

  /** One conditional update without an event; a targets write adds to the targets' revision. */
  private async write(releaseId: string, write: ReleaseWrite): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: releaseKey(releaseId),
          UpdateExpression: `SET ${write.sets.join(', ')}${write.kind === 'targets' ? ' ADD #targetsRevision :one' : ''}`,
          ConditionExpression: write.condition,
          ExpressionAttributeNames: {
            ...write.names,
            ...(write.kind === 'targets' ? { '#targetsRevision': 'targetsRevision' } : {}),
          },
          ExpressionAttributeValues: { ...write.values, ...(write.kind === 'targets' ? { ':one': 1 } : {}) },
        }),
      );
    } catch (error) {
      if (hasErrorName(error, 'ConditionalCheckFailedException')) throw new MissingRelease(releaseId);
      throw error;
    }
  }

  /**
   * The write, the state its event sets, the latest event and the next sequence number in one conditional update
   * (ADD is atomic, so two writers never take the same number); then the event's own item. If that second write
   * fails, the task's retry writes the event again, and the release item already shows it as its latest.
   */
  private async writeWithEvent(releaseId: string, write: ReleaseWrite, event: ReleaseEvent): Promise<void> {
    const sets = [...write.sets];
    const names = { ...write.names };
    const values = { ...write.values };
    const stored = boundedEvent(event);
    // The typed state the event sets, in the same update as the event: a reader never sees one without the other.
    const change = stateChange(event);
    const removes: string[] = [];
    for (const [field, value] of Object.entries(change.set)) {
      sets.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = plain(value);
    }
    for (const [field, value] of Object.entries(change.setOnce)) {
      sets.push(`#${field} = if_not_exists(#${field}, :${field})`);
      names[`#${field}`] = field;
      values[`:${field}`] = plain(value);
    }
    if (change.append.notedDuplicates) {
      sets.push('#notedDuplicates = list_append(if_not_exists(#notedDuplicates, :noneNoted), :notedDuplicates)');
      names['#notedDuplicates'] = 'notedDuplicates';
      values[':noneNoted'] = [];
      values[':notedDuplicates'] = [...change.append.notedDuplicates];
    }
    for (const field of change.clear) {
      removes.push(`#${field}`);
      names[`#${field}`] = field;
    }
    const remove = removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : '';
    // Targets writes add to the targets' revision too, so a read-change-write of the whole set sees them.
    const targetsWrite = write.kind === 'targets';
    let sequence: number;
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: releaseKey(releaseId),
          UpdateExpression: `SET ${[...sets, '#lastEvent = :event'].join(', ')}${remove} ADD #eventCount :one${targetsWrite ? ', #targetsRevision :one' : ''}`,
          ConditionExpression: write.condition,
          ExpressionAttributeNames: {
            ...names,
            '#eventCount': 'eventCount',
            '#lastEvent': 'lastEvent',
            ...(targetsWrite ? { '#targetsRevision': 'targetsRevision' } : {}),
          },
          ExpressionAttributeValues: { ...values, ':one': 1, ':event': stored },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      sequence = Number(out.Attributes?.eventCount ?? 1) - 1;
    } catch (error) {
      if (hasErrorName(error, 'ConditionalCheckFailedException')) {
        if (write.kind === undefined) throw new Error(`release ${releaseId} has no record`);
        throw new MissingRelease(releaseId);
      }
      throw error;
    }
    await this.putEvent(releaseId, sequence, stored);
  }

  private async putEvent(releaseId: string, sequence: number, event: ReleaseEvent): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...event, ...eventKey(releaseId, sequence) } }),
    );
  }

  async listReleases(filter: ReleaseFilter): Promise<ReleasePage> {
    const limit = Math.min(Math.max(1, filter.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
    const index = filter.environment ? RELEASE_TABLE.byEnvironmentIndex : RELEASE_TABLE.byStartedAtIndex;
    const base: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: index.indexName,
      KeyConditionExpression: '#gpk = :gpk',
      ExpressionAttributeNames: { '#gpk': index.partitionKey, ...(filter.status ? { '#status': 'status' } : {}) },
      ExpressionAttributeValues: {
        ':gpk': filter.environment ? `ENV#${filter.environment}` : ALL_RELEASES,
        ...(filter.status ? { ':status': filter.status } : {}),
      },
      ...(filter.status ? { FilterExpression: '#status = :status' } : {}),
      ScanIndexForward: false,
      Limit: limit,
    };

    const items: Record<string, unknown>[] = [];
    let startKey = filter.cursor ? checkedStartKey(decodeCursor(filter.cursor)) : undefined;
    for (let queries = 0; queries < MAX_QUERIES_PER_PAGE; queries++) {
      const page = await this.client.send(new QueryCommand({ ...base, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) {
        if (items.length === limit) {
          // More matched than fit: the next page starts after the last item returned.
          return this.page(items, index);
        }
        items.push(item);
      }
      startKey = page.LastEvaluatedKey;
      if (!startKey) return { releases: await this.records(items) };
      if (items.length === limit) break;
    }
    return startKey
      ? { releases: await this.records(items), nextCursor: encodeCursor(startKey) }
      : this.page(items, index);
  }

  private async page(
    items: Record<string, unknown>[],
    index: { partitionKey: string; sortKey: string },
  ): Promise<ReleasePage> {
    const last = items.at(-1);
    if (!last) return { releases: [] };
    const key = {
      pk: last.pk,
      sk: last.sk,
      [index.partitionKey]: last[index.partitionKey],
      [index.sortKey]: last[index.sortKey],
    };
    return { releases: await this.records(items), nextCursor: encodeCursor(key) };
  }

  /**
   * The release records of index entries (keys and status), read from the table in the entries' order. A release
   * removed between the query and the read is left out.
   */
  private async records(entries: readonly Record<string, unknown>[]): Promise<ReleaseRecord[]> {
    const found = new Map<string, Record<string, unknown>>();
    let keys: Record<string, unknown>[] = entries.map((e) => ({ pk: e.pk, sk: e.sk }));
    for (let round = 0; keys.length > 0; round++) {
      if (round === MAX_BATCH_GET_ROUNDS) {
        throw new TransientFailure(
          `release list: ${keys.length} records still unread after ${round} BatchGetItem calls`,
        );
      }
      const out = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }));
      for (const item of out.Responses?.[this.tableName] ?? []) found.set(String(item.pk), item);
      keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
    return entries.flatMap((e) => {
      const item = found.get(String(e.pk));
      return item ? [toRecord(item)] : [];
    });
  }
}
