import {
  dynamoDbStore,
  ecrRegistry,
  insightStore,
  lambdaFunctions,
  releaseApiEntry,
  snsNotifier,
} from '../wiring/aws.ts';

export const handler = releaseApiEntry({
  store: dynamoDbStore,
  registry: ecrRegistry,
  functions: lambdaFunctions,
  notifier: snsNotifier,
  insight: insightStore,
});
