import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe } from 'vitest';
import { DynamoDbReleaseStore } from '../../adapters/aws/dynamodb-release-store.ts';
import { MemoryReleaseStore } from '../../adapters/memory/memory-release-store.ts';
import { SqliteReleaseStore } from '../../local/sqlite-release-store.ts';
import { fakeDynamoDbTable } from './aws-fakes/dynamodb-table.ts';
import { type DynaliteTable, dynaliteTable } from './dynalite-table.ts';
import { describeReleaseStoreContract } from './release-store.contract.ts';

describeReleaseStoreContract('MemoryReleaseStore', () => new MemoryReleaseStore());

describeReleaseStoreContract('DynamoDbReleaseStore over a fake table', () => {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  fakeDynamoDbTable(client, 'switchyard-releases');
  return new DynamoDbReleaseStore({ tableName: 'switchyard-releases', client });
});

// An in-memory database: the same SQL as the local runtime's file, and nothing left behind in the temp directory.
describeReleaseStoreContract('SqliteReleaseStore (the local runtime)', () => new SqliteReleaseStore(':memory:'));

describe('on dynalite (an independent DynamoDB implementation)', () => {
  const opened: DynaliteTable[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((t) => t.close()));
  });
  describeReleaseStoreContract('DynamoDbReleaseStore on dynalite', async () => {
    const table = await dynaliteTable();
    opened.push(table);
    return new DynamoDbReleaseStore({ tableName: table.tableName, client: table.client });
  });
});
