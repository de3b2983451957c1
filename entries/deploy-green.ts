import { deployTask } from '../handlers/release-tasks.ts';
import { STATES } from '../state-machine/state-names.ts';
import { dynamoDbStore, lambdaEntry, lambdaMapIterationFunctions } from '../wiring/aws.ts';

export const handler = lambdaEntry(
  STATES.deploy,
  { functions: lambdaMapIterationFunctions, store: dynamoDbStore },
  deployTask,
);
