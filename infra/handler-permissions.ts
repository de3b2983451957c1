import type { AwsPort, PortGrants, PortMethods } from '../handlers/aws-dependencies.ts';

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
    findVersionByDescription: ['lambda:ListVersionsByFunction'],
    updateCodeAndWait: ['lambda:UpdateFunctionCode', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration'],
    publishVersion: ['lambda:PublishVersion'],
    // The alias is read for its RevisionId, then updated with it (a change in between is refused, not overwritten).
    updateAlias: ['lambda:GetAlias', 'lambda:UpdateAlias'],
    ensureAlias: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:CreateAlias'],
    invoke: ['lambda:InvokeFunction'],
  },
  metrics: { sample: ['cloudwatch:GetMetricData'] },
  alarms: { describe: ['cloudwatch:DescribeAlarms'] },
  store: {
    acquireLock: ['dynamodb:PutItem', 'dynamodb:GetItem'],
    releaseLock: ['dynamodb:DeleteItem'],
    getLock: ['dynamodb:GetItem'],
    createRelease: ['dynamodb:PutItem'],
    // The release item, then its event items (one per event, under the release's key).
    getRelease: ['dynamodb:GetItem', 'dynamodb:Query'],
    updateRelease: ['dynamodb:UpdateItem', 'dynamodb:PutItem'],
    listReleases: ['dynamodb:Query'],
    saveApprovalRequest: ['dynamodb:PutItem'],
    takeApprovalRequest: ['dynamodb:DeleteItem'],
    recordDelivery: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  },
  notifier: { notify: ['sns:Publish'] },
  registry: {
    digestExists: ['ecr:DescribeImages'],
    resolveTag: ['ecr:DescribeImages'],
    sourceCommit: ['ecr:DescribeImages'],
  },
  smokeSigners: { signerFor: ['secretsmanager:GetSecretValue'] },
};

/** dynamodb:Query on the table itself: reading a release's event items (getRelease). */
export function historyQuery(grants: PortGrants): string[] {
  return grants.store?.includes('getRelease') ? ['dynamodb:Query'] : [];
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
