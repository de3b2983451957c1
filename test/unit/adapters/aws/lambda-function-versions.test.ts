import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { digestOfImageUri, LambdaFunctionVersions } from '../../../../adapters/aws/lambda-function-versions.ts';
import { isTransientAwsError } from '../../../../adapters/aws/transient-errors.ts';
import { AliasConflict, DeploymentFailed } from '../../../../core/model/errors.ts';
import { VirtualTime } from '../../../support/lambda-quota-stand-in.ts';

const lambda = mockClient(LambdaClient);
const FN = 'orders-api-prod';
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-api@sha256:abc123';
const notFound = () => new ResourceNotFoundException({ message: 'Function not found', $metadata: {} });

/** Invoke's output type is the SDK's blob adapter; the adapter only reads the bytes. */
function payload(text: string): InvokeCommandOutput['Payload'] {
  return new TextEncoder().encode(text) as InvokeCommandOutput['Payload'];
}

function adapter() {
  return new LambdaFunctionVersions({
    client: new LambdaClient({ region: 'eu-west-1' }),
    updateWait: { maxWaitTime: 2, minDelay: 0.001, maxDelay: 0.002 },
  });
}

beforeEach(() => {
  lambda.reset();
});

describe('getAlias', () => {
  it('reads the version and the weighted second version', async () => {
    lambda.on(GetAliasCommand).resolves({
      Name: 'live',
      FunctionVersion: '7',
      RoutingConfig: { AdditionalVersionWeights: { '8': 0.1 } },
    });

    const alias = await adapter().getAlias(FN, 'live');

    expect(alias).toEqual({ name: 'live', version: '7', routing: { version: '8', weight: 0.1 } });
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({ FunctionName: FN, Name: 'live' });
  });

  it('has no routing when the weights are empty', async () => {
    lambda.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '7', RoutingConfig: {} });
    expect(await adapter().getAlias(FN, 'live')).toEqual({ name: 'live', version: '7' });
  });

  it('is undefined when the alias does not exist', async () => {
    lambda.on(GetAliasCommand).rejects(notFound());
    expect(await adapter().getAlias(FN, 'live')).toBeUndefined();
  });

  it('passes throttling through for the handler to retry', async () => {
    lambda.on(GetAliasCommand).rejects(new ResourceConflictException({ message: 'busy', $metadata: {} }));
    await expect(adapter().getAlias(FN, 'live')).rejects.toThrow('busy');
  });
});

describe('versionImageDigest', () => {
  it('takes the digest from the resolved image URI of that version', async () => {
    lambda.on(GetFunctionCommand).resolves({ Code: { ImageUri: `${IMAGE}`, ResolvedImageUri: IMAGE } });

    expect(await adapter().versionImageDigest(FN, '7')).toBe('sha256:abc123');
    expect(lambda.commandCalls(GetFunctionCommand)[0]?.args[0].input).toEqual({ FunctionName: FN, Qualifier: '7' });
  });

  it('is undefined for an unknown version', async () => {
    lambda.on(GetFunctionCommand).rejects(notFound());
    expect(await adapter().versionImageDigest(FN, '99')).toBeUndefined();
  });

  it('is undefined for a tag-only image URI', () => {
    expect(digestOfImageUri('repo:latest')).toBeUndefined();
    expect(digestOfImageUri(undefined)).toBeUndefined();
  });
});

describe('publishedVersion', () => {
  it('reads the version with one GetFunction: its description and code hash', async () => {
    lambda.on(GetFunctionCommand).resolves({
      Configuration: { Version: '7', Description: 'rel-2', CodeSha256: 'seven' },
      Code: { ImageUri: IMAGE },
    });

    expect(await adapter().publishedVersion(FN, '7')).toEqual({
      version: '7',
      description: 'rel-2',
      codeSha256: 'seven',
    });
    expect(lambda.calls().map((c) => c.args[0].input)).toEqual([{ FunctionName: FN, Qualifier: '7' }]);
  });

  it('is undefined for a version that does not exist', async () => {
    lambda.on(GetFunctionCommand).rejects(notFound());
    expect(await adapter().publishedVersion(FN, '99')).toBeUndefined();
  });
});

describe('updateCodeAndWait', () => {
  it('updates the image, waits for Successful and returns the new CodeSha256', async () => {
    lambda.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: 'InProgress' });
    lambda
      .on(GetFunctionCommand)
      .resolvesOnce({ Configuration: { LastUpdateStatus: 'InProgress' } })
      .resolves({ Configuration: { LastUpdateStatus: 'Successful', CodeSha256: 'new-sha' } });
    lambda.on(GetFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', CodeSha256: 'new-sha' });

    expect(await adapter().updateCodeAndWait(FN, IMAGE)).toEqual({ codeSha256: 'new-sha' });
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      ImageUri: IMAGE,
    });
    expect(lambda.commandCalls(GetFunctionCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: FN },
      { FunctionName: FN },
    ]);
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)[0]?.args[0].input).toEqual({ FunctionName: FN });
  });

  it('throws DeploymentFailed with Lambda’s reason when the update fails', async () => {
    lambda.on(UpdateFunctionCodeCommand).resolves({});
    lambda
      .on(GetFunctionCommand)
      .resolvesOnce({ Configuration: { LastUpdateStatus: 'InProgress' } })
      .resolves({ Configuration: { LastUpdateStatus: 'Failed' } });
    lambda.on(GetFunctionConfigurationCommand).resolves({
      LastUpdateStatus: 'Failed',
      LastUpdateStatusReason: 'Image manifest is not supported',
      LastUpdateStatusReasonCode: 'ImageAccessDenied',
    });

    const failure = adapter().updateCodeAndWait(FN, IMAGE);

    await expect(failure).rejects.toBeInstanceOf(DeploymentFailed);
    await expect(failure).rejects.toMatchObject({
      name: 'DeploymentFailed',
      message: expect.stringContaining('Image manifest is not supported'),
      details: { imageUri: IMAGE, reasonCode: 'ImageAccessDenied' },
    });
  });

  it('rethrows the waiter timeout when the update is still in progress', async () => {
    lambda.on(UpdateFunctionCodeCommand).resolves({});
    lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'InProgress' } });
    lambda.on(GetFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'InProgress' });
    const slow = new LambdaFunctionVersions({
      client: new LambdaClient({ region: 'eu-west-1' }),
      updateWait: { maxWaitTime: 0.05, minDelay: 0.01, maxDelay: 0.01 },
    });

    await expect(slow.updateCodeAndWait(FN, IMAGE)).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('refuses to go on when Lambda reports no CodeSha256', async () => {
    lambda.on(UpdateFunctionCodeCommand).resolves({});
    lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful' } });
    lambda.on(GetFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful' });
    await expect(adapter().updateCodeAndWait(FN, IMAGE)).rejects.toBeInstanceOf(DeploymentFailed);
  });
});

describe('publishVersion', () => {
  it('publishes with the release id as description, pinned to the CodeSha256 it waited for', async () => {
    lambda.on(PublishVersionCommand).resolves({ Version: '8', Description: 'rel-1', CodeSha256: 'sha' });

    expect(await adapter().publishVersion(FN, 'rel-1', 'sha')).toEqual({
      version: '8',
      description: 'rel-1',
      codeSha256: 'sha',
    });
    expect(lambda.commandCalls(PublishVersionCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      Description: 'rel-1',
      CodeSha256: 'sha',
    });
  });

  it('throws when Lambda returns no version', async () => {
    lambda.on(PublishVersionCommand).resolves({});
    await expect(adapter().publishVersion(FN, 'rel-1', 'sha')).rejects.toBeInstanceOf(DeploymentFailed);
  });
});

describe('updateAlias', () => {
  it('sends the weighted second version with the RevisionId it read', async () => {
    lambda.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '7', RevisionId: 'rev-1' });
    lambda.on(UpdateAliasCommand).resolves({});
    await adapter().updateAlias(FN, 'live', '7', { version: '8', weight: 0.1 });
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({ FunctionName: FN, Name: 'live' });
    expect(lambda.commandCalls(UpdateAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      Name: 'live',
      FunctionVersion: '7',
      RoutingConfig: { AdditionalVersionWeights: { '8': 0.1 } },
      RevisionId: 'rev-1',
    });
  });

  it('clears routing with an empty weight map', async () => {
    lambda.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '7', RevisionId: 'rev-2' });
    lambda.on(UpdateAliasCommand).resolves({});
    await adapter().updateAlias(FN, 'live', '8');
    expect(lambda.commandCalls(UpdateAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      Name: 'live',
      FunctionVersion: '8',
      RoutingConfig: { AdditionalVersionWeights: {} },
      RevisionId: 'rev-2',
    });
  });

  /**
   * Lambda's alias revisions as the API documents them: every update gives a new RevisionId, and an UpdateAlias
   * whose RevisionId is not the latest answers PreconditionFailedException. `between` runs after the adapter's read
   * and before its write: a change made by hand in that gap.
   */
  function aliasWithRevisions(between: () => void = () => undefined) {
    const alias = { version: '7', revision: 1 };
    lambda.on(GetAliasCommand).callsFake(() => {
      const answer = { Name: 'live', FunctionVersion: alias.version, RevisionId: `rev-${alias.revision}` };
      between();
      return answer;
    });
    lambda.on(UpdateAliasCommand).callsFake((input: UpdateAliasCommand['input']) => {
      if (input.RevisionId !== `rev-${alias.revision}`) {
        throw new PreconditionFailedException({
          message: 'The Revision Id provided does not match the latest Revision Id.',
          $metadata: { httpStatusCode: 412 },
        });
      }
      alias.version = input.FunctionVersion ?? alias.version;
      alias.revision += 1;
      return { Name: 'live', FunctionVersion: alias.version, RevisionId: `rev-${alias.revision}` };
    });
    return alias;
  }

  it('refuses to overwrite a change made between its read and its write, naming it, then passes once re-read', async () => {
    let manualChanges = 1;
    const alias = aliasWithRevisions(() => {
      if (manualChanges-- > 0) {
        alias.version = '5';
        alias.revision += 1;
      }
    });

    const error = await adapter()
      .updateAlias(FN, 'live', '8')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AliasConflict);
    expect(String(error)).toContain(`alias live of ${FN} changed while it was being moved to version 8`);
    expect(String(error)).toContain('the other change was kept, not overwritten');
    // Not retried by the state machine as if it were throttling.
    expect(isTransientAwsError(error)).toBe(false);
    expect(alias.version).toBe('5');

    // No change in between this time: the same call succeeds against the new revision.
    await adapter().updateAlias(FN, 'live', '8');
    expect(alias.version).toBe('8');
    expect(lambda.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input.RevisionId)).toEqual(['rev-1', 'rev-2']);
  });

  it('passes other update errors through', async () => {
    lambda.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '7', RevisionId: 'rev-1' });
    lambda.on(UpdateAliasCommand).rejects(new ResourceConflictException({ message: 'busy', $metadata: {} }));
    await expect(adapter().updateAlias(FN, 'live', '8')).rejects.toThrow('busy');
  });
});

describe('ensureAlias', () => {
  it('updates an existing alias with its RevisionId and creates nothing', async () => {
    lambda.on(GetAliasCommand).resolves({ Name: 'blue', FunctionVersion: '6', RevisionId: 'rev-9' });
    lambda.on(UpdateAliasCommand).resolves({});
    await adapter().ensureAlias(FN, 'blue', '7');
    expect(lambda.commandCalls(UpdateAliasCommand)[0]?.args[0].input.RevisionId).toBe('rev-9');
    expect(lambda.commandCalls(CreateAliasCommand)).toHaveLength(0);
  });

  it('creates the alias when it does not exist', async () => {
    lambda.on(GetAliasCommand).rejects(notFound());
    lambda.on(UpdateAliasCommand).rejects(notFound());
    lambda.on(CreateAliasCommand).resolves({});
    await adapter().ensureAlias(FN, 'blue', '7');
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
    expect(lambda.commandCalls(CreateAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      Name: 'blue',
      FunctionVersion: '7',
    });
  });

  it('does not hide other errors', async () => {
    lambda.on(GetAliasCommand).resolves({ Name: 'blue', FunctionVersion: '6', RevisionId: 'rev-9' });
    lambda
      .on(UpdateAliasCommand)
      .rejects(new ResourceConflictException({ message: 'update in progress', $metadata: {} }));
    await expect(adapter().ensureAlias(FN, 'blue', '7')).rejects.toThrow('update in progress');
    expect(lambda.commandCalls(CreateAliasCommand)).toHaveLength(0);
  });
});

describe('invoke', () => {
  it('sends the JSON payload to the qualifier with an abort signal and parses the answer', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload('{"statusCode":200,"body":"{}"}'),
    });

    const result = await adapter().invoke(FN, '8', { path: '/health' }, 3000);

    expect(result).toEqual({ statusCode: 200, payload: { statusCode: 200, body: '{}' } });
    const call = lambda.commandCalls(InvokeCommand)[0];
    const input = call?.args[0].input;
    expect({ ...input, Payload: new TextDecoder().decode(input?.Payload as Uint8Array) }).toEqual({
      FunctionName: FN,
      Qualifier: '8',
      Payload: '{"path":"/health"}',
    });
  });

  it('gives the call an abort signal that fires after the timeout', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });

    await adapter().invoke(FN, '8', {}, 20);

    const [, options] = (lambda.commandCalls(InvokeCommand)[0]?.args ?? []) as unknown[];
    const signal: unknown = options && typeof options === 'object' ? Reflect.get(options, 'abortSignal') : undefined;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect((signal as AbortSignal).aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((signal as AbortSignal).aborted).toBe(true);
  });

  it('reports a call that outlived its timeout as InvokeTimedOut, which the state machine retries', async () => {
    // What the SDK's HTTP handler throws when the abort signal fires: an AbortError caused by the TimeoutError.
    lambda.on(InvokeCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 40));
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError', cause: new Error('timed out') });
    });
    const error = await adapter()
      .invoke(FN, '8', {}, 10)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvokeTimedOut', message: `${FN}:8 did not answer within 10 ms` });
    expect(isTransientAwsError(error)).toBe(true);
  });

  it('passes on an abort it did not cause', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    await expect(adapter().invoke(FN, '8', {}, 10_000)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reports a function error with its payload', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload('{"errorMessage":"boom"}'),
    });
    expect(await adapter().invoke(FN, '8', {}, 1000)).toEqual({
      statusCode: 200,
      functionError: 'Unhandled',
      payload: { errorMessage: 'boom' },
    });
  });

  it('keeps a non-JSON payload as text and an empty one as undefined', async () => {
    lambda
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: payload('plain') })
      .resolves({ StatusCode: 202 });
    expect((await adapter().invoke(FN, '8', {}, 1000)).payload).toBe('plain');
    expect(await adapter().invoke(FN, '8', {}, 1000)).toEqual({ statusCode: 202, payload: undefined });
  });
});

describe('the control-plane budget', () => {
  const throttle = () =>
    Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });

  it('spaces one invocation’s calls to its share, however many are in flight', async () => {
    const clock = new VirtualTime();
    const sentAt: number[] = [];
    lambda.on(GetAliasCommand).callsFake(() => {
      sentAt.push(clock.now());
      return { Name: 'live', FunctionVersion: '7' };
    });
    const functions = new LambdaFunctionVersions({
      client: new LambdaClient({ region: 'eu-west-1' }),
      controlPlaneRps: 2,
      clock,
    });

    await Promise.all(Array.from({ length: 4 }, () => functions.getAlias(FN, 'live')));

    expect(sentAt).toEqual([500, 1000, 1500, 2000]);
  });

  it('waits out a throttle and tries again, so the caller never sees it', async () => {
    const clock = new VirtualTime();
    lambda.on(UpdateAliasCommand).rejectsOnce(throttle()).rejectsOnce(throttle()).resolves({});
    const functions = new LambdaFunctionVersions({
      client: new LambdaClient({ region: 'eu-west-1' }),
      controlPlaneRps: 10,
      clock,
    });

    await functions.updateAlias(FN, 'live', '8', undefined, { name: 'live', version: '7', revisionId: 'rev-1' });

    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(0);
    expect(lambda.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input.RevisionId)).toEqual([
      'rev-1',
      'rev-1',
      'rev-1',
    ]);
  });

  it('gives a throttle up to the handler once it outlasts every retry', async () => {
    lambda.on(GetAliasCommand).rejects(throttle());
    const functions = new LambdaFunctionVersions({
      client: new LambdaClient({ region: 'eu-west-1' }),
      clock: new VirtualTime(),
    });
    const error = await functions.getAlias(FN, 'live').catch((e: unknown) => e);
    expect(isTransientAwsError(error)).toBe(true);
    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(9);
  });
});
