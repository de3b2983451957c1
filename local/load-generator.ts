import { Agent, request as httpRequest } from 'node:http';
import type { RequestSigner } from '../core/ports/ports.ts';

export interface LoadOptions {
  readonly baseUrl: string;
  readonly signer: RequestSigner;
  /** Requests per real second (changed later with `setRate`). */
  readonly ratePerSecond: number;
  /** Hard bounds: the run stops at whichever comes first, or at stop(). */
  readonly maxDurationMs: number;
  readonly maxRequests: number;
  readonly maxInFlight?: number;
}

export interface LoadReport {
  readonly sent: number;
  readonly byStatus: Record<string, number>;
  readonly latenciesMs: number[];
  readonly durationMs: number;
}

const REQUESTS = [
  { method: 'GET', path: '/orders', query: { limit: '5' }, body: '' },
  { method: 'GET', path: '/orders', query: {}, body: '' },
  {
    method: 'POST',
    path: '/orders',
    query: {},
    body: JSON.stringify({
      customerId: 'cust-1',
      currency: 'EUR',
      items: [{ sku: 'SKU-1', quantity: 2, unitPriceCents: 1250 }],
    }),
  },
] as const;

/**
 * Signed traffic against the local gateway so a bake has data: a steady rate, bounded in count and time,
 * to 127.0.0.1 only.
 */
export class LoadGenerator {
  private stopped = false;
  private done: Promise<LoadReport> | undefined;
  private rate: number;

  constructor(private readonly options: LoadOptions) {
    this.rate = options.ratePerSecond;
    const host = new URL(options.baseUrl).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
      throw new Error(`the load generator only targets loopback addresses, not ${host}`);
    }
  }

  get ratePerSecond(): number {
    return this.rate;
  }

  /** Changes the rate from the next request on (a release starting or ending in the environment). */
  setRate(ratePerSecond: number): void {
    this.rate = ratePerSecond;
  }

  start(): void {
    this.done ??= this.run();
  }

  /** Waits for the run to reach one of its bounds. */
  async finished(): Promise<LoadReport> {
    this.start();
    return this.done as Promise<LoadReport>;
  }

  async stop(): Promise<LoadReport> {
    this.stopped = true;
    this.start();
    return this.done as Promise<LoadReport>;
  }

  private async run(): Promise<LoadReport> {
    const { baseUrl, signer, maxDurationMs, maxRequests } = this.options;
    const maxInFlight = this.options.maxInFlight ?? 64;
    const byStatus: Record<string, number> = {};
    const latenciesMs: number[] = [];
    const inFlight = new Set<Promise<void>>();
    // Keep-alive sockets through node:http: fetch cost the rehearsal's main thread about three times the CPU a request.
    const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
    const started = performance.now();
    let due = started;
    let sent = 0;
    while (!this.stopped && sent < maxRequests && performance.now() - started < maxDurationMs) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (inFlight.size >= maxInFlight) {
        await Promise.race(inFlight);
        continue;
      }
      const request = REQUESTS[sent % REQUESTS.length] ?? REQUESTS[0];
      sent++;
      // Catch up after a slow moment, but never by more than a second's worth of requests at once.
      due = Math.max(due + 1000 / this.rate, performance.now() - 1000);
      const call = (async () => {
        const t0 = performance.now();
        try {
          const headers = await signer.sign({ ...request, query: { ...request.query } });
          const qs = new URLSearchParams(request.query).toString();
          const status = await send(agent, `${baseUrl}${request.path}${qs ? `?${qs}` : ''}`, {
            method: request.method,
            headers: { ...headers, ...(request.body ? { 'content-type': 'application/json' } : {}) },
            body: request.body,
          });
          byStatus[status] = (byStatus[status] ?? 0) + 1;
        } catch {
          byStatus.network = (byStatus.network ?? 0) + 1;
        }
        latenciesMs.push(performance.now() - t0);
      })();
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
    }
    await Promise.all(inFlight);
    agent.destroy();
    return { sent, byStatus, latenciesMs, durationMs: performance.now() - started };
  }
}

/** One request on `agent`; resolves with the response status once its body is read. */
function send(
  agent: Agent,
  url: string,
  options: { method: string; headers: Record<string, string>; body: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: options.method, headers: options.headers, agent }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('error', reject);
    });
    outgoing.once('error', reject);
    outgoing.end(options.body || undefined);
  });
}
