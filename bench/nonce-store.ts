/**
 * What the shared nonce store adds to each signed request: the handler's latency with the per-instance cache,
 * with the local directory store and with the DynamoDB store (one conditional PutItem) against dynalite on
 * loopback, interleaved round by round so a busy moment on the shared machine hits all three.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createHandler } from '../app/handler.ts';
import { InMemoryNonceCache, type NonceStore } from '../app/nonce-cache.ts';
import { DynamoDbNonceStore, FileNonceStore, NONCE_TABLE } from '../app/shared-nonce-stores.ts';
import { benchDeps, benchNowSeconds, signedGetEvent } from './app.ts';

const ROUNDS = 7;
const PER_ROUND = 300;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

export interface NonceStoreFigures {
  readonly memoryMs: number;
  readonly directoryMs: number;
  readonly dynamoDbMs: number;
}

/** Median per-request handler latency (ms) with each store, over ROUNDS interleaved rounds. */
export async function benchNonceStores(): Promise<NonceStoreFigures> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-nonces-'));
  const write = process.stdout.write.bind(process.stdout);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: 'bench-nonces',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: NONCE_TABLE.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: NONCE_TABLE.partitionKey, KeyType: 'HASH' }],
      }),
    );
    const stores: Record<keyof NonceStoreFigures, NonceStore> = {
      memoryMs: new InMemoryNonceCache({ nowSeconds: benchNowSeconds }),
      directoryMs: new FileNonceStore({ dir, nowSeconds: benchNowSeconds }),
      dynamoDbMs: new DynamoDbNonceStore({ client, tableName: 'bench-nonces', nowSeconds: benchNowSeconds }),
    };
    const handlers = Object.fromEntries(
      Object.entries(stores).map(([name, store]) => [name, createHandler(benchDeps(store))]),
    ) as Record<keyof NonceStoreFigures, ReturnType<typeof createHandler>>;
    // Powertools writes a log line and an EMF blob per request: silenced, so the terminal is not the benchmark.
    process.stdout.write = (() => true) as typeof process.stdout.write;
    let sequence = 0;
    const round = async (name: keyof NonceStoreFigures) => {
      const started = performance.now();
      for (let i = 0; i < PER_ROUND; i++) {
        const response = await handlers[name](signedGetEvent(2_000_000 + sequence++));
        if (response.statusCode !== 200) throw new Error(`${name}: a fresh request got ${response.statusCode}`);
      }
      return (performance.now() - started) / PER_ROUND;
    };
    const samples: Record<keyof NonceStoreFigures, number[]> = { memoryMs: [], directoryMs: [], dynamoDbMs: [] };
    for (const name of Object.keys(samples) as (keyof NonceStoreFigures)[]) await round(name);
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of Object.keys(samples) as (keyof NonceStoreFigures)[]) samples[name].push(await round(name));
    }
    return {
      memoryMs: median(samples.memoryMs),
      directoryMs: median(samples.directoryMs),
      dynamoDbMs: median(samples.dynamoDbMs),
    };
  } finally {
    process.stdout.write = write;
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
}
