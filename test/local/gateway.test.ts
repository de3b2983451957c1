import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../app/signing-client.ts';
import { LocalGateway } from '../../local/gateway.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { localClient } from '../support/local-clients.ts';

let dataDir: string;
let runtime: LocalRuntime;
let gateway: LocalGateway;
let base: URL;
let smoke: { apiKey: string; secret: string };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-gateway-'));
  runtime = openLocalRuntime({ dataDir, speedup: 600 });
  const image = await runtime.registry.build('switchyard-api', { commit: 'gateway' });
  await runtime.bootstrap('dev', image);
  gateway = new LocalGateway({
    functions: runtime.functions,
    functionName: 'switchyard-api-dev',
    alias: 'live',
    maxBodyBytes: 1024,
  });
  base = new URL(await gateway.start());
  smoke = localClient(dataDir);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await runtime?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  text: string;
}

function send(agent: Agent, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<Reply>((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method, path, headers, agent }, async (res) => {
      let text = '';
      for await (const chunk of res) text += chunk;
      resolve({ status: res.statusCode ?? 0, text });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the local gateway passes the request on as API Gateway does', () => {
  const signedGet = (rawQuery: string, pairs: [string, string][]) => {
    const headers = signRequest({ ...smoke, method: 'GET', path: '/orders', query: pairs, body: '' });
    const agent = new Agent();
    return send(agent, 'GET', `/orders?${rawQuery}`, headers as unknown as Record<string, string>);
  };

  it('keeps every value of a repeated query parameter, so a signature over all of them verifies', async () => {
    const reply = await signedGet('status=shipped&status=received', [
      ['status', 'shipped'],
      ['status', 'received'],
    ]);
    expect(reply.status, reply.text).toBe(200);
  });

  it('keeps a literal + as a plus sign (RFC 3986), so a signature over "a+b" verifies', async () => {
    const reply = await signedGet('note=a+b', [['note', 'a+b']]);
    expect(reply.status, reply.text).toBe(200);
  });

  it('after a 413 the connection stays usable: the next request on the same socket is answered', async () => {
    const socket = connect(Number(base.port), base.hostname);
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk;
    });
    const closed = new Promise<string | undefined>((resolve) => {
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
      socket.on('close', () => resolve(undefined));
    });
    const size = 256 * 1024;
    socket.write(`POST /orders HTTP/1.1\r\nHost: ${base.host}\r\nContent-Length: ${size}\r\n\r\n`);
    socket.write('x'.repeat(size));
    while (!received.includes('413')) await new Promise((r) => setTimeout(r, 10));
    socket.write(`GET /health HTTP/1.1\r\nHost: ${base.host}\r\nConnection: close\r\n\r\n`);
    // The server closes the connection once it has answered the second request, as Connection: close asks.
    expect(await closed).toBeUndefined();
    expect(received).toMatch(/^HTTP\/1\.1 413 [\s\S]*HTTP\/1\.1 200 /);
  });
});
