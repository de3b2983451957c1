import { STATES } from '../../state-machine/state-names.ts';
import { dynamoDbStore, insightStore, lambdaEntry, snsNotifier } from '../../wiring/aws.ts';
import { approvalTask } from '../release-tasks.ts';

export const handler = lambdaEntry(
  STATES.approval,
  { store: dynamoDbStore, notifier: snsNotifier, insight: insightStore },
  approvalTask,
);
