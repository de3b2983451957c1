import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ExecutionNameTaken, NoPendingApproval } from '../../core/model/errors.ts';
import { executionArnOf } from '../../state-machine/execution-arn.ts';
import { hasErrorName } from './error-names.ts';

let defaultClient: SFNClient | undefined;
function sfnClient(): SFNClient {
  defaultClient ??= new SFNClient({});
  return defaultClient;
}

export interface StepFunctionsExecutionsOptions {
  readonly stateMachineArn: string;
  /** @default one `SFNClient` per module, with the default credential chain and region. */
  readonly client?: SFNClient;
}

export interface StartedExecution {
  readonly executionArn: string;
  readonly startedAt: string;
}

export interface ExecutionDescription {
  readonly executionArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startedAt: string;
  readonly stoppedAt?: string;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/** An execution with this name exists: running with different input, or closed (names stay taken for 90 days). */
export { ExecutionNameTaken };

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Release executions of the Switchyard state machine, for the release API and the CLI. */
/** Step Functions' answers for a token that no longer waits: the state timed out or its execution stopped. */
const DEAD_TOKEN_ERRORS = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'] as const;

async function answeringToken(send: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch (error) {
    if (hasErrorName(error, ...DEAD_TOKEN_ERRORS)) {
      throw new NoPendingApproval(
        'the release is no longer waiting for approval (its approval timed out or it stopped)',
      );
    }
    throw error;
  }
}

export class StepFunctionsExecutions {
  private readonly client: SFNClient;
  private readonly stateMachineArn: string;

  constructor(options: StepFunctionsExecutionsOptions) {
    if (!options.stateMachineArn) throw new Error('StepFunctionsExecutions needs a stateMachineArn');
    this.stateMachineArn = options.stateMachineArn;
    this.client = options.client ?? sfnClient();
  }

  /** Starts the execution named for the release id; Standard executions with the same name and input are idempotent. */
  async start(name: string, input: unknown): Promise<StartedExecution> {
    try {
      const out = await this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return {
        executionArn: out.executionArn ?? '',
        startedAt: (out.startDate ?? new Date()).toISOString(),
      };
    } catch (error) {
      if (hasErrorName(error, 'ExecutionAlreadyExists')) throw await this.nameTaken(name);
      throw error;
    }
  }

  /**
   * Why StartExecution refused the name: "When the original execution is closed, the ExecutionAlreadyExists message
   * is returned regardless of input"; only an open one refuses for different input (StartExecution's `name`,
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
   */
  private async nameTaken(name: string): Promise<ExecutionNameTaken> {
    const existing = await this.describe(executionArnOf(this.stateMachineArn, name)).catch(() => undefined);
    if (existing && existing.status !== 'RUNNING') {
      return new ExecutionNameTaken(
        `an execution named ${name} already ran (${existing.status}${existing.stoppedAt ? ` at ${existing.stoppedAt}` : ''}); ` +
          'Step Functions keeps a name taken for 90 days, so start the release under a new id',
      );
    }
    if (existing) return new ExecutionNameTaken(`an execution named ${name} is running with different input`);
    return new ExecutionNameTaken(
      `an execution named ${name} already exists (running with different input, or closed)`,
    );
  }

  /** The execution, or undefined when no execution has this ARN. */
  async describe(executionArn: string): Promise<ExecutionDescription | undefined> {
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return {
        executionArn,
        name: out.name ?? '',
        status: out.status ?? 'RUNNING',
        startedAt: (out.startDate ?? new Date(0)).toISOString(),
        ...(out.stopDate ? { stoppedAt: out.stopDate.toISOString() } : {}),
        input: parseJson(out.input),
        ...(out.output !== undefined ? { output: parseJson(out.output) } : {}),
        ...(out.error !== undefined ? { error: out.error } : {}),
        ...(out.cause !== undefined ? { cause: out.cause } : {}),
      };
    } catch (error) {
      if (hasErrorName(error, 'ExecutionDoesNotExist')) return undefined;
      throw error;
    }
  }

  async stop(executionArn: string, error: string, cause: string): Promise<void> {
    await this.client.send(new StopExecutionCommand({ executionArn, error, cause }));
  }

  /** Answers a `.waitForTaskToken` state (the approval step). The token is a secret: never log it. */
  async approve(taskToken: string, output: unknown): Promise<void> {
    await answeringToken(() =>
      this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    );
  }

  async reject(taskToken: string, error: string, cause: string): Promise<void> {
    await answeringToken(() => this.client.send(new SendTaskFailureCommand({ taskToken, error, cause })));
  }
}
