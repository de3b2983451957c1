import { recordFailureTask } from '../handlers/release-tasks.ts';
import { STATES } from '../state-machine/state-names.ts';
import { dynamoDbStore, lambdaEntry, snsNotifier } from '../wiring/aws.ts';

export const handler = lambdaEntry(
  STATES.recordFailure,
  { store: dynamoDbStore, notifier: snsNotifier },
  recordFailureTask,
);
