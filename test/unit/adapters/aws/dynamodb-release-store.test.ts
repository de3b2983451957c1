import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoDbReleaseStore,
  InvalidCursor,
  MAX_EVENT_BYTES,
  RELEASE_TABLE,
} from '../../../../adapters/aws/dynamodb-release-store.ts';
import type { LockHolder, ReleaseEvent, ReleaseRecord } from '../../../../core/ports.ts';
import { singleTarget } from '../../../../core/ports.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLE = 'switchyard-releases';
const store = () =>
  new DynamoDbReleaseStore({
    tableName: TABLE,
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
  });
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const holder: LockHolder = {
  releaseId: 'rel-1',
  executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:switchyard:rel-1',
  acquiredAt: '2026-11-26T10:00:00.000Z',
  expiresAt: '2026-11-26T12:00:00.000Z',
};
const NOW = new Date('2026-11-26T10:00:00.500Z');

function record(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    releaseId: 'rel-1',
    executionArn: holder.executionArn,
    environment: 'prod',
    targets: singleTarget({ functionName: 'orders-api-prod', blueVersion: '7' }),
    imageUri: 'registry/orders-api@sha256:abc',
    digest: 'sha256:abc',
    status: 'running',
    startedAt: '2026-11-26T10:00:00.000Z',
    trigger: 'api:alice',
    events: [{ at: '2026-11-26T10:00:00.000Z', kind: 'validated', summary: 'ok' }],
    ...overrides,
  };
}

/** A record as the release item holds it: its targets as `targetSet` and a `targets` map by name, with their order. */
function itemOf(from: ReleaseRecord): Record<string, unknown> {
  const { targets, ...rest } = from;
  const { members, ...targetSet } = targets;
  return {
    ...rest,
    targetSet,
    targets: Object.fromEntries(members.map((m, order) => [m.name, { ...m, order }])),
    targetsRevision: 0,
  };
}

beforeEach(() => {
  ddb.reset();
});

describe('RELEASE_TABLE', () => {
  it('names the keys, the TTL attribute and both indexes for the stack that creates the table', () => {
    expect(RELEASE_TABLE).toEqual({
      partitionKey: 'pk',
      sortKey: 'sk',
      ttlAttribute: 'expiresAtEpoch',
      byEnvironmentIndex: { indexName: 'byEnvironment', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
      byStartedAtIndex: { indexName: 'byStartedAt', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
      listingAttributes: ['status'],
    });
  });

  it('needs a table name', () => {
    expect(() => new DynamoDbReleaseStore({ tableName: '' })).toThrow('tableName');
  });
});

describe('acquireLock', () => {
  it('writes the lock only when free, expired or already held by the same release', async () => {
    ddb.on(PutCommand).resolves({});

    expect(await store().acquireLock('orders-api-prod#prod', holder, NOW)).toEqual({ acquired: true });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: { pk: 'LOCK#orders-api-prod#prod', sk: 'LOCK', ...holder, expiresAtEpoch: 1795694400 },
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAtEpoch < :now OR releaseId = :releaseId',
      ExpressionAttributeValues: { ':now': 1795687200, ':releaseId': 'rel-1' },
    });
  });

  it('is refused with the holder, read consistently, when another release holds it', async () => {
    const other = { ...holder, releaseId: 'rel-0' };
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: { pk: 'LOCK#k', sk: 'LOCK', ...other, expiresAtEpoch: 1 } });

    expect(await store().acquireLock('k', holder, NOW)).toEqual({ acquired: false, holder: other });
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'LOCK#k', sk: 'LOCK' },
      ConsistentRead: true,
    });
  });

  it('tries again when the holder let go between the refusal and the read', async () => {
    ddb.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    ddb.on(GetCommand).resolves({});

    expect(await store().acquireLock('k', holder, NOW)).toEqual({ acquired: true });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('gives up with a TransientFailure when the lock keeps changing hands', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({});
    await expect(store().acquireLock('k', holder, NOW)).rejects.toMatchObject({ name: 'TransientFailure' });
  });

  it('passes throttling through', async () => {
    ddb.on(PutCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(store().acquireLock('k', holder, NOW)).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
  });
});

describe('releaseLock and getLock', () => {
  it('deletes the lock only for its holder', async () => {
    ddb.on(DeleteCommand).resolves({});
    expect(await store().releaseLock('k', 'rel-1')).toBe(true);
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'LOCK#k', sk: 'LOCK' },
      ConditionExpression: 'releaseId = :releaseId',
      ExpressionAttributeValues: { ':releaseId': 'rel-1' },
    });
  });

  it('returns false when another release holds the lock or none does', async () => {
    ddb.on(DeleteCommand).rejects(conditionFailed());
    expect(await store().releaseLock('k', 'rel-2')).toBe(false);
  });

  it('passes other delete errors through', async () => {
    ddb.on(DeleteCommand).rejects(new Error('network down'));
    await expect(store().releaseLock('k', 'rel-2')).rejects.toThrow('network down');
  });

  it('reads the holder without the table attributes, or undefined when free', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { pk: 'LOCK#k', sk: 'LOCK', ...holder, expiresAtEpoch: 1 } })
      .resolves({});
    expect(await store().getLock('k')).toEqual(holder);
    expect(await store().getLock('k')).toBeUndefined();
  });
});

describe('createRelease', () => {
  it('writes the record once, with the keys of both listing indexes, then each event as an item of its own', async () => {
    ddb.on(PutCommand).resolves({});
    await store().createRelease(record());
    const { events, ...summary } = itemOf(record()) as ReturnType<typeof itemOf> & { events: ReleaseEvent[] };
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        ...summary,
        eventCount: 1,
        lastEvent: events[0],
        pk: 'RELEASE#rel-1',
        sk: 'RELEASE',
        gsi1pk: 'ENV#prod',
        gsi1sk: '2026-11-26T10:00:00.000Z#rel-1',
        gsi2pk: 'RELEASE',
        gsi2sk: '2026-11-26T10:00:00.000Z#rel-1',
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(ddb.commandCalls(PutCommand)[1]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: { ...events[0], pk: 'RELEASE#rel-1', sk: 'EVENT#00000000' },
    });
  });

  it('leaves the first record in place when a retry writes it again', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    await expect(store().createRelease(record())).resolves.toBeUndefined();
  });

  it('passes other errors through', async () => {
    ddb.on(PutCommand).rejects(new Error('validation'));
    await expect(store().createRelease(record())).rejects.toThrow('validation');
  });

  it('drops undefined evidence values DynamoDB cannot store', async () => {
    ddb.on(PutCommand).resolves({});
    const evidence = { plan: [], preexistingAlarms: [], unverifiedLiveVersion: null, requestReason: undefined };
    await store().createRelease(record({ events: [{ at: 'now', kind: 'validated', summary: 's', evidence }] }));
    const item = ddb.commandCalls(PutCommand)[1]?.args[0].input.Item;
    const kept = { plan: [], preexistingAlarms: [], unverifiedLiveVersion: null };
    expect(item).toMatchObject({ at: 'now', kind: 'validated', summary: 's', evidence: kept });
    expect(item?.evidence).toEqual(kept);
    expect(Object.keys(item?.evidence ?? {})).not.toContain('requestReason');
  });
});

describe('getRelease', () => {
  it('reads an item written before targets (its versions on the item itself) as one target', async () => {
    const { events, targets: _targets, ...rest } = record();
    const summary = { ...rest, functionName: 'orders-api-prod', blueVersion: null, greenVersion: '8' };
    ddb.on(GetCommand).resolves({
      Item: { ...summary, eventCount: 2, lastEvent: events[0], pk: 'RELEASE#rel-1', sk: 'RELEASE', gsi1pk: 'x' },
    });
    const later: ReleaseEvent = {
      at: '2026-11-26T10:05:00.000Z',
      kind: 'deployed',
      summary: 'green → 8',
      evidence: { version: '8', codeSha256: 'abc', reused: false },
    };
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ ...events[0], pk: 'RELEASE#rel-1', sk: 'EVENT#00000000' }],
        LastEvaluatedKey: { pk: 'RELEASE#rel-1', sk: 'EVENT#00000000' },
      })
      .resolvesOnce({ Items: [{ ...later, pk: 'RELEASE#rel-1', sk: 'EVENT#00000001' }] });
    expect(await store().getRelease('rel-1')).toEqual(
      record({
        targets: singleTarget({ functionName: 'orders-api-prod', blueVersion: null, greenVersion: '8' }),
        events: [...events, later],
      }),
    );
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'RELEASE#rel-1', sk: 'RELEASE' },
      ConsistentRead: true,
    });
    expect(ddb.commandCalls(QueryCommand)[1]?.args[0].input).toMatchObject({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :events)',
      ExpressionAttributeValues: { ':pk': 'RELEASE#rel-1', ':events': 'EVENT#' },
      ConsistentRead: true,
      ExclusiveStartKey: { pk: 'RELEASE#rel-1', sk: 'EVENT#00000000' },
    });
  });

  it('is undefined for an unknown release', async () => {
    ddb.on(GetCommand).resolves({});
    expect(await store().getRelease('nope')).toBeUndefined();
  });
});

describe('updateRelease', () => {
  it('sets the patched fields and the latest event, takes the next sequence number, then writes the event item', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { eventCount: 5 } });
    ddb.on(PutCommand).resolves({});
    const event: ReleaseEvent = {
      at: '2026-11-26T10:20:00.000Z',
      kind: 'released',
      summary: 'live → 8',
      evidence: { lastCheck: null, warnings: [] },
    };

    await store().update('rel-1', { status: 'released', endedAt: event.at, reason: undefined }, event);

    // A release ends any wait for approval: its typed state goes in the same update.
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'RELEASE#rel-1', sk: 'RELEASE' },
      UpdateExpression:
        'SET #status = :status, #endedAt = :endedAt, #lastEvent = :event REMOVE #awaitingApproval, #currentStep, #paused ADD #eventCount :one',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#endedAt': 'endedAt',
        '#awaitingApproval': 'awaitingApproval',
        '#currentStep': 'currentStep',
        '#paused': 'paused',
        '#eventCount': 'eventCount',
        '#lastEvent': 'lastEvent',
      },
      ExpressionAttributeValues: { ':status': 'released', ':endedAt': event.at, ':one': 1, ':event': event },
      ReturnValues: 'UPDATED_NEW',
    });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: { ...event, pk: 'RELEASE#rel-1', sk: 'EVENT#00000004' },
    });
  });

  it('sets the typed state an event causes in the same update as the event', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { eventCount: 3 } });
    ddb.on(PutCommand).resolves({});
    const warnings = ['step 1 (10%) promoted without enough traffic to judge'];
    const released: ReleaseEvent = {
      at: '2026-11-26T10:20:00.000Z',
      kind: 'released',
      summary: 'live → 8',
      evidence: { lastCheck: null, warnings },
    };
    const fastForward: ReleaseEvent = {
      at: '2026-11-26T10:10:00.000Z',
      kind: 'fast-forward-requested',
      summary: 'fast-forward requested by bob: hotfix',
      evidence: { by: 'bob', reason: 'hotfix' },
    };

    await store().update('rel-1', {}, fastForward);
    await store().update('rel-1', { status: 'released', endedAt: released.at }, released);

    const [first, second] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(first).toMatchObject({
      UpdateExpression:
        'SET #fastForwardRequested = if_not_exists(#fastForwardRequested, :fastForwardRequested), ' +
        '#lastEvent = :event ADD #eventCount :one',
      ExpressionAttributeValues: { ':fastForwardRequested': fastForward, ':event': fastForward },
    });
    expect(second).toMatchObject({
      UpdateExpression:
        'SET #status = :status, #endedAt = :endedAt, #releasedWithWarnings = :releasedWithWarnings, ' +
        '#lastEvent = :event REMOVE #awaitingApproval, #currentStep, #paused ADD #eventCount :one',
      ExpressionAttributeNames: {
        '#releasedWithWarnings': 'releasedWithWarnings',
        '#awaitingApproval': 'awaitingApproval',
      },
      ExpressionAttributeValues: { ':releasedWithWarnings': warnings },
    });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('reads the typed state back from the release item, and an item without it as the defaults', async () => {
    const { events, ...summary } = itemOf(record()) as ReturnType<typeof itemOf> & { events: ReleaseEvent[] };
    const item = { ...summary, eventCount: 1, lastEvent: events[0], pk: 'RELEASE#rel-1', sk: 'RELEASE' };
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: item })
      .resolvesOnce({
        Item: {
          ...item,
          awaitingApproval: { requestedAt: 'a', expiresAt: 'b' },
          releasedWithWarnings: ['w'],
          notedDuplicates: ['copy-a'],
        },
      });
    const old = await store().getRelease('rel-1');
    expect(old).toEqual(record({ events: [] }));
    expect(await store().getRelease('rel-1')).toMatchObject({
      awaitingApproval: { requestedAt: 'a', expiresAt: 'b' },
      releasedWithWarnings: ['w'],
      notedDuplicates: ['copy-a'],
    });
  });

  it('keeps an oversized event to its kind, time and summary, saying how large its evidence was', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { eventCount: 1 } });
    ddb.on(PutCommand).resolves({});
    const huge: ReleaseEvent = {
      at: 'now',
      kind: 'verified',
      summary: 'ok',
      evidence: {
        checks: [
          { name: 'health', passed: true, expected: '200', observed: 'x'.repeat(MAX_EVENT_BYTES), durationMs: 1 },
        ],
      },
    };
    await store().update('rel-1', {}, huge);
    const item = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({ at: 'now', kind: 'verified', summary: 'ok' });
    expect(String((item?.evidence as { omitted?: string } | undefined)?.omitted)).toMatch(/exceeds the 16384 bytes/);
    expect(JSON.stringify(item).length).toBeLessThan(MAX_EVENT_BYTES);
  });

  it('sends nothing for an empty patch without an event', async () => {
    await store().update('rel-1', {});
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('refuses to create a record from an update', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(store().update('ghost', { status: 'failed' })).rejects.toThrow('release ghost has no record');
  });

  it('passes throttling through', async () => {
    ddb.on(UpdateCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow', $metadata: {} }));
    await expect(store().update('rel-1', { status: 'failed' })).rejects.toThrow('slow');
  });
});

describe('listReleases', () => {
  const item = (id: string, startedAt: string, env = 'prod') => ({
    ...(itemOf(record({ releaseId: id, startedAt, environment: env })) as unknown as ReleaseRecord),
    pk: `RELEASE#${id}`,
    sk: 'RELEASE',
    gsi1pk: `ENV#${env}`,
    gsi1sk: `${startedAt}#${id}`,
    gsi2pk: 'RELEASE',
    gsi2sk: `${startedAt}#${id}`,
  });
  /** What an index holds of an item: the keys and status (RELEASE_TABLE.listingAttributes). */
  const entry = (full: ReturnType<typeof item>) => {
    const { pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, status } = full;
    return { pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, status };
  };
  /** The table answers BatchGetItem with the full items of the keys asked for, in its own order (reversed here). */
  const table = (...items: ReturnType<typeof item>[]) =>
    ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { pk: string }[] }> }) => ({
      Responses: {
        [TABLE]: (input.RequestItems[TABLE]?.Keys ?? [])
          .flatMap((key) => items.filter((i) => i.pk === key.pk))
          .reverse(),
      },
    }));

  it('reads the records the index entries name from the table, in the index order', async () => {
    const [newer, older] = [item('rel-2', '2026-11-26T11:00:00Z'), item('rel-1', '2026-11-26T10:00:00Z')];
    ddb.on(QueryCommand).resolves({ Items: [entry(newer), entry(older)] });
    table(newer, older);
    const page = await store().listReleases({ environment: 'prod' });
    expect(page.releases.map((r) => r.releaseId)).toEqual(['rel-2', 'rel-1']);
    expect(page.releases[0]).toEqual(record({ releaseId: 'rel-2', startedAt: '2026-11-26T11:00:00Z', events: [] }));
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input).toEqual({
      RequestItems: {
        [TABLE]: {
          Keys: [
            { pk: 'RELEASE#rel-2', sk: 'RELEASE' },
            { pk: 'RELEASE#rel-1', sk: 'RELEASE' },
          ],
        },
      },
    });
  });

  it('reads keys the table left unprocessed again, and gives up with a TransientFailure after five rounds', async () => {
    const only = item('rel-1', 'a');
    ddb.on(QueryCommand).resolves({ Items: [entry(only)] });
    const unprocessed = { UnprocessedKeys: { [TABLE]: { Keys: [{ pk: only.pk, sk: only.sk }] } } };
    ddb
      .on(BatchGetCommand)
      .resolvesOnce(unprocessed)
      .resolvesOnce({ Responses: { [TABLE]: [only] } });
    expect((await store().listReleases({})).releases.map((r) => r.releaseId)).toEqual(['rel-1']);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);

    ddb.reset();
    ddb.on(QueryCommand).resolves({ Items: [entry(only)] });
    ddb.on(BatchGetCommand).resolves(unprocessed);
    await expect(store().listReleases({})).rejects.toMatchObject({ name: 'TransientFailure' });
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(5);
  });

  it('leaves out a release removed between the query and the read', async () => {
    const [kept, gone] = [item('rel-2', 'b'), item('rel-1', 'a')];
    ddb.on(QueryCommand).resolves({ Items: [entry(kept), entry(gone)] });
    table(kept);
    expect((await store().listReleases({})).releases.map((r) => r.releaseId)).toEqual(['rel-2']);
  });

  it('queries one environment newest first, filtered by status', async () => {
    const found = item('rel-2', '2026-11-26T11:00:00Z');
    ddb.on(QueryCommand).resolves({ Items: [entry(found)] });
    table(found);

    const page = await store().listReleases({ environment: 'prod', status: 'running', limit: 5 });

    expect(page).toEqual({ releases: [record({ releaseId: 'rel-2', startedAt: '2026-11-26T11:00:00Z', events: [] })] });
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      IndexName: 'byEnvironment',
      KeyConditionExpression: '#gpk = :gpk',
      ExpressionAttributeNames: { '#gpk': 'gsi1pk', '#status': 'status' },
      ExpressionAttributeValues: { ':gpk': 'ENV#prod', ':status': 'running' },
      FilterExpression: '#status = :status',
      ScanIndexForward: false,
      Limit: 5,
      ExclusiveStartKey: undefined,
    });
  });

  it('lists every environment from the all-releases index, 20 by default', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await store().listReleases({});
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      IndexName: 'byStartedAt',
      KeyConditionExpression: '#gpk = :gpk',
      ExpressionAttributeNames: { '#gpk': 'gsi2pk' },
      ExpressionAttributeValues: { ':gpk': 'RELEASE' },
      ScanIndexForward: false,
      Limit: 20,
      ExclusiveStartKey: undefined,
    });
  });

  it('hands back LastEvaluatedKey as an opaque cursor and resumes from it', async () => {
    const lastKey = { pk: 'RELEASE#rel-2', sk: 'RELEASE', gsi2pk: 'RELEASE', gsi2sk: 'x#rel-2' };
    const [third, second] = [item('rel-3', 'c'), item('rel-2', 'b')];
    ddb.on(QueryCommand).resolves({ Items: [entry(third), entry(second)], LastEvaluatedKey: lastKey });
    table(third, second);

    const first = await store().listReleases({ limit: 2 });
    expect(first.releases.map((r) => r.releaseId)).toEqual(['rel-3', 'rel-2']);
    expect(first.nextCursor).toBe(Buffer.from(JSON.stringify(lastKey)).toString('base64url'));

    ddb.on(QueryCommand).resolves({ Items: [] });
    await store().listReleases({ limit: 2, cursor: first.nextCursor });
    expect(ddb.commandCalls(QueryCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual(lastKey);
  });

  it('keeps reading while a status filter leaves the page short, and stops at the limit', async () => {
    const [fifth, fourth, third] = [item('rel-5', 'e'), item('rel-4', 'd'), item('rel-3', 'c')];
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [entry(fifth)], LastEvaluatedKey: { pk: 'a' } })
      .resolvesOnce({ Items: [entry(fourth), entry(third)], LastEvaluatedKey: { pk: 'b' } });
    table(fifth, fourth, third);

    const page = await store().listReleases({ environment: 'prod', status: 'running', limit: 2 });

    expect(page.releases.map((r) => r.releaseId)).toEqual(['rel-5', 'rel-4']);
    // The next page starts after rel-4, the last one returned, not after rel-3 which was read but not returned.
    expect(JSON.parse(Buffer.from(page.nextCursor ?? '', 'base64url').toString())).toEqual({
      pk: 'RELEASE#rel-4',
      sk: 'RELEASE',
      gsi1pk: 'ENV#prod',
      gsi1sk: 'd#rel-4',
    });
  });

  it('returns a short page with a cursor after a bounded number of reads', async () => {
    ddb.on(QueryCommand).resolves({ Items: [], LastEvaluatedKey: { pk: 'more' } });
    const page = await store().listReleases({ status: 'failed', limit: 10 });
    expect(page.releases).toEqual([]);
    expect(page.nextCursor).toBeDefined();
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(5);
  });

  it('rejects a cursor it did not issue', async () => {
    await expect(store().listReleases({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursor);
    await expect(store().listReleases({ cursor: Buffer.from('[1]').toString('base64url') })).rejects.toBeInstanceOf(
      InvalidCursor,
    );
  });
});
