import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../app/signing-client.ts';
import type { LocalGateway } from '../../local/gateway.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { localClient } from '../support/local-clients.ts';

let dataDir: string;
let runtime: LocalRuntime;
let gateway: LocalGateway;
let base: string;
let smoke: { apiKey: string; secret: string };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-replay-green-'));
  runtime = openLocalRuntime({ dataDir, speedup: 600 });
  const blue = await runtime.registry.build('switchyard-api', { commit: 'replay-blue' });
  const version = await runtime.bootstrap('dev', blue);
  // Green on a version of its own, as mid-release: another worker, with module state of its own.
  const green = await runtime.registry.build('switchyard-api', { commit: 'replay-green' });
  const { codeSha256 } = await runtime.functions.updateCodeAndWait(
    'switchyard-api-dev',
    `${blue.repositoryName}@${green.digest}`,
  );
  const published = await runtime.functions.publishVersion('switchyard-api-dev', 'replay-green', codeSha256);
  expect(published.version).not.toBe(version);
  await runtime.functions.updateAlias('switchyard-api-dev', 'green', published.version);
  gateway = runtime.gatewayFor('dev');
  base = await gateway.start();
  smoke = localClient(dataDir);
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await runtime?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('replaying one signed request locally', () => {
  it('through / then /green/ (two versions, two workers): 200, then 401 NonceReplayed', async () => {
    const headers = signRequest({ ...smoke, method: 'GET', path: '/orders' });
    const live = await fetch(`${base}/orders`, { headers: { ...headers } });
    expect(live.status).toBe(200);
    const replayed = await fetch(`${base}/green/orders`, { headers: { ...headers } });
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { error: { code: string } }).error.code).toBe('NonceReplayed');

    // The green stage does answer a fresh request: the refusal was the replay, not the stage.
    const fresh = signRequest({ ...smoke, method: 'GET', path: '/orders' });
    expect((await fetch(`${base}/green/orders`, { headers: { ...fresh } })).status).toBe(200);
  });
});
