/**
 * The gateway's transport floor: an HTTP server on 127.0.0.1 whose every request makes one round trip to a worker
 * thread that answers a fixed proxy response at once. No event is built, nothing is logged, no handler runs: what
 * is left is what any local gateway in front of a worker-per-version Lambda must pay.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';

const ECHO = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id }) => parentPort.postMessage({ id, payload: { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' } }));
`;

export class TransportFloor {
  private readonly worker = new Worker(ECHO, { eval: true });
  private server: Server | undefined;
  private next = 0;
  private readonly pending = new Map<number, (payload: { statusCode: number; body: string }) => void>();

  async start(): Promise<string> {
    this.worker.on('message', ({ id, payload }) => {
      this.pending.get(id)?.(payload);
      this.pending.delete(id);
    });
    this.server = createServer(async (req, res) => {
      for await (const _ of req);
      const id = this.next++;
      const payload = await new Promise<{ statusCode: number; body: string }>((resolve) => {
        this.pending.set(id, resolve);
        this.worker.postMessage({ id, event: { path: req.url } });
      });
      res.writeHead(payload.statusCode, { 'content-type': 'application/json' }).end(payload.body);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.worker.terminate();
  }
}
