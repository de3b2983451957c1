import { GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { hasErrorName } from '../adapters/aws/error-names.ts';
import { StepFunctionsExecutions } from '../adapters/aws/step-functions-executions.ts';
import { SystemClock } from '../adapters/memory/clocks.ts';
import { environments as configuredEnvironments } from '../config/environments.ts';
import type { Environments } from '../config/schema.ts';
import { rollbackEnvironment } from '../core/environment-rollback.ts';
import type { Clock, FunctionVersions, ImageRegistry, Notifier, ReleaseStore, TaskTokens } from '../core/ports.ts';
import {
  awsReleaseDependencies,
  MissingEnvironmentVariable,
  RELEASE_API_GRANTS,
  restrictToGrants,
} from '../handlers/aws-dependencies.ts';
import { logger } from '../handlers/powertools.ts';
import { releaseApiHandler } from './release-api.ts';
import {
  type ExecutionStatus,
  type ExecutionStep,
  type ExecutionView,
  executionArnOf,
  type ReleaseOperations,
} from './release-operations.ts';

/** The variable the release API function reads besides the ones its port grants need. */
export const STATE_MACHINE_ARN_VAR = 'STATE_MACHINE_ARN';

/** History pages read per describe (1,000 events each): a release's history is a few hundred events. */
const MAX_HISTORY_PAGES = 5;

let defaultClient: SFNClient | undefined;
function sfnClient(): SFNClient {
  defaultClient ??= new SFNClient({});
  return defaultClient;
}

export interface AwsReleaseOperationsOptions {
  readonly stateMachineArn: string;
  readonly store: ReleaseStore;
  readonly registry: ImageRegistry;
  readonly functions: FunctionVersions;
  readonly notifier: Notifier;
  /** @default the validated config */
  readonly environments?: Environments;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default one `SFNClient` per module */
  readonly client?: SFNClient;
}

/** History carries state input and output as JSON text (it may be cut short by Step Functions' size limit). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Reads an execution's history into the states it went through, as the console's graph view does. */
export function stepsFromHistory(events: readonly HistoryEvent[]): ExecutionStep[] {
  const steps: Array<{ -readonly [K in keyof ExecutionStep]: ExecutionStep[K] }> = [];
  const open = () => steps.findLast((s) => s.outcome === 'running');
  for (const event of events) {
    const type = event.type ?? '';
    const at = (event.timestamp ?? new Date(0)).toISOString();
    if (type.endsWith('StateEntered') && event.stateEnteredEventDetails?.name) {
      steps.push({
        name: event.stateEnteredEventDetails.name,
        type: type.replace(/StateEntered$/, ''),
        enteredAt: at,
        outcome: 'running',
        retries: 0,
        ...(event.stateEnteredEventDetails.input !== undefined
          ? { input: parseJson(event.stateEnteredEventDetails.input) }
          : {}),
      });
    } else if (type.endsWith('StateExited') && event.stateExitedEventDetails?.name) {
      const step = steps.findLast((s) => s.name === event.stateExitedEventDetails?.name && s.outcome === 'running');
      if (step) {
        step.exitedAt = at;
        if (event.stateExitedEventDetails.output !== undefined) {
          step.output = parseJson(event.stateExitedEventDetails.output);
        }
        step.outcome = step.error ? 'failed' : 'succeeded';
      }
    } else if (/(Failed|TimedOut)$/.test(type) && !type.startsWith('Execution')) {
      const step = open();
      const details = Object.entries(event).find(([k]) => k.endsWith('EventDetails'))?.[1] as
        | { error?: string }
        | undefined;
      if (step) step.error = details?.error ?? type;
    }
  }
  // Retries show as repeated Scheduled events for the same entry; count them per open step.
  let current: (typeof steps)[number] | undefined;
  let scheduled = 0;
  let index = -1;
  for (const event of events) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      index++;
      current = steps[index];
      scheduled = 0;
    } else if ((type === 'TaskScheduled' || type === 'LambdaFunctionScheduled') && current) {
      scheduled++;
      current.retries = Math.max(0, scheduled - 1);
    }
  }
  return steps;
}

/** The release API's operations on Step Functions, DynamoDB, ECR, Lambda and SNS. */
export class AwsReleaseOperations implements ReleaseOperations {
  readonly region: string;
  readonly environments: Environments;
  readonly store: ReleaseStore;
  readonly registry: ImageRegistry;
  readonly functions: FunctionVersions;
  readonly clock: Clock;
  readonly tasks: TaskTokens;
  private readonly executions: StepFunctionsExecutions;
  private readonly client: SFNClient;

  constructor(private readonly options: AwsReleaseOperationsOptions) {
    const region = options.stateMachineArn.split(':')[3];
    if (!region) throw new Error(`not a state machine ARN: ${options.stateMachineArn}`);
    this.region = region;
    this.environments = options.environments ?? configuredEnvironments;
    this.store = options.store;
    this.registry = options.registry;
    this.functions = options.functions;
    this.clock = options.clock ?? new SystemClock();
    this.client = options.client ?? sfnClient();
    this.executions = new StepFunctionsExecutions({ stateMachineArn: options.stateMachineArn, client: this.client });
    this.tasks = {
      succeed: (token, output) => this.executions.approve(token, output),
      fail: (token, error, cause) => this.executions.reject(token, error, cause),
    };
  }

  executionArnFor(releaseId: string): string {
    return executionArnOf(this.options.stateMachineArn, releaseId);
  }

  async startExecution(releaseId: string, input: Record<string, unknown>) {
    return this.executions.start(releaseId, input);
  }

  async describeExecution(releaseId: string): Promise<ExecutionView | undefined> {
    const executionArn = this.executionArnFor(releaseId);
    const description = await this.executions.describe(executionArn);
    if (!description) return undefined;
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    try {
      for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
        const out = await this.client.send(
          new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: false, nextToken }),
        );
        events.push(...(out.events ?? []));
        nextToken = out.nextToken;
        if (!nextToken) break;
      }
    } catch (error) {
      if (!hasErrorName(error, 'ExecutionDoesNotExist')) throw error;
    }
    const steps = stepsFromHistory(events);
    const status = description.status as ExecutionStatus;
    const current = status === 'RUNNING' ? steps.findLast((s) => s.outcome === 'running')?.name : undefined;
    return {
      executionArn,
      status,
      ...(current ? { currentState: current } : {}),
      steps,
      ...(description.error ? { error: description.error } : {}),
      ...(description.cause ? { cause: description.cause } : {}),
    };
  }

  async stopExecution(releaseId: string, cause: string): Promise<void> {
    await this.executions.stop(this.executionArnFor(releaseId), 'ReleaseAborted', cause.slice(0, 32_768));
  }

  rollbackEnvironment(environment: string, by: string, reason: string) {
    return rollbackEnvironment(environment, by, reason, {
      environments: this.environments,
      functions: this.functions,
      store: this.store,
      notifier: this.options.notifier,
      clock: this.clock,
    });
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** The release API's operations on AWS, from the function's environment and limited to its grants. */
export function awsReleaseOperationsFromEnv(env: Env = process.env): AwsReleaseOperations {
  const stateMachineArn = env[STATE_MACHINE_ARN_VAR];
  if (!stateMachineArn)
    throw new MissingEnvironmentVariable(`environment variable ${STATE_MACHINE_ARN_VAR} is not set`);
  const deps = restrictToGrants(awsReleaseDependencies(env, RELEASE_API_GRANTS), RELEASE_API_GRANTS, 'Release API');
  return new AwsReleaseOperations({
    stateMachineArn,
    store: deps.store,
    registry: deps.registry,
    functions: deps.functions,
    notifier: deps.notifier,
    environments: deps.environments,
    clock: deps.clock,
  });
}

/** The Lambda entry: operations built on the first request, so a missing variable fails that request by name. */
export function releaseApiEntry(env: Env = process.env): (event: unknown, context?: Context) => Promise<unknown> {
  let handle: ((event: unknown) => Promise<unknown>) | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    handle ??= releaseApiHandler(awsReleaseOperationsFromEnv(env));
    return handle(event);
  };
}
