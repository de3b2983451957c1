import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbReleaseStore } from '../../adapters/aws/dynamodb-release-store.ts';
import { EcrImageRegistry } from '../../adapters/aws/ecr-image-registry.ts';
import { AwsReleaseOperations, type BackgroundTask, stepsFromHistory } from '../../adapters/aws/release-operations.ts';
import { SystemClock } from '../../adapters/memory/clocks.ts';
import { MemoryFunctionVersions } from '../../adapters/memory/memory-functions.ts';
import { MemoryNotifier } from '../../adapters/memory/memory-notifier.ts';
import { MemoryReleaseStore } from '../../adapters/memory/memory-release-store.ts';
import { releaseApiHandler } from '../../api/release-api.ts';
import { environmentNamed, environments, lockKey } from '../../config/environments.ts';
import { singleTarget } from '../../core/ports.ts';
import { reconcileStoppedExecution } from '../../core/reconcile.ts';
import { fakeDynamoDbTable } from '../contract/aws-fakes/dynamodb-table.ts';
import { environmentsWith } from '../support/environments.ts';
import { memberName } from '../support/fleet-records.ts';
import { invoke, releasePath, signedEvent } from './api-events.ts';
import { type ApiFixture, bakingEvents, CALLER, releaseApiContract, releasedRecord } from './release-api.contract.ts';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SwitchyardRelease';
const DIGEST = `sha256:${'c'.repeat(64)}`;
const TAG = 'git-abc123';
const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const executionArn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:SwitchyardRelease:${name}`;

const sfnClient = new SFNClient({ region: 'eu-west-1' });
const ecrClient = new ECRClient({ region: 'eu-west-1' });
const sfn = mockClient(sfnClient);
const ecr = mockClient(ecrClient);

interface FakeExecution {
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  history: HistoryEvent[];
}

function awsError(name: string): Error {
  return Object.assign(new Error(name), { name });
}

let t = Date.parse('2026-11-26T10:00:00Z');
function historyEvent(type: string, state?: string): HistoryEvent {
  t += 1000;
  const details = state
    ? type.endsWith('Entered')
      ? { stateEnteredEventDetails: { name: state } }
      : { stateExitedEventDetails: { name: state } }
    : {};
  return { type: type as HistoryEvent['type'], timestamp: new Date(t), id: 0, ...details };
}

let store: MemoryReleaseStore;
let functions: MemoryFunctionVersions;
let executions: Map<string, FakeExecution>;
let handler: ReturnType<typeof releaseApiHandler>;

function deps() {
  return { environments, functions, store, notifier: new MemoryNotifier(), clock: new SystemClock() };
}

beforeEach(() => {
  sfn.reset();
  ecr.reset();
  store = new MemoryReleaseStore();
  functions = new MemoryFunctionVersions();
  executions = new Map();
  // Step Functions as far as the release API sees it: names are unique, the same name and input is idempotent.
  sfn.on(StartExecutionCommand).callsFake(({ name, input }) => {
    const existing = executions.get(name);
    if (existing && existing.input !== input) throw awsError('ExecutionAlreadyExists');
    if (!existing) {
      executions.set(name, {
        input,
        status: 'RUNNING',
        history: [historyEvent('ExecutionStarted'), historyEvent('PassStateEntered', 'Receive request')],
      });
    }
    return { executionArn: executionArn(name), startDate: new Date() };
  });
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn: arn }) => {
    const name = String(arn).split(':').at(-1) ?? '';
    const execution = executions.get(name);
    if (!execution) throw awsError('ExecutionDoesNotExist');
    return { executionArn: arn, name, status: execution.status, startDate: new Date(), input: execution.input };
  });
  // GetExecutionHistory as Step Functions pages it: at most maxResults (1,000 at most) a page, oldest first unless
  // reverseOrder asks for the latest first.
  sfn.on(GetExecutionHistoryCommand).callsFake(({ executionArn: arn, maxResults, reverseOrder, nextToken }) => {
    const history = executions.get(String(arn).split(':').at(-1) ?? '')?.history ?? [];
    const ordered = reverseOrder ? [...history].reverse() : history;
    const from = Number(nextToken ?? '0');
    const to = from + Math.min(maxResults || 100, 1000);
    return { events: ordered.slice(from, to), ...(to < ordered.length ? { nextToken: String(to) } : {}) };
  });
  sfn.on(StopExecutionCommand).callsFake(async ({ executionArn: arn }) => {
    const name = String(arn).split(':').at(-1) ?? '';
    const execution = executions.get(name);
    if (execution) execution.status = 'ABORTED';
    // The execution-status-change rule's reconcile.
    await reconcileStoppedExecution({ name, executionArn: arn, status: 'ABORTED' }, deps());
    return {};
  });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  ecr.on(DescribeImagesCommand).callsFake(({ imageIds }) => {
    const id = imageIds?.[0] ?? {};
    if (id.imageTag === TAG || id.imageDigest === DIGEST) {
      return { imageDetails: [{ imageDigest: DIGEST, imageTags: [TAG] }] };
    }
    throw awsError('ImageNotFoundException');
  });
  handler = releaseApiHandler(awsOperations());
});

/** The release API's operations on the mocked clients and this test's store, with the given environments. */
function awsOperations(configured = environments): AwsReleaseOperations {
  return new AwsReleaseOperations({
    stateMachineArn: STATE_MACHINE,
    store,
    registry: new EcrImageRegistry({ client: ecrClient }),
    functions,
    notifier: new MemoryNotifier(),
    client: sfnClient,
    environments: configured,
  });
}

const call: ApiFixture['call'] = (method, path, body, headers) =>
  invoke(handler, signedEvent(method, path, body, CALLER, headers));

/** What Validate release and Await approval leave behind, for a started execution. */
async function parkForApproval(caller = CALLER): Promise<string> {
  const started = await invoke(
    handler,
    signedEvent('POST', '/environments/prod/releases', { imageDigest: DIGEST }, caller),
  );
  expect(started.status).toBe(202);
  const id: string = started.body.releaseId;
  const env = environmentNamed('prod');
  const now = new Date();
  await store.acquireLock(
    lockKey(env),
    {
      releaseId: id,
      executionArn: executionArn(id),
      acquiredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 3600_000).toISOString(),
    },
    now,
  );
  await store.createRelease({
    releaseId: id,
    executionArn: executionArn(id),
    environment: 'prod',
    imageUri: `${HOST}/${env.repositoryName}@${DIGEST}`,
    digest: DIGEST,
    targets: singleTarget({ functionName: env.functionName, blueVersion: '1', greenVersion: '2', phase: 'verified' }),
    status: 'running',
    startedAt: now.toISOString(),
    trigger: `api:${caller}`,
    events: [{ at: now.toISOString(), kind: 'validated', summary: 'validated' }],
  });
  const expiresAt = new Date(now.getTime() + 3600_000).toISOString();
  await store.saveApprovalRequest(id, { taskToken: `token-${id}`, requestedAt: now.toISOString(), expiresAt });
  await store.update(
    id,
    {},
    { at: now.toISOString(), kind: 'approval-requested', summary: 'waiting', evidence: { expiresAt } },
  );
  executions
    .get(id)
    ?.history.push(
      historyEvent('PassStateExited', 'Receive request'),
      historyEvent('TaskStateEntered', 'Validate release'),
      historyEvent('TaskScheduled'),
      historyEvent('TaskStateExited', 'Validate release'),
      historyEvent('TaskStateEntered', 'Await approval'),
      historyEvent('TaskScheduled'),
    );
  return id;
}

releaseApiContract('AWS: Step Functions, DynamoDB and ECR adapters over aws-sdk-client-mock', () => ({
  call,
  digest: DIGEST,
  tag: TAG,
  parkForApproval,
  get store() {
    return store;
  },
  async markBaking(releaseId) {
    for (const event of bakingEvents()) await store.update(releaseId, {}, event);
  },
  async liveAheadOfBlue(environment) {
    const env = environmentNamed(environment);
    functions.createFunction(env.functionName);
    for (const digest of [`sha256:${'1'.repeat(64)}`, DIGEST]) {
      const { codeSha256 } = await functions.updateCodeAndWait(
        env.functionName,
        `${HOST}/${env.repositoryName}@${digest}`,
      );
      const version = await functions.publishVersion(env.functionName, digest, codeSha256);
      await functions.ensureAlias(env.functionName, env.aliases.live, version.version);
      if (version.version === '1') await functions.ensureAlias(env.functionName, env.aliases.blue, version.version);
      if (digest !== DIGEST) continue;
      await store.createRelease(
        releasedRecord(env, version.version, `${HOST}/${env.repositoryName}@${DIGEST}`, DIGEST),
      );
    }
  },
}));

describe('the release API on AWS sends exactly these commands', () => {
  it('POST /releases: DescribeImages for the tag, then StartExecution named by the release id with the API input', async () => {
    const reply = await call('POST', '/environments/staging/releases', {
      imageTag: TAG,
      strategy: { kind: 'linear', percentPerStep: 25, minutesPerStep: 2 },
      reason: 'CI build 42',
    });
    expect(reply.status).toBe(202);
    // The tag resolved once; then the digest checked as Validate release checks it (the same function), and its
    // git-<commit> tag read for "Scan & provision".
    expect(ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input)).toEqual([
      { repositoryName: 'switchyard-api', imageIds: [{ imageTag: TAG }] },
      { repositoryName: 'switchyard-api', imageIds: [{ imageDigest: DIGEST }] },
      { repositoryName: 'switchyard-api', imageIds: [{ imageDigest: DIGEST }] },
    ]);
    const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(starts).toEqual([{ stateMachineArn: STATE_MACHINE, name: reply.body.releaseId, input: expect.any(String) }]);
    expect(JSON.parse(starts[0]?.input ?? '{}')).toEqual({
      trigger: 'api',
      environment: 'staging',
      imageDigest: DIGEST,
      repositoryName: 'switchyard-api',
      imageTag: TAG,
      strategy: { kind: 'linear', percentPerStep: 25, minutesPerStep: 2 },
      requestedBy: CALLER,
      reason: 'CI build 42',
    });
    expect(reply.body).toMatchObject({
      executionArn: executionArn(reply.body.releaseId),
      consoleUrl: `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${executionArn(reply.body.releaseId)}`,
    });
  });

  it('a locked environment is refused before StartExecution', async () => {
    const running = await parkForApproval();
    sfn.resetHistory();
    const reply = await call('POST', '/environments/prod/releases', { imageDigest: DIGEST });
    expect(reply).toMatchObject({ status: 409, body: { runningRelease: running, error: 'ReleaseLocked' } });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('ExecutionAlreadyExists on a retried name answers 200 with that execution', async () => {
    const first = await call('POST', '/environments/dev/releases', { imageDigest: DIGEST, idempotencyKey: 'k-1' });
    // The name is taken by an execution with other input (another caller's retry): still the same release.
    executions.set(first.body.releaseId, { input: '{"other":true}', status: 'SUCCEEDED', history: [] });
    sfn.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));
    const retry = await call('POST', '/environments/dev/releases', { imageDigest: DIGEST, idempotencyKey: 'k-1' });
    expect(retry).toMatchObject({ status: 200, body: { releaseId: first.body.releaseId, replayed: true } });
  });

  it('GET /releases/{id}: DescribeExecution and GetExecutionHistory give the status, current state and steps', async () => {
    const id = await parkForApproval();
    sfn.resetHistory();
    const reply = await call('GET', `/releases/${id}`);
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: executionArn(id) },
    ]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([
      {
        executionArn: executionArn(id),
        maxResults: 1000,
        reverseOrder: true,
        includeExecutionData: false,
        nextToken: undefined,
      },
    ]);
    expect(reply.body).toMatchObject({ executionStatus: 'RUNNING', currentState: 'Await approval' });
    expect(reply.body.steps.map((s: { name: string; outcome: string }) => `${s.name}:${s.outcome}`)).toEqual([
      'Receive request:succeeded',
      'Validate release:succeeded',
      'Await approval:running',
    ]);
  });

  it('GET /releases/{id}: a history longer than the pages it reads still shows the current state, from its tail', async () => {
    const id = await parkForApproval();
    const history = executions.get(id)?.history ?? [];
    // A 100-member fleet: the Map's iterations, then the fleet's bake loop, about 8,800 events in all.
    history.push(historyEvent('TaskStateExited', 'Await approval'));
    for (let member = 0; member < 100; member++) {
      for (const state of ['Deploy member', 'Verify member']) {
        history.push(historyEvent('TaskStateEntered', state), historyEvent('TaskScheduled'));
        history.push(historyEvent('TaskStateExited', state));
      }
    }
    while (history.length < 8_790) {
      for (const state of ['Shift traffic', 'Bake', 'Check health']) {
        history.push(historyEvent('TaskStateEntered', state), historyEvent('TaskStateExited', state));
      }
    }
    history.push(historyEvent('WaitStateEntered', 'Bake'));
    expect(history.length).toBeGreaterThan(5 * 1000);

    sfn.resetHistory();
    const reply = await call('GET', `/releases/${id}`);

    expect(reply.body).toMatchObject({ executionStatus: 'RUNNING', currentState: 'Bake' });
    expect(reply.body.steps.at(-1)).toMatchObject({ name: 'Bake', outcome: 'running' });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(5);
  });

  it('approve and reject answer the stored task token with SendTaskSuccess / SendTaskFailure', async () => {
    const approvedId = await parkForApproval();
    await call('POST', `${releasePath(approvedId)}/approve`, { comment: 'go' });
    const success = sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);
    expect(success).toEqual([{ taskToken: `token-${approvedId}`, output: expect.any(String) }]);
    expect(JSON.parse(success[0]?.output ?? '{}')).toMatchObject({ approvedBy: CALLER, comment: 'go' });
    await call('POST', `${releasePath(approvedId)}/abort`, {});

    const rejectedId = await parkForApproval();
    await call('POST', `${releasePath(rejectedId)}/reject`, { reason: 'wrong build' });
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: `token-${rejectedId}`, error: 'ApprovalRejected', cause: `rejected by ${CALLER}: wrong build` },
    ]);
  });

  it('abort sends StopExecution with who and why; the reconcile rule closes the record and frees the lock', async () => {
    const id = await parkForApproval();
    const reply = await call('POST', `${releasePath(id)}/abort`, { reason: 'change freeze' });
    expect(reply.status).toBe(202);
    expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: executionArn(id), error: 'ReleaseAborted', cause: `aborted by ${CALLER}: change freeze` },
    ]);
    expect((await store.getRelease(id))?.status).toBe('aborted');
    expect(await store.getLock(lockKey(environmentNamed('prod')))).toBeUndefined();
    const again = await call('POST', `${releasePath(id)}/abort`, {});
    expect(again.status).toBe(409);
  });

  it('a promotion starts the next environment with the same digest, named after its target and source release', async () => {
    const env = environmentNamed('dev');
    await store.createRelease({
      releaseId: 'rel-dev-1',
      executionArn: executionArn('rel-dev-1'),
      environment: 'dev',
      imageUri: `${HOST}/switchyard-api@${DIGEST}`,
      digest: DIGEST,
      targets: singleTarget({ functionName: env.functionName, blueVersion: '1' }),
      status: 'released',
      startedAt: new Date().toISOString(),
      trigger: 'ecr-push:1',
      events: [],
    });
    const wrong = await call('POST', '/environments/prod/promotions/rel-dev-1', {});
    expect([wrong.status, wrong.body.message]).toEqual([409, 'dev promotes to staging, not prod']);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const reply = await call('POST', '/environments/staging/promotions/rel-dev-1', {});
    expect(reply.status).toBe(202);
    const start = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start?.name).toBe('rel-staging-from-dev-1');
    expect(JSON.parse(start?.input ?? '{}')).toMatchObject({
      environment: 'staging',
      imageDigest: DIGEST,
      promotedFrom: 'rel-dev-1',
      requestedBy: CALLER,
    });
  });

  it('a promotion holds back a release that went live with warnings until they are accepted', async () => {
    const env = environmentNamed('dev');
    await store.createRelease({
      releaseId: 'rel-dev-2',
      executionArn: executionArn('rel-dev-2'),
      environment: 'dev',
      imageUri: `${HOST}/switchyard-api@${DIGEST}`,
      digest: DIGEST,
      targets: singleTarget({ functionName: env.functionName, blueVersion: '1' }),
      status: 'released',
      startedAt: new Date().toISOString(),
      trigger: 'ecr-push:2',
      events: [
        {
          at: new Date().toISOString(),
          kind: 'released',
          summary: 'live → version 2',
          evidence: { lastCheck: null, warnings: ['step 1 (100%) promoted without enough traffic to judge'] },
        },
      ],
    });
    // The list shows the record's summary as before: the typed state the decision reads stays out of it.
    const listed = await call('GET', '/environments/dev/releases');
    expect(listed.body.releases[0].releaseId).toBe('rel-dev-2');
    expect(Object.keys(listed.body.releases[0])).not.toContain('releasedWithWarnings');
    const held = await call('POST', '/environments/staging/promotions/rel-dev-2', {});
    expect(held.status).toBe(409);
    expect(held.body.message).toContain('went live with warnings (step 1 (100%) promoted without enough traffic');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const accepted = await call('POST', '/environments/staging/promotions/rel-dev-2', { acceptWarnings: true });
    expect(accepted.status).toBe(202);
  });

  it('reads retries and caught failures from the execution history', () => {
    const steps = stepsFromHistory([
      historyEvent('TaskStateEntered', 'Deploy green'),
      historyEvent('TaskScheduled'),
      historyEvent('TaskScheduled'),
      historyEvent('TaskStateExited', 'Deploy green'),
      historyEvent('TaskStateEntered', 'Verify green'),
      {
        ...historyEvent('TaskFailed'),
        taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'VerificationFailed' },
      },
      historyEvent('TaskStateExited', 'Verify green'),
    ]);
    expect(steps.map((s) => [s.name, s.outcome, s.retries, s.error ?? null])).toEqual([
      ['Deploy green', 'succeeded', 1, null],
      ['Verify green', 'failed', 0, 'VerificationFailed'],
    ]);
  });
});

describe('every action on a release is authorized by the environment in its path', () => {
  const STAGING_APPROVER = 'arn:aws:sts::123456789012:assumed-role/StagingApprover/carol';
  const RELEASE_MANAGER = 'arn:aws:sts::123456789012:assumed-role/ReleaseManager/dana';
  const as = (caller: string, method: string, path: string, body?: unknown) =>
    invoke(handler, signedEvent(method, path, body, caller));

  /** A prod release waiting for approval under the id the old scheme gave a promotion from staging. */
  async function legacyPromotionIntoProd(): Promise<string> {
    const parked = await parkForApproval();
    const id = `${parked.replace(/^rel-prod-/, 'rel-staging-')}-to-prod`;
    const record = await store.getRelease(parked);
    const pending = await store.takeApprovalRequest(parked);
    if (!record || !pending) throw new Error('the parked release has no record or approval');
    await store.createRelease({ ...record, releaseId: id, executionArn: executionArn(id) });
    await store.saveApprovalRequest(id, { ...pending, taskToken: `token-${id}` });
    executions.set(id, { input: '{}', status: 'RUNNING', history: [] });
    return id;
  }

  it('a staging path to a prod release is 404 for every action and sends nothing; its own path works', async () => {
    const id = await legacyPromotionIntoProd();
    sfn.resetHistory();
    const staging = `/environments/staging/releases/${id}`;
    const refused = [
      await as(STAGING_APPROVER, 'POST', `${staging}/approve`, {}),
      await as(STAGING_APPROVER, 'POST', `${staging}/reject`, { reason: 'mine' }),
      await as(STAGING_APPROVER, 'POST', `${staging}/abort`, {}),
      await as(STAGING_APPROVER, 'POST', `${staging}/pause`, {}),
      await as(STAGING_APPROVER, 'POST', `${staging}/resume`, {}),
      await as(STAGING_APPROVER, 'POST', `${staging}/fast-forward`, { reason: 'hurry' }),
      await as(STAGING_APPROVER, 'POST', `${staging}/retry`, {}),
    ];
    expect(refused.map((r) => [r.status, r.body.message])).toEqual(
      refused.map(() => [404, `no release ${id} in staging`]),
    );
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect((await store.getRelease(id))?.events.map((e) => e.kind)).not.toContain('approved');

    const approved = await as(RELEASE_MANAGER, 'POST', `/environments/prod/releases/${id}/approve`, {});
    expect([approved.status, approved.body.by]).toEqual([200, RELEASE_MANAGER]);
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toEqual([`token-${id}`]);
  });

  it('a release not recorded yet belongs to the environment its id begins with', async () => {
    executions.set('rel-prod-20990101000000-aaaaaa', { input: '{}', status: 'RUNNING', history: [] });
    const elsewhere = await call('POST', '/environments/dev/releases/rel-prod-20990101000000-aaaaaa/abort', {});
    expect(elsewhere.status).toBe(404);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
    const own = await call('POST', '/environments/prod/releases/rel-prod-20990101000000-aaaaaa/abort', {});
    expect(own.status).toBe(202);
  });

  it('the old routes, which carried the environment in the body or not at all, are gone', async () => {
    const id = await parkForApproval();
    sfn.resetHistory();
    const oldStart = await call('POST', '/releases', { environment: 'prod', imageDigest: DIGEST });
    expect(oldStart.status).toBe(405);
    for (const action of ['approve', 'reject', 'promote', 'promote-to-next', 'pause', 'resume', 'abort', 'retry']) {
      expect((await call('POST', `/releases/${id}/${action}`, { reason: 'old route' })).status).toBe(404);
    }
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('separation of duties: where config requires it, the requester cannot approve their own release (403)', async () => {
    handler = releaseApiHandler(awsOperations(environmentsWith('prod', { approverMustDifferFromRequester: true })));
    const id = await parkForApproval();
    const own = await call('POST', `${releasePath(id)}/approve`, {});
    expect([own.status, own.body]).toEqual([
      403,
      {
        error: 'ApproverIsRequester',
        message: `prod requires separation of duties: ${CALLER} requested release ${id} and cannot approve it`,
      },
    ]);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    // The approval still waits for someone else.
    const other = await as(RELEASE_MANAGER, 'POST', `${releasePath(id)}/approve`, {});
    expect([other.status, other.body.by]).toEqual([200, RELEASE_MANAGER]);
  });

  it('separation of duties: the requester may still reject their own release', async () => {
    handler = releaseApiHandler(awsOperations(environmentsWith('prod', { approverMustDifferFromRequester: true })));
    const id = await parkForApproval(STAGING_APPROVER);
    const own = await as(STAGING_APPROVER, 'POST', `${releasePath(id)}/approve`, {});
    expect([own.status, own.body.error]).toEqual([403, 'ApproverIsRequester']);
    const rejected = await as(STAGING_APPROVER, 'POST', `${releasePath(id)}/reject`, { reason: 'my mistake' });
    expect(rejected.status).toBe(200);
  });

  it('without separation of duties (the default) the requester may approve', async () => {
    const id = await parkForApproval();
    expect((await call('POST', `${releasePath(id)}/approve`, {})).status).toBe(200);
  });
});

describe('the start takes the environment lock in DynamoDB (conditional write) before StartExecution', () => {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  fakeDynamoDbTable(documents, 'switchyard-releases');
  const dynamoOps = () =>
    new AwsReleaseOperations({
      stateMachineArn: STATE_MACHINE,
      store: new DynamoDbReleaseStore({ tableName: 'switchyard-releases', client: documents }),
      registry: new EcrImageRegistry({ client: ecrClient }),
      functions,
      notifier: new MemoryNotifier(),
      client: sfnClient,
    });

  it('two simultaneous starts: one 202, one 409, one StartExecution, the lock held by the winner', async () => {
    const ops = dynamoOps();
    const api = releaseApiHandler(ops);
    const body = { imageDigest: DIGEST };
    const replies = await Promise.all([
      invoke(api, signedEvent('POST', '/environments/staging/releases', body, CALLER)),
      invoke(api, signedEvent('POST', '/environments/staging/releases', body, CALLER)),
    ]);
    expect(replies.map((r) => r.status).sort()).toEqual([202, 409]);
    const winner = replies.find((r) => r.status === 202)?.body.releaseId;
    expect(replies.find((r) => r.status === 409)?.body.runningRelease).toBe(winner);
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([winner]);
    expect(await ops.store.getLock(lockKey(environmentNamed('staging')))).toMatchObject({
      releaseId: winner,
      executionArn: executionArn(winner),
    });
    await ops.store.releaseLock(lockKey(environmentNamed('staging')), winner);
  });

  it('a StartExecution that fails gives the lock back, so the environment is not left busy', async () => {
    const ops = dynamoOps();
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const reply = await invoke(
      releaseApiHandler(ops),
      signedEvent('POST', '/environments/staging/releases', { imageDigest: DIGEST }, CALLER),
    );
    expect(reply.status).toBe(500);
    expect(await ops.store.getLock(lockKey(environmentNamed('staging')))).toBeUndefined();
  });
});

describe('a fleet environment on AWS', () => {
  const members = Array.from({ length: 9 }, (_, i) => ({ name: memberName(i), functionName: `api-${memberName(i)}` }));
  const fleetEnvironments = environmentsWith('staging', {
    lockTtlMinutes: 600,
    fleet: {
      functionNamePrefix: 'api-',
      deployConcurrency: 4,
      waves: [{ members: 1 }, { percent: 50 }, { percent: 100 }],
      // The last member keeps its own alias names.
      members: members.map((m, i) =>
        i === 8 ? { ...m, aliases: { live: 'prod-live', green: 'prod-green', blue: 'prod-blue' } } : m,
      ),
    },
  });

  function fleetApi() {
    const fleetFunctions = new MemoryFunctionVersions();
    const reads: string[] = [];
    const counted: MemoryFunctionVersions['getAlias'] = async (name, alias) => {
      reads.push(`${name}:${alias}`);
      return MemoryFunctionVersions.prototype.getAlias.call(fleetFunctions, name, alias);
    };
    fleetFunctions.getAlias = counted;
    // The asynchronous self-invocations the API asked for, run when the test says (as Lambda would, later).
    const background: BackgroundTask[] = [];
    const ops = new AwsReleaseOperations({
      runInBackground: async (task) => void background.push(task),
      stateMachineArn: STATE_MACHINE,
      store,
      registry: new EcrImageRegistry({ client: ecrClient }),
      functions: fleetFunctions,
      notifier: new MemoryNotifier(),
      client: sfnClient,
      environments: fleetEnvironments,
    });
    const fleetHandler = releaseApiHandler(ops);
    return {
      functions: fleetFunctions,
      reads,
      /** Runs the background invocations queued so far, as their own invocations of the release API function. */
      runBackground: () => Promise.allSettled(background.splice(0).map((task) => ops.finishEnvironmentRollback(task))),
      call: (method: string, path: string, body?: unknown) =>
        invoke(fleetHandler, signedEvent(method, path, body, CALLER)),
    };
  }

  /**
   * Every member with versions 1 and 2, version 1 on blue and `liveOf(index)` behind live (the last member under its
   * own alias names).
   */
  async function seedMembers(api: ReturnType<typeof fleetApi>, liveOf: (index: number) => string) {
    for (const [i, m] of members.entries()) {
      api.functions.createFunction(m.functionName);
      const aliases = i === 8 ? { live: 'prod-live', blue: 'prod-blue' } : { live: 'live', blue: 'blue' };
      // Two builds, two versions (Lambda publishes no new version of unchanged code).
      for (const digest of [`sha256:${'1'.repeat(64)}`, DIGEST]) {
        const { codeSha256 } = await api.functions.updateCodeAndWait(m.functionName, `${HOST}/x@${digest}`);
        await api.functions.publishVersion(m.functionName, digest, codeSha256);
      }
      await api.functions.ensureAlias(m.functionName, aliases.blue, '1');
      await api.functions.ensureAlias(m.functionName, aliases.live, liveOf(i));
    }
  }

  it('POST /environments/{env}/rollback answers 202 at once and moves every member in the background, progress in its record', async () => {
    const api = fleetApi();
    await seedMembers(api, () => '2');
    const reply = await api.call('POST', '/environments/staging/rollback', { reason: 'errors after deploy' });
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ environment: 'staging', members: 9, status: 'running' });
    const { operationId } = reply.body;
    expect(reply.body.progress).toBe(`/releases/${operationId}`);
    // Nothing moved yet: the record says it runs, every member pending, and the lock is held.
    const running = await api.call('GET', `/releases/${operationId}`);
    expect(running.body).toMatchObject({ status: 'running' });
    expect((await store.getRelease(operationId))?.targets.members.map((m) => m.phase)).toEqual(
      Array(9).fill('pending'),
    );
    expect(await store.getLock(lockKey(fleetEnvironments.staging))).toMatchObject({ releaseId: operationId });

    const [finished] = await api.runBackground();
    expect(finished).toMatchObject({ status: 'fulfilled' });
    expect(await api.functions.getAlias('api-svc-009', 'prod-live')).toEqual({ name: 'prod-live', version: '1' });
    for (const m of members.slice(0, 8)) {
      expect(await api.functions.getAlias(m.functionName, 'live'), m.name).toEqual({ name: 'live', version: '1' });
    }
    const done = await store.getRelease(operationId);
    expect(done?.status).toBe('rolled-back');
    expect(done?.targets.members.map((m) => m.phase)).toEqual(Array(9).fill('rolled-back'));
    expect(done?.events.at(-1)?.summary).toContain('svc-009 2 → 1');
    expect(await store.getLock(lockKey(fleetEnvironments.staging))).toBeUndefined();
  });

  it('a member whose alias update is throttled: named in the record, the others moved, the lock freed', async () => {
    const api = fleetApi();
    await seedMembers(api, () => '2');
    const update = api.functions.updateAlias.bind(api.functions);
    api.functions.updateAlias = async (name, alias, version, routing) => {
      if (name === 'api-svc-004') throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      return update(name, alias, version, routing);
    };
    const reply = await api.call('POST', '/environments/staging/rollback', { reason: 'errors after deploy' });
    expect(reply.status).toBe(202);
    await api.runBackground();

    const record = await store.getRelease(reply.body.operationId);
    expect(record?.events.at(-1)?.summary).toContain('svc-004 failed (Rate exceeded)');
    expect(record?.targets.members.find((m) => m.name === 'svc-004')?.phase).toBe('pending');
    expect(await api.functions.getAlias('api-svc-004', 'live')).toEqual({ name: 'live', version: '2' });
    expect(await api.functions.getAlias('api-svc-005', 'live')).toEqual({ name: 'live', version: '1' });
    expect(await store.getLock(lockKey(fleetEnvironments.staging))).toBeUndefined();
  });

  it('a background invocation Lambda refuses: the rollback is closed as failed and the lock freed at once', async () => {
    const ops = new AwsReleaseOperations({
      runInBackground: async () => {
        throw Object.assign(new Error('not authorized to perform: lambda:InvokeFunction'), {
          name: 'AccessDeniedException',
        });
      },
      stateMachineArn: STATE_MACHINE,
      store,
      registry: new EcrImageRegistry({ client: ecrClient }),
      functions: new MemoryFunctionVersions(),
      notifier: new MemoryNotifier(),
      client: sfnClient,
      environments: fleetEnvironments,
    });
    const reply = await invoke(
      releaseApiHandler(ops),
      signedEvent('POST', '/environments/staging/rollback', { reason: 'errors' }, CALLER),
    );
    expect(reply.status).toBe(500);
    const [record] = (await store.listReleases({ environment: 'staging' })).releases;
    expect(record).toMatchObject({ status: 'failed' });
    expect(await store.getLock(lockKey(fleetEnvironments.staging))).toBeUndefined();
  });

  it('GET /environments reads each member’s live (with its split) and blue, in the member’s own alias names', async () => {
    const api = fleetApi();
    await seedMembers(api, (i) => (i === 0 ? '2' : '1'));
    // The first wave's member is mid-canary: a tenth of its live traffic on version 2.
    await api.functions.updateAlias(members[1]?.functionName ?? '', 'live', '1', { version: '2', weight: 0.1 });
    api.reads.length = 0;

    const reply = await api.call('GET', '/environments');
    expect(reply.status).toBe(200);
    const staging = reply.body.environments.find((e: { name: string }) => e.name === 'staging');
    expect(staging.fleet.members).toHaveLength(9);
    expect(staging.fleet.members.slice(0, 2)).toEqual([
      { name: 'svc-001', functionName: 'api-svc-001', wave: 0, live: { name: 'live', version: '2' }, blue: '1' },
      {
        name: 'svc-002',
        functionName: 'api-svc-002',
        wave: 1,
        live: { name: 'live', version: '1', routing: { version: '2', weight: 0.1 } },
        blue: '1',
      },
    ]);
    expect(staging.fleet.members[8]).toMatchObject({ wave: 2, live: { name: 'prod-live', version: '1' }, blue: '1' });
    expect(api.reads).toContain('api-svc-009:prod-blue');
    // Two reads a member, no more: GetAlias counts against Lambda's control-plane quota.
    expect(api.reads.filter((r) => r.startsWith('api-svc-'))).toHaveLength(18);
    expect(reply.body.environments.find((e: { name: string }) => e.name === 'prod').fleet).toBeNull();
  });

  it('a member whose function has no aliases yet shows null, and the other members still show', async () => {
    const api = fleetApi();
    api.functions.createFunction('api-svc-001');
    const { codeSha256 } = await api.functions.updateCodeAndWait('api-svc-001', `${HOST}/x@${DIGEST}`);
    await api.functions.publishVersion('api-svc-001', '1', codeSha256);
    await api.functions.ensureAlias('api-svc-001', 'live', '1');
    for (const m of members.slice(1)) api.functions.createFunction(m.functionName);
    const reply = await api.call('GET', '/environments');
    const staging = reply.body.environments.find((e: { name: string }) => e.name === 'staging');
    expect(staging.fleet.members[0]).toMatchObject({ live: { version: '1' }, blue: null });
    expect(staging.fleet.members[1]).toMatchObject({ name: 'svc-002', live: null, blue: null });
  });
});
