import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ExecutionNameTaken, StepFunctionsExecutions } from '../../../../adapters/aws/step-functions-executions.ts';
import { NoPendingApproval } from '../../../../core/model/errors.ts';

const sfn = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:switchyard';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:switchyard:rel-1';
const executions = () =>
  new StepFunctionsExecutions({ stateMachineArn: MACHINE, client: new SFNClient({ region: 'eu-west-1' }) });

beforeEach(() => {
  sfn.reset();
});

describe('StepFunctionsExecutions', () => {
  it('starts the execution named for the release with JSON input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date('2026-11-26T10:00:00Z') });

    expect(await executions().start('rel-1', { environment: 'prod' })).toEqual({
      executionArn: EXECUTION,
      startedAt: '2026-11-26T10:00:00.000Z',
    });
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: MACHINE,
      name: 'rel-1',
      input: '{"environment":"prod"}',
    });
  });

  it('names a taken execution name as such', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    await expect(executions().start('rel-1', {})).rejects.toBeInstanceOf(ExecutionNameTaken);
  });

  it('says a closed execution holds the name, not "different input"', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION }).resolves({
      name: 'rel-1',
      status: 'SUCCEEDED',
      startDate: new Date('2026-11-26T10:00:00.000Z'),
      stopDate: new Date('2026-11-26T10:20:00.000Z'),
      input: '{}',
    });
    const error = await executions()
      .start('rel-1', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionNameTaken);
    expect(String(error)).toContain('an execution named rel-1 already ran (SUCCEEDED at 2026-11-26T10:20:00.000Z)');
    expect(String(error)).not.toContain('different input');
  });

  it('says a running execution with the name has different input', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    sfn.on(DescribeExecutionCommand).resolves({ name: 'rel-1', status: 'RUNNING', startDate: new Date(), input: '{}' });
    await expect(executions().start('rel-1', {})).rejects.toThrow(
      'an execution named rel-1 is running with different input',
    );
  });

  it('passes other start errors through', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('throttled'));
    await expect(executions().start('rel-1', {})).rejects.toThrow('throttled');
  });

  it('describes an execution with its input and output parsed', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      name: 'rel-1',
      status: 'FAILED',
      startDate: new Date('2026-11-26T10:00:00Z'),
      stopDate: new Date('2026-11-26T10:05:00Z'),
      input: '{"a":1}',
      output: 'not json',
      error: 'VerificationFailed',
      cause: 'health check failed',
    });

    expect(await executions().describe(EXECUTION)).toEqual({
      executionArn: EXECUTION,
      name: 'rel-1',
      status: 'FAILED',
      startedAt: '2026-11-26T10:00:00.000Z',
      stoppedAt: '2026-11-26T10:05:00.000Z',
      input: { a: 1 },
      output: 'not json',
      error: 'VerificationFailed',
      cause: 'health check failed',
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({ executionArn: EXECUTION });
  });

  it('is undefined for an unknown execution', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'nope', $metadata: {} }));
    expect(await executions().describe(EXECUTION)).toBeUndefined();
  });

  it('passes other describe errors through', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new Error('denied'));
    await expect(executions().describe(EXECUTION)).rejects.toThrow('denied');
  });

  it('stops an execution with an error and cause', async () => {
    sfn.on(StopExecutionCommand).resolves({});
    await executions().stop(EXECUTION, 'Aborted', 'aborted by alice');
    expect(sfn.commandCalls(StopExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: EXECUTION,
      error: 'Aborted',
      cause: 'aborted by alice',
    });
  });

  it('answers an approval task either way', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    await executions().approve('token-1', { approvedBy: 'alice' });
    await executions().reject('token-2', 'ApprovalRejected', 'rejected by bob');
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'token-1',
      output: '{"approvedBy":"alice"}',
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: 'token-2',
      error: 'ApprovalRejected',
      cause: 'rejected by bob',
    });
  });

  it('reports a token that no longer waits as no pending approval, and passes throttling through', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));
    await expect(executions().approve('token-1', {})).rejects.toBeInstanceOf(NoPendingApproval);
    sfn.on(SendTaskFailureCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(executions().reject('token-2', 'ApprovalRejected', 'no')).rejects.toThrow('Rate exceeded');
  });

  it('needs a state machine', () => {
    expect(() => new StepFunctionsExecutions({ stateMachineArn: '' })).toThrow('stateMachineArn');
  });
});
