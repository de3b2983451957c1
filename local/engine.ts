import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { TaskHandler } from '../handlers/task-handler.ts';
import { executionArnOf } from '../state-machine/execution-arn.ts';
import type { AslDefinition } from '../state-machine/synthesize.ts';
import { definitionValidated, recordDefinitionValidated } from './local-cache.ts';

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/** One step of an execution's history, as the console's event view shows it. */
export interface ExecutionEvent {
  readonly type: string;
  readonly at: number;
  readonly state?: string;
  readonly stateType?: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: unknown;
}

export interface ExecutionResult {
  readonly executionName: string;
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly events: ExecutionEvent[];
}

export interface ExecutionOptions {
  readonly definition: AslDefinition;
  /** Every Task state, by name, bound to local code: nothing is sent to AWS. */
  readonly handlers: Record<string, TaskHandler>;
  readonly input: unknown;
  readonly executionName: string;
  readonly stateMachineArn?: string;
  /** Milliseconds each Wait state really pauses: the Wait's seconds scaled by the rehearsal's time factor. */
  readonly waitMs?: (stateName: string, state: Record<string, unknown>) => number;
  /** Milliseconds between retries (Step Functions' backoff, scaled). */
  readonly retryMs?: number;
  readonly onEvent?: (event: ExecutionEvent) => void;
}

export interface RunningExecution {
  readonly executionArn: string;
  readonly result: Promise<ExecutionResult>;
  abort(): void;
}

export const LOCAL_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:switchyard-release';

function taskStateNames(definition: AslDefinition): string[] {
  return Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name]) => name);
}

/**
 * What the function behind a Task receives: the state's input for a direct function ARN, the `Payload` for the
 * `lambda:invoke` integrations (a `.waitForTaskToken` state's result is whatever answers its token).
 */
function lambdaPayload(state: Record<string, unknown> | undefined, input: unknown): unknown {
  const resource = typeof state?.Resource === 'string' ? state.Resource : '';
  if (
    resource.startsWith('arn:aws:states:::lambda:invoke') &&
    input &&
    typeof input === 'object' &&
    'Payload' in input
  ) {
    return (input as { Payload: unknown }).Payload;
  }
  return input;
}

const machines = new Map<string, StateMachine>();

/**
 * The engine's state machine for a definition. Its constructor validates the definition (asl-validator, through
 * ajv, about half a second) unless told not to: one machine per definition text runs all of its executions in this
 * process, and a definition the validator passed before (with the same locked packages) is not validated again.
 */
function machineFor(definition: AslDefinition): StateMachine {
  const text = JSON.stringify(definition);
  let machine = machines.get(text);
  if (!machine) {
    const validated = definitionValidated(definition);
    // A copy: the validator adds defaults to the states it reads, and the caller's definition stays as given.
    machine = new StateMachine(JSON.parse(text), validated ? { validationOptions: { noValidate: true } } : {});
    if (!validated) recordDefinitionValidated(definition);
    machines.set(text, machine);
  }
  return machine;
}

/**
 * Runs a synthesized definition on aws-local-stepfunctions, every Task bound to local handlers by state name.
 * This is the local runtime's only orchestration path: the ASL decides what runs.
 */
export function startExecution(options: ExecutionOptions): RunningExecution {
  const { definition, handlers } = options;
  const missing = taskStateNames(definition).filter((name) => !handlers[name]);
  if (missing.length > 0) {
    throw new Error(`no local handler for Task state(s): ${missing.join(', ')}`);
  }
  const stateMachineArn = options.stateMachineArn ?? LOCAL_STATE_MACHINE_ARN;
  const executionArn = executionArnOf(stateMachineArn, options.executionName);
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Wait' && options.waitMs) waitTimeOverrides[name] = options.waitMs(name, state);
    if (Array.isArray(state.Retry) && options.retryMs !== undefined) retryIntervalOverrides[name] = options.retryMs;
  }
  const taskResourceLocalHandlers = Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [
      name,
      async (input: unknown) => (await handler(lambdaPayload(definition.States[name], input))) as never,
    ]),
  );

  const machine = machineFor(definition);
  const startTime = new Date().toISOString();
  const execution = machine.run(options.input as never, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: { Id: executionArn, Name: options.executionName, Input: options.input, StartTime: startTime },
      StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').at(-1) },
      // The local engine has no task-token API; the approval override waits on the release id instead.
      Task: { Token: `local:${options.executionName}` },
    } as never,
  });

  const events: ExecutionEvent[] = [];
  const collect = (async () => {
    for await (const log of execution.eventLogs) {
      const raw = log as unknown as Record<string, unknown>;
      const state = raw.state as { name?: string; type?: string; input?: unknown; output?: unknown } | undefined;
      const event: ExecutionEvent = {
        type: String(raw.type),
        at: Number(raw.timestamp),
        ...(state?.name ? { state: state.name, stateType: state.type } : {}),
        ...(raw.type === 'StateEntered' && state?.input !== undefined ? { input: state.input } : {}),
        ...(state?.output !== undefined ? { output: state.output } : {}),
        ...(raw.Error !== undefined ? { error: String(raw.Error), cause: raw.Cause } : {}),
      };
      events.push(event);
      options.onEvent?.(event);
    }
  })();

  const result = (async (): Promise<ExecutionResult> => {
    const base = { executionName: options.executionName, executionArn };
    try {
      const output = await execution.result;
      await collect;
      return { ...base, status: 'SUCCEEDED', output, events };
    } catch (error) {
      await collect.catch(() => undefined);
      if (error instanceof ExecutionAbortedError) return { ...base, status: 'ABORTED', events };
      if (error instanceof ExecutionError) {
        const inner = (error as unknown as { cause?: unknown }).cause;
        const name = inner instanceof Error ? inner.name : 'States.Runtime';
        const cause = inner instanceof Error ? inner.message : String(inner);
        return { ...base, status: 'FAILED', error: name, cause, events };
      }
      throw error;
    }
  })();

  return { executionArn, result, abort: () => execution.abort() };
}
