/**
 * The workload's own costs: one signature verification (warm, repeated, beside its crypto floor), and the
 * handler's per-request latency (in-process, no network), so a regression in the auth path shows up before a
 * release does. `npx tsx bench/app.ts` prints them.
 */
import { timingSafeEqual } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { AppDeps } from '../app/api.ts';
import { loadAppConfig } from '../app/app-config.ts';
import { canonicalString, sha256Hex, signatureFor } from '../app/canonical-request.ts';
import type { ClientKey } from '../app/client-keys.ts';
import { createHandler } from '../app/handler.ts';
import { InMemoryNonceCache, type NonceStore } from '../app/nonce-cache.ts';
import { OrderBook } from '../app/orders.ts';
import { verifySignedRequest } from '../app/request-verifier.ts';
import { signRequest } from '../app/signing-client.ts';

const API_KEY = 'bench-key-0001';
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const NOW = 1_767_225_600;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** The bench's clock: every request is signed at this time. */
export const benchNowSeconds = () => NOW;

/** The handler's dependencies for the bench, with the per-instance nonce cache unless another store is given. */
export function benchDeps(nonces: NonceStore = new InMemoryNonceCache({ nowSeconds: benchNowSeconds })): AppDeps {
  const client: ClientKey = { clientId: 'bench', secrets: [SECRET] };
  const nowSeconds = benchNowSeconds;
  return {
    config: loadAppConfig({ AWS_LAMBDA_FUNCTION_VERSION: 'bench' }),
    keys: { lookup: async (apiKey) => (apiKey === API_KEY ? client : undefined) },
    nonces,
    orders: new OrderBook(),
    nowSeconds,
    random: Math.random,
    sleep: async () => undefined,
  };
}

function nonce(i: number): string {
  return `bench-nonce-${String(i).padStart(10, '0')}`;
}

const ORDER_BODY = JSON.stringify({
  customerId: 'cust-ada',
  currency: 'EUR',
  items: [{ sku: 'ABC', quantity: 1, unitPriceCents: 1 }],
});

function signedOrder(i: number) {
  const headers = signRequest({
    apiKey: API_KEY,
    secret: SECRET,
    method: 'POST',
    path: '/orders',
    query: { a: '1' },
    body: ORDER_BODY,
    timestamp: NOW,
    nonce: nonce(i),
  });
  return {
    method: 'POST',
    path: '/orders',
    query: [['a', '1']] as Array<readonly [string, string]>,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: Buffer.from(ORDER_BODY),
  };
}

const median = (values: readonly number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/**
 * One signature verification against its crypto floor (the body hash, the HMAC of the canonical string and the
 * constant-time compare, nothing else), measured warm and interleaved: `rounds` rounds of `perRound` operations
 * each, alternating the two, so a busy machine slows both alike. Returns µs per operation, min and median.
 */
async function verificationCost(rounds: number, perRound: number) {
  const deps = benchDeps();
  const canonical = canonicalString({ ...signedOrder(0), timestamp: String(NOW), nonce: nonce(0) });
  const presented = Buffer.from(signatureFor(SECRET, canonical), 'utf8');
  let sequence = 0;
  const verifyRound = async () => {
    const requests = Array.from({ length: perRound }, () => signedOrder(sequence++));
    const started = performance.now();
    for (const request of requests) await verifySignedRequest(request, deps);
    return ((performance.now() - started) * 1000) / perRound;
  };
  const floorRound = () => {
    const started = performance.now();
    for (let i = 0; i < perRound; i++) {
      sha256Hex(ORDER_BODY);
      timingSafeEqual(Buffer.from(signatureFor(SECRET, canonical), 'utf8'), presented);
    }
    return ((performance.now() - started) * 1000) / perRound;
  };
  await verifyRound();
  floorRound();
  const verify: number[] = [];
  const floor: number[] = [];
  for (let r = 0; r < rounds; r++) {
    verify.push(await verifyRound());
    floor.push(floorRound());
  }
  return {
    usPerOpMin: Math.min(...verify),
    usPerOpMedian: median(verify),
    floorUsMedian: median(floor),
    ratio: median(verify) / median(floor),
  };
}

/** A signed `GET /orders` with its own nonce, as API Gateway hands it to the handler. */
export function signedGetEvent(i: number) {
  const headers = signRequest({
    apiKey: API_KEY,
    secret: SECRET,
    method: 'GET',
    path: '/orders',
    timestamp: NOW,
    nonce: nonce(i),
  });
  return { httpMethod: 'GET', path: '/orders', headers, requestContext: { requestId: `bench-${i}` }, body: null };
}

async function handlerLatency(iterations: number) {
  const handler = createHandler(benchDeps());
  const event = signedGetEvent;
  // Powertools writes one log line and one EMF blob per request; silence them so the terminal is not the benchmark.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const samples: number[] = [];
  try {
    for (let i = 0; i < 200; i += 1) await handler(event(1_000_000 + i));
    for (let i = 0; i < iterations; i += 1) {
      const e = event(i);
      const started = performance.now();
      const response = await handler(e);
      samples.push(performance.now() - started);
      if (response.statusCode !== 200) throw new Error(`bench request failed with ${response.statusCode}`);
    }
  } finally {
    process.stdout.write = write;
  }
  samples.sort((a, b) => a - b);
  return { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
}

export async function benchApp(): Promise<Record<string, number>> {
  const verification = await verificationCost(9, 2000);
  const latency = await handlerLatency(2000);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    'app.verify.us_per_op': round(verification.usPerOpMedian),
    'app.verify.us_per_op_min': round(verification.usPerOpMin),
    'app.verify.crypto_floor_us_per_op': round(verification.floorUsMedian),
    'app.verify.ratio_to_crypto_floor': round(verification.ratio),
    'app.handler.p50_ms': round(latency.p50Ms),
    'app.handler.p99_ms': round(latency.p99Ms),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchApp(), null, 2));
}
