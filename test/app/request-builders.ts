import { readFileSync } from 'node:fs';
import type { AppDeps } from '../../app/api.ts';
import { loadAppConfig } from '../../app/app-config.ts';
import type { ClientKey, ClientKeyStore, ClientKeysDocument } from '../../app/client-keys.ts';
import { InMemoryNonceCache } from '../../app/nonce-cache.ts';
import { OrderBook } from '../../app/orders.ts';
import { type QueryInput, queryPairs, signRequest } from '../../app/signing-client.ts';

/** The real API Gateway REST proxy event published by AWS; every test event starts from it. */
const SAMPLE_EVENT: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../fixtures/apigateway-rest-proxy.json', import.meta.url), 'utf8'),
);

export const NOW_SECONDS = 1_767_225_600;

export const SMOKE_CLIENT = {
  apiKey: 'smoke-key-0001',
  clientId: 'smoke-tests',
  secret: 'smoke-current-secret-0123456789abcdef',
  previousSecret: 'smoke-previous-secret-0123456789abcdef',
} as const;

export const OTHER_CLIENT = {
  apiKey: 'loadgen-key-0002',
  clientId: 'load-generator',
  secret: 'loadgen-only-secret-0123456789abcdef',
} as const;

export function clientKeysDocument(): ClientKeysDocument {
  return {
    clients: {
      [SMOKE_CLIENT.apiKey]: {
        clientId: SMOKE_CLIENT.clientId,
        secrets: [SMOKE_CLIENT.secret, SMOKE_CLIENT.previousSecret],
      },
      [OTHER_CLIENT.apiKey]: { clientId: OTHER_CLIENT.clientId, secrets: [OTHER_CLIENT.secret] },
    },
  };
}

export function staticKeyStore(): ClientKeyStore {
  const table = new Map<string, ClientKey>(Object.entries(clientKeysDocument().clients));
  return { lookup: async (apiKey) => table.get(apiKey) };
}

export function testDeps(overrides: Partial<AppDeps> = {}, env: Record<string, string> = {}): AppDeps {
  const nowSeconds = () => NOW_SECONDS;
  return {
    config: loadAppConfig({ AWS_LAMBDA_FUNCTION_VERSION: '42', SWITCHYARD_COMMIT: 'abc1234', ...env }),
    keys: staticKeyStore(),
    nonces: new InMemoryNonceCache({ nowSeconds }),
    orders: new OrderBook({ now: () => new Date(NOW_SECONDS * 1000) }),
    nowSeconds,
    random: () => 0.5,
    sleep: async () => undefined,
    ...overrides,
  };
}

export interface RequestSpec {
  readonly method?: string;
  readonly path?: string;
  readonly query?: QueryInput;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly base64?: boolean;
}

/** The sample event with this request's method, path, query, headers and body. */
export function restEvent(spec: RequestSpec = {}): Record<string, unknown> {
  const event = structuredClone(SAMPLE_EVENT);
  const method = spec.method ?? 'GET';
  const path = spec.path ?? '/orders';
  const pairs = queryPairs(spec.query);
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of pairs) multiQuery[name] = [...(multiQuery[name] ?? []), value];
  const headers = { ...(event.headers as Record<string, string>), ...spec.headers };
  const requestContext = event.requestContext as Record<string, unknown>;
  return {
    ...event,
    httpMethod: method,
    path,
    resource: '/{proxy+}',
    headers,
    multiValueHeaders: {
      ...(event.multiValueHeaders as Record<string, string[]>),
      ...Object.fromEntries(Object.entries(spec.headers ?? {}).map(([name, value]) => [name, [value]])),
    },
    queryStringParameters: pairs.length ? Object.fromEntries(pairs) : null,
    multiValueQueryStringParameters: pairs.length ? multiQuery : null,
    body: spec.body === undefined ? null : spec.base64 ? Buffer.from(spec.body).toString('base64') : spec.body,
    isBase64Encoded: !!spec.base64,
    requestContext: { ...requestContext, httpMethod: method, path: `/live${path}`, resourcePath: '/{proxy+}' },
  };
}

let nonceCounter = 0;
export function freshNonce(): string {
  nonceCounter += 1;
  return `test-nonce-${String(nonceCounter).padStart(8, '0')}`;
}

export interface SignedSpec extends RequestSpec {
  readonly apiKey?: string;
  readonly secret?: string;
  readonly timestamp?: number;
  readonly nonce?: string;
  /** Sign this request, but send `send` instead: the way tampering looks to the server. */
  readonly send?: RequestSpec;
}

export function signedEvent(spec: SignedSpec = {}): Record<string, unknown> {
  const method = spec.method ?? 'GET';
  const path = spec.path ?? '/orders';
  const signed = signRequest({
    apiKey: spec.apiKey ?? SMOKE_CLIENT.apiKey,
    secret: spec.secret ?? SMOKE_CLIENT.secret,
    method,
    path,
    query: spec.query,
    body: spec.body ?? '',
    timestamp: spec.timestamp ?? NOW_SECONDS,
    nonce: spec.nonce ?? freshNonce(),
  });
  const sent = { method, path, query: spec.query, body: spec.body, base64: spec.base64, ...spec.send };
  return restEvent({ ...sent, headers: { ...signed, ...spec.headers, ...spec.send?.headers } });
}

export const VALID_ORDER = {
  customerId: 'cust-ada',
  currency: 'EUR',
  items: [{ sku: 'RAIL-CLAMP-12', quantity: 2, unitPriceCents: 1250 }],
} as const;

export function jsonBody(response: { body: string }): Record<string, unknown> {
  return JSON.parse(response.body);
}

export function errorCode(response: { body: string }): unknown {
  return (jsonBody(response).error as { code?: unknown } | undefined)?.code;
}
