import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN_FILE, API_TOKEN_HEADER } from '../../local/api-token.ts';
import { SwitchyardServer } from '../../local/switchyard-server.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { eventually } from '../api/api-events.ts';

let server: SwitchyardServer;
let base: URL;
let dataDir: string;
let token: string;
let digest: string;

interface Reply {
  status: number;
  body: Record<string, unknown>;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A raw HTTP request, so Host, Origin and Content-Type are exactly what a browser or curl would send. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: base.port, method, path, headers, agent: false }, async (res) => {
      let text = '';
      for await (const chunk of res) text += chunk;
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = {};
      }
      resolve({ status: res.statusCode ?? 0, body: parsed, text, headers: res.headers });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const withToken = () => ({ ...json, [API_TOKEN_HEADER]: token });

async function releasesListed(): Promise<unknown[]> {
  const list = await send('GET', '/releases', { [API_TOKEN_HEADER]: token });
  expect(list.status).toBe(200);
  // The server's set-up record (version 1 standing for a verified first release) is not a release anyone started.
  return (list.body.releases as { trigger?: string }[]).filter((r) => r.trigger !== 'rehearsal:first-release');
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-security-'));
  server = new SwitchyardServer(
    { port: 0, dataDir, speedup: 600, ratePerSecond: 5, environments: ['dev'] },
    openLocalRuntime,
  );
  base = new URL(await server.start());
  token = readFileSync(join(dataDir, API_TOKEN_FILE), 'utf8').trim();
  const pushed = await send(
    'POST',
    '/local/images',
    withToken(),
    JSON.stringify({ commit: 'candidate', emitPushEvent: false }),
  );
  expect(pushed.status).toBe(201);
  digest = (pushed.body.image as { digest: string }).digest;
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('the local release API refuses what is not its own console or the CLI', () => {
  const start = () => JSON.stringify({ imageDigest: digest });

  /** Starts a dev release with these headers (it must be accepted) and returns its record, the release stopped. */
  async function startedRecord(headers: Record<string, string>) {
    const started = await send('POST', '/environments/dev/releases', headers, start());
    expect(started.status).toBe(202);
    const id = started.body.releaseId as string;
    const record = await eventually(
      () => server.runtime?.store.getRelease(id) ?? Promise.resolve(undefined),
      (r) => r !== undefined,
    );
    await server.ops?.stopExecution(id);
    return record;
  }

  it('the cross-site curl (text/plain from another origin) gets 403 and nothing starts', async () => {
    const reply = await send(
      'POST',
      '/environments/dev/releases',
      { 'content-type': 'text/plain', origin: 'http://evil.example', host: base.host },
      start(),
    );
    expect(reply.status).toBe(403);
    expect(reply.body.message).toContain('cross-origin');
    expect(await releasesListed()).toEqual([]);
    expect(server.runtime?.executions.size).toBe(0);
  });

  it('a form-type body is refused with 415 even with the token, and nothing starts', async () => {
    const reply = await send(
      'POST',
      '/environments/dev/releases',
      { ...withToken(), 'content-type': 'text/plain' },
      start(),
    );
    expect(reply.status).toBe(415);
    const form = await send(
      'POST',
      '/environments/dev/releases',
      { [API_TOKEN_HEADER]: token, 'content-type': 'application/x-www-form-urlencoded' },
      'environment=dev',
    );
    expect(form.status).toBe(415);
    expect(server.runtime?.executions.size).toBe(0);
  });

  it('JSON from another origin is refused even with the right token; abort and approve too', async () => {
    const evil = { ...withToken(), origin: 'http://evil.example' };
    expect((await send('POST', '/environments/dev/releases', evil, start())).status).toBe(403);
    expect((await send('POST', '/releases/rel-dev-1/abort', evil, '{}')).status).toBe(403);
    expect((await send('POST', '/releases/rel-dev-1/approve', evil, '{}')).status).toBe(403);
    expect((await send('POST', '/environments/dev/rollback', evil, '{"reason":"x"}')).status).toBe(403);
  });

  it('a request without the token, or with a wrong one, is refused (403)', async () => {
    expect((await send('POST', '/environments/dev/releases', json, start())).status).toBe(403);
    const wrong = await send(
      'POST',
      '/environments/dev/releases',
      { ...json, [API_TOKEN_HEADER]: 'a'.repeat(64) },
      start(),
    );
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toContain(API_TOKEN_FILE);
    expect((await send('GET', '/releases', {})).status).toBe(403);
    expect(server.runtime?.executions.size).toBe(0);
  });

  it('a Host other than its own (DNS rebinding) is refused, even from a page that reached the port', async () => {
    const rebound = await send('GET', '/', { host: `evil.example:${base.port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.text).not.toContain(token);
    const post = await send(
      'POST',
      '/environments/dev/releases',
      { ...withToken(), host: `evil.example:${base.port}` },
      start(),
    );
    expect(post.status).toBe(403);
  });

  it('the console page carries no token: any local user may read it and learns nothing', async () => {
    const page = await send('GET', '/', {});
    expect(page.status).toBe(200);
    expect(page.text).toContain('/console/app.js');
    expect(page.text).not.toContain(token);
    expect(page.text).not.toContain('{{API_TOKEN');
  });

  it('every /local route needs the token or a console session', async () => {
    for (const path of ['/local/info', '/local/graph', '/local/events']) {
      expect((await send('GET', path, {})).status, path).toBe(403);
    }
    expect((await send('POST', '/local/images', json, '{}')).status).toBe(403);
    expect((await send('GET', '/local/graph', { [API_TOKEN_HEADER]: token })).status).toBe(200);
  });

  it("a console session is the server's own user too: the requester is recorded as the OS user", async () => {
    const link = new URL(server.loginUrl);
    const login = await send('GET', `${link.pathname}${link.search}`, {});
    expect(login.status).toBe(303);
    const cookie = [login.headers['set-cookie'] ?? []].flat()[0]?.split(';')[0] ?? '';
    expect(cookie).toMatch(/^switchyard-session=/);
    const record = await startedRecord({ ...json, cookie });
    expect(record?.trigger).toBe(`api:local:${userInfo().username}`);
  });

  it('the requester is the user the server runs as, never a name sent in a header', async () => {
    const record = await startedRecord({ ...withToken(), 'x-switchyard-user': 'mallory' });
    expect(record?.trigger).toBe(`api:local:${userInfo().username}`);
    expect(JSON.stringify(record)).not.toContain('mallory');
  });
});

describe('pushing to the local registry', () => {
  it('a commit pushed again as a different build is refused with 409 naming the immutable tag', async () => {
    const again = await send(
      'POST',
      '/local/images',
      withToken(),
      JSON.stringify({ commit: 'candidate', fault: { failRate: 0.5 }, emitPushEvent: false }),
    );
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('tag git-candidate is immutable');
  });
});
