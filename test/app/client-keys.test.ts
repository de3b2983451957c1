import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileKeyStore, parseClientKeys, secretsManagerKeyStore, unconfiguredKeyStore } from '../../app/client-keys.ts';
import { KeySourceNotConfigured, KeyStoreUnavailable } from '../../app/errors.ts';
import { clientKeysDocument, SMOKE_CLIENT } from './request-builders.ts';

describe('parseClientKeys', () => {
  it('reads the documented shape into a table by API key', () => {
    const keys = parseClientKeys(JSON.stringify(clientKeysDocument()));
    expect(keys.get(SMOKE_CLIENT.apiKey)).toEqual({
      clientId: SMOKE_CLIENT.clientId,
      secrets: [SMOKE_CLIENT.secret, SMOKE_CLIENT.previousSecret],
    });
  });

  it('rejects text that is not JSON without quoting the text', () => {
    const text = `{"clients": {"k": "${SMOKE_CLIENT.secret}"`;
    expect(() => parseClientKeys(text)).toThrow(KeyStoreUnavailable);
    expect(() => parseClientKeys(text)).not.toThrow(SMOKE_CLIENT.secret);
  });

  it('rejects the wrong shape naming the paths, never the values', () => {
    const doc = {
      clients: { 'good-key-0001': { clientId: 'c', secrets: ['short-secret'] }, x: { clientId: 'c', secrets: [] } },
    };
    let message = '';
    try {
      parseClientKeys(JSON.stringify(doc));
    } catch (error) {
      message = (error as Error).message;
    }
    // The client by its position: an API key is a credential, so it is not written to a log either.
    expect(message).toContain('clients.#1.secrets.0');
    expect(message).not.toContain('short-secret');
    expect(message).not.toContain('good-key-0001');
  });

  it('rejects more than two secrets per client and unknown fields', () => {
    const secret = 'x'.repeat(32);
    const three = { clients: { 'good-key-0001': { clientId: 'c', secrets: [secret, secret, secret] } } };
    expect(() => parseClientKeys(JSON.stringify(three))).toThrow(/secrets/);
    const typo = { clients: { 'good-key-0001': { clientId: 'c', secret: [secret] } } };
    expect(() => parseClientKeys(JSON.stringify(typo))).toThrow(KeyStoreUnavailable);
  });
});

describe('secretsManagerKeyStore through Powertools Parameters', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  afterEach(() => secretsManager.reset());

  function store(maxAgeSeconds = 300) {
    return secretsManagerKeyStore({
      secretName: 'switchyard/app/client-keys',
      maxAgeSeconds,
      source: new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({ region: 'eu-west-1' }) }),
    });
  }

  it('looks up a client from the secret and caches the secret for maxAge', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(clientKeysDocument()) });
    const keys = store();
    expect(await keys.lookup(SMOKE_CLIENT.apiKey)).toMatchObject({ clientId: SMOKE_CLIENT.clientId });
    expect(await keys.lookup('unknown-key-0000')).toBeUndefined();
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'switchyard/app/client-keys',
    });
  });

  it('reads a binary secret as UTF-8 JSON', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretBinary: new TextEncoder().encode(JSON.stringify(clientKeysDocument())) });
    expect(await store().lookup(SMOKE_CLIENT.apiKey)).toMatchObject({ clientId: SMOKE_CLIENT.clientId });
  });

  it('turns a Secrets Manager failure into KeyStoreUnavailable (503)', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new Error('AccessDenied'));
    await expect(store().lookup(SMOKE_CLIENT.apiKey)).rejects.toBeInstanceOf(KeyStoreUnavailable);
  });

  it('treats a secret without a value as unavailable', async () => {
    const keys = secretsManagerKeyStore({
      secretName: 'n',
      maxAgeSeconds: 0,
      source: { get: async () => undefined },
    });
    await expect(keys.lookup(SMOKE_CLIENT.apiKey)).rejects.toBeInstanceOf(KeyStoreUnavailable);
  });
});

describe('fileKeyStore (local runs)', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-keys-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the file and picks up a rotation as soon as the file changes', async () => {
    const file = join(dir, 'keys.json');
    await writeFile(file, JSON.stringify(clientKeysDocument()));
    const keys = fileKeyStore(file);
    expect((await keys.lookup(SMOKE_CLIENT.apiKey))?.secrets).toHaveLength(2);

    const rotated = clientKeysDocument();
    const smoke = rotated.clients[SMOKE_CLIENT.apiKey];
    if (smoke) smoke.secrets = ['rotated-secret-0123456789abcdef0123', SMOKE_CLIENT.secret];
    await writeFile(file, JSON.stringify(rotated));
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    expect((await keys.lookup(SMOKE_CLIENT.apiKey))?.secrets[0]).toBe('rotated-secret-0123456789abcdef0123');
  });

  it('a missing file is KeyStoreUnavailable', async () => {
    await expect(fileKeyStore(join(dir, 'absent.json')).lookup('k')).rejects.toBeInstanceOf(KeyStoreUnavailable);
  });
});

describe('unconfiguredKeyStore', () => {
  it('says which variables to set', async () => {
    await expect(unconfiguredKeyStore().lookup('k')).rejects.toThrow(
      new KeySourceNotConfigured(
        'no client key source is configured: set CLIENT_KEYS_SECRET_NAME (or _ARN) or SWITCHYARD_CLIENT_KEYS_FILE',
      ),
    );
  });
});
