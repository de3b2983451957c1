import { finalizeTask } from '../handlers/release-tasks.ts';
import { STATES } from '../state-machine/state-names.ts';
import { dynamoDbStore, lambdaEntry, lambdaFunctions, snsNotifier } from '../wiring/aws.ts';

export const handler = lambdaEntry(
  STATES.finalize,
  {
    functions: lambdaFunctions,
    store: dynamoDbStore,
    notifier: snsNotifier,
  },
  finalizeTask,
);
