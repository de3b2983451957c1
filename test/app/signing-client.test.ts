import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  canonicalString,
  HmacRequestSigner,
  percentEncode,
  type RequestSigner,
  signRequest,
} from '../../app/signing-client.ts';

/** The worked example printed in docs/app-api.md: if this test changes, the docs must change with it. */
const DOCS_EXAMPLE = {
  apiKey: 'demo-key-0001',
  secret: 'demo-secret-0123456789abcdef0123456789',
  timestamp: 1767225600,
};

describe('the worked examples in docs/app-api.md', () => {
  it('GET /orders with a query: canonical string and signature match the docs', () => {
    const request = { method: 'GET', path: '/orders', query: { status: 'received', limit: '5', note: 'a b+c/ü' } };
    const nonce = 'Qm9vdHN0cmFwLW5vbmNlLTE';
    expect(canonicalString({ ...request, timestamp: DOCS_EXAMPLE.timestamp, nonce })).toBe(
      'GET\n/orders\nlimit=5&note=a%20b%2Bc%2F%C3%BC&status=received\n1767225600\nQm9vdHN0cmFwLW5vbmNlLTE\n' +
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(signRequest({ ...DOCS_EXAMPLE, ...request, nonce })).toEqual({
      'X-Api-Key': 'demo-key-0001',
      'X-Timestamp': '1767225600',
      'X-Nonce': 'Qm9vdHN0cmFwLW5vbmNlLTE',
      'X-Signature': 'v1=7ce7598c83b93380e8e45daa45552cae146c26d9221e9f50aa100e44be8556cd',
    });
  });

  it('POST /orders with a JSON body: canonical string and signature match the docs', () => {
    const body =
      '{"customerId":"cust-ada","currency":"EUR","items":[{"sku":"RAIL-CLAMP-12","quantity":2,"unitPriceCents":1250}]}';
    const nonce = 'Qm9vdHN0cmFwLW5vbmNlLTI';
    expect(canonicalString({ method: 'POST', path: '/orders', body, timestamp: DOCS_EXAMPLE.timestamp, nonce })).toBe(
      'POST\n/orders\n\n1767225600\nQm9vdHN0cmFwLW5vbmNlLTI\n' +
        'e60618527cfd5767386ce335f29ef9e2e89e6c93b931980191728f15d4298fd4',
    );
    expect(signRequest({ ...DOCS_EXAMPLE, method: 'POST', path: '/orders', body, nonce })['X-Signature']).toBe(
      'v1=9baa8f42fdd3d9cc8b8315c66756a414ff269f9a95028416e8ca10f685869a77',
    );
  });

  it('docs/app-api.md prints both examples exactly as computed', () => {
    const docs = readFileSync(new URL('../../docs/app-api.md', import.meta.url), 'utf8');
    const example1 = canonicalString({
      method: 'GET',
      path: '/orders',
      query: { status: 'received', limit: '5', note: 'a b+c/ü' },
      timestamp: DOCS_EXAMPLE.timestamp,
      nonce: 'Qm9vdHN0cmFwLW5vbmNlLTE',
    });
    expect(docs).toContain(`\`\`\`\n${example1}\n\`\`\``);
    expect(docs).toContain('X-Signature: v1=7ce7598c83b93380e8e45daa45552cae146c26d9221e9f50aa100e44be8556cd');
    expect(docs).toContain('X-Signature: v1=9baa8f42fdd3d9cc8b8315c66756a414ff269f9a95028416e8ca10f685869a77');
    expect(docs).toContain(DOCS_EXAMPLE.secret);
  });
});

describe('canonicalisation', () => {
  it('percent-encodes everything outside the RFC 3986 unreserved set, with upper-case hex', () => {
    expect(percentEncode("AZaz09-._~ !'()*+/=&é")).toBe('AZaz09-._~%20%21%27%28%29%2A%2B%2F%3D%26%C3%A9');
  });

  it('sorts by name, then value, and keeps repeated names', () => {
    expect(canonicalQuery({ b: '2', a: ['z', 'y'], A: '1' })).toBe('A=1&a=y&a=z&b=2');
    expect(
      canonicalQuery([
        ['k', ''],
        ['j', 'v'],
      ]),
    ).toBe('j=v&k=');
    expect(canonicalQuery(undefined)).toBe('');
  });

  it('upper-cases the method and hashes an empty body as the SHA-256 of no bytes', () => {
    const canonical = canonicalString({ method: 'get', path: '/health', timestamp: 1, nonce: 'n'.repeat(16) });
    expect(canonical.split('\n')).toEqual([
      'GET',
      '/health',
      '',
      '1',
      'n'.repeat(16),
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ]);
  });

  it('hashes string bodies as UTF-8, the same as the equivalent bytes', () => {
    const parts = { method: 'POST', path: '/orders', timestamp: 1, nonce: 'n'.repeat(16) };
    expect(canonicalString({ ...parts, body: 'ü' })).toBe(canonicalString({ ...parts, body: Buffer.from('ü') }));
  });
});

describe('signRequest defaults and guards', () => {
  it('fills in the current time and a fresh random nonce', () => {
    const before = Math.floor(Date.now() / 1000);
    const a = signRequest({ apiKey: 'k', secret: 's', method: 'GET', path: '/orders' });
    const b = signRequest({ apiKey: 'k', secret: 's', method: 'GET', path: '/orders' });
    expect(Number(a['X-Timestamp'])).toBeGreaterThanOrEqual(before);
    expect(a['X-Nonce']).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(a['X-Nonce']).not.toBe(b['X-Nonce']);
  });

  it('refuses a nonce or timestamp the server would reject', () => {
    const base = { apiKey: 'k', secret: 's', method: 'GET', path: '/' };
    expect(() => signRequest({ ...base, nonce: 'too-short' })).toThrow(RangeError);
    expect(() => signRequest({ ...base, timestamp: 1.5 })).toThrow(RangeError);
    expect(() => signRequest({ ...base, timestamp: -1 })).toThrow(RangeError);
  });
});

describe('HmacRequestSigner (the deployment service RequestSigner port)', () => {
  it('signs with the injected clock and returns plain headers', async () => {
    const signer: RequestSigner = new HmacRequestSigner({
      apiKey: 'smoke-key-0001',
      secret: 'secret',
      now: () => 1_767_225_600_999,
    });
    const headers = await signer.sign({ method: 'GET', path: '/orders', query: {}, body: '' });
    expect(headers['X-Timestamp']).toBe('1767225600');
    expect(headers['X-Api-Key']).toBe('smoke-key-0001');
    expect(headers['X-Signature']).toMatch(/^v1=[0-9a-f]{64}$/);
  });

  it('defaults to the wall clock', async () => {
    const headers = await new HmacRequestSigner({ apiKey: 'k', secret: 's' }).sign({
      method: 'GET',
      path: '/orders',
      query: {},
      body: '',
    });
    expect(Math.abs(Number(headers['X-Timestamp']) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('refuses empty credentials at construction', () => {
    expect(() => new HmacRequestSigner({ apiKey: '', secret: 's' })).toThrow(RangeError);
  });
});
