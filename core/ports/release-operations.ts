import type { Environments } from '../../config/schema.ts';
import type { InsightStore } from '../insight/insight-store.ts';
import type { EnvironmentRollbackResult, StartedRollback } from '../operations/environment-rollback.ts';
import type { Clock, FunctionVersions, ImageRegistry, ReleaseStore, TaskTokens } from './ports.ts';

/** Step Functions' execution statuses, as DescribeExecution reports them. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** One state an execution went through, as the console's graph and event view show it. */
export interface ExecutionStep {
  readonly name: string;
  readonly type?: string;
  readonly enteredAt: string;
  readonly exitedAt?: string;
  /** `running` until the state exits; `failed` when it failed or its error was caught. */
  readonly outcome: 'running' | 'succeeded' | 'failed';
  readonly retries: number;
  readonly error?: string;
  /** The state's input and output, as the Step Functions console's step details show them. */
  readonly input?: unknown;
  readonly output?: unknown;
}

export interface ExecutionView {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  /** The state the execution is in now (the last one entered and not left), while it runs. */
  readonly currentState?: string;
  readonly steps: readonly ExecutionStep[];
  readonly error?: string;
  readonly cause?: string;
}

/**
 * What the release API needs from wherever executions run: Step Functions, DynamoDB and ECR in the cloud
 * (`AwsReleaseOperations`), the local runtime on one machine (`LocalReleaseOperations`).
 */
export interface ReleaseOperations {
  /** The region of the Step Functions console links. */
  readonly region: string;
  readonly environments: Environments;
  readonly store: ReleaseStore;
  readonly registry: ImageRegistry;
  /**
   * Lambda's aliases and versions: what `live` runs, for the checks a start shares with Validate release, and what
   * is live, blue and green for `GET /environments`.
   */
  readonly functions: FunctionVersions;
  /** Change sets and release diffs (docs/insight.md); without it, no release has changes to show. */
  readonly insight?: InsightStore | undefined;
  /** SendTaskSuccess / SendTaskFailure for "Await approval". */
  readonly tasks: TaskTokens;
  readonly clock: Clock;
  /** The ARN of the execution named `releaseId` (whether or not it exists). */
  executionArnFor(releaseId: string): string;
  /** StartExecution named by the release id; throws `ExecutionNameTaken` when the name is already used. */
  startExecution(releaseId: string, input: Record<string, unknown>): Promise<{ executionArn: string }>;
  /** The execution's status and the states it went through, or undefined when no execution has this name. */
  describeExecution(releaseId: string): Promise<ExecutionView | undefined>;
  /** StopExecution; the reconcile rule then restores `live` and frees the lock. */
  stopExecution(releaseId: string, cause: string): Promise<void>;
  /** Instant rollback of `live` to `blue` outside a release (core/operations/environment-rollback.ts). */
  rollbackEnvironment(environment: string, by: string, reason: string): Promise<EnvironmentRollbackResult>;
  /**
   * A fleet's environment rollback: recorded as running and answered at once, its members moved in the background
   * (the local runtime: in this process; AWS: an asynchronous invocation of the release API function), its progress
   * in the record `GET /releases/{operationId}` reads.
   */
  startEnvironmentRollback(environment: string, by: string, reason: string): Promise<StartedRollback>;
}
