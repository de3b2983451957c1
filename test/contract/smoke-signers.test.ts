import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerSmokeSigners } from '../../adapters/aws/secrets-manager-smoke-signers.ts';
import { StaticSmokeSigners } from '../../adapters/memory/static-smoke-signers.ts';
import { HmacRequestSigner } from '../../app/signing-client.ts';
import { clientKeysSecretName, environments } from '../../config/environments.ts';
import type { EnvironmentName } from '../../config/schema.ts';
import type { RequestSigner } from '../../core/ports/ports.ts';
import { describeSmokeSignersContract } from './smoke-signers.contract.ts';

describeSmokeSignersContract('StaticSmokeSigners', (keys) => {
  const byEnvironment: Record<string, RequestSigner> = {};
  for (const [environment, document] of Object.entries(keys)) {
    const smoke = Object.entries(document.clients).find(([, client]) => client.clientId === 'smoke-tests');
    const secret = smoke?.[1].secrets[0];
    if (smoke && secret) byEnvironment[environment] = new HmacRequestSigner({ apiKey: smoke[0], secret });
  }
  return { signers: new StaticSmokeSigners({ byEnvironment }) };
});

describeSmokeSignersContract('SecretsManagerSmokeSigners over a fake Secrets Manager', (keys) => {
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  const secretsManager = mockClient(client);
  secretsManager
    .on(GetSecretValueCommand)
    .rejects(
      new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }),
    );
  for (const [environment, document] of Object.entries(keys)) {
    const env = environments[environment as EnvironmentName];
    if (!env) continue;
    secretsManager
      .on(GetSecretValueCommand, { SecretId: clientKeysSecretName(env) })
      .resolves({ SecretString: JSON.stringify(document) });
  }
  return { signers: new SecretsManagerSmokeSigners({ environments, client }) };
});
