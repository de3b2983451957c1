import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../app/handler.ts';
import { appDepsFromEnvironment } from '../../app/index.ts';
import { signRequest } from '../../app/signing-client.ts';
import { dynaliteNonceTable } from '../contract/dynalite-table.ts';
import { clientKeysDocument, errorCode, restEvent, SMOKE_CLIENT } from './request-builders.ts';

let table: Awaited<ReturnType<typeof dynaliteNonceTable>>;
let dir: string;

beforeAll(async () => {
  table = await dynaliteNonceTable();
  dir = await mkdtemp(join(tmpdir(), 'switchyard-replay-'));
  await writeFile(join(dir, 'keys.json'), JSON.stringify(clientKeysDocument()));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await table?.close();
  await rm(dir, { recursive: true, force: true });
});

/** One Lambda instance of the API, built from its environment as index.handler builds it at cold start. */
function instance(env: Record<string, string>) {
  return createHandler(appDepsFromEnvironment({ SWITCHYARD_CLIENT_KEYS_FILE: join(dir, 'keys.json'), ...env }));
}

const signedOrders = () =>
  restEvent({ path: '/orders', headers: { ...signRequest({ ...SMOKE_CLIENT, method: 'GET', path: '/orders' }) } });

describe('one signed request replayed to two instances of the API', () => {
  it('with the nonce table Terraform sets (SWITCHYARD_NONCE_TABLE): 200 on the first, 401 NonceReplayed on the second', async () => {
    // The SDK's own variables, as Lambda provides region and credentials; the endpoint points it at dynalite.
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', table.endpoint);
    const [a, b] = [
      instance({ SWITCHYARD_NONCE_TABLE: table.tableName }),
      instance({ SWITCHYARD_NONCE_TABLE: table.tableName }),
    ];
    const event = signedOrders();
    const first = await a(event);
    expect(first.statusCode).toBe(200);
    const replayed = await b(event);
    expect(replayed.statusCode).toBe(401);
    expect(errorCode(replayed)).toBe('NonceReplayed');
    // And back on the first instance too.
    expect(errorCode(await a(event))).toBe('NonceReplayed');
  });

  it('with the local directory store (SWITCHYARD_NONCE_DIR): the same', async () => {
    const env = { SWITCHYARD_NONCE_DIR: join(dir, 'nonces') };
    const [a, b] = [instance(env), instance(env)];
    const event = signedOrders();
    expect((await a(event)).statusCode).toBe(200);
    expect(errorCode(await b(event))).toBe('NonceReplayed');
  });

  it('without a shared store each instance only knows its own nonces (the per-instance limit the table closes)', async () => {
    const [a, b] = [instance({}), instance({})];
    const event = signedOrders();
    expect((await a(event)).statusCode).toBe(200);
    expect((await b(event)).statusCode).toBe(200);
    expect(errorCode(await a(event))).toBe('NonceReplayed');
  });
});
