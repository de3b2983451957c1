import { ArnFormat, Fn, type Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { CHANGE_SET_KEYS } from '../adapters/aws/s3-dynamodb-insight-store.ts';
import { clientKeysSecretName } from '../config/environments.ts';
import { fleetFunctionPrefix } from '../config/fleet.ts';
import type { EnvironmentConfig, Environments } from '../config/schema.ts';
import { RELEASE_TABLE } from '../contract/release-table.ts';
import {
  type AwsPort,
  ENV_VARS,
  type PortGrants,
  type PortMethods,
  requiredEnvVars,
} from '../contract/service-functions.ts';

/**
 * The IAM actions behind each adapter method: exactly the SDK commands it sends (`GetAliasCommand` →
 * `lambda:GetAlias`), including the ones on its fallback paths (ensureAlias creates a missing alias, acquireLock
 * reads the holder after a refused write, updateCodeAndWait polls GetFunction through the SDK waiter).
 * test/infra/handler-permissions.test.ts records the commands each method really sends against aws-sdk-client-mock.
 */
export const ADAPTER_ACTIONS: { readonly [P in AwsPort]: Readonly<Record<PortMethods[P], readonly string[]>> } = {
  functions: {
    getAlias: ['lambda:GetAlias'],
    versionImageDigest: ['lambda:GetFunction'],
    publishedVersion: ['lambda:GetFunction'],
    updateCodeAndWait: ['lambda:UpdateFunctionCode', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration'],
    publishVersion: ['lambda:PublishVersion'],
    // The alias is read for its RevisionId, then updated with it (a change in between is refused, not overwritten).
    updateAlias: ['lambda:GetAlias', 'lambda:UpdateAlias'],
    ensureAlias: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:CreateAlias'],
    invoke: ['lambda:InvokeFunction'],
  },
  metrics: { sample: ['cloudwatch:GetMetricData'], sampleAll: ['cloudwatch:GetMetricData'] },
  alarms: { describe: ['cloudwatch:DescribeAlarms'] },
  store: {
    acquireLock: ['dynamodb:PutItem', 'dynamodb:GetItem'],
    releaseLock: ['dynamodb:DeleteItem'],
    renewLock: ['dynamodb:UpdateItem'],
    getLock: ['dynamodb:GetItem'],
    createRelease: ['dynamodb:PutItem'],
    // The release item, then its event items (one per event, under the release's key).
    getRelease: ['dynamodb:GetItem', 'dynamodb:Query'],
    // A conditional update (a document-path update for one target) and its event item; a change to the wave or to
    // several targets reads the release item first and writes it back on its revision; a refused one-target write
    // reads the release item to say why.
    update: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'],
    // A conditional update (and its event item); a refused close reads the release item to tell "ended" from "missing".
    closeRelease: ['dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem'],
    // The index entries (keys and status), then the records they name from the table.
    listReleases: ['dynamodb:Query', 'dynamodb:BatchGetItem'],
    saveApprovalRequest: ['dynamodb:PutItem'],
    takeApprovalRequest: ['dynamodb:DeleteItem'],
    recordDelivery: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
    getPolicyEntry: ['dynamodb:GetItem'],
    putPolicyEntry: ['dynamodb:PutItem'],
    listPolicyEntries: ['dynamodb:Query'],
  },
  notifier: { notify: ['sns:Publish'] },
  registry: {
    digestExists: ['ecr:DescribeImages'],
    resolveTag: ['ecr:DescribeImages'],
    sourceCommit: ['ecr:DescribeImages'],
  },
  smokeSigners: { signerFor: ['secretsmanager:GetSecretValue'] },
  insight: {
    // The change set by digest; by commit, its pointer and then the change set.
    getChangeSet: ['s3:GetObject'],
    changeSetOfCommit: ['s3:GetObject'],
    getReleaseChanges: ['dynamodb:GetItem'],
    // A conditional put; a refused one (a retry) reads the diff kept first.
    putReleaseChanges: ['dynamodb:PutItem', 'dynamodb:GetItem'],
  },
};

/** dynamodb:Query on the table itself: reading a release's event items (getRelease), the policy's entries. */
export function historyQuery(grants: PortGrants): string[] {
  return grants.store?.includes('getRelease') || grants.store?.includes('listPolicyEntries') ? ['dynamodb:Query'] : [];
}

/** dynamodb:Query on the listing indexes (listReleases). */
export function listingQuery(grants: PortGrants): string[] {
  return grants.store?.includes('listReleases') ? ['dynamodb:Query'] : [];
}

/** The actions a function's grants need, per port, sorted and without duplicates. */
export function actionsFor(grants: PortGrants): { readonly [P in AwsPort]?: string[] } {
  const out: { [P in AwsPort]?: string[] } = {};
  for (const port of Object.keys(grants) as AwsPort[]) {
    const methods = (grants[port] ?? []) as readonly string[];
    const table = ADAPTER_ACTIONS[port] as Readonly<Record<string, readonly string[]>>;
    const actions = new Set(methods.flatMap((m) => table[m] ?? []));
    if (actions.size > 0) out[port] = [...actions].sort();
  }
  return out;
}

/** Every action a function's grants need, sorted. */
export function allActionsFor(grants: PortGrants): string[] {
  return [...new Set(Object.values(actionsFor(grants)).flat())].sort();
}

/**
 * Actions no adapter sends but the platform needs for a function to run: its own log group, X-Ray segments
 * (`*`: X-Ray has no resource-level permissions), the alerts topic's KMS key for SNS publishers, and the client-keys
 * secrets' KMS key, which Secrets Manager uses on the reader's behalf (kms:ViaService).
 */
export const PLATFORM_ACTIONS = {
  logs: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  tracing: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
  topicKey: ['kms:Decrypt', 'kms:GenerateDataKey'],
  secretKey: ['kms:Decrypt'],
} as const;

/** What a function's grants act on in this stack: the configured environments and the service's own resources. */
export interface GrantResources {
  /** Every configured environment: functions act on exactly these environments' functions, alarms and secrets. */
  readonly environments: Environments;
  readonly table: dynamodb.ITable;
  readonly topic: sns.ITopic;
  /** The alerts topic's KMS key: publishers need to generate data keys with it. */
  readonly topicKey: kms.IKey;
  readonly repository: ecr.IRepository;
  /** The state bucket whose `change-sets/` the build stage writes (docs/insight.md). */
  readonly stateBucket: s3.IBucket;
}

/**
 * The names of an environment's functions: its own, and, when it has fleet members besides it, every name under its
 * fleet prefix (`fleet.functionNamePrefix`, by default `<functionName>-`, which config/schema.ts makes every member's
 * name start with). One pattern per
 * environment, not one ARN per member: a 100-member fleet's ARNs (two per member) would not fit IAM's or ECR's policy
 * size limits (docs/iam.md, "Policy sizes").
 */
export function applicationFunctionNames(env: EnvironmentConfig): string[] {
  const members = (env.fleet?.members ?? []).filter((m) => m.functionName !== env.functionName);
  return members.length > 0 ? [env.functionName, `${fleetFunctionPrefix(env)}*`] : [env.functionName];
}

/**
 * The application's functions in every configured environment (fleet members included), unqualified and qualified:
 * versions and aliases are qualified ARNs (`function:name:7`, `function:name:live`), hence the `:*` (a fleet pattern's
 * `*` covers both).
 */
export function applicationFunctionArns(stack: Stack, envs: readonly EnvironmentConfig[]): string[] {
  const names = [...new Set(envs.flatMap(applicationFunctionNames))];
  return names.flatMap((functionName) => {
    const arn = stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: functionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return functionName.endsWith('*') ? [arn] : [arn, `${arn}:*`];
  });
}

/** The alarms the environments' health checks watch: Terraform's, named in each environment's `health.alarms`. */
export function applicationAlarmArns(stack: Stack, envs: readonly EnvironmentConfig[]): string[] {
  return [...new Set(envs.flatMap((env) => env.health.alarms))].map((name) =>
    stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  );
}

/** `<account>.dkr.ecr.<region>.<suffix>`, the host part of the repository URI. */
export function registryHost(repository: ecr.IRepository): string {
  return Fn.select(0, Fn.split('/', repository.repositoryUri));
}

/** The environment variables a function with these grants reads (contract/service-functions.ts), with their values. */
export function grantEnvironment(grants: PortGrants, resources: GrantResources): Record<string, string> {
  const values: Record<string, string> = {
    [ENV_VARS.tableName]: resources.table.tableName,
    [ENV_VARS.topicArn]: resources.topic.topicArn,
    [ENV_VARS.registryHost]: registryHost(resources.repository),
    [ENV_VARS.changeSetsBucket]: resources.stateBucket.bucketName,
  };
  return Object.fromEntries(requiredEnvVars(grants).map((name) => [name, values[name] ?? '']));
}

/**
 * The one IAM-statement builder of the service's functions: exactly the actions `grants` needs (ADAPTER_ACTIONS),
 * each on the narrowest resources the service supports, and the KMS use those actions imply.
 */
export function grantStatements(stack: Stack, grants: PortGrants, resources: GrantResources): iam.PolicyStatement[] {
  const envs = Object.values(resources.environments);
  const actions = actionsFor(grants);
  const statements: iam.PolicyStatement[] = [];
  const add = (sid: string, granted: readonly string[] | undefined, arns: string[], conditions?: iam.Conditions) => {
    if (granted && granted.length > 0 && arns.length > 0) {
      statements.push(
        new iam.PolicyStatement({ sid, actions: [...granted], resources: arns, ...(conditions ? { conditions } : {}) }),
      );
    }
  };
  const { table, topic, topicKey, repository } = resources;
  add('ApplicationFunctions', actions.functions, applicationFunctionArns(stack, envs));
  // GetMetricData has no resource type in the service authorization reference ("Actions, resources, and condition
  // keys for Amazon CloudWatch": its Resource types column is empty, so the policy must name "*").
  add('ReadVersionMetrics', actions.metrics, ['*']);
  add('ReadWatchedAlarms', actions.alarms, applicationAlarmArns(stack, envs));
  add(
    'ReleaseTable',
    (actions.store ?? []).filter((a) => a !== 'dynamodb:Query'),
    [table.tableArn],
  );
  // getRelease reads a release's event items from the table; listReleases reads the two listing indexes, by name.
  add('ReleaseHistory', historyQuery(grants), [table.tableArn]);
  add(
    'ReleaseTableIndexes',
    listingQuery(grants),
    [RELEASE_TABLE.byEnvironmentIndex.indexName, RELEASE_TABLE.byStartedAtIndex.indexName].map(
      (index) => `${table.tableArn}/index/${index}`,
    ),
  );
  // A release's kept diff is an item of the release table (`CHANGES#<release id>`).
  add(
    'ReleaseChanges',
    (actions.insight ?? []).filter((a) => a.startsWith('dynamodb:')),
    [table.tableArn],
  );
  // Change sets, read only, under change-sets/ of the state bucket: never Terraform's state beside them.
  add(
    'ReadChangeSets',
    (actions.insight ?? []).filter((a) => a.startsWith('s3:')),
    [resources.stateBucket.arnForObjects(`${CHANGE_SET_KEYS.prefix}*`)],
  );
  add('PublishAlerts', actions.notifier, [topic.topicArn]);
  if (actions.notifier) add('EncryptAlerts', PLATFORM_ACTIONS.topicKey, [topicKey.keyArn]);
  add('ReadImages', actions.registry, [repository.repositoryArn]);
  if (actions.smokeSigners) {
    // Terraform's `<functionName>/client-keys`; Secrets Manager appends six random characters to a secret's ARN.
    const secrets = envs.map((env) =>
      stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${clientKeysSecretName(env)}-*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    add('ReadClientKeys', actions.smokeSigners, secrets);
    // The secrets' key is Terraform's (its id is unknown here): usable only through Secrets Manager, for them.
    add(
      'DecryptClientKeys',
      PLATFORM_ACTIONS.secretKey,
      [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
      {
        StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
        StringLike: { 'kms:EncryptionContext:SecretARN': secrets },
      },
    );
  }
  return statements;
}
