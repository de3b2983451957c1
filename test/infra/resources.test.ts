import { readFileSync } from 'node:fs';
import { type App, CfnResource, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { APPLICATION, environments, loggingSettings } from '../../config/environments.ts';
import { RELEASE_TABLE } from '../../contract/release-table.ts';
import { ENV_VARS, FUNCTION_GRANTS, requiredEnvVars } from '../../contract/service-functions.ts';
import { FUNCTION_IDS } from '../../infra/service-functions.ts';
import { TERRAFORM_OUTPUTS } from '../../infra/terraform-state.ts';
import { synthesizeTemplate } from '../../state-machine/synthesize.ts';
import { resourceOf, service, synthesizeService } from './service-stack.ts';

/** The statement of a TLS-only policy: deny `action` to anyone on a connection without TLS. */
const tlsOnly = (action: string) =>
  Match.objectLike({ Effect: 'Deny', Action: action, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });

describe('the service stack as cdk synth builds it', () => {
  it("passes aws-cdk-lib's built-in CloudFormation template validation, which the other tests skip", () => {
    const { template } = synthesizeService(undefined, { validate: true });
    expect(template.findResources('AWS::StepFunctions::StateMachine')).not.toEqual({});
  });

  it('fails a template the validation finds fault with, as cdk.json has it', () => {
    const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
    expect(cdkJson.context['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
    const broken = (app: App) => {
      const stack = new Stack(app, 'Broken');
      new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { DelaySeconds: 'soon' } });
      return stack;
    };
    expect(() => synthesizeTemplate(broken, { validate: true })).toThrow(/DelaySeconds/);
    expect(() => synthesizeTemplate(broken)).not.toThrow();
  });
});

describe('the image repository', () => {
  it('has immutable tags, scans on push, is encrypted and keeps only recent images', () => {
    const { template } = service();
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: APPLICATION.repositoryName,
      ImageTagMutability: 'IMMUTABLE',
      ImageScanningConfiguration: { ScanOnPush: true },
      EncryptionConfiguration: { EncryptionType: 'AES256' },
    });
    const repo = resourceOf(template, 'AWS::ECR::Repository', 'Images') as {
      Properties: { LifecyclePolicy: { LifecyclePolicyText: string } };
    };
    const policy = JSON.parse(repo.Properties.LifecyclePolicy.LifecyclePolicyText) as { rules: unknown[] };
    expect(policy.rules).toEqual([
      expect.objectContaining({
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 200 },
        action: { type: 'expire' },
      }),
    ]);
  });
});

describe('the release table', () => {
  it('has the key schema, TTL and indexes of the DynamoDB adapter, with PITR and encryption', () => {
    service().template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: RELEASE_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: RELEASE_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: RELEASE_TABLE.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
      GlobalSecondaryIndexes: [RELEASE_TABLE.byEnvironmentIndex, RELEASE_TABLE.byStartedAtIndex].map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        // Keys and status only: checks and fleet member writes change nothing an index holds.
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['status'] },
      })),
    });
  });
});

describe('the alerts topic', () => {
  it('is encrypted with the service key and refuses anything but TLS', () => {
    const { template } = service();
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServiceKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([tlsOnly('sns:Publish')]) },
    });
  });

  it("uses a rotated key that EventBridge may use for this account's rules, and CloudWatch only for the alarms that notify the topic", () => {
    service().template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
          Match.objectLike({
            Sid: 'AlarmsEncryptAlerts',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.arrayWith([Match.objectLike({ 'Fn::Join': Match.anyValue() })]) },
            },
          }),
        ]),
      },
    });
  });
});

describe('the Terraform state', () => {
  it('keeps state in a versioned, encrypted, private, TLS-only, access-logged bucket', () => {
    const { template } = service();
    const bucket = resourceOf(template, 'AWS::S3::Bucket', 'TerraformStateBucket') as { Properties: unknown };
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: expect.stringMatching(/^TerraformStateAccessLogs/) },
        LogFilePrefix: 'terraform-state/',
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^TerraformStateBucket') },
      PolicyDocument: { Statement: Match.arrayWith([tlsOnly('s3:*')]) },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^TerraformStateAccessLogs') },
      PolicyDocument: { Statement: Match.arrayWith([tlsOnly('s3:*')]) },
    });
  });

  it('locks with a LockID table and publishes both names under the outputs the buildspec reads', () => {
    const { template } = service();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'LockID', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'LockID', AttributeType: 'S' }],
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(TERRAFORM_OUTPUTS).toEqual({ bucket: 'TerraformStateBucketName', lockTable: 'TerraformLockTableName' });
    template.hasOutput(TERRAFORM_OUTPUTS.bucket, { Value: { Ref: Match.stringLikeRegexp('^TerraformStateBucket') } });
    template.hasOutput(TERRAFORM_OUTPUTS.lockTable, {
      Value: { Ref: Match.stringLikeRegexp('^TerraformStateLockTable') },
    });
  });
});

describe('the handler functions', () => {
  it('run Node.js 24 on arm64 with tracing, Powertools settings and only the variables their grants read', () => {
    const { template } = service();
    const logLevel = Object.values(environments).some((e) => loggingSettings(e).logLevel === 'INFO') ? 'INFO' : 'WARN';
    for (const [fn, id] of Object.entries(FUNCTION_IDS) as Array<[keyof typeof FUNCTION_IDS, string]>) {
      const resource = resourceOf(template, 'AWS::Lambda::Function', `Handlers${id}Function`) as {
        Properties: Record<string, unknown> & { Environment: { Variables: Record<string, unknown> } };
      };
      expect(resource.Properties, fn).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: {
          LogFormat: 'JSON',
          LogGroup: { Ref: expect.stringMatching(new RegExp(`^Handlers${id}Logs`)) },
        },
      });
      const variables = resource.Properties.Environment.Variables;
      expect(variables, fn).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'switchyard', POWERTOOLS_LOG_LEVEL: logLevel });
      const adapterVariables = Object.keys(variables).filter((name) =>
        (Object.values(ENV_VARS) as string[]).includes(name),
      );
      expect(adapterVariables.sort(), fn).toEqual(requiredEnvVars(FUNCTION_GRANTS[fn]).sort());
    }
  });

  it('log to their own log groups, kept as long as the most demanding environment asks', () => {
    const days = Math.max(...Object.values(environments).map((e) => loggingSettings(e).retentionDays));
    for (const id of Object.values(FUNCTION_IDS)) {
      const logs = resourceOf(service().template, 'AWS::Logs::LogGroup', `Handlers${id}Logs`) as {
        Properties: unknown;
      };
      expect(logs.Properties).toMatchObject({ RetentionInDays: days });
    }
  });
});

describe('the CodeBuild projects', () => {
  it('run both stages of buildspec.yml on arm64, encrypted with the service key', () => {
    const { template } = service();
    for (const [prefix, stage, privileged] of [
      ['ImageBuildProject', 'build', true],
      ['ReleaseStageReleaseProject', 'release', false],
    ] as const) {
      const project = resourceOf(template, 'AWS::CodeBuild::Project', prefix) as {
        Properties: Record<string, unknown>;
      };
      expect(project.Properties, stage).toMatchObject({
        Source: { Type: 'GITHUB', BuildSpec: 'buildspec.yml' },
        EncryptionKey: { 'Fn::GetAtt': [expect.stringMatching(/^ServiceKey/), 'Arn'] },
        Environment: {
          Type: 'ARM_CONTAINER',
          PrivilegedMode: privileged,
          EnvironmentVariables: expect.arrayContaining([{ Name: 'SWITCHYARD_STAGE', Type: 'PLAINTEXT', Value: stage }]),
        },
      });
    }
  });

  it('hand the build stage the bucket it records image scans in, by reference', () => {
    const project = resourceOf(service().template, 'AWS::CodeBuild::Project', 'ImageBuildProject') as {
      Properties: { Environment: { EnvironmentVariables: Array<{ Name: string; Value: unknown }> } };
    };
    const variables = Object.fromEntries(
      project.Properties.Environment.EnvironmentVariables.map((v) => [v.Name, v.Value]),
    );
    expect(variables.SCAN_RECORDS_BUCKET).toEqual({ Ref: expect.stringMatching(/^TerraformStateBucket/) });
  });

  it('hand the release stage the backend and topic it needs, by reference', () => {
    const project = resourceOf(service().template, 'AWS::CodeBuild::Project', 'ReleaseStageReleaseProject') as {
      Properties: { Environment: { EnvironmentVariables: Array<{ Name: string; Value: unknown }> } };
    };
    const variables = Object.fromEntries(
      project.Properties.Environment.EnvironmentVariables.map((v) => [v.Name, v.Value]),
    );
    expect(variables).toEqual({
      SWITCHYARD_STAGE: 'release',
      ALERTS_TOPIC_ARN: { Ref: expect.stringMatching(/^AlertsTopic/) },
      TF_STATE_BUCKET: { Ref: expect.stringMatching(/^TerraformStateBucket/) },
      TF_LOCK_TABLE: { Ref: expect.stringMatching(/^TerraformStateLockTable/) },
      SCAN_RECORDS_BUCKET: { Ref: expect.stringMatching(/^TerraformStateBucket/) },
    });
  });
});

describe('the release API', () => {
  it('requires IAM authorization on every method, validates requests and writes JSON access logs', () => {
    const { template } = service();
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Array<{
      Properties: { AuthorizationType: string; RequestValidatorId?: unknown };
    }>;
    expect(methods.length).toBeGreaterThan(0);
    for (const method of methods) {
      expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(method.Properties.RequestValidatorId).toEqual({ Ref: expect.stringMatching(/^ReleaseApiValidator/) });
    }
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReleaseApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
      MethodSettings: [Match.objectLike({ LoggingLevel: 'INFO', DataTraceEnabled: false })],
    });
  });
});

describe('monitoring', () => {
  it("alarms on the service's failed, timed-out and aborted executions, reconcile runs and errors, and DLQs", () => {
    const alarms = Object.values(service().template.findResources('AWS::CloudWatch::Alarm')) as Array<{
      Properties: {
        Metrics: Array<{ MetricStat: { Metric: { MetricName: string; Namespace: string } } }>;
        AlarmActions: unknown[];
        Threshold: number;
      };
    }>;
    const watched = alarms
      .map((a) => a.Properties.Metrics[0]?.MetricStat.Metric)
      .map((m) => `${m?.Namespace}/${m?.MetricName}`)
      .sort();
    expect(watched).toEqual(
      [
        'AWS/Lambda/Errors',
        'AWS/Lambda/Invocations',
        'AWS/SQS/ApproximateNumberOfMessagesVisible',
        'AWS/SQS/ApproximateNumberOfMessagesVisible',
        'AWS/States/ExecutionsAborted',
        'AWS/States/ExecutionsFailed',
        'AWS/States/ExecutionsTimedOut',
      ].sort(),
    );
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlertsTopic/) }]);
      expect(alarm.Properties.Threshold).toBe(1);
    }
  });

  it('shows releases, their duration and the per-version error rate of every environment', () => {
    const dashboard = resourceOf(service().template, 'AWS::CloudWatch::Dashboard', 'Dashboard') as {
      Properties: { DashboardBody: unknown };
    };
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionTime']) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('Rolled back');
    for (const env of Object.values(environments)) {
      expect(body).toContain(`FunctionName=\\\\\\"${env.functionName}\\\\\\"`);
      expect(body).toContain('ExecutedVersion');
    }
  });
});
