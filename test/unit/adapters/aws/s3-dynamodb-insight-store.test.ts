import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CHANGE_SET_KEYS, S3DynamoDbInsightStore } from '../../../../adapters/aws/s3-dynamodb-insight-store.ts';
import type { ChangeSet } from '../../../../core/insight/change-set.ts';
import { releaseChanges } from '../../../../core/insight/release-changes.ts';

const s3 = mockClient(S3Client);
const documents = mockClient(DynamoDBDocumentClient);
const BUCKET = 'switchyard-state';
const TABLE = 'switchyard-releases';
const store = () =>
  new S3DynamoDbInsightStore({
    bucketName: BUCKET,
    tableName: TABLE,
    s3: new S3Client({ region: 'eu-west-1' }),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
  });

const changeSet: ChangeSet = {
  digest: `sha256:${'a'.repeat(64)}`,
  commit: 'b'.repeat(40),
  commits: [{ sha: 'b'.repeat(40), subject: 'Fix', author: 'Ada', time: '2026-01-01T00:00:00Z' }],
  commitsOmitted: 0,
  packages: [{ name: 'zod', version: '4.2.0' }],
  vulnerabilities: [],
  sbomKey: `sboms/sha256:${'a'.repeat(64)}.cdx.json`,
  recordedAt: '2026-01-01T00:00:00Z',
};
const body = (value: unknown) => ({ transformToString: async () => JSON.stringify(value) }) as never;
const named = (name: string) => Object.assign(new Error(name), { name });
const changes = releaseChanges({
  blueDigest: null,
  greenDigest: changeSet.digest,
  greenChain: [changeSet],
  computedAt: '2026-01-02T00:00:00Z',
});

beforeEach(() => {
  s3.reset();
  documents.reset();
});

describe('S3DynamoDbInsightStore', () => {
  it('reads a change set from the state bucket by digest, and by commit through its pointer', async () => {
    s3.on(GetObjectCommand, { Key: CHANGE_SET_KEYS.ofDigest(changeSet.digest) }).resolves({ Body: body(changeSet) });
    s3.on(GetObjectCommand, { Key: CHANGE_SET_KEYS.ofCommit(changeSet.commit) }).resolves({
      Body: body({ digest: changeSet.digest }),
    });
    expect(await store().getChangeSet(changeSet.digest)).toEqual(changeSet);
    expect(await store().changeSetOfCommit(changeSet.commit)).toEqual(changeSet);
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: `change-sets/${changeSet.digest}.json` },
      { Bucket: BUCKET, Key: `change-sets/commits/${changeSet.commit}.json` },
      { Bucket: BUCKET, Key: `change-sets/${changeSet.digest}.json` },
    ]);
  });

  it('answers none for a missing object, and throws anything else (a refused read is not "no change set")', async () => {
    s3.on(GetObjectCommand).rejectsOnce(named('NoSuchKey')).rejectsOnce(named('AccessDenied'));
    expect(await store().getChangeSet(changeSet.digest)).toBeUndefined();
    await expect(store().getChangeSet(changeSet.digest)).rejects.toThrow('AccessDenied');
  });

  it('refuses a stored change set that does not parse', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body({ ...changeSet, digest: 'nope' }) });
    await expect(store().getChangeSet(changeSet.digest)).rejects.toThrow(/at digest/);
  });

  it("keeps a release's diff once: a second put leaves the first and answers it", async () => {
    const first = { ...changes, summary: 'the first' };
    documents.on(PutCommand).resolvesOnce({}).rejectsOnce(named('ConditionalCheckFailedException'));
    documents.on(GetCommand).resolves({ Item: { pk: 'CHANGES#rel-1', sk: 'CHANGES', changes: first } });
    expect(await store().putReleaseChanges('rel-1', first)).toEqual(first);
    expect(await store().putReleaseChanges('rel-1', changes)).toEqual(first);
    expect(documents.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      TableName: TABLE,
      Item: { pk: 'CHANGES#rel-1', sk: 'CHANGES', releaseId: 'rel-1' },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(documents.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'CHANGES#rel-1', sk: 'CHANGES' },
      ConsistentRead: true,
    });
  });

  it('reads no diff for a release without one', async () => {
    documents.on(GetCommand).resolves({});
    expect(await store().getReleaseChanges('rel-2')).toBeUndefined();
  });
});
