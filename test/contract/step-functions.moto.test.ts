import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AwsReleaseOperations } from '../../adapters/aws/release-operations.ts';
import { StepFunctionsExecutions } from '../../adapters/aws/step-functions-executions.ts';
import { MemoryFunctionVersions } from '../../adapters/memory/memory-functions.ts';
import { MemoryNotifier } from '../../adapters/memory/memory-notifier.ts';
import { MemoryImageRegistry } from '../../adapters/memory/memory-registry.ts';
import { MemoryReleaseStore } from '../../adapters/memory/memory-release-store.ts';
import { ExecutionNameTaken, NoPendingApproval } from '../../core/errors.ts';
import { motoAccount } from '../support/moto.ts';

/**
 * The release API's Step Functions operations (start, describe with history, stop, and the approval's task-token
 * answers) against moto's Step Functions, which runs the state machine it is given. The machine has the release
 * workflow's shape where these operations meet it: a step, then an approval that waits for its task token (here
 * handed out through an SQS queue, as any `.waitForTaskToken` integration hands it out), then the end.
 */

const aws = motoAccount();
const sfn = aws.client(SFNClient);
const sqs = aws.client(SQSClient);
let stateMachineArn: string;
let queueUrl: string;

beforeAll(async () => {
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'approvals' }))).QueueUrl ?? '';
  const definition = {
    StartAt: 'Validate',
    States: {
      Validate: { Type: 'Pass', Next: 'Await approval' },
      'Await approval': {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        Parameters: { QueueUrl: queueUrl, 'MessageBody.$': 'States.JsonToString($$.Task)' },
        Next: 'Released',
      },
      Released: { Type: 'Succeed' },
    },
  };
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: 'switchyard-release',
      definition: JSON.stringify(definition),
      roleArn: `arn:aws:iam::${aws.account}:role/switchyard-release`,
    }),
  );
  stateMachineArn = created.stateMachineArn ?? '';
});

const operations = () =>
  new AwsReleaseOperations({
    stateMachineArn,
    client: sfn,
    store: new MemoryReleaseStore(),
    registry: new MemoryImageRegistry(),
    functions: new MemoryFunctionVersions(),
    notifier: new MemoryNotifier(),
  });

/** The next task token the approval step handed out. */
async function nextToken(): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    const body = out.Messages?.[0]?.Body;
    if (body) return (JSON.parse(body) as { Token: string }).Token;
  }
  throw new Error('the approval step handed out no task token');
}

async function settled(ops: AwsReleaseOperations, releaseId: string) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const view = await ops.describeExecution(releaseId);
    if (view && view.status !== 'RUNNING') return view;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${releaseId} did not finish`);
}

describe('AwsReleaseOperations and StepFunctionsExecutions on moto', () => {
  it('starts a release, shows it waiting for approval, and finishes it when the token is approved', async () => {
    const ops = operations();
    const started = await ops.startExecution('rel-approve', { releaseId: 'rel-approve', environment: 'prod' });
    expect(started.executionArn).toBe(ops.executionArnFor('rel-approve'));
    const token = await nextToken();

    const waiting = await ops.describeExecution('rel-approve');
    expect(waiting).toMatchObject({ status: 'RUNNING', currentState: 'Await approval' });
    expect(waiting?.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['Validate', 'succeeded'],
      ['Await approval', 'running'],
    ]);

    await ops.tasks.succeed(token, { approvedBy: 'alice' });
    const done = await settled(ops, 'rel-approve');
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['Validate', 'succeeded'],
      ['Await approval', 'succeeded'],
      ['Released', 'succeeded'],
    ]);
    const executions = new StepFunctionsExecutions({ stateMachineArn, client: sfn });
    expect(await executions.describe(started.executionArn)).toMatchObject({
      name: 'rel-approve',
      status: 'SUCCEEDED',
      input: { releaseId: 'rel-approve', environment: 'prod' },
      output: { approvedBy: 'alice' },
    });
  });

  it('fails the release with the rejection’s error and cause', async () => {
    const ops = operations();
    await ops.startExecution('rel-reject', { releaseId: 'rel-reject' });
    await ops.tasks.fail(await nextToken(), 'ReleaseRejected', 'not this week');
    const done = await settled(ops, 'rel-reject');
    expect(done).toMatchObject({ status: 'FAILED', error: 'ReleaseRejected', cause: 'not this week' });
  });

  it('stops a release with ReleaseAborted and the cause, after which its name stays taken', async () => {
    const ops = operations();
    await ops.startExecution('rel-stop', { releaseId: 'rel-stop' });
    await nextToken();
    await ops.stopExecution('rel-stop', 'aborted by bob');
    const stopped = await settled(ops, 'rel-stop');
    expect(stopped).toMatchObject({ status: 'ABORTED', error: 'ReleaseAborted', cause: 'aborted by bob' });
    await expect(ops.startExecution('rel-stop', { releaseId: 'rel-stop' })).rejects.toThrow(ExecutionNameTaken);
    await expect(ops.startExecution('rel-stop', { releaseId: 'rel-stop' })).rejects.toThrow(/already ran \(ABORTED/);
  });

  it('refuses a second start of a running release with other input', async () => {
    const ops = operations();
    await ops.startExecution('rel-twice', { releaseId: 'rel-twice', environment: 'prod' });
    await expect(ops.startExecution('rel-twice', { releaseId: 'rel-twice', environment: 'dev' })).rejects.toThrow(
      /is running with different input/,
    );
    await ops.stopExecution('rel-twice', 'cleanup');
  });

  it('answers a token that no longer waits with NoPendingApproval', async () => {
    const ops = operations();
    await ops.startExecution('rel-late', { releaseId: 'rel-late' });
    const token = await nextToken();
    await ops.stopExecution('rel-late', 'stopped before approval');
    await expect(ops.tasks.succeed(token, { approvedBy: 'alice' })).rejects.toThrow(NoPendingApproval);
  });

  it('knows no release that was never started', async () => {
    expect(await operations().describeExecution('rel-never')).toBeUndefined();
  });
});
