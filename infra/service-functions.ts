import { ArnFormat, Duration, Fn, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { RELEASE_TABLE } from '../adapters/aws/dynamodb-release-store.ts';
import { clientKeysSecretName } from '../config/environments.ts';
import type { EnvironmentConfig, Environments } from '../config/schema.ts';
import {
  ENTRY_FILES,
  ENV_VARS,
  FUNCTION_GRANTS,
  type PortGrants,
  RECONCILE,
  requiredEnvVars,
  type ServiceFunction,
} from '../contract/service-functions.ts';
import { HANDLER_TASKS, type HandlerTask, STATES } from '../state-machine/state-names.ts';
import { actionsFor, historyQuery, listingQuery, PLATFORM_ACTIONS } from './handler-permissions.ts';
import { SwitchyardFunction } from './switchyard-function.ts';

/**
 * The application's functions in every configured environment, unqualified and qualified: versions and aliases
 * are qualified ARNs (`function:name:7`, `function:name:live`), hence the `:*`.
 */
export function applicationFunctionArns(stack: Stack, envs: readonly EnvironmentConfig[]): string[] {
  return envs.flatMap((env) => {
    const arn = stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: env.functionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return [arn, `${arn}:*`];
  });
}

/** Construct ids, which also name the functions' log groups and roles in the template. */
export const FUNCTION_IDS: Readonly<Record<ServiceFunction, string>> = {
  [STATES.validate]: 'ValidateRelease',
  [STATES.deploy]: 'DeployGreen',
  [STATES.verify]: 'VerifyGreen',
  [STATES.approval]: 'AwaitApproval',
  [STATES.shift]: 'ShiftTraffic',
  [STATES.check]: 'CheckHealth',
  [STATES.rollBack]: 'RollBack',
  [STATES.finalize]: 'Finalize',
  [STATES.recordFailure]: 'RecordFailure',
  [RECONCILE]: 'Reconcile',
};

/** Deploy green waits for Lambda's code update (up to five minutes) inside one invocation. */
const TIMEOUTS: Partial<Record<ServiceFunction, Duration>> = {
  [STATES.deploy]: Duration.minutes(10),
  [STATES.verify]: Duration.minutes(2),
};

export interface ServiceFunctionsProps {
  /** Every configured environment: the functions may act on exactly these environments' functions and alarms. */
  readonly environments: Environments;
  readonly table: dynamodb.ITable;
  readonly topic: sns.ITopic;
  /** The topic's KMS key: publishers need to generate data keys with it. */
  readonly topicKey: kms.IKey;
  readonly repository: ecr.IRepository;
  /** Powertools log level of the service's handlers. */
  readonly logLevel: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The service's Lambda functions: one per handler-backed Task state, plus the reconcile handler. Each role gets
 * exactly the actions its `FUNCTION_GRANTS` need (infra/handler-permissions.ts), on the narrowest resources the
 * service supports, and each function the environment variables those grants read.
 */
export class ServiceFunctions extends Construct {
  readonly functions: Readonly<Record<ServiceFunction, SwitchyardFunction>>;

  constructor(scope: Construct, id: string, props: ServiceFunctionsProps) {
    super(scope, id);
    const envs = Object.values(props.environments);
    if (envs.length === 0) throw new Error('ServiceFunctions needs at least one environment');
    const functions = {} as Record<ServiceFunction, SwitchyardFunction>;
    for (const fn of [...HANDLER_TASKS, RECONCILE] as const) {
      const grants = FUNCTION_GRANTS[fn];
      const values: Record<string, string> = {
        [ENV_VARS.tableName]: props.table.tableName,
        [ENV_VARS.topicArn]: props.topic.topicArn,
        [ENV_VARS.registryHost]: registryHost(props.repository),
      };
      const environment = Object.fromEntries(requiredEnvVars(grants).map((name) => [name, values[name] ?? '']));
      const created = new SwitchyardFunction(this, FUNCTION_IDS[fn], {
        entry: ENTRY_FILES[fn],
        description: fn === RECONCILE ? 'Reconciles stopped release executions' : `Release step: ${fn}`,
        serviceName: 'switchyard',
        logLevel: props.logLevel,
        logRetention: props.logRetention,
        environment,
        ...(TIMEOUTS[fn] ? { timeout: TIMEOUTS[fn] } : {}),
      });
      for (const statement of this.statementsFor(fn, grants, props)) created.role.addToPrincipalPolicy(statement);
      functions[fn] = created;
    }
    this.functions = functions;
  }

  /** The Lambda functions behind the workflow's Task states, as `ReleaseWorkflow` takes them. */
  get taskFunctions(): Record<HandlerTask, lambda.IFunction> {
    const handlers = {} as Record<HandlerTask, lambda.IFunction>;
    for (const task of HANDLER_TASKS) handlers[task] = this.functions[task].function;
    return handlers;
  }

  private statementsFor(fn: ServiceFunction, grants: PortGrants, props: ServiceFunctionsProps): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const envs = Object.values(props.environments);
    const actions = actionsFor(grants);
    const statements: iam.PolicyStatement[] = [];
    const add = (sid: string, granted: string[] | undefined, resources: string[]) => {
      if (granted && granted.length > 0 && resources.length > 0) {
        statements.push(new iam.PolicyStatement({ sid, actions: granted, resources }));
      }
    };
    // Versions and aliases are qualified ARNs (`function:name:7`, `function:name:live`), hence the `:*`.
    add('ApplicationFunctions', actions.functions, applicationFunctionArns(stack, envs));
    // GetMetricData has no resource-level permissions.
    add('ReadVersionMetrics', actions.metrics, ['*']);
    add(
      'ReadWatchedAlarms',
      actions.alarms,
      [...new Set(envs.flatMap((env) => env.health.alarms))].map((name) =>
        stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: name,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ),
    );
    const storeActions = actions.store ?? [];
    add(
      'ReleaseTable',
      storeActions.filter((a) => a !== 'dynamodb:Query'),
      [props.table.tableArn],
    );
    // getRelease reads a release's event items from the table; listReleases reads the indexes.
    add('ReleaseHistory', historyQuery(grants), [props.table.tableArn]);
    add(
      'ReleaseTableIndexes',
      listingQuery(grants),
      [RELEASE_TABLE.byEnvironmentIndex.indexName, RELEASE_TABLE.byStartedAtIndex.indexName].map(
        (index) => `${props.table.tableArn}/index/${index}`,
      ),
    );
    add('PublishAlerts', actions.notifier, [props.topic.topicArn]);
    if (actions.notifier) {
      add('EncryptAlerts', ['kms:Decrypt', 'kms:GenerateDataKey'], [props.topicKey.keyArn]);
    }
    add('ReadImages', actions.registry, [props.repository.repositoryArn]);
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
      statements.push(
        new iam.PolicyStatement({
          sid: 'DecryptClientKeys',
          actions: [...PLATFORM_ACTIONS.secretKey],
          resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
            StringLike: { 'kms:EncryptionContext:SecretARN': secrets },
          },
        }),
      );
    }
    if (statements.length === 0) throw new Error(`${fn} is granted nothing: check FUNCTION_GRANTS`);
    return statements;
  }
}

/** `<account>.dkr.ecr.<region>.<suffix>`, the host part of the repository URI. */
function registryHost(repository: ecr.IRepository): string {
  return Fn.select(0, Fn.split('/', repository.repositoryUri));
}
