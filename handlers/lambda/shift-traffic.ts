import { STATES } from '../../state-machine/state-names.ts';
import { dynamoDbStore, lambdaEntry, lambdaFunctions } from '../../wiring/aws.ts';
import { shiftTask } from '../release-tasks.ts';

export const handler = lambdaEntry(STATES.shift, { functions: lambdaFunctions, store: dynamoDbStore }, shiftTask);
