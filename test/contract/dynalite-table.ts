import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { NONCE_TABLE } from '../../app/shared-nonce-stores.ts';
import { RELEASE_TABLE } from '../../contract/release-table.ts';

export interface DynaliteTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  close(): Promise<void>;
}

let tables = 0;

/**
 * An independent DynamoDB implementation (dynalite, in memory) started in this process on 127.0.0.1 and a random
 * port, with the release table's key schema and both listing indexes as infra/release-table.ts creates them.
 */
export async function dynaliteTable(): Promise<DynaliteTable> {
  const { raw, close } = await startDynalite();
  const tableName = `switchyard-releases-${++tables}`;
  await createReleaseTable(raw, tableName);
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return {
    client,
    tableName,
    close,
  };
}

/** The release table's key schema and both listing indexes, as infra/release-table.ts creates them. */
export async function createReleaseTable(raw: DynamoDBClient, tableName: string): Promise<void> {
  const key = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  const indexes = [RELEASE_TABLE.byEnvironmentIndex, RELEASE_TABLE.byStartedAtIndex];
  await raw.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        key(RELEASE_TABLE.partitionKey),
        key(RELEASE_TABLE.sortKey),
        ...indexes.flatMap((i) => [key(i.partitionKey), key(i.sortKey)]),
      ],
      KeySchema: [
        { AttributeName: RELEASE_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: RELEASE_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: indexes.map((i) => ({
        IndexName: i.indexName,
        KeySchema: [
          { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...RELEASE_TABLE.listingAttributes] },
      })),
    }),
  );
}

/** dynalite on 127.0.0.1 and a random port, with a client for it. */
export async function startDynalite(): Promise<{ raw: DynamoDBClient; endpoint: string; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const raw = new DynamoDBClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    raw,
    endpoint,
    close: async () => {
      raw.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The app's nonce table as the Terraform module creates it (nonces.tf): a string `pk`, TTL on `expiresAt`. */
export async function dynaliteNonceTable(): Promise<{
  readonly raw: DynamoDBClient;
  readonly endpoint: string;
  readonly tableName: string;
  close(): Promise<void>;
}> {
  const started = await startDynalite();
  const tableName = `switchyard-api-nonces-${++tables}`;
  await started.raw.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: NONCE_TABLE.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: NONCE_TABLE.partitionKey, KeyType: 'HASH' }],
    }),
  );
  return { ...started, tableName };
}
