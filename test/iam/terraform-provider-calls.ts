import { ACCOUNT, REGION } from './deployed-template.ts';

/** The names and ids a Terraform apply of one environment acts on (or, for the denials, Switchyard's own). */
export interface Target {
  readonly functionName: string;
  readonly roleName: string;
  /** The log group names it manages. */
  readonly logGroups: readonly string[];
  readonly alarms: readonly string[];
  readonly apiId: string;
  readonly keyId: string;
  /** The key a CreateKey with tags makes: a new one for the application; Switchyard's own for the denials. */
  readonly newKeyId: string;
  readonly keyAlias: string;
  readonly secretName: string;
  readonly webAclName: string;
  /** Tags the existing resource carries: Terraform's default tags on the application's, none of them on Switchyard's. */
  readonly resourceTags: Readonly<Record<string, string>>;
  readonly stateBucket: string;
  readonly environment: string;
}

export type Phase = 'create' | 'read' | 'update' | 'delete';

export interface ProviderCall {
  /** The Terraform resource type of `infra/terraform/modules/app-environment` (or the S3 backend). */
  readonly resourceType: string;
  readonly phase: Phase;
  readonly action: string;
  readonly resources: (t: Target) => string[];
  /** The request carries the provider's default tags (create-with-tags calls). */
  readonly sendsTags?: boolean;
  /** The call acts on a resource that carries no tag yet (tags sent with the create call). */
  readonly untagged?: boolean;
  /** Request context AWS adds for this call. */
  readonly context?: Readonly<Record<string, string>>;
  /**
   * Why the simulator cannot model this call, when it cannot: iam-data gives these resource types two ARN patterns in
   * one field, so no ARN matches a resource type of the action. Listed, counted as not simulated, never as passed.
   */
  readonly notSimulated?: string;
}

const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
const fn = (t: Target) => arn('lambda', `function:${t.functionName}`);
const role = (t: Target) => `arn:aws:iam::${ACCOUNT}:role/${t.roleName}`;
const logGroups = (t: Target) => t.logGroups.map((name) => arn('logs', `log-group:${name}`));
const api = (t: Target, path = '') => `arn:aws:apigateway:${REGION}::/restapis/${t.apiId}${path}`;
const key = (t: Target) => arn('kms', `key/${t.keyId}`);
const secret = (t: Target) => arn('secretsmanager', `secret:${t.secretName}-AbC123`);
const webAcl = (t: Target) => arn('wafv2', `regional/webacl/${t.webAclName}/a1b2c3d4-5678-90ab-cdef-example11111`);
const stage = (t: Target) => api(t, '/stages/live');
const alarms = (t: Target) => t.alarms.map((name) => arn('cloudwatch', `alarm:${name}`));
const nonceTable = (t: Target) => arn('dynamodb', `table/${t.functionName}-nonces`);
const TWO_PATTERNS = 'iam-data lists /apis/… and /restapis/… in one ARN field for this resource type';
const calls = (
  resourceType: string,
  phase: Phase,
  actions: string[],
  resources: (t: Target) => string[],
  sendsTags = false,
): ProviderCall[] => actions.map((action) => ({ resourceType, phase, action, resources, sendsTags }));

/**
 * What the hashicorp/aws provider (~> 6.0) calls for each resource type the application module manages, by phase.
 * Listed from the provider's resource documentation (registry.terraform.io/providers/hashicorp/aws/latest/docs/
 * resources/<type>) and the AWS API reference of each operation it names; an apply against AWS has never run here,
 * so docs/iam.md says which rows rest on the documentation only.
 * - aws_lambda_function: `publish = true` "Whether to publish creation/change as new Lambda Function Version"
 *   (provider docs), so a configuration change is followed by PublishVersion; image functions need the image pull.
 * - aws_kms_key: the provider's default tags go into CreateKey's `Tags`, and "To add tags when creating a KMS key, the
 *   caller must have kms:TagResource permission in an IAM policy. At a minimum, the permission must cover all KMS keys
 *   in the account and Region." (https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html)
 * - aws_cloudwatch_log_group: reads through DescribeLogGroups, which has no resource type (service authorization
 *   reference, CloudWatch Logs), so it is authorized on `*`.
 */
export const PROVIDER_CALLS: readonly ProviderCall[] = [
  ...calls('backend "s3"', 'read', ['s3:GetObject'], (t) => [
    `arn:aws:s3:::${t.stateBucket}/switchyard/${t.environment}/terraform.tfstate`,
  ]),
  ...calls('backend "s3"', 'update', ['s3:PutObject'], (t) => [
    `arn:aws:s3:::${t.stateBucket}/switchyard/${t.environment}/terraform.tfstate`,
    `arn:aws:s3:::${t.stateBucket}/switchyard/${t.environment}/terraform.tfstate.tflock`,
  ]),
  ...calls('backend "s3"', 'delete', ['s3:DeleteObject'], (t) => [
    `arn:aws:s3:::${t.stateBucket}/switchyard/${t.environment}/terraform.tfstate.tflock`,
  ]),
  ...calls('backend "s3"', 'read', ['s3:ListBucket'], (t) => [`arn:aws:s3:::${t.stateBucket}`]),

  ...calls('aws_lambda_function', 'create', ['lambda:CreateFunction'], (t) => [fn(t)], true),
  {
    resourceType: 'aws_lambda_function',
    phase: 'create',
    action: 'iam:PassRole',
    resources: (t) => [role(t)],
    context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
  },
  ...calls('aws_lambda_function', 'create', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], () => [
    arn('ecr', 'repository/switchyard-api'),
  ]),
  ...calls(
    'aws_lambda_function',
    'read',
    [
      'lambda:GetFunction',
      'lambda:GetFunctionCodeSigningConfig',
      'lambda:GetRuntimeManagementConfig',
      'lambda:ListVersionsByFunction',
      'lambda:GetFunctionConfiguration',
    ],
    (t) => [fn(t)],
  ),
  ...calls(
    'aws_lambda_function',
    'update',
    ['lambda:UpdateFunctionConfiguration', 'lambda:PublishVersion', 'lambda:TagResource', 'lambda:UntagResource'],
    (t) => [fn(t)],
  ),
  ...calls('aws_lambda_function', 'delete', ['lambda:DeleteFunction'], (t) => [fn(t)]),

  ...calls('aws_lambda_alias', 'create', ['lambda:CreateAlias'], (t) => [fn(t), `${fn(t)}:live`]),
  ...calls('aws_lambda_alias', 'read', ['lambda:GetAlias'], (t) => [`${fn(t)}:live`]),
  ...calls('aws_lambda_alias', 'update', ['lambda:UpdateAlias'], (t) => [`${fn(t)}:live`]),
  ...calls('aws_lambda_alias', 'delete', ['lambda:DeleteAlias'], (t) => [`${fn(t)}:live`]),

  ...calls('aws_lambda_permission', 'create', ['lambda:AddPermission'], (t) => [`${fn(t)}:live`]),
  ...calls('aws_lambda_permission', 'read', ['lambda:GetPolicy'], (t) => [`${fn(t)}:live`]),
  ...calls('aws_lambda_permission', 'delete', ['lambda:RemovePermission'], (t) => [`${fn(t)}:live`]),

  ...calls('aws_iam_role', 'create', ['iam:CreateRole'], (t) => [role(t)], true),
  ...calls('aws_iam_role', 'read', ['iam:GetRole', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies'], (t) => [
    role(t),
  ]),
  ...calls(
    'aws_iam_role',
    'update',
    ['iam:UpdateAssumeRolePolicy', 'iam:UpdateRoleDescription', 'iam:TagRole', 'iam:UntagRole'],
    (t) => [role(t)],
  ),
  ...calls('aws_iam_role', 'delete', ['iam:ListInstanceProfilesForRole', 'iam:DeleteRole'], (t) => [role(t)]),
  ...calls('aws_iam_role_policy', 'create', ['iam:PutRolePolicy'], (t) => [role(t)]),
  ...calls('aws_iam_role_policy', 'read', ['iam:GetRolePolicy'], (t) => [role(t)]),
  ...calls('aws_iam_role_policy', 'delete', ['iam:DeleteRolePolicy'], (t) => [role(t)]),

  ...calls('aws_cloudwatch_log_group', 'create', ['logs:CreateLogGroup'], logGroups, true),
  ...calls('aws_cloudwatch_log_group', 'read', ['logs:DescribeLogGroups'], () => ['*']),
  ...calls('aws_cloudwatch_log_group', 'read', ['logs:ListTagsForResource'], logGroups),
  ...calls(
    'aws_cloudwatch_log_group',
    'update',
    ['logs:PutRetentionPolicy', 'logs:TagResource', 'logs:UntagResource'],
    logGroups,
  ),
  ...calls('aws_cloudwatch_log_group', 'delete', ['logs:DeleteLogGroup'], logGroups),

  ...calls('aws_cloudwatch_metric_alarm', 'create', ['cloudwatch:PutMetricAlarm'], alarms),
  ...calls(
    'aws_cloudwatch_metric_alarm',
    'read',
    ['cloudwatch:DescribeAlarms', 'cloudwatch:ListTagsForResource'],
    alarms,
  ),
  ...calls('aws_cloudwatch_metric_alarm', 'update', ['cloudwatch:TagResource', 'cloudwatch:UntagResource'], alarms),
  ...calls('aws_cloudwatch_metric_alarm', 'delete', ['cloudwatch:DeleteAlarms'], alarms),

  ...calls(
    'aws_api_gateway_rest_api',
    'create',
    ['apigateway:POST'],
    () => [`arn:aws:apigateway:${REGION}::/restapis`],
    true,
  ),
  ...calls('aws_api_gateway_rest_api', 'read', ['apigateway:GET'], (t) => [api(t)]),
  ...calls('aws_api_gateway_rest_api', 'update', ['apigateway:PATCH'], (t) => [api(t)]),
  ...calls('aws_api_gateway_rest_api', 'delete', ['apigateway:DELETE'], (t) => [api(t)]),
  ...calls('aws_api_gateway_resource', 'create', ['apigateway:POST'], (t) => [api(t, '/resources')]),
  ...calls('aws_api_gateway_resource', 'delete', ['apigateway:DELETE'], (t) => [api(t, '/resources/abc123')]),
  ...calls('aws_api_gateway_method', 'create', ['apigateway:PUT'], (t) => [api(t, '/resources/abc123/methods/ANY')]),
  ...calls('aws_api_gateway_method', 'delete', ['apigateway:DELETE'], (t) => [api(t, '/resources/abc123/methods/ANY')]),
  ...calls('aws_api_gateway_integration', 'create', ['apigateway:PUT'], (t) => [
    api(t, '/resources/abc123/methods/ANY/integration'),
  ]),
  ...calls('aws_api_gateway_deployment', 'create', ['apigateway:POST'], (t) => [api(t, '/deployments')]).map((c) => ({
    ...c,
    notSimulated: TWO_PATTERNS,
  })),
  ...calls('aws_api_gateway_deployment', 'delete', ['apigateway:DELETE'], (t) => [api(t, '/deployments/dep123')]),
  ...calls('aws_api_gateway_stage', 'create', ['apigateway:POST'], (t) => [api(t, '/stages')], true).map((c) => ({
    ...c,
    notSimulated: TWO_PATTERNS,
  })),
  ...calls('aws_api_gateway_stage', 'update', ['apigateway:PATCH'], (t) => [stage(t)]),
  ...calls('aws_api_gateway_stage', 'delete', ['apigateway:DELETE'], (t) => [stage(t)]),
  ...calls('aws_api_gateway_method_settings', 'update', ['apigateway:PATCH'], (t) => [stage(t)]),

  ...calls('aws_kms_key', 'create', ['kms:CreateKey'], () => ['*'], true),
  // Tags sent with CreateKey: authorized as TagResource on the new key, which carries no tag yet.
  ...calls('aws_kms_key', 'create', ['kms:TagResource'], (t) => [arn('kms', `key/${t.newKeyId}`)], true).map((c) => ({
    ...c,
    untagged: true,
  })),
  ...calls(
    'aws_kms_key',
    'read',
    ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags'],
    (t) => [key(t)],
  ),
  ...calls('aws_kms_key', 'update', ['kms:EnableKeyRotation', 'kms:UpdateKeyDescription'], (t) => [key(t)]),
  ...calls('aws_kms_key', 'delete', ['kms:ScheduleKeyDeletion'], (t) => [key(t)]),
  ...calls('aws_kms_alias', 'create', ['kms:CreateAlias'], (t) => [arn('kms', `alias/${t.keyAlias}`), key(t)]),
  ...calls('aws_kms_alias', 'read', ['kms:ListAliases'], () => ['*']),
  ...calls('aws_kms_alias', 'delete', ['kms:DeleteAlias'], (t) => [arn('kms', `alias/${t.keyAlias}`), key(t)]),

  ...calls('aws_secretsmanager_secret', 'create', ['secretsmanager:CreateSecret'], (t) => [secret(t)], true),
  ...calls(
    'aws_secretsmanager_secret',
    'read',
    ['secretsmanager:DescribeSecret', 'secretsmanager:GetResourcePolicy'],
    (t) => [secret(t)],
  ),
  ...calls(
    'aws_secretsmanager_secret',
    'update',
    ['secretsmanager:UpdateSecret', 'secretsmanager:TagResource', 'secretsmanager:UntagResource'],
    (t) => [secret(t)],
  ),
  ...calls('aws_secretsmanager_secret', 'delete', ['secretsmanager:DeleteSecret'], (t) => [secret(t)]),

  // aws_dynamodb_table: CreateTable with the provider's default tags, then TTL; read back with its TTL and backups.
  ...calls(
    'aws_dynamodb_table',
    'create',
    ['dynamodb:CreateTable', 'dynamodb:TagResource'],
    (t) => [nonceTable(t)],
    true,
  ),
  ...calls(
    'aws_dynamodb_table',
    'read',
    [
      'dynamodb:DescribeTable',
      'dynamodb:DescribeTimeToLive',
      'dynamodb:DescribeContinuousBackups',
      'dynamodb:ListTagsOfResource',
    ],
    (t) => [nonceTable(t)],
  ),
  ...calls(
    'aws_dynamodb_table',
    'update',
    ['dynamodb:UpdateTable', 'dynamodb:UpdateTimeToLive', 'dynamodb:TagResource', 'dynamodb:UntagResource'],
    (t) => [nonceTable(t)],
  ),
  ...calls('aws_dynamodb_table', 'delete', ['dynamodb:DeleteTable'], (t) => [nonceTable(t)]),

  ...calls('aws_wafv2_web_acl', 'create', ['wafv2:CreateWebACL'], (t) => [webAcl(t)], true),
  ...calls('aws_wafv2_web_acl', 'read', ['wafv2:GetWebACL', 'wafv2:ListTagsForResource'], (t) => [webAcl(t)]),
  ...calls('aws_wafv2_web_acl', 'update', ['wafv2:UpdateWebACL', 'wafv2:TagResource', 'wafv2:UntagResource'], (t) => [
    webAcl(t),
  ]),
  ...calls('aws_wafv2_web_acl', 'delete', ['wafv2:DeleteWebACL'], (t) => [webAcl(t)]),
  ...calls('aws_wafv2_web_acl_association', 'create', ['wafv2:AssociateWebACL'], (t) => [webAcl(t), stage(t)]),
  ...calls('aws_wafv2_web_acl_association', 'create', ['apigateway:SetWebACL'], (t) => [stage(t)]).map((c) => ({
    ...c,
    notSimulated: TWO_PATTERNS,
  })),
  ...calls('aws_wafv2_web_acl_association', 'read', ['wafv2:GetWebACLForResource'], (t) => [webAcl(t), stage(t)]),
  ...calls('aws_wafv2_web_acl_association', 'delete', ['wafv2:DisassociateWebACL'], (t) => [stage(t)]),
];
