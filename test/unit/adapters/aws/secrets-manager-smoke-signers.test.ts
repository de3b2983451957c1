import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  SecretsManagerSmokeSigners,
  SMOKE_TEST_CLIENT_ID,
  SmokeSigningKeyUnavailable,
} from '../../../../adapters/aws/secrets-manager-smoke-signers.ts';
import { isTransientAwsError } from '../../../../adapters/aws/transient-errors.ts';
import { signRequest } from '../../../../app/signing-client.ts';
import { environments, UnknownEnvironment } from '../../../../config/environments.ts';

const secretsManager = mockClient(SecretsManagerClient);
const NOW_MS = Date.UTC(2026, 10, 26, 10, 0, 0);
const CURRENT = 'current-smoke-secret-0123456789abcdef';
const PREVIOUS = 'previous-smoke-secret-0123456789abcdef';

const signers = (maxAgeSeconds?: number) =>
  new SecretsManagerSmokeSigners({
    environments,
    client: new SecretsManagerClient({ region: 'eu-west-1' }),
    now: () => NOW_MS,
    ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
  });

/** A client-keys document as docs/app-api.md describes it. */
function clientKeys(clients: Record<string, { clientId: string; secrets: string[] }>): string {
  return JSON.stringify({ clients });
}

const withSmokeClient = clientKeys({
  'orders-ui-key-0001': { clientId: 'orders-ui', secrets: ['ui-secret-0123456789abcdef0123456789'] },
  'smoke-key-0001': { clientId: SMOKE_TEST_CLIENT_ID, secrets: [CURRENT, PREVIOUS] },
});

const request = { method: 'GET', path: '/orders', query: {}, body: '' };

beforeEach(() => {
  secretsManager.reset();
});

describe('SecretsManagerSmokeSigners', () => {
  it("reads the environment's client-keys secret by the name Terraform gives it", async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: withSmokeClient });

    await signers().signerFor('staging');

    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: 'switchyard-api-staging/client-keys' },
    ]);
  });

  it('signs as the smoke-tests client with its current secret, not the previous one', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: withSmokeClient });

    const signer = await signers().signerFor('prod');
    const headers = await signer?.sign(request);

    expect(headers?.['X-Api-Key']).toBe('smoke-key-0001');
    const expected = (secret: string) =>
      signRequest({
        apiKey: 'smoke-key-0001',
        secret,
        ...request,
        timestamp: NOW_MS / 1000,
        nonce: headers?.['X-Nonce'] ?? '',
      })['X-Signature'];
    expect(headers?.['X-Timestamp']).toBe(String(NOW_MS / 1000));
    expect(headers?.['X-Signature']).toBe(expected(CURRENT));
    expect(headers?.['X-Signature']).not.toBe(expected(PREVIOUS));
  });

  it('has no signer for an environment whose secret holds no smoke-tests client', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({
      SecretString: clientKeys({
        'orders-ui-key-0001': { clientId: 'orders-ui', secrets: ['ui-secret-0123456789abcdef0123456789'] },
      }),
    });

    expect(await signers().signerFor('dev')).toBeUndefined();
  });

  it('reads a binary secret as UTF-8', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new TextEncoder().encode(withSmokeClient) });

    expect(await signers().signerFor('dev')).toBeDefined();
  });

  it('fails clearly on a secret that is not JSON, without echoing it', async () => {
    const text = `{"clients": ${CURRENT}`;
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: text });

    const error = await signers()
      .signerFor('dev')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SmokeSigningKeyUnavailable);
    expect((error as Error).message).toBe(
      'the client-keys secret switchyard-api-dev/client-keys is malformed: client keys are not valid JSON',
    );
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(CURRENT);
  });

  it('fails clearly on a secret of the wrong shape, naming the path and not the value', async () => {
    const tooShort = 'short-secret';
    secretsManager.on(GetSecretValueCommand).resolves({
      SecretString: clientKeys({ 'smoke-key-0001': { clientId: SMOKE_TEST_CLIENT_ID, secrets: [tooShort] } }),
    });

    const error = await signers()
      .signerFor('dev')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SmokeSigningKeyUnavailable);
    // The client by its position: the API key is not written to a log either.
    expect((error as Error).message).toContain('clients.#1.secrets.0');
    expect((error as Error).message).not.toContain('smoke-key-0001');
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(tooShort);
  });

  it('names the secret when it cannot be read', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(
        new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }),
      );

    await expect(signers().signerFor('dev')).rejects.toThrow(
      "the client-keys secret switchyard-api-dev/client-keys could not be read (ResourceNotFoundException: Secrets Manager can't find the specified secret.)",
    );
  });

  it('passes throttling on unwrapped, so the state machine retries it', async () => {
    const throttled = new SecretsManagerServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    secretsManager.on(GetSecretValueCommand).rejects(throttled);

    const error = await signers()
      .signerFor('dev')
      .catch((e: unknown) => e);

    expect(isTransientAwsError(error)).toBe(true);
  });

  it('reuses the secret for maxAge seconds', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: withSmokeClient });
    const cached = signers(300);

    await cached.signerFor('dev');
    await cached.signerFor('dev');
    await cached.signerFor('prod');

    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.SecretId)).toEqual([
      'switchyard-api-dev/client-keys',
      'switchyard-api-prod/client-keys',
    ]);
  });

  it('refuses an environment that is not configured', async () => {
    await expect(signers().signerFor('qa')).rejects.toThrow(UnknownEnvironment);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});
