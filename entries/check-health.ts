import { checkTask } from '../handlers/release-tasks.ts';
import { STATES } from '../state-machine/state-names.ts';
import { cloudWatchAlarms, cloudWatchMetrics, dynamoDbStore, lambdaEntry, snsNotifier } from '../wiring/aws.ts';

export const handler = lambdaEntry(
  STATES.check,
  {
    metrics: cloudWatchMetrics,
    alarms: cloudWatchAlarms,
    store: dynamoDbStore,
    notifier: snsNotifier,
  },
  checkTask,
);
