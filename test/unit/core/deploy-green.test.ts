import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaFunctionVersions } from '../../../adapters/aws/lambda-function-versions.ts';
import { deployGreen } from '../../../core/deploy-green.ts';
import type { ReleaseContext } from '../../../core/release-context.ts';
import { validateRelease } from '../../../core/validate-release.ts';
import { ReleaseWorld } from '../../workflow/harness.ts';

const lambda = mockClient(LambdaClient);

/**
 * A function with `existing` published versions, as Lambda answers for it: ListVersionsByFunction "returns a maximum
 * of 50 items in each response" (https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html), so
 * anything that lists them pages `existing / 50` times.
 */
function functionWithVersions(release: ReleaseContext, existing: number): void {
  const published = new Map<string, string>();
  const next = String(existing + 1);
  lambda.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: 'InProgress' });
  lambda.on(GetFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', CodeSha256: 'sha-new' });
  lambda.on(GetFunctionCommand).callsFake((input: GetFunctionCommand['input']) => {
    if (!input.Qualifier) return { Configuration: { LastUpdateStatus: 'Successful', CodeSha256: 'sha-new' } };
    const description = published.get(input.Qualifier) ?? `release-${input.Qualifier}`;
    return {
      Configuration: { Version: input.Qualifier, Description: description, CodeSha256: 'sha-new' },
      Code: { ImageUri: release.imageUri, ResolvedImageUri: release.imageUri },
    };
  });
  lambda.on(PublishVersionCommand).callsFake((input: PublishVersionCommand['input']) => {
    published.set(next, input.Description ?? '');
    return { Version: next, Description: input.Description, CodeSha256: input.CodeSha256 };
  });
  lambda.on(ListVersionsByFunctionCommand).callsFake((input: ListVersionsByFunctionCommand['input']) => {
    const from = Number(input.Marker ?? '1');
    const to = Math.min(from + 49, existing);
    return {
      Versions: Array.from({ length: to - from + 1 }, (_, i) => ({ Version: String(from + i), Description: 'older' })),
      ...(to < existing ? { NextMarker: String(to + 1) } : {}),
    };
  });
  lambda.on(GetAliasCommand).resolves({ Name: 'green', FunctionVersion: String(existing), RevisionId: 'rev-1' });
  lambda.on(UpdateAliasCommand).resolves({});
}

/** Every Lambda call, by command name, with the input that says what it is about. */
function lambdaCalls(): string[] {
  return lambda.calls().map((call) => {
    const command = call.args[0];
    const input = command.input as { Qualifier?: string };
    return `${command.constructor.name}${input.Qualifier ? `(${input.Qualifier})` : ''}`;
  });
}

async function deployAt(existing: number, attempts = 1) {
  lambda.reset();
  const world = await new ReleaseWorld().seed();
  const release = await validateRelease(world.apiRequest(), { name: 'rel-1', arn: 'arn:rel-1' }, world.deps);
  functionWithVersions(release, existing);
  const functions = new LambdaFunctionVersions({
    client: new LambdaClient({ region: 'eu-west-1' }),
    updateWait: { maxWaitTime: 2, minDelay: 0.001, maxDelay: 0.002 },
  });
  const deps = { ...world.deps, functions };
  const greens = [];
  const [target] = release.targets;
  if (!target) throw new Error('no target');
  for (let attempt = 0; attempt < attempts; attempt++) greens.push(await deployGreen(release, target, deps));
  return { greens, calls: lambdaCalls(), record: await world.store.getRelease('rel-1') };
}

beforeEach(() => {
  lambda.reset();
});

describe('Deploy green on a function with many versions', () => {
  it('makes the same Lambda calls at 500 existing versions as at 5: nothing lists them', async () => {
    const few = await deployAt(5);
    const many = await deployAt(500);

    const expected = [
      'UpdateFunctionCodeCommand',
      'GetFunctionCommand',
      'GetFunctionConfigurationCommand',
      'PublishVersionCommand',
      'GetFunctionCommand(501)',
      'GetAliasCommand',
      'UpdateAliasCommand',
    ];
    expect(many.calls).toEqual(expected);
    expect(few.calls).toEqual(expected.map((c) => c.replace('501', '6')));
    expect(many.greens).toEqual([
      { target: 'switchyard-api-prod', version: '501', codeSha256: 'sha-new', reused: false },
    ]);
    expect(many.record?.targets.members[0]?.greenVersion).toBe('501');
  });

  it('a retry reads the version back from the record with one GetFunction, and publishes nothing', async () => {
    const { greens, calls } = await deployAt(500, 2);

    expect(greens).toEqual([
      { target: 'switchyard-api-prod', version: '501', codeSha256: 'sha-new', reused: false },
      { target: 'switchyard-api-prod', version: '501', codeSha256: 'sha-new', reused: true },
    ]);
    // The second attempt: read the recorded version (501, described with the release id), check its image, move green.
    expect(calls.slice(7)).toEqual([
      'GetFunctionCommand(501)',
      'GetFunctionCommand(501)',
      'GetAliasCommand',
      'UpdateAliasCommand',
    ]);
    expect(lambda.commandCalls(PublishVersionCommand)).toHaveLength(1);
  });
});
