import { describe, expect, it } from 'vitest';
import { CloudWatchAlarms } from '../../../../adapters/aws/cloudwatch-alarms.ts';
import { CloudWatchVersionMetrics } from '../../../../adapters/aws/cloudwatch-version-metrics.ts';
import { DynamoDbReleaseStore } from '../../../../adapters/aws/dynamodb-release-store.ts';
import { EcrImageRegistry } from '../../../../adapters/aws/ecr-image-registry.ts';
import { LambdaFunctionVersions } from '../../../../adapters/aws/lambda-function-versions.ts';
import { SecretsManagerSmokeSigners } from '../../../../adapters/aws/secrets-manager-smoke-signers.ts';
import { SnsNotifier } from '../../../../adapters/aws/sns-notifier.ts';
import { StepFunctionsExecutions } from '../../../../adapters/aws/step-functions-executions.ts';
import { environments } from '../../../../config/environments.ts';

const clientOf = (adapter: object): unknown => Reflect.get(adapter, 'client');

describe('default clients', () => {
  it.each([
    ['LambdaFunctionVersions', () => new LambdaFunctionVersions()],
    ['CloudWatchVersionMetrics', () => new CloudWatchVersionMetrics()],
    ['CloudWatchAlarms', () => new CloudWatchAlarms()],
    ['DynamoDbReleaseStore', () => new DynamoDbReleaseStore({ tableName: 'releases' })],
    ['SnsNotifier', () => new SnsNotifier({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:t' })],
    ['EcrImageRegistry', () => new EcrImageRegistry()],
    ['SecretsManagerSmokeSigners', () => new SecretsManagerSmokeSigners({ environments })],
    ['StepFunctionsExecutions', () => new StepFunctionsExecutions({ stateMachineArn: 'arn:aws:states:x' })],
  ])('%s shares one client per module when none is injected', (_name, make) => {
    const first = clientOf(make());
    expect(first).toBeDefined();
    expect(clientOf(make())).toBe(first);
  });
});
