import { rollBackTask } from '../handlers/release-tasks.ts';
import { STATES } from '../state-machine/state-names.ts';
import { dynamoDbStore, insightStore, lambdaEntry, lambdaFunctions, snsNotifier } from '../wiring/aws.ts';

export const handler = lambdaEntry(
  STATES.rollBack,
  {
    functions: lambdaFunctions,
    store: dynamoDbStore,
    notifier: snsNotifier,
    insight: insightStore,
  },
  rollBackTask,
);
