import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ConditionalCheckFailedException, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { NonceStoreUnavailable } from './errors.ts';
import type { NonceStore } from './nonce-cache.ts';

/**
 * Nonce stores every instance of the API shares, so a request replayed to another instance, another version or the
 * green stage is caught as surely as one replayed to the same instance. Keys are stored as their SHA-256: the key
 * names the client's API key, which is a credential too.
 */
const keyDigest = (key: string) => createHash('sha256').update(key).digest('hex');

/** The nonce table's schema, as infra/terraform/modules/app-environment/nonces.tf creates it. */
export const NONCE_TABLE = {
  partitionKey: 'pk',
  /** Epoch seconds; the table's TTL attribute, so DynamoDB deletes spent nonces in the background. */
  expiresAt: 'expiresAt',
} as const;

/** The slice of the DynamoDB client the store uses, so callers and tests can bring their own. */
export type NonceTableClient = Pick<DynamoDBClient, 'send'>;

export interface DynamoDbNonceStoreOptions {
  readonly client: NonceTableClient;
  readonly tableName: string;
  readonly nowSeconds: () => number;
}

/**
 * One conditional PutItem per request: it writes the nonce only when no live item holds it, atomically, whichever
 * instance asks (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html; a failed condition
 * is `ConditionalCheckFailedException`). TTL deletes expired items lazily, typically within days, and until then they
 * still show in reads and writes
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ttl-expired-items.html), so the condition also
 * lets a write replace an item whose expiry has passed. Any other failure refuses the request (503): an unchecked
 * nonce is never accepted.
 */
export class DynamoDbNonceStore implements NonceStore {
  constructor(private readonly options: DynamoDbNonceStoreOptions) {}

  async remember(key: string, expiresAtSeconds: number): Promise<boolean> {
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: {
            [NONCE_TABLE.partitionKey]: { S: keyDigest(key) },
            [NONCE_TABLE.expiresAt]: { N: String(expiresAtSeconds) },
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt < :now',
          ExpressionAttributeNames: { '#pk': NONCE_TABLE.partitionKey, '#expiresAt': NONCE_TABLE.expiresAt },
          ExpressionAttributeValues: { ':now': { N: String(this.options.nowSeconds()) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      const name = error instanceof Error ? error.name : 'Error';
      throw new NonceStoreUnavailable(`the nonce table could not be written (${name})`);
    }
  }
}

export interface FileNonceStoreOptions {
  /** One file per remembered nonce. */
  readonly dir: string;
  readonly nowSeconds: () => number;
  /** Spent nonces are swept every this many calls. @default 1000 */
  readonly sweepEvery?: number;
}

/**
 * The local runtime's shared store: every version runs in its own worker of one process, so an exclusive file
 * create (`wx`: it fails when the file exists) is the atomic "put if absent" the DynamoDB store gets from its
 * condition. A file's modification time is its nonce's expiry.
 */
export class FileNonceStore implements NonceStore {
  #calls = 0;

  constructor(private readonly options: FileNonceStoreOptions) {
    mkdirSync(options.dir, { recursive: true });
  }

  remember(key: string, expiresAtSeconds: number): boolean {
    const now = this.options.nowSeconds();
    if (++this.#calls % (this.options.sweepEvery ?? 1000) === 0) this.#sweep(now);
    const file = join(this.options.dir, keyDigest(key));
    if (this.#create(file, expiresAtSeconds)) return true;
    // Taken: still live, or spent and not swept yet (then the one caller whose create wins takes it over).
    if (this.#expiry(file) >= now) return false;
    rmSync(file, { force: true });
    return this.#create(file, expiresAtSeconds);
  }

  #create(file: string, expiresAtSeconds: number): boolean {
    try {
      closeSync(openSync(file, 'wx', 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new NonceStoreUnavailable(`the nonce directory could not be written (${(error as Error).message})`);
    }
    utimesSync(file, expiresAtSeconds, expiresAtSeconds);
    return true;
  }

  #expiry(file: string): number {
    try {
      return Math.floor(statSync(file).mtimeMs / 1000);
    } catch {
      return Number.NEGATIVE_INFINITY;
    }
  }

  #sweep(now: number): void {
    for (const name of readdirSync(this.options.dir)) {
      const file = join(this.options.dir, name);
      if (this.#expiry(file) < now) rmSync(file, { force: true });
    }
  }
}
