import { RECONCILE } from '../../contract/service-functions.ts';
import { dynamoDbStore, lambdaEntry, lambdaFunctions, snsNotifier } from '../../wiring/aws.ts';
import { reconcileTask } from '../release-tasks.ts';

export const handler = lambdaEntry(
  RECONCILE,
  {
    functions: lambdaFunctions,
    store: dynamoDbStore,
    notifier: snsNotifier,
  },
  reconcileTask,
);
