import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppConfigInvalid, loadAppConfig } from '../../app/app-config.ts';
import { KeySourceNotConfigured } from '../../app/errors.ts';
import { appDepsFromEnvironment } from '../../app/index.ts';
import { signRequest } from '../../app/signing-client.ts';
import { clientKeysDocument, restEvent, SMOKE_CLIENT } from './request-builders.ts';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('index.handler', () => {
  it('reads its configuration from the environment at the first invocation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-index-'));
    try {
      const keysFile = join(dir, 'keys.json');
      await writeFile(keysFile, JSON.stringify(clientKeysDocument()));
      vi.stubEnv('AWS_LAMBDA_FUNCTION_VERSION', '17');
      vi.stubEnv('SWITCHYARD_CLIENT_KEYS_FILE', keysFile);
      const { handler } = await import('../../app/index.ts');
      const health = await handler(restEvent({ path: '/health' }));
      expect(JSON.parse(health.body)).toMatchObject({ version: '17' });
      const headers = signRequest({ ...SMOKE_CLIENT, method: 'GET', path: '/orders' });
      expect((await handler(restEvent({ path: '/orders', headers: { ...headers } }))).statusCode).toBe(200);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('appDepsFromEnvironment', () => {
  it('reads client keys from Secrets Manager when CLIENT_KEYS_SECRET_NAME is set', async () => {
    const secretsManager = mockClient(SecretsManagerClient);
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(clientKeysDocument()) });
    try {
      const deps = appDepsFromEnvironment({
        CLIENT_KEYS_SECRET_NAME: 'switchyard/app/client-keys',
        AWS_REGION: 'eu-west-1',
      });
      expect(deps.config.keySource).toEqual({
        kind: 'secret',
        secretName: 'switchyard/app/client-keys',
        maxAgeSeconds: 300,
      });
      expect(await deps.keys.lookup(SMOKE_CLIENT.apiKey)).toMatchObject({ clientId: SMOKE_CLIENT.clientId });
      expect(Math.abs(deps.nowSeconds() - Date.now() / 1000)).toBeLessThan(5);
      expect(deps.random()).toBeLessThan(1);
      await expect(deps.sleep(1)).resolves.toBeUndefined();
    } finally {
      secretsManager.restore();
    }
  });

  it('without a key source, signed routes are refused with KeySourceNotConfigured', async () => {
    const deps = appDepsFromEnvironment({});
    expect(deps.config.functionVersion).toBe('$LATEST');
    await expect(deps.keys.lookup('k')).rejects.toBeInstanceOf(KeySourceNotConfigured);
  });
});

describe('loadAppConfig', () => {
  it('prefers the local keys file over the secret and treats empty variables as unset', () => {
    const config = loadAppConfig({
      SWITCHYARD_CLIENT_KEYS_FILE: '/tmp/keys.json',
      CLIENT_KEYS_SECRET_NAME: 'ignored',
      MAX_BODY_BYTES: '',
      AWS_LAMBDA_FUNCTION_VERSION: '',
    });
    expect(config.keySource).toEqual({ kind: 'file', path: '/tmp/keys.json' });
    expect(config.maxBodyBytes).toBe(65536);
    expect(config.functionVersion).toBe('$LATEST');
  });

  it("accepts the secret's ARN as Terraform sets it (CLIENT_KEYS_SECRET_ARN)", () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:switchyard-api-prod/client-keys-AbCdEf';
    expect(loadAppConfig({ CLIENT_KEYS_SECRET_ARN: arn }).keySource).toEqual({
      kind: 'secret',
      secretName: arn,
      maxAgeSeconds: 300,
    });
  });

  it('fails fast on an invalid setting, naming it', () => {
    expect(() => loadAppConfig({ MAX_BODY_BYTES: 'lots' })).toThrow(AppConfigInvalid);
    expect(() => loadAppConfig({ CLIENT_KEYS_MAX_AGE_SECONDS: '-1' })).toThrow(/CLIENT_KEYS_MAX_AGE_SECONDS/);
  });
});
