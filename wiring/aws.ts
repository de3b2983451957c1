import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { CloudWatchAlarms } from '../adapters/aws/cloudwatch-alarms.ts';
import { CloudWatchVersionMetrics } from '../adapters/aws/cloudwatch-version-metrics.ts';
import { DynamoDbReleaseStore } from '../adapters/aws/dynamodb-release-store.ts';
import { EcrImageRegistry } from '../adapters/aws/ecr-image-registry.ts';
import { LambdaFunctionVersions } from '../adapters/aws/lambda-function-versions.ts';
import { invokeSelfAsync } from '../adapters/aws/lambda-self-invoke.ts';
import { AwsReleaseOperations, type BackgroundTask } from '../adapters/aws/release-operations.ts';
import { S3DynamoDbInsightStore } from '../adapters/aws/s3-dynamodb-insight-store.ts';
import { SecretsManagerSmokeSigners } from '../adapters/aws/secrets-manager-smoke-signers.ts';
import { SnsNotifier } from '../adapters/aws/sns-notifier.ts';
import { isTransientAwsError } from '../adapters/aws/transient-errors.ts';
import { HttpFrontDoor } from '../adapters/http/http-front-door.ts';
import { SystemClock } from '../adapters/memory/clocks.ts';
import { releaseApiHandler } from '../api/release-api.ts';
import { CONTROL_PLANE_RPS } from '../config/fleet.ts';
import { environmentsFromVariables } from '../config/overrides.ts';
import {
  AWS_PORTS,
  type AwsPort,
  ENV_VARS,
  FUNCTION_GRANTS,
  type GrantedPorts,
  type PortGrants,
  RECONCILE,
  RELEASE_API_GRANTS,
  type ReleaseApiPorts,
  type ServiceFunction,
} from '../contract/service-functions.ts';
import type { ReleaseDependencies } from '../handlers/release-dependencies.ts';
import { reconcileHandler, releaseTaskHandlers, type TaskBuilder } from '../handlers/release-tasks.ts';
import type { TaskHandler } from '../handlers/task-handler.ts';
import { logger } from '../logging/logger.ts';

/**
 * The AWS composition root: every Lambda function's ports, built from its environment variables and limited to its
 * grants (contract/service-functions.ts). Each entry in entries/ names the adapters of exactly the ports it
 * is granted (the types check it), so its bundle imports only those SDK clients.
 */

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

/** Builds one port's AWS adapter (and, through it, its SDK client) from the function's environment. */
export type AwsAdapter<P extends AwsPort> = (env: Env) => ReleaseDependencies[P];

export const lambdaFunctions: AwsAdapter<'functions'> = () => new LambdaFunctionVersions();
/** Deploy green runs as the fleet Map's concurrent iterations: each invocation keeps to its share of the budget. */
export const lambdaMapIterationFunctions: AwsAdapter<'functions'> = () =>
  new LambdaFunctionVersions({ controlPlaneRps: CONTROL_PLANE_RPS.mapIteration });
export const cloudWatchMetrics: AwsAdapter<'metrics'> = () => new CloudWatchVersionMetrics();
export const cloudWatchAlarms: AwsAdapter<'alarms'> = () => new CloudWatchAlarms();
export const dynamoDbStore: AwsAdapter<'store'> = (env) =>
  new DynamoDbReleaseStore({ tableName: required(env, ENV_VARS.tableName) });
export const snsNotifier: AwsAdapter<'notifier'> = (env) =>
  new SnsNotifier({ topicArn: required(env, ENV_VARS.topicArn) });
export const ecrRegistry: AwsAdapter<'registry'> = () => new EcrImageRegistry();
export const secretsManagerSmokeSigners: AwsAdapter<'smokeSigners'> = (env) =>
  new SecretsManagerSmokeSigners({ environments: environmentsFromVariables(env) });

/** Change sets from the state bucket, release diffs in the release table (docs/insight.md). */
export const insightStore: AwsAdapter<'insight'> = (env) =>
  new S3DynamoDbInsightStore({
    tableName: required(env, ENV_VARS.tableName),
    // Only Validate release reads change sets (and is given the bucket); the others read kept diffs from the table.
    bucketName: env[ENV_VARS.changeSetsBucket],
  });

export type AwsAdapters = { readonly [P in AwsPort]?: AwsAdapter<P> };

/** Every port's adapter, for callers that are not a bundled entry (tests, tools). */
export const ALL_AWS_ADAPTERS: { readonly [P in AwsPort]: AwsAdapter<P> } = {
  functions: lambdaFunctions,
  metrics: cloudWatchMetrics,
  alarms: cloudWatchAlarms,
  store: dynamoDbStore,
  notifier: snsNotifier,
  registry: ecrRegistry,
  smokeSigners: secretsManagerSmokeSigners,
  insight: insightStore,
};

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
    // Optional: without a grant there is none, and the release keeps no diff (core/steps/validate-release.ts).
    insight: deps.insight ? restrictedPort(deps.insight, 'insight', grants.insight ?? [], owner) : undefined,
  };
}

/** The one adapter of a granted port; an ungranted port gets an empty object whose methods `restrictToGrants` refuses. */
function port<P extends AwsPort>(
  name: P,
  grants: PortGrants,
  adapters: AwsAdapters,
  env: Env,
  owner: string,
): ReleaseDependencies[P] {
  if (grants[name] === undefined) return {} as ReleaseDependencies[P];
  const adapter = adapters[name] as AwsAdapter<P> | undefined;
  if (!adapter) throw new Error(`${owner} is granted ${name} but its entry brings no adapter for it`);
  return adapter(env);
}

/**
 * The release dependencies on AWS, built from environment variables, each port once. Only the adapters of the
 * granted ports are constructed (and only their variables read).
 */
function grantedDependencies(env: Env, grants: PortGrants, adapters: AwsAdapters, owner: string): ReleaseDependencies {
  const build = <P extends AwsPort>(name: P) => port(name, grants, adapters, env, owner);
  // The config the stack deployed: config/environments.ts with the overrides it set, if any (config/overrides.ts).
  const environments = environmentsFromVariables(env);
  return {
    environments,
    functions: build('functions'),
    metrics: build('metrics'),
    alarms: build('alarms'),
    store: build('store'),
    notifier: build('notifier'),
    registry: build('registry'),
    registryHost: grants.registry ? required(env, ENV_VARS.registryHost) : '',
    smokeSigners: build('smokeSigners'),
    insight: grants.insight ? build('insight') : undefined,
    // A public HTTPS call, so no IAM grant: the URL comes from the config (Terraform's green_stage_url output).
    frontDoor: new HttpFrontDoor({
      greenStageUrl: (name) => Object.values(environments).find((e) => e.name === name)?.verification.greenStageUrl,
      whereToConfigure: "verification.greenStageUrl in the config, from Terraform's green_stage_url output",
    }),
    clock: new SystemClock(),
    isTransient: isTransientAwsError,
  };
}

/**
 * The release dependencies on AWS for callers that are not a bundled entry (tests, tools).
 * @param grants the ports to back with AWS adapters; @default every port
 */
export function awsReleaseDependencies(
  env: Env = process.env,
  grants: PortGrants = Object.fromEntries(AWS_PORTS.map((p) => [p, []])),
): ReleaseDependencies {
  return grantedDependencies(env, grants, ALL_AWS_ADAPTERS, 'this caller');
}

/** One service function's dependencies on the given adapters, limited to its grants. */
function grantedFunctionDependencies(fn: ServiceFunction, env: Env, adapters: AwsAdapters): ReleaseDependencies {
  const grants: PortGrants = FUNCTION_GRANTS[fn];
  return restrictToGrants(grantedDependencies(env, grants, adapters, fn), grants, fn);
}

/** The adapters a service function's entry must bring: exactly one per granted port. */
export type AdaptersFor<F extends ServiceFunction> = { readonly [P in GrantedPorts<F>]: AwsAdapter<P> };

/** The handler of one service function, bound to every port's AWS adapter and limited to its grants (tests, tools). */
export function serviceHandler(fn: ServiceFunction, env: Env = process.env): TaskHandler {
  const deps = grantedFunctionDependencies(fn, env, ALL_AWS_ADAPTERS);
  return fn === RECONCILE ? reconcileHandler(deps) : releaseTaskHandlers(deps)[fn];
}

/**
 * A Lambda entry point for one task (its bundle then holds that task's core logic alone): builds its dependencies on
 * the first call (so a missing variable fails the invocation with its name rather than the module load) and adds the
 * Lambda context to the logs.
 */
export function lambdaEntry<F extends ServiceFunction>(
  fn: F,
  adapters: AdaptersFor<F>,
  task: NoInfer<TaskBuilder<F>>,
): (event: unknown, context?: Context) => Promise<unknown> {
  let handler: TaskHandler | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    handler ??= task(grantedFunctionDependencies(fn, process.env, adapters));
    return handler(event);
  };
}

/** The adapters the release API's entry brings. */
export type ReleaseApiAdapters = { readonly [P in ReleaseApiPorts]: AwsAdapter<P> };

/**
 * The release API's operations on AWS, from the function's environment and limited to its grants: one Step Functions
 * client for starting, reading, stopping and answering executions.
 */
export function awsReleaseOperations(env: Env, adapters: ReleaseApiAdapters): AwsReleaseOperations {
  const stateMachineArn = required(env, ENV_VARS.stateMachineArn);
  const owner = 'Release API';
  const deps = restrictToGrants(
    grantedDependencies(env, RELEASE_API_GRANTS, adapters, owner),
    RELEASE_API_GRANTS,
    owner,
  );
  return new AwsReleaseOperations({
    runInBackground: invokeSelf(env),
    stateMachineArn,
    store: deps.store,
    registry: deps.registry,
    functions: deps.functions,
    notifier: deps.notifier,
    insight: deps.insight,
    environments: deps.environments,
    clock: deps.clock,
  });
}

/** Work the release API hands to an invocation of its own (adapters/aws/lambda-self-invoke.ts). */
function invokeSelf(env: Env): (task: BackgroundTask) => Promise<void> {
  return (task) => invokeSelfAsync(required(env, 'AWS_LAMBDA_FUNCTION_NAME'), task);
}

/** A background task this function handed to itself, or undefined for any other event (an API Gateway request). */
function backgroundTask(event: unknown): BackgroundTask | undefined {
  const parsed = z
    .object({ environmentRollback: z.object({ operationId: z.string().regex(/^rollback-[A-Za-z0-9_-]{1,64}-\d+$/) }) })
    .safeParse(event);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The release API's Lambda entry: operations built on the first request, so a missing variable fails it by name. An
 * event that is a background task (an environment rollback this function started) runs it; any other event is an
 * API Gateway request.
 */
export function releaseApiEntry(
  adapters: ReleaseApiAdapters,
  env: Env = process.env,
): (event: unknown, context?: Context) => Promise<unknown> {
  let ops: AwsReleaseOperations | undefined;
  let handle: ((event: unknown) => Promise<unknown>) | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    ops ??= awsReleaseOperations(env, adapters);
    const task = backgroundTask(event);
    if (task) return ops.finishEnvironmentRollback(task);
    handle ??= releaseApiHandler(ops);
    return handle(event);
  };
}
