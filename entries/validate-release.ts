import { validateTask } from '../handlers/release-tasks.ts';
import { STATES } from '../state-machine/state-names.ts';
import {
  cloudWatchAlarms,
  dynamoDbStore,
  ecrRegistry,
  insightStore,
  lambdaEntry,
  lambdaFunctions,
} from '../wiring/aws.ts';

export const handler = lambdaEntry(
  STATES.validate,
  {
    registry: ecrRegistry,
    store: dynamoDbStore,
    functions: lambdaFunctions,
    alarms: cloudWatchAlarms,
    insight: insightStore,
  },
  validateTask,
);
