import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

let defaultClient: LambdaClient | undefined;

/**
 * Hands `payload` to a later invocation of the function itself: an asynchronous invoke ("Event": Lambda queues the
 * event and answers at once, https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html) of the function Lambda
 * names in every execution environment (AWS_LAMBDA_FUNCTION_NAME).
 */
export async function invokeSelfAsync(functionName: string, payload: unknown, client?: LambdaClient): Promise<void> {
  if (!client && !defaultClient) defaultClient = new LambdaClient({});
  const lambda = client ?? (defaultClient as LambdaClient);
  await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'Event',
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
}
