import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Environments } from '../config/schema.ts';
import { SwitchyardProject } from './switchyard-project.ts';

export interface ReleaseStageProjectProps {
  readonly source: codebuild.ISource;
  /** The environments Terraform may change: their functions, roles, log groups, alarms, APIs and web ACLs. */
  readonly environments: Environments;
  readonly repository: ecr.IRepository;
  readonly topic: sns.ITopic;
  readonly stateBucket: s3.IBucket;
  readonly lockTable: dynamodb.ITable;
  readonly key: kms.IKey;
}

/** Terraform's state objects: `switchyard/<environment>/terraform.tfstate` and its `.tflock`. */
export const STATE_KEY_PREFIX = 'switchyard/';

/**
 * The release stage, run by the state machine's "Scan & provision" step: Trivy scans the image by digest, then
 * Terraform plans and applies the environment's application stack. Its role reaches the state bucket and lock
 * table, pulls from the one repository, and manages only resources named after the configured functions.
 */
export class ReleaseStageProject extends Construct {
  readonly project: codebuild.Project;

  constructor(scope: Construct, id: string, props: ReleaseStageProjectProps) {
    super(scope, id);
    const built = new SwitchyardProject(this, 'Release', {
      stage: 'release',
      description: 'Switchyard release stage: scan the image by digest, terraform apply (SWITCHYARD_STAGE=release)',
      source: props.source,
      key: props.key,
      environment: {
        ALERTS_TOPIC_ARN: props.topic.topicArn,
        TF_STATE_BUCKET: props.stateBucket.bucketName,
        TF_LOCK_TABLE: props.lockTable.tableName,
      },
    });
    this.project = built.project;
    props.repository.grantPull(this.project);
    const role = this.project.role;
    if (!role) throw new Error('the release project has no role');
    // Managed policies of their own: Terraform's statements would overflow the role's inline policy size, and
    // one managed policy holds at most 6,144 characters.
    const statements = terraformStatements(this, props);
    const parts = 3;
    const size = Math.ceil(statements.length / parts);
    for (let i = 0; i < parts; i++) {
      new iam.ManagedPolicy(this, `TerraformPolicy${i + 1}`, {
        description: `Switchyard release stage: Terraform state and application environments (${i + 1}/${parts})`,
        statements: statements.slice(i * size, (i + 1) * size),
        roles: [role],
      });
    }
  }
}

function terraformStatements(scope: Construct, props: ReleaseStageProjectProps): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const envs = Object.values(props.environments);
  const arn = (service: string, resource: string, resourceName: string, sep = ArnFormat.COLON_RESOURCE_NAME) =>
    stack.formatArn({ service, resource, resourceName, arnFormat: sep });
  const functions = envs.flatMap((e) => {
    const fn = arn('lambda', 'function', e.functionName);
    return [fn, `${fn}:*`];
  });
  const roles = envs.map((e) =>
    stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${e.functionName}-function` }),
  );
  const logGroups = envs.flatMap((e) => [
    arn('logs', 'log-group', `/aws/lambda/${e.functionName}`),
    arn('logs', 'log-group', `/aws/lambda/${e.functionName}:*`),
    arn('logs', 'log-group', `/aws/apigateway/${e.functionName}/access`),
    arn('logs', 'log-group', `/aws/apigateway/${e.functionName}/access:*`),
  ]);
  const alarms = [...new Set(envs.flatMap((e) => e.health.alarms))].map((name) => arn('cloudwatch', 'alarm', name));
  const secrets = envs.map((e) => arn('secretsmanager', 'secret', `${e.functionName}/client-keys-*`));
  const webAcls = envs.map((e) =>
    arn('wafv2', 'regional/webacl', `${e.functionName}-api/*`, ArnFormat.SLASH_RESOURCE_NAME),
  );
  const apis = ['/restapis', '/restapis/*', '/tags/*'].map((path) =>
    stack.formatArn({ service: 'apigateway', account: '', resource: path, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
  );
  const managedByTerraform = { StringEquals: { 'aws:ResourceTag/ManagedBy': 'terraform' } };

  return [
    new iam.PolicyStatement({
      sid: 'TerraformStateObjects',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [props.stateBucket.arnForObjects(`${STATE_KEY_PREFIX}*`)],
    }),
    new iam.PolicyStatement({
      sid: 'TerraformStateBucket',
      actions: ['s3:ListBucket'],
      resources: [props.stateBucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'TerraformLockTable',
      actions: ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resources: [props.lockTable.tableArn],
    }),
    new iam.PolicyStatement({
      sid: 'ApplicationFunctions',
      actions: [
        'lambda:AddPermission',
        'lambda:CreateAlias',
        'lambda:CreateFunction',
        'lambda:DeleteAlias',
        'lambda:DeleteFunction',
        'lambda:GetAlias',
        'lambda:GetFunction',
        'lambda:GetFunctionCodeSigningConfig',
        'lambda:GetFunctionConfiguration',
        'lambda:GetPolicy',
        'lambda:GetRuntimeManagementConfig',
        'lambda:ListTags',
        'lambda:ListVersionsByFunction',
        'lambda:RemovePermission',
        'lambda:TagResource',
        'lambda:UntagResource',
        'lambda:UpdateFunctionCode',
        'lambda:UpdateFunctionConfiguration',
      ],
      resources: functions,
    }),
    new iam.PolicyStatement({
      sid: 'ApplicationFunctionRoles',
      actions: [
        'iam:CreateRole',
        'iam:DeleteRole',
        'iam:DeleteRolePolicy',
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListAttachedRolePolicies',
        'iam:ListInstanceProfilesForRole',
        'iam:ListRolePolicies',
        'iam:PutRolePolicy',
        'iam:TagRole',
        'iam:UntagRole',
        'iam:UpdateAssumeRolePolicy',
        'iam:UpdateRoleDescription',
      ],
      resources: roles,
    }),
    new iam.PolicyStatement({
      sid: 'PassFunctionRolesToLambda',
      actions: ['iam:PassRole'],
      resources: roles,
      conditions: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
    }),
    new iam.PolicyStatement({
      sid: 'ApplicationLogGroups',
      actions: [
        'logs:CreateLogGroup',
        'logs:DeleteLogGroup',
        'logs:DeleteRetentionPolicy',
        'logs:ListTagsForResource',
        'logs:PutRetentionPolicy',
        'logs:TagResource',
        'logs:UntagResource',
      ],
      resources: logGroups,
    }),
    new iam.PolicyStatement({
      sid: 'DescribeLogGroups',
      actions: ['logs:DescribeLogGroups'],
      resources: [arn('logs', 'log-group', '*')],
    }),
    new iam.PolicyStatement({
      sid: 'ApplicationAlarms',
      actions: [
        'cloudwatch:DeleteAlarms',
        'cloudwatch:DescribeAlarms',
        'cloudwatch:ListTagsForResource',
        'cloudwatch:PutMetricAlarm',
        'cloudwatch:TagResource',
        'cloudwatch:UntagResource',
      ],
      resources: alarms,
    }),
    new iam.PolicyStatement({
      sid: 'ApplicationApis',
      actions: ['apigateway:DELETE', 'apigateway:GET', 'apigateway:PATCH', 'apigateway:POST', 'apigateway:PUT'],
      resources: apis,
    }),
    new iam.PolicyStatement({
      sid: 'ApplicationWebAcls',
      actions: [
        'wafv2:AssociateWebACL',
        'wafv2:CreateWebACL',
        'wafv2:DeleteWebACL',
        'wafv2:DisassociateWebACL',
        'wafv2:GetWebACL',
        'wafv2:GetWebACLForResource',
        'wafv2:ListTagsForResource',
        'wafv2:TagResource',
        'wafv2:UntagResource',
        'wafv2:UpdateWebACL',
      ],
      resources: [...webAcls, arn('wafv2', 'regional/managedruleset', '*/*', ArnFormat.SLASH_RESOURCE_NAME)],
    }),
    new iam.PolicyStatement({
      sid: 'AttachWebAclToStages',
      actions: ['apigateway:SetWebACL'],
      resources: [
        stack.formatArn({
          service: 'apigateway',
          account: '',
          resource: '/restapis/*/stages/*',
          arnFormat: ArnFormat.NO_RESOURCE_NAME,
        }),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'ClientKeySecrets',
      actions: [
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetResourcePolicy',
        'secretsmanager:TagResource',
        'secretsmanager:UntagResource',
        'secretsmanager:UpdateSecret',
      ],
      resources: secrets,
    }),
    // A new key has no ARN to scope to yet; every later call is limited to keys Terraform tagged.
    new iam.PolicyStatement({
      sid: 'CreateSecretKeys',
      actions: ['kms:CreateKey', 'kms:ListAliases'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ManageTerraformKeys',
      actions: [
        'kms:DescribeKey',
        'kms:EnableKeyRotation',
        'kms:GetKeyPolicy',
        'kms:GetKeyRotationStatus',
        'kms:ListResourceTags',
        'kms:ScheduleKeyDeletion',
        'kms:TagResource',
      ],
      resources: [arn('kms', 'key', '*', ArnFormat.SLASH_RESOURCE_NAME)],
      conditions: managedByTerraform,
    }),
    new iam.PolicyStatement({
      sid: 'SecretKeyAliases',
      actions: ['kms:CreateAlias', 'kms:DeleteAlias'],
      resources: [
        ...envs.map((e) => arn('kms', 'alias', `${e.functionName}-secrets`, ArnFormat.SLASH_RESOURCE_NAME)),
        arn('kms', 'key', '*', ArnFormat.SLASH_RESOURCE_NAME),
      ],
    }),
  ];
}
