import { shiftTask } from '../handlers/release-tasks.ts';
import { STATES } from '../state-machine/state-names.ts';
import { dynamoDbStore, lambdaEntry, lambdaFunctions } from '../wiring/aws.ts';

export const handler = lambdaEntry(STATES.shift, { functions: lambdaFunctions, store: dynamoDbStore }, shiftTask);
