import { RECONCILE } from '../contract/service-functions.ts';
import { reconcileTask } from '../handlers/release-tasks.ts';
import { dynamoDbStore, lambdaEntry, lambdaFunctions, snsNotifier } from '../wiring/aws.ts';

export const handler = lambdaEntry(
  RECONCILE,
  {
    functions: lambdaFunctions,
    store: dynamoDbStore,
    notifier: snsNotifier,
  },
  reconcileTask,
);
