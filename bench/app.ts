/**
 * The workload's own costs: one signature verification, and the handler's per-request latency (in-process, no
 * network), so a regression in the auth path shows up before a release does. `npx tsx bench/app.ts` prints them.
 */
import { pathToFileURL } from 'node:url';
import type { AppDeps } from '../app/api.ts';
import { loadAppConfig } from '../app/app-config.ts';
import type { ClientKey } from '../app/client-keys.ts';
import { createHandler } from '../app/handler.ts';
import { InMemoryNonceCache } from '../app/nonce-cache.ts';
import { OrderBook } from '../app/orders.ts';
import { verifySignedRequest } from '../app/request-verifier.ts';
import { signRequest } from '../app/signing-client.ts';

const API_KEY = 'bench-key-0001';
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const NOW = 1_767_225_600;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function benchDeps(): AppDeps {
  const client: ClientKey = { clientId: 'bench', secrets: [SECRET] };
  const nowSeconds = () => NOW;
  return {
    config: loadAppConfig({ AWS_LAMBDA_FUNCTION_VERSION: 'bench' }),
    keys: { lookup: async (apiKey) => (apiKey === API_KEY ? client : undefined) },
    nonces: new InMemoryNonceCache({ nowSeconds }),
    orders: new OrderBook(),
    nowSeconds,
    random: Math.random,
    sleep: async () => undefined,
  };
}

function nonce(i: number): string {
  return `bench-nonce-${String(i).padStart(10, '0')}`;
}

async function verificationCost(iterations: number) {
  const deps = benchDeps();
  const body = JSON.stringify({
    customerId: 'cust-ada',
    currency: 'EUR',
    items: [{ sku: 'ABC', quantity: 1, unitPriceCents: 1 }],
  });
  const requests = Array.from({ length: iterations }, (_, i) => {
    const headers = signRequest({
      apiKey: API_KEY,
      secret: SECRET,
      method: 'POST',
      path: '/orders',
      query: { a: '1' },
      body,
      timestamp: NOW,
      nonce: nonce(i),
    });
    return {
      method: 'POST',
      path: '/orders',
      query: [['a', '1']] as Array<readonly [string, string]>,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
      body: Buffer.from(body),
    };
  });
  const started = performance.now();
  for (const request of requests) await verifySignedRequest(request, deps);
  const elapsedMs = performance.now() - started;
  return { usPerOp: (elapsedMs * 1000) / iterations, opsPerSec: iterations / (elapsedMs / 1000) };
}

async function handlerLatency(iterations: number) {
  const handler = createHandler(benchDeps());
  const event = (i: number) => {
    const headers = signRequest({
      apiKey: API_KEY,
      secret: SECRET,
      method: 'GET',
      path: '/orders',
      timestamp: NOW,
      nonce: nonce(i),
    });
    return { httpMethod: 'GET', path: '/orders', headers, requestContext: { requestId: `bench-${i}` }, body: null };
  };
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
  const verification = await verificationCost(5000);
  const latency = await handlerLatency(2000);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    'app.verify.us_per_op': round(verification.usPerOp),
    'app.verify.ops_per_sec': Math.round(verification.opsPerSec),
    'app.handler.p50_ms': round(latency.p50Ms),
    'app.handler.p99_ms': round(latency.p99Ms),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchApp(), null, 2));
}
