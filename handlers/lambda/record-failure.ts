import { STATES } from '../../state-machine/state-names.ts';
import { dynamoDbStore, lambdaEntry, snsNotifier } from '../../wiring/aws.ts';
import { recordFailureTask } from '../release-tasks.ts';

export const handler = lambdaEntry(
  STATES.recordFailure,
  { store: dynamoDbStore, notifier: snsNotifier },
  recordFailureTask,
);
