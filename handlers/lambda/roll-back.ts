import { STATES } from '../../state-machine/state-names.ts';
import { dynamoDbStore, insightStore, lambdaEntry, lambdaFunctions, snsNotifier } from '../../wiring/aws.ts';
import { rollBackTask } from '../release-tasks.ts';

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
