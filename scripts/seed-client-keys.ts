/**
 * `npm run seed-client-keys -- --env dev`: gives the environment's client-keys secret (created empty by Terraform)
 * its `smoke-tests` client, with the operator's AWS credentials. Prints what it did, never a key.
 */
import { parseArgs } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { seedSmokeClient } from '../adapters/aws/smoke-client-seeder.ts';
import { clientKeysSecretName, environmentNamed } from '../config/environments.ts';

async function main(): Promise<number> {
  let env: ReturnType<typeof environmentNamed>;
  try {
    const { values } = parseArgs({ options: { env: { type: 'string' } } });
    if (!values.env) throw new Error('--env is required (dev, staging or prod)');
    env = environmentNamed(values.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 64;
  }
  const result = await seedSmokeClient(new SecretsManagerClient({}), clientKeysSecretName(env));
  const said = {
    seeded: 'had no value; it now holds the smoke-tests client',
    added: 'had other clients; the smoke-tests client was added next to them',
    present: 'already has a smoke-tests client; nothing changed',
  }[result.outcome];
  console.log(`${result.secretId} ${said} (version ${result.versionId ?? 'unknown'})`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    process.exit(1);
  },
);
