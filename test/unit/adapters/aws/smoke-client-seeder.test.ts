import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { seedSmokeClient } from '../../../../adapters/aws/smoke-client-seeder.ts';
import { parseClientKeys } from '../../../../app/client-keys.ts';

const sm = mockClient(SecretsManagerClient);
const SECRET = 'switchyard-api-dev/client-keys';
const fixedRandom = (bytes: number) => Buffer.alloc(bytes, 7);

beforeEach(() => sm.reset());

function written(): ReturnType<typeof parseClientKeys> {
  const input = sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input;
  return parseClientKeys(input?.SecretString ?? '');
}

describe('seeding the smoke-tests client', () => {
  it('gives an empty secret (no AWSCURRENT version, as Terraform leaves it) a smoke-tests client', async () => {
    sm.on(DescribeSecretCommand).resolves({ Name: SECRET, VersionIdsToStages: {} });
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'v1' });
    const result = await seedSmokeClient(new SecretsManagerClient({}), SECRET, fixedRandom);
    expect(result).toEqual({ secretId: SECRET, outcome: 'seeded', versionId: 'v1' });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    const keys = written();
    expect([...keys.values()].map((k) => k.clientId)).toEqual(['smoke-tests']);
    expect([...keys.values()][0]?.secrets[0]).toHaveLength(64);
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.ClientRequestToken).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('adds the client next to the clients a secret already has', async () => {
    const existing = { clients: { 'partner-key-1': { clientId: 'partner', secrets: ['p'.repeat(32)] } } };
    sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { old: ['AWSPREVIOUS'], cur: ['AWSCURRENT'] } });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionId: 'cur' }).resolves({
      SecretString: JSON.stringify(existing),
    });
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'v2' });
    const result = await seedSmokeClient(new SecretsManagerClient({}), SECRET, fixedRandom);
    expect(result.outcome).toBe('added');
    const keys = written();
    expect(keys.get('partner-key-1')).toEqual({ clientId: 'partner', secrets: ['p'.repeat(32)] });
    expect([...keys.values()].map((k) => k.clientId).sort()).toEqual(['partner', 'smoke-tests']);
  });

  it('leaves a secret that already has a smoke-tests client alone', async () => {
    const existing = { clients: { 'smoke-key-1': { clientId: 'smoke-tests', secrets: ['s'.repeat(32)] } } };
    sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { cur: ['AWSCURRENT'] } });
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(existing) });
    const result = await seedSmokeClient(new SecretsManagerClient({}), SECRET, fixedRandom);
    expect(result).toEqual({ secretId: SECRET, outcome: 'present', versionId: 'cur' });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('refuses to rewrite a secret it cannot parse, naming the paths only', async () => {
    sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { cur: ['AWSCURRENT'] } });
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"clients":{"k":{"clientId":"x","secret":"leaked"}}}' });
    const error = await seedSmokeClient(new SecretsManagerClient({}), SECRET).catch((e: unknown) => e);
    expect(String(error)).toContain('client keys do not match the documented shape');
    expect(String(error)).not.toContain('leaked');
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});
