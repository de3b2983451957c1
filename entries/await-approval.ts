import { approvalTask } from '../handlers/release-tasks.ts';
import { STATES } from '../state-machine/state-names.ts';
import { dynamoDbStore, insightStore, lambdaEntry, snsNotifier } from '../wiring/aws.ts';

export const handler = lambdaEntry(
  STATES.approval,
  { store: dynamoDbStore, notifier: snsNotifier, insight: insightStore },
  approvalTask,
);
