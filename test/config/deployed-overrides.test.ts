import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ENVIRONMENT_OVERRIDES_VARIABLE } from '../../config/overrides.ts';
import { ENV_VARS } from '../../contract/service-functions.ts';
import {
  dynamoDbStore,
  ecrRegistry,
  insightStore,
  lambdaFunctions,
  releaseApiEntry,
  snsNotifier,
} from '../../wiring/aws.ts';
import { invoke, signedEvent } from '../api/api-events.ts';

const lambda = mockClient(LambdaClient);
const dynamo = mockClient(DynamoDBDocumentClient);

/** The variables the stack sets on the release API function, with the overrides a deploy passed. */
const VARIABLES = {
  [ENV_VARS.stateMachineArn]: 'arn:aws:states:eu-west-1:123456789012:stateMachine:SwitchyardRelease',
  [ENV_VARS.tableName]: 'releases',
  [ENV_VARS.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:alerts',
  [ENV_VARS.registryHost]: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
  [ENVIRONMENT_OVERRIDES_VARIABLE]: JSON.stringify({
    prod: { functionName: 'orders-api', aliases: { live: 'current', green: 'candidate', blue: 'previous' } },
  }),
};

beforeEach(() => {
  lambda.reset();
  dynamo.reset();
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
  dynamo.on(GetCommand).resolves({});
  // GET /environments lists the abandoned images (the release policy's entries).
  dynamo.on(QueryCommand).resolves({ Items: [] });
});

/** The deployed release API (the same entry as entries/release-api.ts) on mocked AWS clients. */
describe('a deployed handler releases into the overridden function', () => {
  it('GET /environments reads the overridden function and aliases', async () => {
    const handler = releaseApiEntry(
      {
        store: dynamoDbStore,
        registry: ecrRegistry,
        functions: lambdaFunctions,
        notifier: snsNotifier,
        insight: insightStore,
      },
      VARIABLES,
    ) as (event: unknown) => Promise<{ statusCode: number; body: string }>;
    const reply = await invoke(handler, signedEvent('GET', '/environments', undefined, 'arn:aws:iam::1:user/ops'));
    expect(reply.status).toBe(200);
    expect(JSON.stringify(reply.body)).toContain('"functionName":"orders-api"');
    const asked = lambda
      .commandCalls(GetAliasCommand)
      .map((c) => `${c.args[0].input.FunctionName}:${c.args[0].input.Name}`);
    expect(asked).toEqual(
      expect.arrayContaining(['orders-api:current', 'orders-api:previous', 'orders-api:candidate']),
    );
    expect(asked.some((name) => name.startsWith('switchyard-api-prod'))).toBe(false);
    // Environments without overrides keep the shipped names.
    expect(asked).toContain('switchyard-api-dev:live');
  });
});
