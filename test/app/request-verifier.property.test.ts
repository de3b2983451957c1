import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientKeyStore } from '../../app/client-keys.ts';
import { HttpError } from '../../app/errors.ts';
import { InMemoryNonceCache } from '../../app/nonce-cache.ts';
import { type SignedRequest, TIMESTAMP_TOLERANCE_SECONDS, verifySignedRequest } from '../../app/request-verifier.ts';
import { signRequest } from '../../app/signing-client.ts';

const NOW = 1_767_225_600;
const API_KEY = 'prop-key-0001';

const arbSecret = fc.string({ minLength: 32, maxLength: 64, unit: 'grapheme-ascii' });
const arbRequest = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  path: fc
    .array(fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/), { minLength: 1, maxLength: 4 })
    .map((s) => `/${s.join('/')}`),
  query: fc.array(
    fc.tuple(
      fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }),
      fc.string({ maxLength: 12, unit: 'grapheme' }),
    ),
    {
      maxLength: 5,
    },
  ),
  body: fc.uint8Array({ maxLength: 256 }),
  nonce: fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/),
  skew: fc.integer({ min: -TIMESTAMP_TOLERANCE_SECONDS, max: TIMESTAMP_TOLERANCE_SECONDS }),
});

type Generated = {
  method: string;
  path: string;
  query: Array<[string, string]>;
  body: Uint8Array;
  nonce: string;
  skew: number;
};

function signed(secret: string, r: Generated): SignedRequest {
  const headers = signRequest({
    apiKey: API_KEY,
    secret,
    method: r.method,
    path: r.path,
    query: r.query,
    body: r.body,
    timestamp: NOW + r.skew,
    nonce: r.nonce,
  });
  return {
    method: r.method,
    path: r.path,
    query: r.query,
    body: r.body,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
  };
}

function depsFor(secrets: string[]) {
  const keys: ClientKeyStore = { lookup: async (k) => (k === API_KEY ? { clientId: 'prop', secrets } : undefined) };
  return { keys, nonces: new InMemoryNonceCache({ nowSeconds: () => NOW }), nowSeconds: () => NOW };
}

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof HttpError) return error.statusCode;
    throw error;
  }
}

describe('verifySignedRequest properties', () => {
  it('any request signed with the current or the previous secret, within tolerance, verifies', async () => {
    await fc.assert(
      fc.asyncProperty(arbSecret, arbSecret, fc.boolean(), arbRequest, async (current, previous, usePrevious, r) => {
        const client = await verifySignedRequest(
          signed(usePrevious ? previous : current, r),
          depsFor([current, previous]),
        );
        expect(client.clientId).toBe('prop');
        expect(client.usedPreviousSecret).toBe(usePrevious && previous !== current);
      }),
    );
  });

  it('the same signed request verifies exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(arbSecret, arbRequest, async (secret, r) => {
        const deps = depsFor([secret]);
        const request = signed(secret, r);
        expect(await statusOf(verifySignedRequest(request, deps))).toBe(200);
        expect(await statusOf(verifySignedRequest(request, deps))).toBe(401);
      }),
    );
  });

  const mutations: Record<string, (r: SignedRequest) => SignedRequest> = {
    method: (r) => ({ ...r, method: r.method === 'GET' ? 'POST' : 'GET' }),
    path: (r) => ({ ...r, path: `${r.path}x` }),
    query: (r) => ({ ...r, query: [...r.query, ['injected', '1']] }),
    body: (r) => ({ ...r, body: Uint8Array.from([...r.body, 0x20]) }),
    timestamp: (r) => ({
      ...r,
      headers: { ...r.headers, 'x-timestamp': String(Number(r.headers['x-timestamp']) - 1) },
    }),
    nonce: (r) => ({ ...r, headers: { ...r.headers, 'x-nonce': `${(r.headers['x-nonce'] ?? '').slice(1)}Z` } }),
    signature: (r) => {
      const sig = r.headers['x-signature'] ?? '';
      const last = sig.at(-1) === '0' ? '1' : '0';
      return { ...r, headers: { ...r.headers, 'x-signature': `${sig.slice(0, -1)}${last}` } };
    },
  };

  it('any single-field mutation of a signed request is refused with a 401', async () => {
    await fc.assert(
      fc.asyncProperty(arbSecret, arbRequest, fc.constantFrom(...Object.keys(mutations)), async (secret, r, field) => {
        const mutate = mutations[field];
        if (!mutate) throw new Error(`no mutation ${field}`);
        const status = await statusOf(verifySignedRequest(mutate(signed(secret, r)), depsFor([secret])));
        expect(status).toBe(401);
      }),
    );
  });

  it('a signature under any other secret is refused', async () => {
    await fc.assert(
      fc.asyncProperty(arbSecret, arbSecret, arbRequest, async (secret, other, r) => {
        fc.pre(secret !== other);
        expect(await statusOf(verifySignedRequest(signed(other, r), depsFor([secret])))).toBe(401);
      }),
    );
  });

  it('a timestamp outside the tolerance is refused whatever else is right', async () => {
    const outside = fc.oneof(
      fc.integer({ min: TIMESTAMP_TOLERANCE_SECONDS + 1, max: 10 ** 6 }),
      fc.integer({ min: -(10 ** 6), max: -TIMESTAMP_TOLERANCE_SECONDS - 1 }),
    );
    await fc.assert(
      fc.asyncProperty(arbSecret, arbRequest, outside, async (secret, r, skew) => {
        expect(await statusOf(verifySignedRequest(signed(secret, { ...r, skew }), depsFor([secret])))).toBe(401);
      }),
    );
  });
});
