import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type ChangeSet, parseChangeSet } from '../../core/insight/change-set.ts';
import type { InsightStore } from '../../core/insight/insight-store.ts';
import type { ReleaseChanges } from '../../core/insight/release-changes.ts';
import { hasErrorName } from './error-names.ts';

/**
 * Where the build stage records change sets in the state bucket (buildspec.yml, step build/change-set): the change
 * set by digest, a pointer from its commit to its digest, and the SBOM beside them.
 */
export const CHANGE_SET_KEYS = {
  prefix: 'change-sets/',
  ofDigest: (digest: string) => `change-sets/${digest}.json`,
  ofCommit: (commit: string) => `change-sets/commits/${commit}.json`,
  sbomPrefix: 'sboms/',
} as const;

let defaultS3: S3Client | undefined;
let defaultDocuments: DynamoDBDocumentClient | undefined;

function s3Client(): S3Client {
  defaultS3 ??= new S3Client({});
  return defaultS3;
}

function documentClient(): DynamoDBDocumentClient {
  defaultDocuments ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return defaultDocuments;
}

export interface S3DynamoDbInsightStoreOptions {
  /** The state bucket the build stage writes change sets to; without it, change sets cannot be read or written. */
  readonly bucketName?: string | undefined;
  /** The release table: a release's diff is one item beside its record (`pk = CHANGES#<release id>`). */
  readonly tableName: string;
  /** @default one `S3Client` per module */
  readonly s3?: S3Client;
  /** @default one document client per module */
  readonly documents?: DynamoDBDocumentClient;
}

const changesKey = (releaseId: string) => ({ pk: `CHANGES#${releaseId}`, sk: 'CHANGES' });

/**
 * Change sets from the state bucket (S3), release diffs in the release table (DynamoDB, one item each, at most
 * MAX_RELEASE_CHANGES_BYTES: well inside DynamoDB's 400 KB item limit). A missing object or item is `undefined`;
 * every other error is thrown.
 */
export class S3DynamoDbInsightStore implements InsightStore {
  private readonly s3: S3Client;
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly options: S3DynamoDbInsightStoreOptions) {
    if (!options.tableName) throw new Error('S3DynamoDbInsightStore needs a tableName');
    this.s3 = options.s3 ?? s3Client();
    this.documents = options.documents ?? documentClient();
  }

  private get bucket(): string {
    if (!this.options.bucketName)
      throw new Error('S3DynamoDbInsightStore was given no bucket: change sets are not granted');
    return this.options.bucketName;
  }

  private async readJson(key: string): Promise<unknown> {
    const bucket = this.bucket;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = await object.Body?.transformToString('utf8');
      return text === undefined ? undefined : (JSON.parse(text) as unknown);
    } catch (error) {
      // GetObject answers NoSuchKey for a missing key when the caller may list the bucket, AccessDenied otherwise;
      // this store's role may not list, so only NoSuchKey means "none" and AccessDenied is an error to see.
      if (hasErrorName(error, 'NoSuchKey')) return undefined;
      throw error;
    }
  }

  async getChangeSet(digest: string): Promise<ChangeSet | undefined> {
    const found = await this.readJson(CHANGE_SET_KEYS.ofDigest(digest));
    return found === undefined ? undefined : parseChangeSet(found);
  }

  async changeSetOfCommit(commit: string): Promise<ChangeSet | undefined> {
    const pointer = (await this.readJson(CHANGE_SET_KEYS.ofCommit(commit))) as { digest?: unknown } | undefined;
    return typeof pointer?.digest === 'string' ? this.getChangeSet(pointer.digest) : undefined;
  }

  async putReleaseChanges(releaseId: string, changes: ReleaseChanges): Promise<ReleaseChanges> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...changesKey(releaseId), releaseId, changes },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return changes;
    } catch (error) {
      if (!hasErrorName(error, 'ConditionalCheckFailedException')) throw error;
      // A retry of the release's start: the first diff stays.
      return (await this.getReleaseChanges(releaseId)) ?? changes;
    }
  }

  async getReleaseChanges(releaseId: string): Promise<ReleaseChanges | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.options.tableName, Key: changesKey(releaseId), ConsistentRead: true }),
    );
    return Item ? (Item.changes as ReleaseChanges) : undefined;
  }
}
