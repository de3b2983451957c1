import { verifyTask } from '../handlers/release-tasks.ts';
import { STATES } from '../state-machine/state-names.ts';
import { dynamoDbStore, lambdaEntry, lambdaFunctions, secretsManagerSmokeSigners } from '../wiring/aws.ts';

export const handler = lambdaEntry(
  STATES.verify,
  {
    functions: lambdaFunctions,
    store: dynamoDbStore,
    smokeSigners: secretsManagerSmokeSigners,
  },
  verifyTask,
);
