import { ECRClient } from '@aws-sdk/client-ecr';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, GetAliasCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { LambdaFunctionVersions } from '../../adapters/aws/lambda-function-versions.ts';
import { AliasConflict } from '../../core/model/errors.ts';
import { type MotoAccount, motoAccount } from '../support/moto.ts';
import { pushImage } from '../support/moto-ecr.ts';
import { describeFunctionVersionsContract } from './function-versions.contract.ts';

const FUNCTION_NAME = 'orders-api-prod';
const FAST_WAIT = { maxWaitTime: 10, minDelay: 0.01, maxDelay: 0.05 };

/** A fresh account on moto with two images in its ECR and the function created from neither (a third image). */
async function motoFunction(aws: MotoAccount = motoAccount()) {
  const ecr = aws.client(ECRClient);
  const [first, a, b] = await Promise.all(
    ['initial', 'release-a', 'release-b'].map((s) => pushImage(ecr, 'orders-api', s)),
  );
  const role = await aws.client(IAMClient).send(
    new CreateRoleCommand({
      RoleName: `${FUNCTION_NAME}-function`,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  const client = aws.client(LambdaClient);
  await client.send(
    new CreateFunctionCommand({
      FunctionName: FUNCTION_NAME,
      Role: role.Role?.Arn,
      PackageType: 'Image',
      Code: { ImageUri: first?.uri },
      Architectures: ['arm64'],
    }),
  );
  if (!a || !b) throw new Error('images not pushed');
  return { client, images: [a, b] as const };
}

describeFunctionVersionsContract(
  'LambdaFunctionVersions on moto',
  async () => {
    const { client, images } = await motoFunction();
    return {
      functions: new LambdaFunctionVersions({ client, updateWait: FAST_WAIT }),
      functionName: FUNCTION_NAME,
      images,
    };
  },
  {
    // moto/awslambda/models.py, LambdaBackend.invoke: "Invoking a Function with PackageType=Image is not yet supported".
    cannotInvoke: 'moto cannot run a container image',
    // moto/awslambda/models.py: update_function_code always sets code_or_config_updated, and
    // LambdaStorage.publish_version publishes whenever it is set, even for the same image.
    republishesUnchangedCode: 'moto counts every UpdateFunctionCode as a change',
    // Pinned below ("differs from Lambda: moto ignores a stale RevisionId").
    ignoresStaleRevision: 'moto does not implement UpdateAlias RevisionId',
  },
);

describe('LambdaFunctionVersions on moto: an alias changed between read and update', () => {
  /** Moves the alias to `version` through a second client just before the adapter's UpdateAlias is sent. */
  function racingClient(client: LambdaClient, other: LambdaClient, fn: string, alias: string, version: string) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateAliasCommand') {
          await other.send(new UpdateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: version }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'racingUpdate' },
    );
  }

  // Lambda refuses an UpdateAlias whose RevisionId is stale with PreconditionFailedException
  // (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html), and the adapter turns it into AliasConflict
  // (the fake Lambda in aws-fakes/lambda-service.ts follows AWS and its contract test proves that). moto differs:
  // "The RevisionId parameter is not yet implemented" (moto/awslambda/models.py, LambdaBackend.update_alias), and an
  // alias's RevisionId never changes after it is created, so the second writer overwrites the first. This test pins
  // moto's behaviour so the difference shows here and a moto that implements RevisionId fails it.
  it('differs from Lambda: moto ignores a stale RevisionId, so the adapter cannot see the other change', async () => {
    const aws = motoAccount();
    const { client, images } = await motoFunction(aws);
    const functions = new LambdaFunctionVersions({ client, updateWait: FAST_WAIT });
    const v1 = await functions.publishVersion(
      FUNCTION_NAME,
      'rel-1',
      (await functions.updateCodeAndWait(FUNCTION_NAME, images[0].uri)).codeSha256,
    );
    const v2 = await functions.publishVersion(
      FUNCTION_NAME,
      'rel-2',
      (await functions.updateCodeAndWait(FUNCTION_NAME, images[1].uri)).codeSha256,
    );
    await functions.ensureAlias(FUNCTION_NAME, 'live', v1.version);
    const before = await client.send(new GetAliasCommand({ FunctionName: FUNCTION_NAME, Name: 'live' }));

    const racing = aws.client(LambdaClient);
    racingClient(racing, client, FUNCTION_NAME, 'live', v2.version);
    const raced = new LambdaFunctionVersions({ client: racing, updateWait: FAST_WAIT });
    const outcome = await raced.updateAlias(FUNCTION_NAME, 'live', v1.version).then(
      () => 'overwritten',
      (error: unknown) => (error instanceof AliasConflict ? 'AliasConflict' : String(error)),
    );

    const after = await client.send(new GetAliasCommand({ FunctionName: FUNCTION_NAME, Name: 'live' }));
    expect({
      outcome,
      version: after.FunctionVersion,
      revisionChanged: after.RevisionId !== before.RevisionId,
    }).toEqual({
      outcome: 'overwritten',
      version: v1.version,
      revisionChanged: false,
    });
  });
});
