import { CreateStateMachineCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { AwsReleaseOperations } from '../../adapters/aws/release-operations.ts';
import { StepFunctionsExecutions } from '../../adapters/aws/step-functions-executions.ts';
import { MemoryFunctionVersions } from '../../adapters/memory/memory-functions.ts';
import { MemoryNotifier } from '../../adapters/memory/memory-notifier.ts';
import { MemoryImageRegistry } from '../../adapters/memory/memory-registry.ts';
import { MemoryReleaseStore } from '../../adapters/memory/memory-release-store.ts';
import { ExecutionNameTaken, NoPendingApproval } from '../../core/model/errors.ts';
import { inAccount, MOTO_DEFAULT_ACCOUNT, motoClientConfig, requireMoto } from '../support/moto.ts';

/**
 * The release API's Step Functions operations (start, describe with history, stop, and the approval's task-token
 * answers) against moto's Step Functions, which runs the state machine it is given. The machine has the release
 * workflow's shape where these operations meet it: a step, then an approval that waits for its task token (here
 * handed out through an SQS queue, as any `.waitForTaskToken` integration hands it out), then the end.
 *
 * This file works in moto's default account, not one of its own: moto's state machine interpreter sends a task's
 * service call (here SQS SendMessage) in the default account whatever account started the execution, so in any
 * other the queue is not found. Nothing else uses its queue or state machine names.
 */

const { endpoint } = requireMoto();
const REGIONS = [
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'eu-south-1',
  'us-east-2',
  'us-west-2',
];
let machines = 0;

/**
 * A state machine and approval queue of its own for each test, each in a region of its own. moto 5.2's interpreter
 * runs one execution per account and region: StartExecution deep-copies the state machine, which holds its whole
 * Step Functions backend, and once that backend has an execution (whose worker holds a lock) the copy fails with an
 * internal error (moto/stepfunctions/models.py, StateMachine keeps `self.backend`; moto/stepfunctions/parser/
 * models.py, start_execution). Step Functions has no such limit, and the adapters never rely on one.
 */
async function releaseMachine() {
  const n = ++machines;
  const region = REGIONS[n - 1];
  if (!region) throw new Error('more state machines than regions set aside for them');
  const config = { ...motoClientConfig(endpoint), region };
  const sfn = inAccount(new SFNClient(config), MOTO_DEFAULT_ACCOUNT);
  const sqs = inAccount(new SQSClient(config), MOTO_DEFAULT_ACCOUNT);
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `approvals-${n}` }))).QueueUrl ?? '';
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
      name: `switchyard-release-${n}`,
      definition: JSON.stringify(definition),
      roleArn: `arn:aws:iam::${MOTO_DEFAULT_ACCOUNT}:role/switchyard-release`,
    }),
  );
  const stateMachineArn = created.stateMachineArn ?? '';
  const ops = new AwsReleaseOperations({
    stateMachineArn,
    client: sfn,
    store: new MemoryReleaseStore(),
    registry: new MemoryImageRegistry(),
    functions: new MemoryFunctionVersions(),
    notifier: new MemoryNotifier(),
  });
  return { ops, sfn, stateMachineArn, nextToken: () => nextToken(sqs, queueUrl) };
}

/** The next task token the approval step handed out. */
async function nextToken(sqs: SQSClient, queueUrl: string): Promise<string> {
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
    const { ops, sfn, stateMachineArn, nextToken } = await releaseMachine();
    const started = await ops.startExecution('rel-approve', { releaseId: 'rel-approve', environment: 'prod' });
    expect(started.executionArn).toBe(ops.executionArnFor('rel-approve'));
    const token = await nextToken();

    // AWS returns the newest events first when asked (reverseOrder, "Use the reverseOrder parameter to get the latest
    // events first", https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html);
    // moto 5.2 ignores the parameter and answers oldest first (moto/stepfunctions/responses.py,
    // get_execution_history reads only executionArn). Pinned here so the difference cannot pass silently; the view
    // orders events by id, so it reads the same either way.
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: started.executionArn, reverseOrder: true }),
    );
    const ids = (history.events ?? []).map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => (a ?? 0) - (b ?? 0)));

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

  // SendTaskFailure's cause becomes the execution's cause in Step Functions
  // (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html). moto reads only the
  // error (moto/stepfunctions/responses.py, send_task_failure passes no cause), so the cause is pinned as missing.
  it('fails the release with the rejection’s error (differs from Step Functions: moto drops the cause)', async () => {
    const { ops, nextToken } = await releaseMachine();
    await ops.startExecution('rel-reject', { releaseId: 'rel-reject' });
    await ops.tasks.fail(await nextToken(), 'ReleaseRejected', 'not this week');
    const done = await settled(ops, 'rel-reject');
    expect(done).toMatchObject({ status: 'FAILED', error: 'ReleaseRejected' });
    expect(done.cause).toBeUndefined();
  });

  // StopExecution ends a running Standard execution as ABORTED with the given error and cause
  // (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html), and Step Functions then
  // refuses an answer to its task token (TaskTimedOut, TaskDoesNotExist or InvalidToken,
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html), which the adapter turns
  // into NoPendingApproval (proven on the fake client in test/api/aws-release-api.test.ts). moto's interpreter keeps
  // an execution that waits for a token RUNNING after StopExecution, takes the token's answer without an error, and
  // only then records it ABORTED, without the stop's error and cause (moto/stepfunctions/responses.py, stop_execution
  // passes neither on): pinned here as moto's.
  it('stops a release, whose name stays taken (differs: moto waits for the token, takes its answer, drops error and cause)', async () => {
    const { ops, nextToken } = await releaseMachine();
    await ops.startExecution('rel-stop', { releaseId: 'rel-stop' });
    const token = await nextToken();
    await ops.stopExecution('rel-stop', 'aborted by bob');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await ops.describeExecution('rel-stop'))?.status).toBe('RUNNING');
    await expect(ops.tasks.succeed(token, { approvedBy: 'alice' })).resolves.toBeUndefined();
    const stopped = await settled(ops, 'rel-stop');
    expect({ status: stopped.status, error: stopped.error, cause: stopped.cause }).toEqual({
      status: 'ABORTED',
      error: undefined,
      cause: undefined,
    });
    await expect(ops.startExecution('rel-stop', { releaseId: 'rel-stop' })).rejects.toThrow(ExecutionNameTaken);
    await expect(ops.startExecution('rel-stop', { releaseId: 'rel-stop' })).rejects.toThrow(/already ran \(ABORTED/);
  });

  it('refuses to start a finished release again under its name', async () => {
    const { ops, nextToken } = await releaseMachine();
    await ops.startExecution('rel-done', { releaseId: 'rel-done' });
    await ops.tasks.succeed(await nextToken(), {});
    expect((await settled(ops, 'rel-done')).status).toBe('SUCCEEDED');
    await expect(ops.startExecution('rel-done', { releaseId: 'rel-done' })).rejects.toThrow(/already ran \(SUCCEEDED/);
  });

  it('refuses a second start of a running release with other input', async () => {
    const { ops } = await releaseMachine();
    await ops.startExecution('rel-twice', { releaseId: 'rel-twice', environment: 'prod' });
    await expect(ops.startExecution('rel-twice', { releaseId: 'rel-twice', environment: 'dev' })).rejects.toThrow(
      /is running with different input/,
    );
    await ops.stopExecution('rel-twice', 'cleanup');
  });

  it('answers a token whose execution has finished with NoPendingApproval', async () => {
    const { ops, nextToken } = await releaseMachine();
    await ops.startExecution('rel-late', { releaseId: 'rel-late' });
    const token = await nextToken();
    await ops.tasks.fail(token, 'ReleaseRejected', 'no');
    await settled(ops, 'rel-late');
    await expect(ops.tasks.succeed(token, { approvedBy: 'alice' })).rejects.toThrow(NoPendingApproval);
  });

  it('knows no release that was never started', async () => {
    expect(await (await releaseMachine()).ops.describeExecution('rel-never')).toBeUndefined();
  });
});
