import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { NonceStoreUnavailable } from '../../app/errors.ts';
import { InMemoryNonceCache, type NonceStore } from '../../app/nonce-cache.ts';
import { DynamoDbNonceStore, FileNonceStore } from '../../app/shared-nonce-stores.ts';
import { dynaliteNonceTable } from './dynalite-table.ts';

let now = 1_767_225_600;
const nowSeconds = () => now;

/** Two handles on one store, as two instances of the API hold them (the in-memory cache has only its own). */
type StorePair = () => Promise<readonly [NonceStore, NonceStore]>;

function describeNonceStoreContract(name: string, pair: StorePair, shared: boolean) {
  describe(name, () => {
    it('remembers a nonce once: the second use is refused until it expires, then it is new again', async () => {
      const [store] = await pair();
      expect(await store.remember('key\nnonce-a', now + 300)).toBe(true);
      expect(await store.remember('key\nnonce-a', now + 300)).toBe(false);
      expect(await store.remember('key\nnonce-b', now + 300)).toBe(true);
      expect(await store.remember('other-key\nnonce-a', now + 300)).toBe(true);
      now += 301;
      expect(await store.remember('key\nnonce-a', now + 300)).toBe(true);
      expect(await store.remember('key\nnonce-a', now + 300)).toBe(false);
    });

    it('accepts exactly one of many concurrent uses of one nonce', async () => {
      const [store] = await pair();
      const answers = await Promise.all(Array.from({ length: 12 }, () => store.remember('key\nraced', now + 300)));
      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it(
      shared
        ? 'refuses on the second instance a nonce the first one accepted'
        : 'is per instance: the second instance has not seen the first one’s nonce',
      async () => {
        const [first, second] = await pair();
        expect(await first.remember('key\nacross', now + 300)).toBe(true);
        expect(await second.remember('key\nacross', now + 300)).toBe(!shared);
      },
    );
  });
}

describeNonceStoreContract(
  'InMemoryNonceCache (per instance)',
  async () => [new InMemoryNonceCache({ nowSeconds }), new InMemoryNonceCache({ nowSeconds })],
  false,
);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
describeNonceStoreContract(
  'FileNonceStore (the local runtime: one directory for every version)',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-nonces-'));
    dirs.push(dir);
    return [new FileNonceStore({ dir, nowSeconds }), new FileNonceStore({ dir, nowSeconds })];
  },
  true,
);

describe('on dynalite (an independent DynamoDB implementation)', () => {
  const tables: Awaited<ReturnType<typeof dynaliteNonceTable>>[] = [];
  afterAll(async () => {
    await Promise.all(tables.map((t) => t.close()));
  });
  const open = async () => {
    const table = await dynaliteNonceTable();
    tables.push(table);
    return table;
  };

  describeNonceStoreContract(
    'DynamoDbNonceStore',
    async () => {
      const table = await open();
      const store = () => new DynamoDbNonceStore({ client: table.raw, tableName: table.tableName, nowSeconds });
      return [store(), store()];
    },
    true,
  );

  it('stores the SHA-256 of the key (the API key is a credential) with its expiry for TTL', async () => {
    const table = await open();
    const store = new DynamoDbNonceStore({ client: table.raw, tableName: table.tableName, nowSeconds });
    await store.remember('secret-api-key\nnonce-x', now + 300);
    const pk = createHash('sha256').update('secret-api-key\nnonce-x').digest('hex');
    const { Item } = await table.raw.send(new GetItemCommand({ TableName: table.tableName, Key: { pk: { S: pk } } }));
    expect(Item).toEqual({ pk: { S: pk }, expiresAt: { N: String(now + 300) } });
  });

  it('refuses with NonceStoreUnavailable (503) when the table cannot be written, never accepting unchecked', async () => {
    const table = await open();
    const store = new DynamoDbNonceStore({ client: table.raw, tableName: 'no-such-table', nowSeconds });
    const refused = store.remember('key\nnonce', now + 300);
    await expect(refused).rejects.toBeInstanceOf(NonceStoreUnavailable);
    await expect(refused).rejects.toMatchObject({ statusCode: 503 });
  });
});

describe('the local directory store', () => {
  it('sweeps spent nonces, keeping live ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-nonces-'));
    dirs.push(dir);
    const store = new FileNonceStore({ dir, nowSeconds, sweepEvery: 3 });
    store.remember('key\nold', now + 10);
    now += 20;
    store.remember('key\nlive', now + 300);
    expect(readdirSync(dir)).toHaveLength(2);
    store.remember('key\nthird', now + 300);
    expect(readdirSync(dir)).toHaveLength(2);
    expect(store.remember('key\nlive', now + 300)).toBe(false);
  });
});
