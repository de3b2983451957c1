import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSmokeSigners } from '../../adapters/aws/secrets-manager-smoke-signers.ts';
import { clientKeysSecretName, environments } from '../../config/environments.ts';
import type { EnvironmentName } from '../../config/schema.ts';
import { motoAccount } from '../support/moto.ts';
import { describeSmokeSignersContract } from './smoke-signers.contract.ts';

describeSmokeSignersContract('SecretsManagerSmokeSigners on moto', async (keys) => {
  const client = motoAccount().client(SecretsManagerClient);
  for (const [environment, document] of Object.entries(keys)) {
    const env = environments[environment as EnvironmentName];
    if (!env) continue;
    await client.send(
      new CreateSecretCommand({ Name: clientKeysSecretName(env), SecretString: JSON.stringify(document) }),
    );
  }
  return { signers: new SecretsManagerSmokeSigners({ environments, client }) };
});
