import { STATES } from '../../state-machine/state-names.ts';
import { cloudWatchAlarms, cloudWatchMetrics, dynamoDbStore, lambdaEntry, snsNotifier } from '../../wiring/aws.ts';
import { checkTask } from '../release-tasks.ts';

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
