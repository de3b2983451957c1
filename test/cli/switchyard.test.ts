import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../cli/switchyard.ts';
import { SqliteReleaseStore } from '../../local/sqlite-release-store.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}
type Reply = { status: number; body: unknown };

/** A stand-in release API: canned replies by "METHOD /path", in order when a route answers several times. */
let routes: Record<string, Reply | Reply[]> = {};
const seen: Seen[] = [];
let server: Server;
let api: string;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: raw ? JSON.parse(raw) : undefined,
    });
    const route = routes[`${req.method} ${req.url}`];
    const reply = Array.isArray(route) ? (route.length > 1 ? route.shift() : route[0]) : route;
    res
      .writeHead(reply?.status ?? 404, { 'content-type': 'application/json' })
      .end(JSON.stringify(reply?.body ?? { message: `no route ${req.url}` }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));
afterEach(() => {
  routes = {};
  seen.length = 0;
});

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

const detail = (status: string, extra: Record<string, unknown> = {}) => ({
  releaseId: 'rel-prod-1',
  environment: 'prod',
  status,
  digest: `sha256:${'a'.repeat(64)}`,
  imageUri: 'repo@sha256:a',
  blueVersion: '1',
  consoleUrl: 'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn',
  executionStatus: status === 'running' ? 'RUNNING' : 'FAILED',
  currentState: null,
  awaitingApproval: null,
  steps: [],
  events: [],
  healthChecks: [],
  ...extra,
});

describe('switchyard release', () => {
  it('start --json prints the API answer and exits 0; the body carries env, digest, strategy and key', async () => {
    routes['POST /releases'] = {
      status: 202,
      body: { releaseId: 'rel-dev-1', executionArn: 'arn:x', consoleUrl: 'https://console', environment: 'dev' },
    };
    const r = await run(
      'release',
      'start',
      '--local',
      '--api',
      api,
      '--env',
      'dev',
      '--digest',
      'sha256:abc',
      '--strategy',
      'canary',
      '--idempotency-key',
      'ci-42',
      '--json',
    );
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout)).toMatchObject({ releaseId: 'rel-dev-1', consoleUrl: 'https://console' });
    expect(seen[0]?.body).toEqual({
      environment: 'dev',
      imageDigest: 'sha256:abc',
      strategy: { kind: 'canary', percent: 10, bakeMinutes: 5 },
      idempotencyKey: 'ci-42',
    });
  });

  it('a busy environment exits 5 and names the running release', async () => {
    routes['POST /releases'] = {
      status: 409,
      body: { message: 'prod is busy: release rel-prod-0 is running', runningRelease: 'rel-prod-0' },
    };
    const human = await run('release', 'start', '--local', '--api', api, '--env', 'prod', '--tag', 'v1');
    expect(human.code).toBe(EXIT.conflict);
    expect(human.stderr).toContain('running release: rel-prod-0');
    const json = await run('release', 'start', '--local', '--api', api, '--env', 'prod', '--tag', 'v1', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 409, runningRelease: 'rel-prod-0' });
  });

  it('a refused body exits 65 listing the field errors; a missing release exits 4', async () => {
    routes['POST /releases'] = {
      status: 400,
      body: { message: 'invalid request body', errors: [{ field: 'imageDigest', message: 'must be a digest' }] },
    };
    const bad = await run('release', 'start', '--local', '--api', api, '--env', 'dev', '--digest', 'latest');
    expect(bad.code).toBe(EXIT.rejectedRequest);
    expect(bad.stderr).toContain('imageDigest: must be a digest');
    const missing = await run('release', 'show', 'rel-nope', '--local', '--api', api);
    expect(missing.code).toBe(EXIT.notFound);
  });

  it('watch follows the release until it ends and exits with its outcome', async () => {
    routes['GET /releases/rel-prod-1'] = [
      {
        status: 200,
        body: detail('running', { steps: [{ name: 'Validate release', type: 'Task', outcome: 'succeeded' }] }),
      },
      {
        status: 200,
        body: detail('running', {
          steps: [
            { name: 'Validate release', type: 'Task', outcome: 'succeeded' },
            { name: 'Check health', type: 'Task', outcome: 'running' },
          ],
          events: [{ at: '2026-01-01T00:00:00Z', kind: 'health-check', summary: 'unhealthy at 10% → roll-back' }],
        }),
      },
      { status: 200, body: detail('rolled-back', { reason: 'error rate 50% exceeds 1%' }) },
    ];
    const r = await run('release', 'watch', 'rel-prod-1', '--local', '--api', api, '--interval', '50');
    expect(r.code).toBe(EXIT.rolledBack);
    expect(r.stdout).toContain('▶ Check health');
    expect(r.stdout).toContain('health-check: unhealthy at 10% → roll-back');
    expect(r.stdout).toContain('ROLLED BACK: release rel-prod-1 — error rate 50% exceeds 1%');
    routes['GET /releases/rel-prod-1'] = { status: 200, body: detail('released') };
    const json = await run('release', 'watch', 'rel-prod-1', '--local', '--api', api, '--json');
    expect([json.code, JSON.parse(json.stdout).status]).toEqual([EXIT.ok, 'released']);
  });

  it('list --all follows the pagination cursor', async () => {
    const summary = (id: string) => ({
      releaseId: id,
      environment: 'dev',
      status: 'released',
      startedAt: '2026-01-01T00:00:00Z',
      digest: 'sha256:1',
    });
    routes['GET /releases?environment=dev'] = { status: 200, body: { releases: [summary('a')], nextCursor: 'c1' } };
    routes['GET /releases?environment=dev&cursor=c1'] = { status: 200, body: { releases: [summary('b')] } };
    const r = await run('release', 'list', '--env', 'dev', '--all', '--json', '--local', '--api', api);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout).releases.map((x: { releaseId: string }) => x.releaseId)).toEqual(['a', 'b']);
    const human = await run('release', 'list', '--env', 'dev', '--local', '--api', api);
    expect(human.stdout).toContain('more: --cursor c1');
  });

  it('approve, reject, promote, promote --next and abort call their routes; missing reasons are usage errors', async () => {
    routes['POST /releases/rel-prod-1/approve'] = { status: 200, body: { releaseId: 'rel-prod-1', approved: true } };
    routes['POST /releases/rel-prod-1/promote-to-next'] = {
      status: 409,
      body: { message: 'prod promotes to no other environment' },
    };
    routes['POST /releases/rel-prod-1/abort'] = { status: 202, body: { releaseId: 'rel-prod-1', message: 'stopped' } };
    routes['POST /releases/rel-prod-1/promote'] = { status: 202, body: { releaseId: 'rel-prod-1', message: 'skips' } };
    expect((await run('release', 'approve', 'rel-prod-1', '--comment', 'ok', '--local', '--api', api)).code).toBe(0);
    expect(seen.at(-1)?.body).toEqual({ comment: 'ok' });
    expect((await run('release', 'reject', 'rel-prod-1', '--local', '--api', api)).code).toBe(EXIT.usage);
    expect((await run('release', 'promote', 'rel-prod-1', '--local', '--api', api)).code).toBe(EXIT.usage);
    expect((await run('release', 'promote', 'rel-prod-1', '--reason', 'hotfix', '--local', '--api', api)).code).toBe(0);
    expect(seen.at(-1)?.body).toEqual({ reason: 'hotfix' });
    expect((await run('release', 'promote', 'rel-prod-1', '--next', '--local', '--api', api)).code).toBe(EXIT.conflict);
    expect((await run('release', 'abort', 'rel-prod-1', '--reason', 'freeze', '--local', '--api', api)).code).toBe(0);
    expect(seen.at(-1)).toMatchObject({ url: '/releases/rel-prod-1/abort', body: { reason: 'freeze' } });
  });

  it('env rollback needs a reason and prints the versions', async () => {
    routes['POST /environments/prod/rollback'] = { status: 200, body: { environment: 'prod', from: '7', to: '6' } };
    expect((await run('env', 'rollback', 'prod', '--local', '--api', api)).code).toBe(EXIT.usage);
    const r = await run('env', 'rollback', 'prod', '--reason', 'errors', '--local', '--api', api);
    expect([r.code, r.stdout]).toEqual([0, 'Rolled back prod: live 7 → 6']);
  });

  it('signs cloud requests with SigV4 for execute-api', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'eu-west-1',
    });
    try {
      routes['GET /releases'] = { status: 200, body: { releases: [] } };
      const r = await run('release', 'list', '--api', api);
      expect(r.code).toBe(0);
      expect(String(seen[0]?.headers.authorization)).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
      );
    } finally {
      process.env = saved;
    }
  });

  it('exit codes for usage errors, a missing API and an unreachable one', async () => {
    expect((await run()).code).toBe(EXIT.usage);
    expect((await run('release', 'explode')).code).toBe(EXIT.usage);
    expect((await run('release', 'list', '--bogus')).code).toBe(EXIT.usage);
    for (const limit of ['0x10', '1e1', '-1', '']) {
      const bad = await run('release', 'list', '--local', '--api', api, `--limit=${limit}`);
      expect(bad.code, limit).toBe(EXIT.usage);
      expect(bad.stderr, limit).toContain(`--limit must be a number from 1 to`);
    }
    expect(seen).toHaveLength(0);
    expect((await run('release', 'list')).stderr).toContain('SWITCHYARD_API_URL');
    const down = await run('release', 'list', '--local', '--api', 'http://127.0.0.1:9');
    expect(down.code).toBe(EXIT.unavailable);
    expect(down.stderr).toContain('switchyard local serve');
    expect((await run('local', 'push', '--api', 'http://127.0.0.1:9')).code).toBe(EXIT.unavailable);
  });
});

describe('switchyard local releases', () => {
  it('reads the SQLite history of a data directory without a server', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
    const store = new SqliteReleaseStore(join(dataDir, 'releases.sqlite'));
    await store.createRelease({
      releaseId: 'rel-dev-old',
      executionArn: 'arn:local',
      environment: 'dev',
      functionName: 'switchyard-api-dev',
      imageUri: 'repo@sha256:1',
      digest: `sha256:${'1'.repeat(64)}`,
      blueVersion: '1',
      status: 'released',
      startedAt: '2026-01-01T00:00:00.000Z',
      trigger: 'api:me',
      events: [{ at: '2026-01-01T00:00:00.000Z', kind: 'validated', summary: 'ok' }],
    });
    store.close();
    try {
      const json = await run('local', 'releases', '--data-dir', dataDir, '--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout).releases).toEqual([
        expect.objectContaining({ releaseId: 'rel-dev-old', events: 1 }),
      ]);
      const human = await run('local', 'releases', '--data-dir', dataDir);
      expect(human.stdout).toMatch(/rel-dev-old\s+dev\s+released/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the switchyard bin', () => {
  it('runs on the project Node through tsx and documents its exit codes', () => {
    const result = spawnSync(process.execPath, [join(import.meta.dirname, '../../cli/switchyard.mjs'), '--help'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Exit codes: 0 ok / released, 1 rolled back');
    const bad = spawnSync(process.execPath, [join(import.meta.dirname, '../../cli/switchyard.mjs'), 'nope', 'nope'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bad.status).toBe(EXIT.usage);
  });
});
