import { GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { environments as configuredEnvironments } from '../../config/environments.ts';
import type { Environments } from '../../config/schema.ts';
import type { InsightStore } from '../../core/insight/insight-store.ts';
import {
  abandonEnvironmentRollback,
  type EnvironmentRollbackDeps,
  finishEnvironmentRollback,
  rollbackEnvironment,
  startEnvironmentRollback,
} from '../../core/operations/environment-rollback.ts';
import type {
  Clock,
  FunctionVersions,
  ImageRegistry,
  Notifier,
  ReleaseStore,
  TaskTokens,
} from '../../core/ports/ports.ts';
import type {
  ExecutionStatus,
  ExecutionStep,
  ExecutionView,
  ReleaseOperations,
} from '../../core/ports/release-operations.ts';
import { executionArnOf } from '../../state-machine/execution-arn.ts';
import { SystemClock } from '../memory/clocks.ts';
import { hasErrorName } from './error-names.ts';
import { StepFunctionsExecutions } from './step-functions-executions.ts';

/**
 * History pages read per describe (1,000 events each), newest first: a single-function release is a few hundred
 * events, a 100-member fleet about 8,800 and prod with a held pause about 5,000, so the view reads the tail, where the
 * current state is, and shows the latest 5,000 events' steps.
 */
const MAX_HISTORY_PAGES = 5;

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
  /** The one Step Functions client of these operations: starting, reading, stopping and answering share it. @default a new `SFNClient` */
  readonly client?: SFNClient;
  /**
   * Hands a started fleet rollback to a later invocation that runs `finishEnvironmentRollback` (wiring/aws.ts: an
   * asynchronous invocation of the release API function itself).
   */
  readonly runInBackground?: (task: BackgroundTask) => Promise<void>;
  /** Change sets and release diffs (docs/insight.md). @default none: no release shows changes */
  readonly insight?: InsightStore | undefined;
}

/** Work the release API leaves to an invocation of its own. */
export interface BackgroundTask {
  readonly environmentRollback: { readonly operationId: string };
}

/** History carries state input and output as JSON text (it may be cut short by Step Functions' size limit). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Reads an execution's history (oldest first; the tail of a long one) into the states it went through, as the
 * console's graph view does. A state entered before the tail begins is left out.
 */
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
  readonly insight: InsightStore | undefined;
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
    this.insight = options.insight;
    this.clock = options.clock ?? new SystemClock();
    this.client = options.client ?? new SFNClient({});
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
    // GetExecutionHistory: "By default, the results are returned in ascending order of the timeStamp of the events.
    // Use the reverseOrder parameter to get the latest events first"
    // (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html).
    const newestFirst: HistoryEvent[] = [];
    let nextToken: string | undefined;
    try {
      for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
        const out = await this.client.send(
          new GetExecutionHistoryCommand({
            executionArn,
            maxResults: 1000,
            reverseOrder: true,
            includeExecutionData: false,
            nextToken,
          }),
        );
        newestFirst.push(...(out.events ?? []));
        nextToken = out.nextToken;
        if (!nextToken) break;
      }
    } catch (error) {
      if (!hasErrorName(error, 'ExecutionDoesNotExist')) throw error;
    }
    // Reversed to oldest first, then ordered by event id (ids rise with time), so the history reads in order whichever
    // order a page came in (moto, for one, ignores reverseOrder).
    const events = newestFirst.reverse().sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
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

  private get rollbackDeps(): EnvironmentRollbackDeps {
    return {
      environments: this.environments,
      functions: this.functions,
      store: this.store,
      notifier: this.options.notifier,
      clock: this.clock,
    };
  }

  rollbackEnvironment(environment: string, by: string, reason: string) {
    return rollbackEnvironment(environment, by, reason, this.rollbackDeps);
  }

  async startEnvironmentRollback(environment: string, by: string, reason: string) {
    const { runInBackground } = this.options;
    if (!runInBackground) throw new Error('these release operations cannot run work in the background');
    const started = await startEnvironmentRollback(environment, by, reason, this.rollbackDeps);
    try {
      await runInBackground({ environmentRollback: { operationId: started.operationId } });
    } catch (error) {
      // Nothing will move the members: close the record and free the lock now, not when the lock expires.
      await abandonEnvironmentRollback(started, error, this.rollbackDeps);
      throw error;
    }
    return started;
  }

  /** The background invocation's half (wiring/aws.ts releaseApiEntry). */
  finishEnvironmentRollback(task: BackgroundTask) {
    return finishEnvironmentRollback(task.environmentRollback.operationId, this.rollbackDeps);
  }
}
