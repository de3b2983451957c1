import { STATES } from '../../state-machine/state-names.ts';
import { dynamoDbStore, lambdaEntry, lambdaFunctions } from '../../wiring/aws.ts';
import { deployTask } from '../release-tasks.ts';

export const handler = lambdaEntry(STATES.deploy, { functions: lambdaFunctions, store: dynamoDbStore }, deployTask);
