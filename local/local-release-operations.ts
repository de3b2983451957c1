import { ExecutionNameTaken } from '../core/model/errors.ts';
import {
  finishEnvironmentRollback,
  rollbackEnvironment,
  startEnvironmentRollback,
} from '../core/operations/environment-rollback.ts';
import type {
  ExecutionStatus,
  ExecutionStep,
  ExecutionView,
  ReleaseOperations,
} from '../core/ports/release-operations.ts';
import { executionArnOf } from '../state-machine/execution-arn.ts';
import type { ExecutionEvent, ExecutionResult } from './engine.ts';
import { LOCAL_STATE_MACHINE_ARN } from './engine.ts';
import type { LocalRuntime, StartedRelease } from './runtime.ts';

type MutableStep = { -readonly [K in keyof ExecutionStep]: ExecutionStep[K] };

interface Run {
  readonly executionArn: string;
  status: ExecutionStatus;
  readonly steps: MutableStep[];
  error?: string;
  cause?: string;
  done?: Promise<ExecutionResult>;
}

/** What the local console hears about: a state of an execution changed, or an execution ended. */
export interface ExecutionChange {
  readonly releaseId: string;
  readonly type: string;
  readonly state?: string;
  readonly status: ExecutionStatus;
}

/**
 * The local engine's execution history, kept as Step Functions keeps it: the states each execution entered and
 * left, and its status. The local runtime's `onEvent` feeds it; the API and the console read it.
 */
export class ExecutionLog {
  private readonly runs = new Map<string, Run>();
  private readonly listeners = new Set<(change: ExecutionChange) => void>();

  private run(releaseId: string): Run {
    let run = this.runs.get(releaseId);
    if (!run) {
      run = { executionArn: executionArnOf(LOCAL_STATE_MACHINE_ARN, releaseId), status: 'RUNNING', steps: [] };
      this.runs.set(releaseId, run);
    }
    return run;
  }

  /** Feeds one engine event (StateEntered, StateExited, StateRetried, StateCaught, StateFailed, …). */
  record(releaseId: string, event: ExecutionEvent): void {
    const run = this.run(releaseId);
    const at = new Date(event.at).toISOString();
    const open = event.state
      ? run.steps.findLast((s) => s.name === event.state && s.exitedAt === undefined)
      : undefined;
    if (event.type === 'StateEntered' && event.state) {
      run.steps.push({
        name: event.state,
        ...(event.stateType ? { type: event.stateType } : {}),
        enteredAt: at,
        outcome: 'running',
        retries: 0,
        ...(event.input !== undefined ? { input: event.input } : {}),
      });
    } else if (event.type === 'StateExited' && open) {
      open.exitedAt = at;
      if (event.output !== undefined) open.output = event.output;
      open.outcome = open.error ? 'failed' : 'succeeded';
    } else if (event.type === 'StateRetried' && open) {
      open.retries++;
    } else if ((event.type === 'StateCaught' || event.type === 'StateFailed') && open) {
      open.error = event.error ?? event.type;
      open.exitedAt = at;
      open.outcome = 'failed';
    }
    this.emit({ releaseId, type: event.type, ...(event.state ? { state: event.state } : {}), status: run.status });
  }

  /** Follows a started execution to its end (after the local reconcile, for executions that stopped). */
  track(started: StartedRelease): void {
    const run = this.run(started.releaseId);
    run.done = started.result;
    started.result.then(
      (result) => {
        run.status = result.status;
        if (result.error) run.error = result.error;
        if (result.cause) run.cause = result.cause;
        for (const step of run.steps) if (step.outcome === 'running') step.outcome = 'failed';
        this.emit({ releaseId: started.releaseId, type: `Execution${result.status}`, status: result.status });
      },
      (error: unknown) => {
        run.status = 'FAILED';
        run.error = 'States.Runtime';
        run.cause = error instanceof Error ? error.message : String(error);
        this.emit({ releaseId: started.releaseId, type: 'ExecutionFAILED', status: 'FAILED' });
      },
    );
  }

  /** Resolves when the execution has ended (and, if it stopped, been reconciled). */
  async settled(releaseId: string): Promise<void> {
    await this.runs.get(releaseId)?.done?.catch(() => undefined);
  }

  has(releaseId: string): boolean {
    return this.runs.has(releaseId);
  }

  view(releaseId: string): ExecutionView | undefined {
    const run = this.runs.get(releaseId);
    if (!run) return undefined;
    const current = run.status === 'RUNNING' ? run.steps.findLast((s) => s.outcome === 'running')?.name : undefined;
    return {
      executionArn: run.executionArn,
      status: run.status,
      ...(current ? { currentState: current } : {}),
      steps: run.steps.map((s) => ({ ...s })),
      ...(run.error ? { error: run.error } : {}),
      ...(run.cause ? { cause: run.cause } : {}),
    };
  }

  subscribe(listener: (change: ExecutionChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: ExecutionChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

/** The release API's operations on the local runtime: the same routes, run on one machine. */
export class LocalReleaseOperations implements ReleaseOperations {
  readonly region = LOCAL_STATE_MACHINE_ARN.split(':')[3] ?? 'us-east-1';

  constructor(
    private readonly runtime: LocalRuntime,
    readonly log: ExecutionLog,
  ) {}

  get environments() {
    return this.runtime.environments;
  }
  get store() {
    return this.runtime.store;
  }
  get registry() {
    return this.runtime.imageIndex;
  }
  get functions() {
    return this.runtime.functions;
  }
  get clock() {
    return this.runtime.clock;
  }
  get tasks() {
    return this.runtime.approvals.taskTokens;
  }
  get insight() {
    return this.runtime.deps.insight;
  }

  executionArnFor(releaseId: string): string {
    return executionArnOf(LOCAL_STATE_MACHINE_ARN, releaseId);
  }

  async startExecution(releaseId: string, input: Record<string, unknown>) {
    if (this.runtime.executions.has(releaseId) || this.log.has(releaseId)) {
      throw new ExecutionNameTaken(`an execution named ${releaseId} already exists`);
    }
    const started = this.runtime.startRelease(input, releaseId);
    this.log.track(started);
    return { executionArn: started.executionArn };
  }

  /** Releases the local event rule started (ECR pushes) are followed like the API's own. */
  track(started: StartedRelease): void {
    this.log.track(started);
  }

  async describeExecution(releaseId: string) {
    return this.log.view(releaseId);
  }

  async stopExecution(releaseId: string): Promise<void> {
    if (this.runtime.executions.has(releaseId)) {
      await this.runtime.abort(releaseId);
      await this.log.settled(releaseId);
    } else {
      // Started by an earlier process: nothing runs it any more, so reconcile what it left.
      await this.runtime.reconcileLeftovers();
    }
  }

  rollbackEnvironment(environment: string, by: string, reason: string) {
    return rollbackEnvironment(environment, by, reason, this.runtime.deps);
  }

  /** Fleet rollbacks moving in the background, by operation id: the record says how each ended. */
  readonly backgroundRollbacks = new Map<string, Promise<unknown>>();

  async startEnvironmentRollback(environment: string, by: string, reason: string) {
    const started = await startEnvironmentRollback(environment, by, reason, this.runtime.deps);
    const work = finishEnvironmentRollback(started.operationId, this.runtime.deps).catch(() => undefined);
    this.backgroundRollbacks.set(started.operationId, work);
    return started;
  }
}
