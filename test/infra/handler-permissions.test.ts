import { existsSync } from 'node:fs';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  PublishVersionCommand,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { MetadataBearer } from '@smithy/types';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarms } from '../../adapters/aws/cloudwatch-alarms.ts';
import { CloudWatchVersionMetrics } from '../../adapters/aws/cloudwatch-version-metrics.ts';
import { DynamoDbReleaseStore } from '../../adapters/aws/dynamodb-release-store.ts';
import { EcrImageRegistry } from '../../adapters/aws/ecr-image-registry.ts';
import { LambdaFunctionVersions } from '../../adapters/aws/lambda-function-versions.ts';
import { S3DynamoDbInsightStore } from '../../adapters/aws/s3-dynamodb-insight-store.ts';
import { SecretsManagerSmokeSigners } from '../../adapters/aws/secrets-manager-smoke-signers.ts';
import { SnsNotifier } from '../../adapters/aws/sns-notifier.ts';
import { environments } from '../../config/environments.ts';
import { ENTRY_FILES, FUNCTION_GRANTS, type ServiceFunction } from '../../contract/service-functions.ts';
import type { ReleaseChanges } from '../../core/insight/release-changes.ts';
import { singleTarget } from '../../core/model/target-set.ts';
import { ADAPTER_ACTIONS, allActionsFor, PLATFORM_ACTIONS } from '../../infra/handler-permissions.ts';
import { FUNCTION_IDS } from '../../infra/service-functions.ts';
import { resourceOf, service } from './service-stack.ts';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
type PolicyResource = { Properties: { PolicyDocument: { Statement: Statement[] }; Roles?: Array<{ Ref: string }> } };

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement attached to a role, from its inline policies and the policies naming it. */
function roleStatements(roleLogicalId: string): Statement[] {
  const { template } = service();
  const policies = [
    ...Object.values(template.findResources('AWS::IAM::Policy')),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
  ] as PolicyResource[];
  return policies
    .filter((p) => p.Properties.Roles?.some((r) => r.Ref === roleLogicalId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function functionRole(fn: ServiceFunction): string {
  const fnResource = resourceOf(service().template, 'AWS::Lambda::Function', `Handlers${FUNCTION_IDS[fn]}Function`) as {
    Properties: { Role: { 'Fn::GetAtt': [string, string] } };
  };
  return fnResource.Properties.Role['Fn::GetAtt'][0];
}

const SERVICE_FUNCTIONS = Object.keys(FUNCTION_GRANTS) as ServiceFunction[];

describe('each service function role', () => {
  it.each(SERVICE_FUNCTIONS)('%s grants exactly the actions of its adapters, its logs and X-Ray', (fn) => {
    const granted = [...new Set(roleStatements(functionRole(fn)).flatMap((s) => list(s.Action)))].sort();
    const expected = [
      ...allActionsFor(FUNCTION_GRANTS[fn]),
      ...PLATFORM_ACTIONS.logs,
      ...PLATFORM_ACTIONS.tracing,
      ...(FUNCTION_GRANTS[fn].notifier ? PLATFORM_ACTIONS.topicKey : []),
      ...(FUNCTION_GRANTS[fn].smokeSigners ? PLATFORM_ACTIONS.secretKey : []),
    ].sort();
    expect(granted).toEqual(expected);
  });

  it.each(SERVICE_FUNCTIONS)('%s uses a `*` resource only where the service has no resource-level permission', (fn) => {
    for (const statement of roleStatements(functionRole(fn))) {
      if (!list(statement.Resource).includes('*')) continue;
      expect(list(statement.Action).sort()).toEqual(
        expect.arrayContaining(
          list(statement.Action).filter((a) => a.startsWith('xray:') || a === 'cloudwatch:GetMetricData'),
        ),
      );
      for (const action of list(statement.Action))
        expect(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'cloudwatch:GetMetricData']).toContain(action);
    }
  });

  it('reaches exactly the functions of the configured environments, qualified or not', () => {
    const statement = roleStatements(functionRole('Deploy green')).find((s) =>
      list(s.Action).includes('lambda:UpdateFunctionCode'),
    );
    const resources = JSON.stringify(statement?.Resource);
    for (const env of Object.values(environments)) {
      expect(resources).toContain(`:function:${env.functionName}"`);
      expect(resources).toContain(`:function:${env.functionName}:*"`);
    }
    expect(list(statement?.Resource)).toHaveLength(Object.keys(environments).length * 2);
  });

  it("reads only the configured environments' client-keys secrets, and decrypts them only through Secrets Manager", () => {
    const statements = roleStatements(functionRole('Verify green'));
    const read = statements.find((s) => list(s.Action).includes('secretsmanager:GetSecretValue'));
    const secrets = list(read?.Resource);
    expect(secrets).toHaveLength(Object.keys(environments).length);
    for (const env of Object.values(environments)) {
      expect(JSON.stringify(secrets)).toContain(`:secret:${env.functionName}/client-keys-*"`);
    }
    const decrypt = statements.find((s) => list(s.Action).includes('kms:Decrypt')) as
      | (Statement & { Condition?: Record<string, Record<string, unknown>> })
      | undefined;
    expect(list(decrypt?.Action)).toEqual(['kms:Decrypt']);
    expect(JSON.stringify(decrypt?.Resource)).toMatch(/:kms:.*:key\/\*"/);
    expect(JSON.stringify(decrypt?.Condition?.StringEquals?.['kms:ViaService'])).toContain('secretsmanager.');
    expect(decrypt?.Condition?.StringLike?.['kms:EncryptionContext:SecretARN']).toEqual(read?.Resource);
    for (const fn of SERVICE_FUNCTIONS.filter((f) => f !== 'Verify green')) {
      const actions = roleStatements(functionRole(fn)).flatMap((s) => list(s.Action));
      expect(actions, fn).not.toContain('secretsmanager:GetSecretValue');
    }
  });

  it('reads only the alarms the environments watch', () => {
    const statement = roleStatements(functionRole('Check health')).find((s) =>
      list(s.Action).includes('cloudwatch:DescribeAlarms'),
    );
    const names = [...new Set(Object.values(environments).flatMap((e) => e.health.alarms))];
    expect(list(statement?.Resource)).toHaveLength(names.length);
    for (const name of names) expect(JSON.stringify(statement?.Resource)).toContain(`:alarm:${name}"`);
  });
});

describe('every policy in the stack', () => {
  it('grants no `*` action and no service-wide `service:*` action', () => {
    const { template } = service();
    const statements = [
      ...(Object.values(template.findResources('AWS::IAM::Policy')) as PolicyResource[]),
      ...(Object.values(template.findResources('AWS::IAM::ManagedPolicy')) as PolicyResource[]),
    ].flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = new Set(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)));
    expect(actions.size).toBeGreaterThan(50);
    for (const action of actions) {
      expect(action).not.toBe('*');
      expect(action).not.toMatch(/:\*$/);
    }
    // KMS grants CDK writes for CodeBuild's encryption key are the only partial wildcards.
    expect([...actions].filter((a) => a.includes('*')).sort()).toEqual(['kms:GenerateDataKey*', 'kms:ReEncrypt*']);
  });
});

describe('the action map', () => {
  it('names an entry file for every service function, each present on disk', () => {
    for (const fn of SERVICE_FUNCTIONS)
      expect(existsSync(new URL(`../../${ENTRY_FILES[fn]}`, import.meta.url)), fn).toBe(true);
  });
});

/**
 * Runs every adapter method against aws-sdk-client-mock (each on its normal path and on its fallback path) and
 * records the commands it sends as IAM actions, to compare with ADAPTER_ACTIONS: a new SDK call without a
 * permission, or a permission no call needs, fails here.
 */
describe('the commands the AWS adapters send', () => {
  const lambda = mockClient(LambdaClient);
  const cloudwatch = mockClient(CloudWatchClient);
  const documents = mockClient(DynamoDBDocumentClient);
  const sns = mockClient(SNSClient);
  const ecr = mockClient(ECRClient);
  const secrets = mockClient(SecretsManagerClient);
  const s3 = mockClient(S3Client);
  type Stub = Pick<AwsStub<object, MetadataBearer, object>, 'calls' | 'reset'>;
  const stubs: Array<[string, Stub]> = [
    ['lambda', lambda],
    ['cloudwatch', cloudwatch],
    ['dynamodb', documents],
    ['sns', sns],
    ['ecr', ecr],
    ['secretsmanager', secrets],
    ['s3', s3],
  ];
  /** IAM names where they differ from the command's (and lib-dynamodb's document commands). */
  const IAM_NAMES: Record<string, string> = {
    'lambda:Invoke': 'lambda:InvokeFunction',
    'dynamodb:Put': 'dynamodb:PutItem',
    'dynamodb:Get': 'dynamodb:GetItem',
    'dynamodb:Delete': 'dynamodb:DeleteItem',
    'dynamodb:Update': 'dynamodb:UpdateItem',
    'dynamodb:BatchGet': 'dynamodb:BatchGetItem',
  };

  function sentActions(): string[] {
    return stubs.flatMap(([service, stub]) =>
      stub.calls().map((call) => {
        const action = `${service}:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`;
        return IAM_NAMES[action] ?? action;
      }),
    );
  }

  const notFound = () => new ResourceNotFoundException({ message: 'not found', $metadata: {} });
  const conditionFailed = () => Object.assign(new Error('conditional'), { name: 'ConditionalCheckFailedException' });
  const fn = 'switchyard-api-dev';
  const now = new Date('2026-01-01T00:00:00Z');
  const holder = { releaseId: 'r1', executionArn: 'arn', acquiredAt: now.toISOString(), expiresAt: now.toISOString() };
  const functions = () =>
    new LambdaFunctionVersions({
      client: new LambdaClient({ region: 'us-east-1' }),
      updateWait: { maxWaitTime: 1, minDelay: 0.001, maxDelay: 0.002 },
    });
  const insight = () =>
    new S3DynamoDbInsightStore({
      bucketName: 'state',
      tableName: 't',
      s3: new S3Client({ region: 'us-east-1' }),
      documents: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    });
  const store = () =>
    new DynamoDbReleaseStore({
      tableName: 't',
      client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    });

  /** Each adapter method's scenarios: a setup of the mocks and the call. */
  const scenarios: {
    [P in keyof typeof ADAPTER_ACTIONS]: Record<keyof (typeof ADAPTER_ACTIONS)[P], Array<() => Promise<unknown>>>;
  } = {
    functions: {
      getAlias: [
        async () => {
          lambda.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '1' });
          return functions().getAlias(fn, 'live');
        },
      ],
      versionImageDigest: [
        async () => {
          lambda.on(GetFunctionCommand).resolves({ Code: { ImageUri: 'r@sha256:a' } });
          return functions().versionImageDigest(fn, '1');
        },
      ],
      publishedVersion: [
        async () => {
          lambda.on(GetFunctionCommand).resolves({ Configuration: { Version: '1', Description: 'r1' } });
          return functions().publishedVersion(fn, '1');
        },
      ],
      updateCodeAndWait: [
        async () => {
          lambda.on(UpdateFunctionCodeCommand).resolves({});
          lambda
            .on(GetFunctionCommand)
            .resolves({ Configuration: { LastUpdateStatus: 'Successful', State: 'Active' } });
          lambda.on(GetFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', CodeSha256: 'abc' });
          return functions().updateCodeAndWait(fn, 'r@sha256:a');
        },
        async () => {
          lambda.on(UpdateFunctionCodeCommand).resolves({});
          lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Failed', State: 'Active' } });
          lambda
            .on(GetFunctionConfigurationCommand)
            .resolves({ LastUpdateStatus: 'Failed', LastUpdateStatusReason: 'bad image' });
          return functions()
            .updateCodeAndWait(fn, 'r@sha256:a')
            .catch(() => undefined);
        },
      ],
      publishVersion: [
        async () => {
          lambda.on(PublishVersionCommand).resolves({ Version: '2' });
          return functions().publishVersion(fn, 'r1', 'abc');
        },
      ],
      updateAlias: [
        async () => {
          lambda.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '1', RevisionId: 'r' });
          lambda.on(UpdateAliasCommand).resolves({});
          return functions().updateAlias(fn, 'live', '2');
        },
      ],
      ensureAlias: [
        async () => {
          lambda.on(GetAliasCommand).resolves({ Name: 'blue', FunctionVersion: '1', RevisionId: 'r' });
          lambda.on(UpdateAliasCommand).resolves({});
          return functions().ensureAlias(fn, 'blue', '1');
        },
        async () => {
          lambda.on(GetAliasCommand).rejects(notFound());
          return functions().ensureAlias(fn, 'blue', '1');
        },
      ],
      invoke: [
        async () => {
          lambda
            .on(InvokeCommand)
            .resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{}') as InvokeCommandOutput['Payload'] });
          return functions().invoke(fn, '2', {}, 1000);
        },
      ],
    },
    metrics: {
      sample: [
        async () => {
          cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
          return new CloudWatchVersionMetrics({ client: new CloudWatchClient({ region: 'us-east-1' }) }).sample({
            functionName: fn,
            alias: 'live',
            version: '2',
            start: now,
            end: now,
          });
        },
      ],
      sampleAll: [
        async () => {
          cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
          return new CloudWatchVersionMetrics({ client: new CloudWatchClient({ region: 'us-east-1' }) }).sampleAll([
            { functionName: fn, alias: 'live', version: '2', start: now, end: now, source: 'high-resolution' },
          ]);
        },
      ],
    },
    alarms: {
      describe: [
        async () => {
          cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
          return new CloudWatchAlarms({ client: new CloudWatchClient({ region: 'us-east-1' }) }).describe(['a']);
        },
      ],
    },
    store: {
      acquireLock: [
        async () => {
          documents.on(PutCommand).resolves({});
          return store().acquireLock('k', holder, now);
        },
        async () => {
          documents.on(PutCommand).rejects(conditionFailed());
          documents.on(GetCommand).resolves({ Item: holder });
          return store().acquireLock('k', holder, now);
        },
      ],
      releaseLock: [
        async () => {
          documents.on(DeleteCommand).resolves({});
          return store().releaseLock('k', 'r1');
        },
      ],
      renewLock: [
        async () => {
          documents.on(UpdateCommand).resolves({});
          return store().renewLock('k', 'r1', now.toISOString());
        },
        async () => {
          documents.on(UpdateCommand).rejects(conditionFailed());
          return store().renewLock('k', 'r1', now.toISOString());
        },
      ],
      getLock: [
        async () => {
          documents.on(GetCommand).resolves({});
          return store().getLock('k');
        },
      ],
      createRelease: [
        async () => {
          documents.on(PutCommand).resolves({});
          return store().createRelease({
            releaseId: 'r1',
            executionArn: 'arn',
            environment: 'dev',
            targets: singleTarget({ functionName: fn, blueVersion: null }),
            imageUri: 'r@sha256:a',
            digest: 'sha256:a',
            status: 'running',
            startedAt: now.toISOString(),
            trigger: 'api',
            events: [],
          });
        },
      ],
      getRelease: [
        async () => {
          documents.on(GetCommand).resolves({ Item: { releaseId: 'r1', eventCount: 1 } });
          documents.on(QueryCommand).resolves({ Items: [{ at: now.toISOString(), kind: 'validated', summary: 's' }] });
          return store().getRelease('r1');
        },
      ],
      update: [
        async () => {
          documents.on(UpdateCommand).resolves({});
          return store().update('r1', { status: 'released' });
        },
        async () => {
          documents.on(UpdateCommand).resolves({ Attributes: { eventCount: 3 } });
          documents.on(PutCommand).resolves({});
          return store().update('r1', {}, { at: now.toISOString(), kind: 'health-check', summary: 'ok' });
        },
        async () => {
          documents.on(UpdateCommand).resolves({ Attributes: { eventCount: 3 } });
          documents.on(PutCommand).resolves({});
          return store().update(
            'r1',
            { targets: { orders: { phase: 'deployed' } } },
            { at: now.toISOString(), kind: 'deployed', summary: 'ok' },
          );
        },
        async () => {
          documents.on(UpdateCommand).rejects(conditionFailed());
          documents.on(GetCommand).resolves({ Item: { releaseId: 'r1', eventCount: 1 } });
          return store()
            .update('r1', { targets: { orders: { phase: 'deployed' } } })
            .catch((error: unknown) => error);
        },
        async () => {
          documents.on(GetCommand).resolves({
            Item: {
              releaseId: 'r1',
              targetsRevision: 2,
              targetSet: { waveCount: 1, currentWave: null },
              targets: {
                orders: {
                  name: 'orders',
                  functionName: 'f',
                  blueVersion: '1',
                  wave: 0,
                  phase: 'verified',
                  percent: 0,
                  order: 0,
                },
              },
            },
          });
          documents.on(UpdateCommand).resolves({ Attributes: { eventCount: 3 } });
          documents.on(PutCommand).resolves({});
          return store().update(
            'r1',
            { currentWave: 0, targets: { orders: { phase: 'shifting', percent: 10 } } },
            { at: now.toISOString(), kind: 'traffic-shifted', summary: 'ok' },
          );
        },
      ],
      closeRelease: [
        async () => {
          documents.on(UpdateCommand).resolves({ Attributes: { eventCount: 3 } });
          documents.on(PutCommand).resolves({});
          return store().closeRelease(
            'r1',
            { status: 'released', endedAt: now.toISOString() },
            { at: now.toISOString(), kind: 'released', summary: 'ok' },
          );
        },
        async () => {
          documents.on(UpdateCommand).rejects(conditionFailed());
          documents.on(GetCommand).resolves({ Item: { releaseId: 'r1', status: 'aborted' } });
          return store().closeRelease('r1', { status: 'aborted', endedAt: now.toISOString() });
        },
      ],
      listReleases: [
        async () => {
          documents.on(QueryCommand).resolves({ Items: [{ pk: 'RELEASE#r1', sk: 'RELEASE', status: 'running' }] });
          documents.on(BatchGetCommand).resolves({ Responses: {} });
          return store().listReleases({ environment: 'dev' });
        },
      ],
      saveApprovalRequest: [
        async () => {
          documents.on(PutCommand).resolves({});
          return store().saveApprovalRequest('r1', {
            taskToken: 't',
            requestedAt: now.toISOString(),
            expiresAt: now.toISOString(),
          });
        },
      ],
      takeApprovalRequest: [
        async () => {
          documents.on(DeleteCommand).resolves({});
          return store().takeApprovalRequest('r1');
        },
      ],
      recordDelivery: [
        async () => {
          documents.on(PutCommand).resolves({});
          return store().recordDelivery('ecr-push#dev#e1', 'r1', now.toISOString());
        },
        async () => {
          documents.on(PutCommand).rejects(conditionFailed());
          documents.on(GetCommand).resolves({ Item: { releaseId: 'r0', firstAt: now.toISOString(), duplicates: [] } });
          documents.on(UpdateCommand).resolves({});
          return store().recordDelivery('ecr-push#dev#e1', 'r1', now.toISOString());
        },
      ],
      getPolicyEntry: [
        async () => {
          documents.on(GetCommand).resolves({});
          return store().getPolicyEntry('hold#dev');
        },
      ],
      putPolicyEntry: [
        async () => {
          documents.on(PutCommand).rejects(conditionFailed());
          return store().putPolicyEntry({
            key: 'hold#dev',
            kind: 'hold',
            subject: 'dev',
            active: true,
            version: 2,
            history: [],
          });
        },
      ],
      listPolicyEntries: [
        async () => {
          documents.on(QueryCommand).resolves({ Items: [] });
          return store().listPolicyEntries('hold');
        },
      ],
    },
    notifier: {
      notify: [
        async () => {
          sns.on(PublishCommand).resolves({});
          return new SnsNotifier({
            topicArn: 'arn:aws:sns:us-east-1:1:t',
            client: new SNSClient({ region: 'us-east-1' }),
          }).notify({
            subject: 's',
            releaseId: 'r1',
            environment: 'dev',
            outcome: 'released',
            detail: {},
          });
        },
      ],
    },
    registry: {
      digestExists: [
        async () => {
          ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] });
          return new EcrImageRegistry({ client: new ECRClient({ region: 'us-east-1' }) }).digestExists('r', 'sha256:a');
        },
      ],
      resolveTag: [
        async () => {
          ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] });
          return new EcrImageRegistry({ client: new ECRClient({ region: 'us-east-1' }) }).resolveTag('r', 'git-1');
        },
      ],
      sourceCommit: [
        async () => {
          ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:a', imageTags: ['git-1'] }] });
          return new EcrImageRegistry({ client: new ECRClient({ region: 'us-east-1' }) }).sourceCommit('r', 'sha256:a');
        },
      ],
    },
    smokeSigners: {
      signerFor: [
        async () => {
          const clients = { 'smoke-key-0001': { clientId: 'smoke-tests', secrets: ['s'.repeat(32)] } };
          secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ clients }) });
          return new SecretsManagerSmokeSigners({
            environments,
            client: new SecretsManagerClient({ region: 'us-east-1' }),
          }).signerFor('dev');
        },
      ],
    },
    insight: {
      getChangeSet: [
        async () => {
          s3.on(GetObjectCommand).rejects(Object.assign(new Error('missing'), { name: 'NoSuchKey' }));
          return insight().getChangeSet(`sha256:${'a'.repeat(64)}`);
        },
      ],
      changeSetOfCommit: [
        async () => {
          s3.on(GetObjectCommand).resolves({
            Body: { transformToString: async () => JSON.stringify({ digest: `sha256:${'a'.repeat(64)}` }) } as never,
          });
          return insight()
            .changeSetOfCommit('b'.repeat(40))
            .catch(() => undefined);
        },
      ],
      getReleaseChanges: [
        async () => {
          documents.on(GetCommand).resolves({});
          return insight().getReleaseChanges('r1');
        },
      ],
      putReleaseChanges: [
        async () => {
          documents.on(PutCommand).resolves({});
          return insight().putReleaseChanges('r1', {} as ReleaseChanges);
        },
        async () => {
          documents.on(PutCommand).rejects(conditionFailed());
          documents.on(GetCommand).resolves({ Item: { changes: {} } });
          return insight().putReleaseChanges('r1', {} as ReleaseChanges);
        },
      ],
    },
  };

  beforeEach(() => {
    for (const [, stub] of stubs) stub.reset();
  });

  const cases = Object.entries(scenarios).flatMap(([port, methods]) =>
    Object.entries(methods as Record<string, Array<() => Promise<unknown>>>).map(
      ([method, runs]) => [port, method, runs] as const,
    ),
  );

  it.each(cases)('%s.%s sends exactly the commands its IAM actions allow', async (port, method, runs) => {
    const sent = new Set<string>();
    for (const run of runs) {
      for (const [, stub] of stubs) stub.reset();
      await run();
      for (const action of sentActions()) sent.add(action);
    }
    const declared = (ADAPTER_ACTIONS as Record<string, Record<string, readonly string[]>>)[port]?.[method] ?? [];
    expect([...sent].sort()).toEqual([...declared].sort());
  });

  it('covers every method of every port', () => {
    for (const [port, methods] of Object.entries(ADAPTER_ACTIONS)) {
      expect(Object.keys((scenarios as Record<string, object>)[port] ?? {}).sort(), port).toEqual(
        Object.keys(methods).sort(),
      );
    }
  });
});
