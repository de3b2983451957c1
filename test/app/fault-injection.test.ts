import { afterEach, describe, expect, it } from 'vitest';
import type { FaultConfig } from '../../app/fault-injection.ts';
import { createHandler } from '../../app/handler.ts';
import { errorCode, restEvent, signedEvent, testDeps } from './request-builders.ts';

/** Stands in for the esbuild `define` a rehearsal build uses (the unbundled code reads the same global name). */
function withFault(fault: FaultConfig | undefined): void {
  (globalThis as Record<string, unknown>).__SWITCHYARD_FAULT__ = fault;
}

afterEach(() => {
  delete (globalThis as Record<string, unknown>).__SWITCHYARD_FAULT__;
});

describe('rehearsal faults', () => {
  it('failHealth makes /health answer 503 while other routes work', async () => {
    withFault({ failHealth: true });
    const handler = createHandler(testDeps());
    const health = await handler(restEvent({ path: '/health' }));
    expect(health.statusCode).toBe(503);
    expect(errorCode(health)).toBe('InjectedFault');
    expect((await handler(restEvent({ path: '/version' }))).statusCode).toBe(200);
  });

  it('failRate fails that share of non-health requests with a 500, and never /health', async () => {
    withFault({ failRate: 0.25 });
    const rolls = [0.1, 0.9, 0.2, 0.3];
    const handler = createHandler(testDeps({ random: () => rolls.shift() ?? 1 }));
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await handler(signedEvent())).statusCode);
    expect(statuses).toEqual([500, 200, 500, 200]);
    expect((await handler(restEvent({ path: '/health' }))).statusCode).toBe(200);
  });

  it('failAfterRequests serves that many requests normally before failRate applies', async () => {
    withFault({ failRate: 1, failAfterRequests: 3 });
    const handler = createHandler(testDeps({ random: () => 0 }));
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await handler(signedEvent())).statusCode);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([500, 500]);
  });

  it('failAfterMs starts failRate that long after the first non-health request', async () => {
    withFault({ failRate: 1, failAfterMs: 30_000 });
    let now = 1_000;
    const handler = createHandler(testDeps({ random: () => 0, nowSeconds: () => now }));
    const statuses = [];
    for (const at of [1_000, 1_029, 1_030, 1_031]) {
      now = at;
      statuses.push((await handler(restEvent({ path: '/version' }))).statusCode);
    }
    expect(statuses).toEqual([200, 200, 500, 500]);
  });

  it('latencyMs delays every routed request', async () => {
    withFault({ latencyMs: 250 });
    const slept: number[] = [];
    const handler = createHandler(testDeps({ sleep: async (ms) => void slept.push(ms) }));
    expect((await handler(restEvent({ path: '/health' }))).statusCode).toBe(200);
    expect(slept).toEqual([250]);
  });

  it('without a fault config the handler injects nothing', async () => {
    withFault(undefined);
    const handler = createHandler(testDeps({ random: () => 0 }));
    expect((await handler(restEvent({ path: '/health' }))).statusCode).toBe(200);
  });
});
