import { LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaFunctionVersions } from '../../adapters/aws/lambda-function-versions.ts';
import { MemoryFunctionVersions } from '../../adapters/memory/memory-functions.ts';
import { fakeLambdaService } from './aws-fakes/lambda-service.ts';
import { describeFunctionVersionsContract } from './function-versions.contract.ts';

const FUNCTION_NAME = 'orders-api-prod';

describeFunctionVersionsContract('MemoryFunctionVersions', () => {
  const functions = new MemoryFunctionVersions(async ({ version, payload }) => ({
    statusCode: 200,
    payload: { version, echo: payload },
  }));
  functions.createFunction(FUNCTION_NAME);
  return { functions, functionName: FUNCTION_NAME };
});

describeFunctionVersionsContract('LambdaFunctionVersions over a fake Lambda service', () => {
  const client = new LambdaClient({ region: 'eu-west-1' });
  fakeLambdaService(client, [FUNCTION_NAME]);
  return {
    functions: new LambdaFunctionVersions({ client, updateWait: { maxWaitTime: 2, minDelay: 0.001, maxDelay: 0.002 } }),
    functionName: FUNCTION_NAME,
  };
});
