import { createHash, randomBytes } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type ClientKeysDocument, parseClientKeys } from '../../app/client-keys.ts';
import { SMOKE_TEST_CLIENT_ID } from './secrets-manager-smoke-signers.ts';

export type SeedOutcome = 'seeded' | 'added' | 'present';

export interface SeedResult {
  readonly secretId: string;
  readonly outcome: SeedOutcome;
  /** The version now AWSCURRENT; never the value. */
  readonly versionId: string | undefined;
}

/** A new client: an API key and a 32-byte HMAC secret, both random, never printed or logged. */
export function newClient(random: (bytes: number) => Buffer = randomBytes): { apiKey: string; secret: string } {
  return { apiKey: `smoke-${random(18).toString('base64url')}`, secret: random(32).toString('hex') };
}

/**
 * Gives an environment's client-keys secret the `smoke-tests` client Verify green signs with. Terraform creates the
 * secret without a value (so no key is ever in its state); this runs with the operator's credentials after the
 * first apply, and again whenever needed: a secret that already has the client is left alone, one with other
 * clients keeps them. A secret without any value has no AWSCURRENT version (GetSecretValue answers
 * ResourceNotFoundException for it), so DescribeSecret's version stages decide. The ClientRequestToken is derived
 * from the version the new value replaces, so a retried call cannot add a second version.
 */
export async function seedSmokeClient(
  client: SecretsManagerClient,
  secretId: string,
  random: (bytes: number) => Buffer = randomBytes,
): Promise<SeedResult> {
  const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) =>
    stages.includes('AWSCURRENT'),
  )?.[0];
  let document: ClientKeysDocument = { clients: {} };
  if (current) {
    const value = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: current }));
    const keys = parseClientKeys(value.SecretString ?? '');
    if ([...keys.values()].some((key) => key.clientId === SMOKE_TEST_CLIENT_ID)) {
      return { secretId, outcome: 'present', versionId: current };
    }
    document = {
      clients: Object.fromEntries([...keys].map(([apiKey, key]) => [apiKey, { ...key, secrets: [...key.secrets] }])),
    };
  }
  const smoke = newClient(random);
  document.clients[smoke.apiKey] = { clientId: SMOKE_TEST_CLIENT_ID, secrets: [smoke.secret] };
  const token = createHash('sha256')
    .update(`${secretId}\n${current ?? 'empty'}\n${SMOKE_TEST_CLIENT_ID}`)
    .digest('hex');
  const put = await client.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: JSON.stringify(document),
      ClientRequestToken: `${token.slice(0, 8)}-${token.slice(8, 12)}-${token.slice(12, 16)}-${token.slice(16, 20)}-${token.slice(20, 32)}`,
    }),
  );
  return { secretId, outcome: current ? 'added' : 'seeded', versionId: put.VersionId };
}
