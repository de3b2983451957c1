import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fileKeyStore } from '../../app/client-keys.ts';
import { createHandler } from '../../app/handler.ts';
import {
  clientKeysDocument,
  NOW_SECONDS,
  OTHER_CLIENT,
  restEvent,
  SMOKE_CLIENT,
  signedEvent,
  testDeps,
  VALID_ORDER,
} from './request-builders.ts';

const ALL_SECRETS = [SMOKE_CLIENT.secret, SMOKE_CLIENT.previousSecret, OTHER_CLIENT.secret];

let output: string[] = [];
beforeEach(() => {
  output = [];
  const capture = (chunk: unknown) => {
    output.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => {
  vi.restoreAllMocks();
});

function logLines(): Array<Record<string, unknown>> {
  return output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

describe('logs and metrics', () => {
  it('never contain a secret, whatever happens to the request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-logs-'));
    try {
      const handler = createHandler(testDeps());
      const body = JSON.stringify(VALID_ORDER);
      await handler(signedEvent());
      await handler(signedEvent({ secret: SMOKE_CLIENT.previousSecret }));
      await handler(signedEvent({ secret: OTHER_CLIENT.secret }));
      await handler(signedEvent({ timestamp: NOW_SECONDS - 1000 }));
      await handler(signedEvent({ method: 'POST', body, headers: { 'content-type': 'application/json' } }));
      await handler(signedEvent({ method: 'POST', body: '{', headers: { 'content-type': 'application/json' } }));

      // A broken keys file that holds secrets: the refusal must not echo it.
      const file = join(dir, 'keys.json');
      await writeFile(file, `${JSON.stringify(clientKeysDocument())}\n,broken`);
      await createHandler(testDeps({ keys: fileKeyStore(file) }))(signedEvent());
      const invalid = clientKeysDocument();
      const smoke = invalid.clients[SMOKE_CLIENT.apiKey];
      if (smoke) smoke.secrets = [SMOKE_CLIENT.secret, SMOKE_CLIENT.previousSecret, 'x'.repeat(40)];
      await writeFile(file, JSON.stringify(invalid));
      await createHandler(testDeps({ keys: fileKeyStore(file) }))(signedEvent());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    const text = output.join('');
    expect(text.length).toBeGreaterThan(0);
    for (const secret of ALL_SECRETS) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/v1=[0-9a-f]{64}/);
  });

  it('log one line per request with the API Gateway request id, the route and the client id', async () => {
    await createHandler(testDeps())(signedEvent());
    const served = logLines().find((line) => line.message === 'request served');
    expect(served).toMatchObject({
      level: 'INFO',
      apiRequestId: 'id=',
      route: 'GET /orders',
      clientId: SMOKE_CLIENT.clientId,
      statusCode: 200,
    });
  });

  it('warn when a client still signs with its previous secret', async () => {
    await createHandler(testDeps())(signedEvent({ secret: SMOKE_CLIENT.previousSecret }));
    expect(logLines().some((line) => line.message === 'client signed with its previous secret')).toBe(true);
  });

  it('log refusals as warnings with the error code and server errors as errors', async () => {
    const handler = createHandler(
      testDeps({
        keys: {
          lookup: async () => {
            throw new Error('store down');
          },
        },
      }),
    );
    await handler(restEvent({ path: '/orders' }));
    await handler(signedEvent());
    const lines = logLines();
    expect(lines.find((l) => l.message === 'request refused')).toMatchObject({ errorCode: 'MissingCredentials' });
    expect(lines.find((l) => l.message === 'request failed')).toMatchObject({ level: 'ERROR', statusCode: 500 });
  });

  it('publish EMF request, error and latency metrics with the function version as a dimension', async () => {
    await createHandler(testDeps())(restEvent({ path: '/health' }));
    const emf = logLines().find((line) => '_aws' in line) as
      | {
          _aws: {
            CloudWatchMetrics: Array<{
              Dimensions: string[][];
              Metrics: Array<{ Name: string; StorageResolution?: number }>;
            }>;
          };
        }
      | undefined;
    const directive = emf?._aws.CloudWatchMetrics[0];
    expect(directive?.Dimensions[0]).toContain('FunctionVersion');
    expect(directive?.Metrics.map((m) => m.Name)).toEqual(
      expect.arrayContaining(['Requests', 'Errors', 'ClientErrors', 'Latency']),
    );
    expect(emf).toMatchObject({ FunctionVersion: '42', Requests: 1, Errors: 0 });
    // Check health's 10-second periods need 1-second storage; the other metrics stay standard (60).
    const resolution = Object.fromEntries(directive?.Metrics.map((m) => [m.Name, m.StorageResolution ?? 60]) ?? []);
    expect(resolution).toMatchObject({ Requests: 1, Errors: 1, Latency: 1, ClientErrors: 60 });
  });

  it('add the Lambda context to log lines when invoked with one', async () => {
    const context = {
      functionName: 'switchyard-app',
      functionVersion: '42',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:switchyard-app:live',
      memoryLimitInMB: '512',
      awsRequestId: 'lambda-request-1',
      callbackWaitsForEmptyEventLoop: true,
      logGroupName: '/aws/lambda/switchyard-app',
      logStreamName: 's',
      getRemainingTimeInMillis: () => 1000,
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    await createHandler(testDeps())(restEvent({ path: '/health' }), context);
    expect(logLines().find((l) => l.message === 'request served')).toMatchObject({
      function_request_id: 'lambda-request-1',
    });
  });
});
