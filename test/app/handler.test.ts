import { describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../app/handler.ts';
import {
  errorCode,
  freshNonce,
  jsonBody,
  NOW_SECONDS,
  OTHER_CLIENT,
  restEvent,
  SMOKE_CLIENT,
  signedEvent,
  testDeps,
  VALID_ORDER,
} from './request-builders.ts';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

function newHandler(...args: Parameters<typeof testDeps>) {
  return createHandler(testDeps(...args));
}

describe('public routes', () => {
  it('GET /health answers 200 with the Lambda function version as a string, and the commit', async () => {
    const response = await newHandler()(restEvent({ path: '/health' }));
    expect(response.statusCode).toBe(200);
    expect(jsonBody(response)).toEqual({ status: 'ok', version: '42', commit: 'abc1234' });
  });

  it('GET /health includes the image digest when the deployment sets one', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const response = await newHandler({}, { SWITCHYARD_IMAGE_DIGEST: digest })(restEvent({ path: '/health' }));
    expect(jsonBody(response)).toMatchObject({ version: '42', digest });
  });

  it('GET /version answers 200 without a signature', async () => {
    const response = await newHandler()(restEvent({ path: '/version' }));
    expect(response.statusCode).toBe(200);
    expect(jsonBody(response)).toMatchObject({ version: '42', commit: 'abc1234', node: process.version });
  });

  it('an unknown path is a 404 and a wrong method a 405 naming the allowed methods', async () => {
    const handler = newHandler();
    const sample = await handler(restEvent({ path: '/my/path' }));
    expect(sample.statusCode).toBe(404);
    const wrongMethod = await handler(restEvent({ method: 'DELETE', path: '/orders' }));
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, POST');
  });
});

describe('signed requests succeed', () => {
  it('GET /orders signed with the current secret returns 200 and an array of orders', async () => {
    const response = await newHandler()(signedEvent({ path: '/orders' }));
    expect(response.statusCode).toBe(200);
    const orders = JSON.parse(response.body);
    expect(Array.isArray(orders)).toBe(true);
    expect(orders.length).toBeGreaterThan(0);
  });

  it('GET /orders signed with the previous secret still succeeds during a rotation', async () => {
    const response = await newHandler()(signedEvent({ secret: SMOKE_CLIENT.previousSecret }));
    expect(response.statusCode).toBe(200);
  });

  it('GET /orders filters and limits by a signed query', async () => {
    const response = await newHandler()(signedEvent({ query: { status: 'shipped', limit: '1' } }));
    expect(response.statusCode).toBe(200);
    const orders = JSON.parse(response.body) as Array<{ status: string }>;
    expect(orders).toHaveLength(1);
    expect(orders[0]?.status).toBe('shipped');
  });

  it('POST /orders creates an order (201, Location) that GET /orders/{id} then returns on the same instance', async () => {
    const handler = newHandler();
    const body = JSON.stringify(VALID_ORDER);
    const created = await handler(signedEvent({ method: 'POST', body, headers: JSON_HEADERS }));
    expect(created.statusCode).toBe(201);
    const order = jsonBody(created);
    expect(order).toMatchObject({ ...VALID_ORDER, totalCents: 2500, status: 'received', createdBy: 'smoke-tests' });
    expect(created.headers.location).toBe(`/orders/${String(order.id)}`);

    const fetched = await handler(signedEvent({ path: `/orders/${String(order.id)}` }));
    expect(fetched.statusCode).toBe(200);
    expect(jsonBody(fetched)).toEqual(order);
  });

  it('a base64-encoded body is decoded before hashing and parsing', async () => {
    const body = JSON.stringify(VALID_ORDER);
    const response = await newHandler()(signedEvent({ method: 'POST', body, base64: true, headers: JSON_HEADERS }));
    expect(response.statusCode).toBe(201);
  });

  it('GET /orders/{id} for an unknown or ill-formed id is a 404', async () => {
    const handler = newHandler();
    expect((await handler(signedEvent({ path: '/orders/ord_missing' }))).statusCode).toBe(404);
    expect((await handler(signedEvent({ path: '/orders/not-an-id' }))).statusCode).toBe(404);
  });
});

describe('credential failures get the right 4xx', () => {
  it.each([['x-api-key'], ['x-timestamp'], ['x-nonce'], ['x-signature']])(
    'a request without %s is a 401 naming the missing header',
    async (header) => {
      const event = signedEvent();
      const headers = Object.fromEntries(
        Object.entries(event.headers as Record<string, string>).filter(([name]) => name.toLowerCase() !== header),
      );
      const multi = Object.fromEntries(
        Object.entries(event.multiValueHeaders as Record<string, string[]>).filter(([n]) => n.toLowerCase() !== header),
      );
      const response = await newHandler()({ ...event, headers, multiValueHeaders: multi });
      expect(response.statusCode).toBe(401);
      expect(jsonBody(response).error).toMatchObject({ code: 'MissingCredentials', missing: [header] });
      expect(response.headers['www-authenticate']).toContain('Switchyard-HMAC-SHA256');
    },
  );

  it('an unsigned GET /orders is a 401 (the smoke test that proves auth is on)', async () => {
    const response = await newHandler()(restEvent({ path: '/orders' }));
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('MissingCredentials');
  });

  it('an unknown API key is a 401', async () => {
    const response = await newHandler()(signedEvent({ apiKey: 'nobody-key-9999' }));
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('UnknownApiKey');
  });

  it("a signature made with another client's secret is a 401", async () => {
    const response = await newHandler()(signedEvent({ secret: OTHER_CLIENT.secret }));
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('InvalidSignature');
  });

  it('a tampered body is a 401', async () => {
    const body = JSON.stringify(VALID_ORDER);
    const tampered = JSON.stringify({ ...VALID_ORDER, customerId: 'cust-mallory' });
    const response = await newHandler()(
      signedEvent({ method: 'POST', body, headers: JSON_HEADERS, send: { method: 'POST', body: tampered } }),
    );
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('InvalidSignature');
  });

  it('a tampered path is a 401', async () => {
    const response = await newHandler()(
      signedEvent({ path: '/orders/ord_demo1', send: { path: '/orders/ord_demo2' } }),
    );
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('InvalidSignature');
  });

  it('a tampered query is a 401', async () => {
    const response = await newHandler()(signedEvent({ query: { limit: '1' }, send: { query: { limit: '100' } } }));
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('InvalidSignature');
  });

  it('a timestamp older than 300 s is a 401 that tells the client the server time', async () => {
    const response = await newHandler()(signedEvent({ timestamp: NOW_SECONDS - 301 }));
    expect(response.statusCode).toBe(401);
    expect(jsonBody(response).error).toMatchObject({ code: 'StaleTimestamp', serverTime: NOW_SECONDS });
  });

  it('a timestamp more than 300 s in the future is a 401', async () => {
    const response = await newHandler()(signedEvent({ timestamp: NOW_SECONDS + 301 }));
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('StaleTimestamp');
  });

  it('timestamps exactly 300 s either side are still accepted', async () => {
    const handler = newHandler();
    expect((await handler(signedEvent({ timestamp: NOW_SECONDS - 300 }))).statusCode).toBe(200);
    expect((await handler(signedEvent({ timestamp: NOW_SECONDS + 300 }))).statusCode).toBe(200);
  });

  it('a replayed request (same nonce) is a 401 the second time', async () => {
    const handler = newHandler();
    const event = signedEvent({ nonce: freshNonce() });
    expect((await handler(event)).statusCode).toBe(200);
    const replay = await handler(structuredClone(event));
    expect(replay.statusCode).toBe(401);
    expect(errorCode(replay)).toBe('NonceReplayed');
  });

  it('the same nonce from two different clients is not a replay', async () => {
    const handler = newHandler();
    const nonce = freshNonce();
    expect((await handler(signedEvent({ nonce }))).statusCode).toBe(200);
    const other = signedEvent({ nonce, apiKey: OTHER_CLIENT.apiKey, secret: OTHER_CLIENT.secret });
    expect((await handler(other)).statusCode).toBe(200);
  });

  it('a forged request cannot burn a nonce: the nonce is remembered only after the signature verifies', async () => {
    const handler = newHandler();
    const nonce = freshNonce();
    expect((await handler(signedEvent({ nonce, secret: OTHER_CLIENT.secret }))).statusCode).toBe(401);
    expect((await handler(signedEvent({ nonce }))).statusCode).toBe(200);
  });

  it.each([
    ['x-timestamp', '17e8', 'x-timestamp'],
    ['x-nonce', 'short', 'x-nonce'],
    ['x-nonce', 'has spaces in it, sixteen+', 'x-nonce'],
    ['x-signature', `v1=${'A'.repeat(64)}`, 'x-signature'],
    ['x-signature', 'v2=abc', 'x-signature'],
    ['x-api-key', 'key with spaces', 'x-api-key'],
  ])('a malformed %s (%s) is a 400 saying which header and what format', async (header, value, named) => {
    const response = await newHandler()(signedEvent({ headers: { [header]: value } }));
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('MalformedCredentials');
    expect(JSON.stringify(jsonBody(response))).toContain(named);
  });
});

describe('input validation', () => {
  it('a body over the limit is a 413, checked before the signature', async () => {
    const handler = newHandler({}, { MAX_BODY_BYTES: '1024' });
    const body = JSON.stringify({ ...VALID_ORDER, note: 'x'.repeat(2000) });
    const response = await handler(signedEvent({ method: 'POST', body, headers: JSON_HEADERS }));
    expect(response.statusCode).toBe(413);
    expect(jsonBody(response).error).toMatchObject({ code: 'PayloadTooLarge', limitBytes: 1024 });
    const unsigned = await handler(restEvent({ method: 'POST', path: '/orders', body }));
    expect(unsigned.statusCode).toBe(413);
  });

  it('a body that is not JSON is a 400', async () => {
    const response = await newHandler()(signedEvent({ method: 'POST', body: '{"customerId":', headers: JSON_HEADERS }));
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('MalformedRequest');
  });

  it('a body that is not UTF-8 is a 400', async () => {
    const event = signedEvent({ method: 'POST', headers: JSON_HEADERS });
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const { signRequest } = await import('../../app/signing-client.ts');
    const headers = signRequest({
      apiKey: SMOKE_CLIENT.apiKey,
      secret: SMOKE_CLIENT.secret,
      method: 'POST',
      path: '/orders',
      body: bytes,
      timestamp: NOW_SECONDS,
      nonce: freshNonce(),
    });
    const response = await newHandler()({
      ...event,
      headers: { ...JSON_HEADERS, ...headers },
      multiValueHeaders: null,
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    });
    expect(response.statusCode).toBe(400);
    expect(jsonBody(response).error).toMatchObject({
      code: 'MalformedRequest',
      message: 'The body is not valid UTF-8.',
    });
  });

  it('a body flagged base64 that is not base64 is a 400', async () => {
    const event = {
      ...signedEvent({ method: 'POST', headers: JSON_HEADERS }),
      body: 'not base64!',
      isBase64Encoded: true,
    };
    const response = await newHandler()(event);
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('MalformedRequest');
  });

  it('a body that breaks the schema is a 400 listing each offending field', async () => {
    const body = JSON.stringify({
      customerId: 'has spaces',
      currency: 'XXX',
      items: [{ sku: 'ok-lower', quantity: 0, unitPriceCents: 10 }],
      extra: true,
    });
    const response = await newHandler()(signedEvent({ method: 'POST', body, headers: JSON_HEADERS }));
    expect(response.statusCode).toBe(400);
    const error = jsonBody(response).error as { code: string; fields: Array<{ path: string }> };
    expect(error.code).toBe('ValidationFailed');
    expect(error.fields.map((f) => f.path).sort()).toEqual(
      ['(root)', 'currency', 'customerId', 'items.0.quantity', 'items.0.sku'].sort(),
    );
  });

  it('an invalid query is a 400 with field errors', async () => {
    const response = await newHandler()(signedEvent({ query: { limit: '1000', status: 'lost' } }));
    expect(response.statusCode).toBe(400);
    const error = jsonBody(response).error as { fields: Array<{ path: string }> };
    expect(error.fields.map((f) => f.path).sort()).toEqual(['limit', 'status']);
  });

  it.each([['text/plain'], ['application/xml']])('POST /orders with Content-Type %s is a 415', async (contentType) => {
    const body = JSON.stringify(VALID_ORDER);
    const response = await newHandler()(
      signedEvent({ method: 'POST', body, headers: { 'Content-Type': contentType } }),
    );
    expect(response.statusCode).toBe(415);
    expect(errorCode(response)).toBe('UnsupportedMediaType');
  });

  it('POST /orders without a Content-Type is a 415', async () => {
    const response = await newHandler()(signedEvent({ method: 'POST', body: JSON.stringify(VALID_ORDER) }));
    expect(response.statusCode).toBe(415);
  });

  it('application/json; charset=utf-8 is accepted', async () => {
    const body = JSON.stringify(VALID_ORDER);
    const headers = { 'content-type': 'application/json; charset=UTF-8' };
    expect((await newHandler()(signedEvent({ method: 'POST', body, headers }))).statusCode).toBe(201);
  });

  it('an event that is not an API Gateway proxy event is a 400', async () => {
    const response = await newHandler()({ detail: 'not http' });
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('UnsupportedEvent');
  });
});

describe('server-side failures', () => {
  it('with no key source configured, signed routes answer 500 with a reason and public routes still work', async () => {
    const { unconfiguredKeyStore } = await import('../../app/client-keys.ts');
    const handler = newHandler({ keys: unconfiguredKeyStore() });
    const response = await handler(signedEvent());
    expect(response.statusCode).toBe(500);
    expect(errorCode(response)).toBe('KeySourceNotConfigured');
    expect((await handler(restEvent({ path: '/health' }))).statusCode).toBe(200);
  });

  it('an unexpected error is a 500 with a generic message and the request id', async () => {
    const handler = newHandler({
      keys: {
        lookup: async () => {
          throw new Error('boom with internal detail');
        },
      },
    });
    const response = await handler(signedEvent());
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('internal detail');
    expect(jsonBody(response)).toMatchObject({ error: { code: 'InternalError' }, requestId: 'id=' });
  });
});

describe('what reaches answers and logs', () => {
  it('a body that is not JSON is refused without quoting it, in the answer or in any log line', async () => {
    const secret = 'SECRET-CARD-4111111111111111';
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const response = await newHandler()(
        signedEvent({ method: 'POST', path: '/orders', body: secret, headers: JSON_HEADERS }),
      );
      expect(response.statusCode).toBe(400);
      expect(response.body).not.toContain('SECRET');
      expect(jsonBody(response)).toMatchObject({ error: { message: 'The body is not valid JSON.' } });
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(written.join('')).not.toContain('SECRET');
  });
});
