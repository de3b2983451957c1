import type { Context } from 'aws-lambda';
import { CloudWatchAlarms } from '../adapters/aws/cloudwatch-alarms.ts';
import { CloudWatchVersionMetrics } from '../adapters/aws/cloudwatch-version-metrics.ts';
import { DynamoDbReleaseStore } from '../adapters/aws/dynamodb-release-store.ts';
import { EcrImageRegistry } from '../adapters/aws/ecr-image-registry.ts';
import { LambdaFunctionVersions } from '../adapters/aws/lambda-function-versions.ts';
import { SecretsManagerSmokeSigners } from '../adapters/aws/secrets-manager-smoke-signers.ts';
import { SnsNotifier } from '../adapters/aws/sns-notifier.ts';
import { isTransientAwsError } from '../adapters/aws/transient-errors.ts';
import { HttpFrontDoor } from '../adapters/http/http-front-door.ts';
import { SystemClock } from '../adapters/memory/clocks.ts';
import { environments } from '../config/environments.ts';
import { type HandlerTask, STATES } from '../state-machine/state-names.ts';
import { logger } from './powertools.ts';
import type { ReleaseDependencies } from './release-dependencies.ts';
import { reconcileHandler, releaseTaskHandlers } from './release-tasks.ts';
import type { TaskHandler } from './task-handler.ts';

/** The ports an AWS adapter backs; each one needs its own IAM actions (infra/handler-permissions.ts). */
export const AWS_PORTS = ['functions', 'metrics', 'alarms', 'store', 'notifier', 'registry', 'smokeSigners'] as const;
export type AwsPort = (typeof AWS_PORTS)[number];

/** The methods of each port, as the core logic calls them. */
export interface PortMethods {
  readonly functions: keyof ReleaseDependencies['functions'];
  readonly metrics: keyof ReleaseDependencies['metrics'];
  readonly alarms: keyof ReleaseDependencies['alarms'];
  readonly store: keyof ReleaseDependencies['store'];
  readonly notifier: keyof ReleaseDependencies['notifier'];
  readonly registry: keyof ReleaseDependencies['registry'];
  readonly smokeSigners: keyof ReleaseDependencies['smokeSigners'];
}

/** Which port methods a function may call: the one place its IAM policy and its adapters are derived from. */
export type PortGrants = { readonly [P in AwsPort]?: readonly PortMethods[P][] };

/** The Lambda functions of the service: one per handler-backed Task state, plus the reconcile handler. */
export const RECONCILE = 'Reconcile' as const;
export type ServiceFunction = HandlerTask | typeof RECONCILE;

/**
 * What each function's core logic calls (core/validate-release.ts, deploy-green.ts, …). A call outside its grant
 * fails with `PortNotGranted` here, before AWS would refuse it; test/infra proves the grants cover the workflow.
 */
export const FUNCTION_GRANTS: Readonly<Record<ServiceFunction, PortGrants>> = {
  [STATES.validate]: {
    registry: ['digestExists', 'sourceCommit'],
    store: [
      'recordDelivery',
      'getRelease',
      'updateRelease',
      'getLock',
      'acquireLock',
      'releaseLock',
      'createRelease',
      'listReleases',
    ],
    functions: ['getAlias', 'versionImageDigest'],
    alarms: ['describe'],
  },
  [STATES.deploy]: {
    functions: ['versionImageDigest', 'findVersionByDescription', 'updateCodeAndWait', 'publishVersion', 'updateAlias'],
    store: ['updateRelease'],
  },
  [STATES.verify]: { functions: ['invoke'], store: ['updateRelease'], smokeSigners: ['signerFor'] },
  [STATES.approval]: { store: ['saveApprovalRequest', 'updateRelease'], notifier: ['notify'] },
  [STATES.shift]: { functions: ['getAlias', 'updateAlias', 'ensureAlias'], store: ['getRelease', 'updateRelease'] },
  [STATES.check]: {
    metrics: ['sample'],
    alarms: ['describe'],
    store: ['getRelease', 'updateRelease'],
    notifier: ['notify'],
  },
  [STATES.rollBack]: {
    functions: ['getAlias', 'updateAlias'],
    store: ['getRelease', 'updateRelease', 'releaseLock'],
    notifier: ['notify'],
  },
  [STATES.finalize]: {
    functions: ['ensureAlias'],
    store: ['getRelease', 'updateRelease', 'releaseLock'],
    notifier: ['notify'],
  },
  [STATES.recordFailure]: {
    store: ['getRelease', 'updateRelease', 'releaseLock', 'takeApprovalRequest'],
    notifier: ['notify'],
  },
  [RECONCILE]: {
    functions: ['getAlias', 'updateAlias'],
    store: ['getRelease', 'createRelease', 'updateRelease', 'releaseLock', 'takeApprovalRequest'],
    notifier: ['notify'],
  },
};

/**
 * What the release API function's operations call: the lock check and history reads, approvals, fast-forward and
 * abort events, tag resolution, and the instant environment rollback (aliases, the rollback record, the alert).
 * Its Step Functions actions (start, describe, history, stop, task answers) are granted on the state machine by
 * infra/release-api.ts.
 */
export const RELEASE_API_GRANTS: PortGrants = {
  store: [
    'getLock',
    'acquireLock',
    'releaseLock',
    'getRelease',
    'createRelease',
    'updateRelease',
    'listReleases',
    'takeApprovalRequest',
    'saveApprovalRequest',
  ],
  registry: ['resolveTag', 'digestExists', 'sourceCommit'],
  functions: ['getAlias', 'updateAlias', 'versionImageDigest'],
  notifier: ['notify'],
};

/** Environment variables the adapters read; the CDK stack sets exactly the ones a function's grants need. */
export const ENV_VARS = {
  tableName: 'RELEASE_TABLE_NAME',
  topicArn: 'ALERTS_TOPIC_ARN',
  registryHost: 'REGISTRY_HOST',
} as const;

/** The variables a function with these grants reads. */
export function requiredEnvVars(grants: PortGrants): string[] {
  const vars: string[] = [];
  if (grants.store) vars.push(ENV_VARS.tableName);
  if (grants.notifier) vars.push(ENV_VARS.topicArn);
  if (grants.registry) vars.push(ENV_VARS.registryHost);
  return vars;
}

export class MissingEnvironmentVariable extends Error {
  override readonly name = 'MissingEnvironmentVariable';
}

/** A port method this function was not granted: the code and FUNCTION_GRANTS (and so IAM) disagree. */
export class PortNotGranted extends Error {
  override readonly name = 'PortNotGranted';
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new MissingEnvironmentVariable(`environment variable ${name} is not set`);
  return value;
}

/** A port whose methods throw `PortNotGranted` unless `allowed` lists them. */
function restrictedPort<T extends object>(port: T, portName: string, allowed: readonly string[], owner: string): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      const granted = typeof prop === 'string' && allowed.includes(prop);
      if (granted && typeof value === 'function') return value.bind(target);
      // An adapter that was never built (no grant for its port) has no methods at all.
      const method =
        typeof value === 'function' || (value === undefined && typeof prop === 'string' && prop !== 'then');
      if (!method) return value;
      return () => {
        throw new PortNotGranted(`${owner} is not granted ${portName}.${String(prop)} (see FUNCTION_GRANTS)`);
      };
    },
  });
}

/** Limits every AWS-backed port of `deps` to the methods `grants` names; the others throw `PortNotGranted`. */
export function restrictToGrants(deps: ReleaseDependencies, grants: PortGrants, owner: string): ReleaseDependencies {
  return {
    ...deps,
    functions: restrictedPort(deps.functions, 'functions', grants.functions ?? [], owner),
    metrics: restrictedPort(deps.metrics, 'metrics', grants.metrics ?? [], owner),
    alarms: restrictedPort(deps.alarms, 'alarms', grants.alarms ?? [], owner),
    store: restrictedPort(deps.store, 'store', grants.store ?? [], owner),
    notifier: restrictedPort(deps.notifier, 'notifier', grants.notifier ?? [], owner),
    registry: restrictedPort(deps.registry, 'registry', grants.registry ?? [], owner),
    smokeSigners: restrictedPort(deps.smokeSigners, 'smokeSigners', grants.smokeSigners ?? [], owner),
  };
}

const NOT_CONFIGURED = {} as const;

/**
 * The release dependencies on AWS, built from environment variables. Only the adapters of the granted ports are
 * constructed (and only their variables read); SDK clients are created once per module by the adapters.
 * @param grants the ports to back with AWS adapters; @default every port
 */
export function awsReleaseDependencies(
  env: Env = process.env,
  grants: PortGrants = Object.fromEntries(AWS_PORTS.map((p) => [p, []])),
): ReleaseDependencies {
  const wants = (port: AwsPort) => grants[port] !== undefined;
  const deps: ReleaseDependencies = {
    environments,
    functions: wants('functions') ? new LambdaFunctionVersions() : (NOT_CONFIGURED as ReleaseDependencies['functions']),
    metrics: wants('metrics') ? new CloudWatchVersionMetrics() : (NOT_CONFIGURED as ReleaseDependencies['metrics']),
    alarms: wants('alarms') ? new CloudWatchAlarms() : (NOT_CONFIGURED as ReleaseDependencies['alarms']),
    store: wants('store')
      ? new DynamoDbReleaseStore({ tableName: required(env, ENV_VARS.tableName) })
      : (NOT_CONFIGURED as ReleaseDependencies['store']),
    notifier: wants('notifier')
      ? new SnsNotifier({ topicArn: required(env, ENV_VARS.topicArn) })
      : (NOT_CONFIGURED as ReleaseDependencies['notifier']),
    registry: wants('registry') ? new EcrImageRegistry() : (NOT_CONFIGURED as ReleaseDependencies['registry']),
    registryHost: wants('registry') ? required(env, ENV_VARS.registryHost) : '',
    smokeSigners: wants('smokeSigners')
      ? new SecretsManagerSmokeSigners({ environments })
      : (NOT_CONFIGURED as ReleaseDependencies['smokeSigners']),
    // A public HTTPS call, so no IAM grant: the URL comes from the config (Terraform's green_stage_url output).
    frontDoor: new HttpFrontDoor({
      greenStageUrl: (name) => Object.values(environments).find((e) => e.name === name)?.verification.greenStageUrl,
      whereToConfigure: "verification.greenStageUrl in the config, from Terraform's green_stage_url output",
    }),
    clock: new SystemClock(),
    isTransient: isTransientAwsError,
  };
  return deps;
}

/** The handler of one service function, bound to AWS adapters limited to its grants. */
export function serviceHandler(fn: ServiceFunction, env: Env = process.env): TaskHandler {
  const grants = FUNCTION_GRANTS[fn];
  const deps = restrictToGrants(awsReleaseDependencies(env, grants), grants, fn);
  if (fn === RECONCILE) return reconcileHandler(deps);
  return releaseTaskHandlers(deps)[fn];
}

/**
 * A Lambda entry point: builds its dependencies on the first call (so a missing variable fails the invocation with
 * its name rather than the module load) and adds the Lambda context to the logs.
 */
export function lambdaEntry(fn: ServiceFunction): (event: unknown, context?: Context) => Promise<unknown> {
  let handler: TaskHandler | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    handler ??= serviceHandler(fn);
    return handler(event);
  };
}
