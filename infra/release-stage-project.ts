import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Environments } from '../config/schema.ts';
import { applicationAlarmArns, applicationFunctionArns, applicationFunctionNames } from './handler-permissions.ts';
import { SwitchyardProject } from './switchyard-project.ts';
import { SCAN_RECORDS_PREFIX } from './terraform-state.ts';

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
 * The release stage, run by the state machine's "Scan & provision" step: Trivy scans the image by digest (or reuses
 * a recorded pass of that digest), then Terraform plans the environment's application stack from the one root and
 * applies the plan when it changes something. Its role reaches the state bucket and lock
 * table, pulls from the one repository, and manages only resources named after the configured functions.
 */
export class ReleaseStageProject extends Construct {
  readonly project: codebuild.Project;
  private readonly role: iam.IRole;

  /**
   * Refuses Terraform every change to the service's own API. Its tags already keep it out of the API statements;
   * associating a web ACL is authorized on the stage alone (wafv2's `apigateway` resource type has no condition
   * keys), so that one needs this explicit deny.
   */
  keepOffApi(api: apigateway.IRestApi): void {
    const stack = Stack.of(this);
    const own = (path: string) =>
      stack.formatArn({ service: 'apigateway', account: '', resource: path, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'NeverTheServiceApi',
        effect: iam.Effect.DENY,
        actions: [
          'apigateway:DELETE',
          'apigateway:PATCH',
          'apigateway:POST',
          'apigateway:PUT',
          'apigateway:SetWebACL',
          'wafv2:AssociateWebACL',
          'wafv2:DisassociateWebACL',
          'wafv2:GetWebACLForResource',
        ],
        resources: [own(`/restapis/${api.restApiId}`), own(`/restapis/${api.restApiId}/*`)],
      }),
    );
  }

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
        SCAN_RECORDS_BUCKET: props.stateBucket.bucketName,
      },
    });
    this.project = built.project;
    props.repository.grantPull(this.project);
    const role = this.project.role;
    if (!role) throw new Error('the release project has no role');
    this.role = role;
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
  // Each environment's function and its fleet members' (their versions and aliases too): by name and fleet pattern.
  const functions = applicationFunctionArns(stack, envs);
  const roles = envs.map((e) =>
    stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${e.functionName}-function` }),
  );
  const logGroups = envs.flatMap((e) => [
    // A pattern's `*` already covers the log streams' `:*`.
    ...applicationFunctionNames(e).flatMap((name) => {
      const group = arn('logs', 'log-group', `/aws/lambda/${name}`);
      return name.endsWith('*') ? [group] : [group, `${group}:*`];
    }),
    arn('logs', 'log-group', `/aws/apigateway/${e.functionName}/access`),
    arn('logs', 'log-group', `/aws/apigateway/${e.functionName}/access:*`),
  ]);
  const alarms = applicationAlarmArns(stack, envs);
  const secrets = envs.map((e) => arn('secretsmanager', 'secret', `${e.functionName}/client-keys-*`));
  const nonceTables = envs.map((e) =>
    arn('dynamodb', 'table', `${e.functionName}-nonces`, ArnFormat.SLASH_RESOURCE_NAME),
  );
  const webAcls = envs.map((e) =>
    arn('wafv2', 'regional/webacl', `${e.functionName}-api/*`, ArnFormat.SLASH_RESOURCE_NAME),
  );
  const apis = ['/restapis', '/restapis/*', '/tags/*'].map((path) =>
    stack.formatArn({ service: 'apigateway', account: '', resource: path, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
  );
  const managedByTerraform = { StringEquals: { 'aws:ResourceTag/ManagedBy': 'terraform' } };
  // The provider's default tags (infra/terraform/root/main.tf) go with every create call.
  const taggedByTerraform = { StringEquals: { 'aws:RequestTag/ManagedBy': 'terraform' } };
  const stages = stack.formatArn({
    service: 'apigateway',
    account: '',
    resource: '/restapis/*/stages/*',
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });

  return [
    new iam.PolicyStatement({
      sid: 'TerraformStateObjects',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [props.stateBucket.arnForObjects(`${STATE_KEY_PREFIX}*`)],
    }),
    // A passing scan of the digest is read instead of scanning again, and a fresh scan's pass is recorded for the
    // next environment; never Terraform's state objects, which have their own prefix.
    new iam.PolicyStatement({
      sid: 'ImageScanRecords',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [props.stateBucket.arnForObjects(`${SCAN_RECORDS_PREFIX}*`)],
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
        // `publish = true`: the provider publishes a version after every code or configuration change.
        'lambda:PublishVersion',
        'lambda:RemovePermission',
        'lambda:TagResource',
        'lambda:UntagResource',
        'lambda:UpdateAlias',
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
    // DescribeLogGroups has no resource type in the service authorization reference: it is authorized on `*` only.
    new iam.PolicyStatement({
      sid: 'DescribeLogGroups',
      actions: ['logs:DescribeLogGroups'],
      resources: ['*'],
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
    // API ids are assigned at creation, so the application's APIs are told apart from Switchyard's own release API
    // by the ManagedBy=terraform tag the provider sends with CreateRestApi: "IAM policies can be created that allow or
    // disallow an operation based on tags provided in the request (request tags), or tags on the resource that is
    // being operated on (resource tags)" (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-tagging-iam-policy.html).
    // Child resources (resources, methods, integrations, deployments, stages) inherit the API's tags for
    // attribute-based access control (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-tagging-supported-resources.html).
    new iam.PolicyStatement({
      sid: 'ListApisAndTags',
      actions: ['apigateway:GET'],
      resources: [apis[0] as string, apis[2] as string],
    }),
    new iam.PolicyStatement({
      sid: 'ReadApplicationApis',
      actions: ['apigateway:GET'],
      resources: [apis[1] as string],
      conditions: managedByTerraform,
    }),
    new iam.PolicyStatement({
      sid: 'CreateApplicationApis',
      actions: ['apigateway:POST'],
      resources: [apis[0] as string],
      conditions: taggedByTerraform,
    }),
    new iam.PolicyStatement({
      sid: 'ChangeApplicationApis',
      actions: ['apigateway:DELETE', 'apigateway:PATCH', 'apigateway:POST', 'apigateway:PUT'],
      resources: [apis[1] as string],
      conditions: managedByTerraform,
    }),
    // Tag changes never touch ManagedBy (set once, at creation), so no API can be tagged into this role's reach.
    new iam.PolicyStatement({
      sid: 'TagApplicationApis',
      actions: ['apigateway:DELETE', 'apigateway:PUT'],
      resources: [apis[2] as string],
      conditions: { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['ManagedBy'] } },
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
    // Associating a web ACL is also authorized on the API stage (the wafv2 `apigateway` resource type), which has no
    // condition keys; attaching one to a stage also takes apigateway:SetWebACL, limited to the application's stages.
    new iam.PolicyStatement({
      sid: 'WebAclsOnStages',
      actions: ['wafv2:AssociateWebACL', 'wafv2:DisassociateWebACL', 'wafv2:GetWebACLForResource'],
      resources: [stages],
    }),
    new iam.PolicyStatement({
      sid: 'AttachWebAclToStages',
      actions: ['apigateway:SetWebACL'],
      resources: [stages],
      conditions: managedByTerraform,
    }),
    // The application's nonce tables (nonces.tf): created, read, changed and deleted by name, nothing else.
    new iam.PolicyStatement({
      sid: 'ApplicationNonceTables',
      actions: [
        'dynamodb:CreateTable',
        'dynamodb:DeleteTable',
        'dynamodb:DescribeContinuousBackups',
        'dynamodb:DescribeTable',
        'dynamodb:DescribeTimeToLive',
        'dynamodb:ListTagsOfResource',
        'dynamodb:TagResource',
        'dynamodb:UntagResource',
        'dynamodb:UpdateTable',
        'dynamodb:UpdateTimeToLive',
      ],
      resources: nonceTables,
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
    // A new key has no ARN to scope to yet; every later call is limited to keys Terraform tagged. The provider's
    // default tags go with CreateKey, and "To add tags when creating a KMS key, the caller must have kms:TagResource
    // permission in an IAM policy. At a minimum, the permission must cover all KMS keys in the account and Region."
    // (https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html). A new key carries no tag yet, so
    // that TagResource is limited by the tags in the request (aws:RequestTag), not by the key's (aws:ResourceTag).
    new iam.PolicyStatement({
      sid: 'CreateSecretKeys',
      actions: ['kms:CreateKey'],
      resources: ['*'],
      conditions: taggedByTerraform,
    }),
    new iam.PolicyStatement({
      sid: 'TagSecretKeysAtCreation',
      actions: ['kms:TagResource'],
      resources: [arn('kms', 'key', '*', ArnFormat.SLASH_RESOURCE_NAME)],
      conditions: taggedByTerraform,
    }),
    // That tag grant could tag the service's own key into Terraform's reach: this key is never Terraform's.
    new iam.PolicyStatement({
      sid: 'NeverTheServiceKey',
      effect: iam.Effect.DENY,
      actions: [
        'kms:CreateAlias',
        'kms:DeleteAlias',
        'kms:EnableKeyRotation',
        'kms:ScheduleKeyDeletion',
        'kms:TagResource',
        'kms:UpdateKeyDescription',
      ],
      resources: [props.key.keyArn],
    }),
    new iam.PolicyStatement({
      sid: 'ListKeyAliases',
      actions: ['kms:ListAliases'],
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
        'kms:UpdateKeyDescription',
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
