import { environments } from '../../config/environments.ts';
import type { EnvironmentConfig } from '../../config/schema.ts';
import { ACCOUNT, REGION } from './deployed-template.ts';

const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;

/** The resources of the service the adapters act on, as deployed. */
export interface ServiceResources {
  readonly table: string;
  readonly topic: string;
  readonly repository: string;
  /** The state bucket's name (change sets under `change-sets/`). */
  readonly stateBucket: string;
}

/**
 * The resource ARNs AWS authorizes each adapter command on, for one environment: the request a call of that command
 * makes for that environment's function (qualified by version or alias where the adapter passes a qualifier), its
 * table items and indexes, its client-keys secret (with the six random characters Secrets Manager appends), its
 * alarms. Every action in infra/handler-permissions.ts's ADAPTER_ACTIONS must have an entry (the test checks).
 */
export function adapterResources(
  method: string,
  action: string,
  env: EnvironmentConfig,
  svc: ServiceResources,
): string[] {
  const fn = arn('lambda', `function:${env.functionName}`);
  switch (action) {
    case 'lambda:GetAlias':
    case 'lambda:UpdateAlias':
    case 'lambda:CreateAlias':
      return [fn, `${fn}:live`, `${fn}:blue`];
    case 'lambda:GetFunction':
      return [fn, `${fn}:7`];
    case 'lambda:ListVersionsByFunction':
    case 'lambda:UpdateFunctionCode':
    case 'lambda:GetFunctionConfiguration':
    case 'lambda:PublishVersion':
      return [fn];
    case 'lambda:InvokeFunction':
      return [`${fn}:7`, `${fn}:green`];
    case 'cloudwatch:GetMetricData':
      return ['*'];
    case 'cloudwatch:DescribeAlarms':
      return env.health.alarms.map((name) => arn('cloudwatch', `alarm:${name}`));
    case 'dynamodb:PutItem':
    case 'dynamodb:GetItem':
    case 'dynamodb:UpdateItem':
    case 'dynamodb:DeleteItem':
    case 'dynamodb:BatchGetItem':
      return [svc.table];
    case 'dynamodb:Query':
      // getRelease reads the release's event items from the table; listReleases queries the indexes.
      return method === 'getRelease'
        ? [svc.table]
        : [`${svc.table}/index/byEnvironment`, `${svc.table}/index/byStartedAt`];
    case 'sns:Publish':
      return [svc.topic];
    case 'ecr:DescribeImages':
      return [svc.repository];
    case 'secretsmanager:GetSecretValue':
      return [arn('secretsmanager', `secret:${env.functionName}/client-keys-AbC123`)];
    case 's3:GetObject':
      // A change set by digest, and the pointer from a commit to it.
      return [
        `arn:aws:s3:::${svc.stateBucket}/change-sets/sha256:${'ab'.repeat(32)}.json`,
        `arn:aws:s3:::${svc.stateBucket}/change-sets/commits/${'c'.repeat(40)}.json`,
      ];
    default:
      throw new Error(`no resource model for ${action}: add it to test/iam/adapter-requests.ts`);
  }
}

/** The same commands against resources no grant covers: another function, table, topic, secret or repository. */
export function foreignResources(
  action: string,
  svc: { ownFunction: string; lockTable: string; stateBucket: string },
): string[] {
  const [service] = action.split(':');
  switch (service) {
    case 'lambda':
      return [svc.ownFunction, `${svc.ownFunction}:live`, arn('lambda', 'function:other-api:7')];
    case 'dynamodb':
      return [svc.lockTable];
    case 'sns':
      return [arn('sns', 'other-topic')];
    case 'ecr':
      return [arn('ecr', 'repository/other-images')];
    case 'secretsmanager':
      return [arn('secretsmanager', 'secret:other-api/client-keys-AbC123')];
    case 'cloudwatch':
      return action === 'cloudwatch:DescribeAlarms' ? [arn('cloudwatch', 'alarm:other-alarm')] : [];
    case 's3':
      // Terraform's state and the scan records beside the change sets, and another bucket.
      return [
        `arn:aws:s3:::${svc.stateBucket}/switchyard/prod/terraform.tfstate`,
        `arn:aws:s3:::${svc.stateBucket}/image-scans/sha256:${'ab'.repeat(32)}.json`,
        'arn:aws:s3:::other-bucket/change-sets/x.json',
      ];
    default:
      return [];
  }
}

export const ENVIRONMENTS = Object.values(environments);
