import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryReleaseStore } from '../../adapters/memory/memory-release-store.ts';
import { releaseDetail } from '../../api/release-view.ts';
import { terminalRows } from '../../cli/commands/release.ts';
import { EXIT, main } from '../../cli/switchyard.ts';
import { singleTarget } from '../../core/model/target-set.ts';
import type { ReleaseRecord } from '../../core/ports/ports.ts';
import { API_TOKEN_HEADER, ensureApiToken } from '../../local/api-token.ts';
import { SqliteReleaseStore } from '../../local/sqlite-release-store.ts';
import { type FleetScenario, memberName, UNHEALTHY_REASON, writeFleetRelease } from '../support/fleet-records.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}
type Reply = { status: number; body: unknown };

/** The escape character that starts terminal control sequences. */
const ESC = String.fromCharCode(27);

/** A stand-in release API: canned replies by "METHOD /path", in order when a route answers several times. */
let routes: Record<string, Reply | Reply[]> = {};
const seen: Seen[] = [];
let server: Server;
let api: string;
/** A data directory holding a local server's token, as `local serve` leaves it. */
let tokenDir: string;
let token: string;

beforeAll(async () => {
  tokenDir = mkdtempSync(join(tmpdir(), 'switchyard-cli-token-'));
  token = ensureApiToken(tokenDir);
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
afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  rmSync(tokenDir, { recursive: true, force: true });
});
afterEach(() => {
  routes = {};
  seen.length = 0;
});

async function runWith(io: { env?: Record<string, string>; isTTY?: boolean }, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { SWITCHYARD_DATA_DIR: tokenDir, ...io.env },
    isTTY: io.isTTY ?? false,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

const run = (...args: string[]) => runWith({}, ...args);

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
  // One function is one target in one wave: it reads as a single function always has, with no member grid.
  targets: {
    ...singleTarget({ functionName: 'switchyard-api-prod', blueVersion: '1' }),
    waves: [{ wave: 0, members: 1, phases: { pending: 1 }, unhealthy: [] }],
    halted: null,
  },
  ...extra,
});

describe('switchyard release', () => {
  it('start --json prints the API answer and exits 0; the body carries env, digest, strategy and key', async () => {
    routes['POST /environments/dev/releases'] = {
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
    // The environment is in the path (POST /environments/dev/releases), where IAM can see it; not in the body.
    expect(seen[0]?.url).toBe('/environments/dev/releases');
    expect(seen[0]?.body).toEqual({
      imageDigest: 'sha256:abc',
      strategy: { kind: 'canary', percent: 10, bakeMinutes: 5 },
      idempotencyKey: 'ci-42',
    });
    // The local server's per-start token, read from the data directory; no requester name travels in a header.
    expect(seen[0]?.headers[API_TOKEN_HEADER]).toBe(token);
    expect(seen[0]?.headers['content-type']).toBe('application/json');
  });

  it('a busy environment exits 5 and names the running release', async () => {
    routes['POST /environments/prod/releases'] = {
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
    routes['POST /environments/dev/releases'] = {
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
    routes['GET /environments/dev/releases'] = { status: 200, body: { releases: [summary('a')], nextCursor: 'c1' } };
    routes['GET /environments/dev/releases?cursor=c1'] = { status: 200, body: { releases: [summary('b')] } };
    const r = await run('release', 'list', '--env', 'dev', '--all', '--json', '--local', '--api', api);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout).releases.map((x: { releaseId: string }) => x.releaseId)).toEqual(['a', 'b']);
    const human = await run('release', 'list', '--env', 'dev', '--local', '--api', api);
    expect(human.stdout).toContain('more: --cursor c1');
  });

  it('approve, reject, promote, promote --next and abort call their routes; missing reasons are usage errors', async () => {
    const prod = '/environments/prod/releases/rel-prod-1';
    routes[`POST ${prod}/approve`] = { status: 200, body: { releaseId: 'rel-prod-1', approved: true } };
    routes[`POST ${prod}/abort`] = { status: 202, body: { releaseId: 'rel-prod-1', message: 'stopped' } };
    routes[`POST ${prod}/fast-forward`] = { status: 202, body: { releaseId: 'rel-prod-1', message: 'skips' } };
    expect((await run('release', 'approve', 'rel-prod-1', '--comment', 'ok', '--local', '--api', api)).code).toBe(0);
    expect(seen.at(-1)).toMatchObject({ url: `${prod}/approve`, body: { comment: 'ok' } });
    expect((await run('release', 'reject', 'rel-prod-1', '--local', '--api', api)).code).toBe(EXIT.usage);
    expect((await run('release', 'promote', 'rel-prod-1', '--local', '--api', api)).code).toBe(EXIT.usage);
    expect((await run('release', 'promote', 'rel-prod-1', '--reason', 'hotfix', '--local', '--api', api)).code).toBe(0);
    expect(seen.at(-1)?.body).toEqual({ reason: 'hotfix' });
    // prod promotes nowhere: --next finds no environment to send it to, and sends nothing.
    const calls = seen.length;
    const nowhere = await run('release', 'promote', 'rel-prod-1', '--next', '--local', '--api', api);
    expect([nowhere.code, nowhere.stderr]).toEqual([
      EXIT.conflict,
      'switchyard: prod promotes to no other environment',
    ]);
    expect(seen).toHaveLength(calls);
    expect((await run('release', 'abort', 'rel-prod-1', '--reason', 'freeze', '--local', '--api', api)).code).toBe(0);
    expect(seen.at(-1)).toMatchObject({ url: `${prod}/abort`, body: { reason: 'freeze' } });
  });

  it('an action on a release whose id names no environment, or an old-scheme promotion, asks the API where it runs', async () => {
    const pushed = '3f1c2a9e-0b7d-4c55-9a3e-1f2e3d4c5b6a';
    routes[`GET /releases/${pushed}`] = { status: 200, body: { releaseId: pushed, environment: 'dev' } };
    routes[`POST /environments/dev/releases/${pushed}/abort`] = { status: 202, body: { releaseId: pushed } };
    expect((await run('release', 'abort', pushed, '--local', '--api', api)).code).toBe(EXIT.ok);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `GET /releases/${pushed}`,
      `POST /environments/dev/releases/${pushed}/abort`,
    ]);
    const oldPromotion = 'rel-staging-20261101000000-a1b2c3-to-prod';
    routes[`GET /releases/${oldPromotion}`] = { status: 200, body: { releaseId: oldPromotion, environment: 'prod' } };
    routes[`POST /environments/prod/releases/${oldPromotion}/approve`] = { status: 200, body: {} };
    expect((await run('release', 'approve', oldPromotion, '--local', '--api', api)).code).toBe(EXIT.ok);
    expect(seen.at(-1)?.url).toBe(`/environments/prod/releases/${oldPromotion}/approve`);
    const unknown = await run('release', 'approve', 'no-such-release', '--local', '--api', api);
    expect(unknown.code).toBe(EXIT.notFound);
  });

  it('env rollback needs a reason and prints the versions', async () => {
    routes['POST /environments/prod/rollback'] = { status: 200, body: { environment: 'prod', from: '7', to: '6' } };
    expect((await run('env', 'rollback', 'prod', '--local', '--api', api)).code).toBe(EXIT.usage);
    const r = await run('env', 'rollback', 'prod', '--reason', 'errors', '--local', '--api', api);
    expect([r.code, r.stdout]).toEqual([0, 'Rolled back prod: live 7 → 6']);
  });

  it('env rollback of a fleet environment prints each member moved and each left', async () => {
    routes['POST /environments/prod/rollback'] = {
      status: 200,
      body: {
        environment: 'prod',
        from: '2 members off their blue',
        to: "each member's blue",
        members: [
          { member: 'm1', functionName: 'shop-m1-prod', from: '4', to: '3' },
          { member: 'm2', functionName: 'shop-m2-prod', from: '3 + 10% on 4', to: '3' },
        ],
        skipped: [{ member: 'm3', why: 'already on version 3' }],
      },
    };
    const r = await run('env', 'rollback', 'prod', '--reason', 'errors', '--local', '--api', api);
    expect([r.code, r.stdout.split('\n')]).toEqual([
      0,
      [
        "Rolled back prod: live 2 members off their blue → each member's blue",
        '  m1  4 → 3',
        '  m2  3 + 10% on 4 → 3',
        '  m3  left: already on version 3',
      ],
    ]);
  });

  it('signs cloud requests with SigV4 for execute-api', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
    try {
      routes['GET /releases'] = { status: 200, body: { releases: [] } };
      const r = await runWith({ env: { AWS_REGION: 'eu-west-1' } }, 'release', 'list', '--api', api);
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

const inFlight = (extra: Record<string, unknown> = {}) =>
  detail('running', {
    greenVersion: '2',
    currentState: 'Bake',
    progress: {
      stepIndex: 0,
      stepCount: 2,
      percent: 10,
      bakeSeconds: 300,
      bakedSeconds: 120,
      shiftedAt: '2026-01-01T00:00:00Z',
      lastCheck: {
        at: '2026-01-01T00:02:00Z',
        verdict: 'insufficient-data',
        next: 'bake',
        percent: 10,
        invocations: 8,
        errors: 0,
        errorRatePercent: 0,
        maxErrorRatePercent: 1,
        reasons: ['8 invocations, fewer than the 50 needed to judge'],
        evidence: {
          window: { start: '2025-12-31T23:59:00Z', end: '2026-01-01T00:02:00Z' },
          thresholds: { minInvocations: 50, maxErrorRatePercent: 1, maxErrors: 10 },
        },
      },
    },
    ...extra,
  });

describe('switchyard errors: one line, a documented exit code, no stack trace', () => {
  const oneLine = (text: string) => expect(text.split('\n')).toHaveLength(1);

  it('an unknown flag is refused with a suggestion (64)', async () => {
    const r = await run('release', 'list', '--stats', 'running', '--local', '--api', api);
    expect(r.code).toBe(EXIT.usage);
    oneLine(r.stderr);
    expect(r.stderr).toContain("unknown option '--stats'");
    expect(r.stderr).toContain('Did you mean --status?');
    expect(seen).toHaveLength(0);
  });

  it('numbers are decimal only: hex, exponents and out-of-range values are usage errors', async () => {
    for (const args of [
      ['release', 'list', '--limit', '0x1'],
      ['release', 'list', '--limit', '1e1'],
      ['release', 'watch', 'rel-prod-1', '--interval', '10'],
      ['local', 'push', '--fail-rate', '0x1'],
      ['local', 'push', '--fail-rate', '2'],
      ['local', 'serve', '--port', '80.5'],
    ]) {
      const r = await run(...args, '--local', '--api', api);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), EXIT.usage]);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(/^switchyard: --[a-z-]+ must be a (whole )?number from \d+ to \d+/);
    }
    expect(seen).toHaveLength(0);
  });

  it('an unknown environment names the choices (64)', async () => {
    const r = await run('release', 'start', '--env', 'nope', '--tag', 'v1', '--local', '--api', api);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('--env must be one of dev, staging, prod; got "nope"');
    expect((await run('status', 'nope', '--local', '--api', api)).code).toBe(EXIT.usage);
  });

  it('a cloud API without a region is a usage error (64); without AWS credentials it is 77', async () => {
    const noRegion = await run('release', 'list', '--api', 'https://releases.example.com/prod');
    expect(noRegion.code).toBe(EXIT.usage);
    oneLine(noRegion.stderr);
    expect(noRegion.stderr).toContain('set AWS_REGION');
    const saved = { ...process.env };
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    // Nothing in the chain: no variables, no files, and no instance metadata (never a network call).
    Object.assign(process.env, {
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    });
    try {
      routes['GET /releases'] = { status: 200, body: { releases: [] } };
      const r = await runWith({ env: { AWS_REGION: 'eu-west-1' } }, 'release', 'list', '--api', api);
      expect(r.code).toBe(EXIT.notAuthorized);
      oneLine(r.stderr);
      expect(r.stderr).toContain('no AWS credentials');
      expect(seen).toHaveLength(0);
    } finally {
      process.env = saved;
    }
  });

  it('an internal error is one line (70); --debug adds the stack trace', async () => {
    routes['GET /releases/rel-prod-1'] = { status: 200, body: { status: 'running' } };
    const r = await run('release', 'show', 'rel-prod-1', '--local', '--api', api);
    expect(r.code).toBe(EXIT.software);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/^switchyard: internal error: .+ \(--debug shows the stack trace\)$/);
    const debug = await run('release', 'show', 'rel-prod-1', '--local', '--api', api, '--debug');
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('a throttled API (429) is a temporary failure (75); a watch that runs out of time too', async () => {
    routes['GET /releases'] = { status: 429, body: { message: 'Too Many Requests' } };
    expect((await run('release', 'list', '--local', '--api', api)).code).toBe(EXIT.temporaryFailure);
    routes['GET /releases/rel-prod-1'] = { status: 200, body: inFlight() };
    const r = await run('watch', 'rel-prod-1', '--timeout', '1', '--interval', '400', '--local', '--api', api);
    expect(r.code).toBe(EXIT.temporaryFailure);
    expect(r.stderr).toContain('is still running after 1 s');
  });
});

describe('switchyard local serve', () => {
  it('a port in use is one line and exit 69, and what it started is stopped', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-serve-'));
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const port = String((busy.address() as AddressInfo).port);
    try {
      const r = await run('local', 'serve', '--port', port, '--envs', 'dev', '--data-dir', dataDir);
      expect(r.code).toBe(EXIT.unavailable);
      expect(r.stderr).toBe(
        `switchyard: port ${port} on 127.0.0.1 is in use (another switchyard local serve?): stop it or pass --port`,
      );
    } finally {
      await new Promise<void>((ok) => busy.close(() => ok()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('switchyard status and the live watch view', () => {
  const environments = [
    {
      name: 'dev',
      functionName: 'switchyard-api-dev',
      live: { name: 'live', version: '3' },
      blue: '3',
      green: '3',
      approvalRequired: false,
      promotesTo: 'staging',
      runningRelease: null,
    },
    {
      name: 'prod',
      functionName: 'switchyard-api-prod',
      live: { name: 'live', version: '1', routing: { version: '2', weight: 0.1 } },
      blue: '1',
      green: '2',
      approvalRequired: true,
      promotesTo: null,
      runningRelease: { releaseId: 'rel-prod-1', executionArn: 'arn:x', since: '2026-01-01T00:00:00Z' },
    },
  ];

  it('status says when the release in flight was paused, and by whom', async () => {
    const [dev, prod] = environments;
    const paused = {
      ...prod,
      runningRelease: { ...prod?.runningRelease, paused: { pausedAt: '2026-01-01T00:10:00Z', by: 'dana' } },
    };
    routes['GET /environments'] = { status: 200, body: { environments: [dev, paused] } };
    const r = await run('status', '--local', '--api', api);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/prod\s+.*rel-prod-1 since 00:00:00 virtual, paused since 00:10:00 virtual by dana/);
  });

  it('status lists live (with its split), blue, green and the release in flight, with the local console link', async () => {
    routes['GET /environments'] = { status: 200, body: { environments } };
    const r = await run('status', '--local', '--api', api);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dev\s+3\s+3\s+3\s+staging\s+none/);
    expect(r.stdout).toMatch(/prod\s+1 \+ 10% on 2\s+1\s+2\s+—\s+rel-prod-1 since 00:00:00 virtual/);
    expect(r.stdout).toContain(`prod: ${api}/#rel-prod-1`);
    expect(r.stdout).not.toContain('\x1b[');
    const one = await run('status', 'dev', '--local', '--api', api, '--json');
    expect(JSON.parse(one.stdout).environments.map((e: { name: string }) => e.name)).toEqual(['dev']);
  });

  it('status shows each environment window state, a hold with how to clear it, and abandoned images', async () => {
    const [dev, prod] = environments;
    const by = 'arn:aws:sts::123456789012:assumed-role/OnCall/sam';
    routes['GET /environments'] = {
      status: 200,
      body: {
        environments: [
          {
            ...dev,
            policy: {
              window: { state: 'closed', window: 'afternoon', opensAt: '2026-11-26T13:00:00.000Z' },
              hold: { at: '2026-11-26T09:00:00.000Z', action: 'held', by, reason: 'held after the rollback: 5xx' },
            },
          },
          {
            ...prod,
            policy: {
              window: {
                state: 'frozen',
                freeze: 'black-friday',
                reason: 'Black Friday trading',
                until: '2026-11-30T00:00:00+01:00',
              },
              hold: null,
            },
          },
        ],
        abandonedImages: [
          {
            imageDigest: `sha256:${'7'.repeat(64)}`,
            abandoned: { at: '2026-11-26T08:00:00.000Z', action: 'abandoned', by, reason: 'CVE-2026-0001' },
          },
        ],
      },
    };
    const r = await run('status', '--local', '--api', api);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dev\s+closed, opens at 2026-11-26 13:00:00 virtual \(window afternoon\)/);
    expect(r.stdout).toMatch(
      /prod\s+frozen until 2026-11-29 23:00:00 virtual: Black Friday trading \(freeze black-friday\)/,
    );
    expect(r.stdout).toContain(`dev: held since 2026-11-26 09:00:00 virtual by ${by}: held after the rollback: 5xx`);
    expect(r.stdout).toContain('switchyard env clear-hold dev');
    expect(r.stdout).toContain(
      `abandoned sha256:${'7'.repeat(64)} by ${by} at 2026-11-26 08:00:00 virtual: CVE-2026-0001`,
    );
  });

  it('release override, image abandon/restore and env clear-hold call their own routes with the reason', async () => {
    const digest = `sha256:${'7'.repeat(64)}`;
    routes['POST /environments/prod/overrides'] = {
      status: 202,
      body: { releaseId: 'rel-prod-9', environment: 'prod', executionArn: 'arn:x' },
    };
    routes[`POST /images/${encodeURIComponent(digest)}/abandon`] = { status: 200, body: { abandoned: true } };
    routes[`POST /images/${encodeURIComponent(digest)}/restore`] = { status: 200, body: { abandoned: false } };
    routes['POST /environments/dev/clear-hold'] = { status: 200, body: { held: false } };
    const overridden = await run(
      'release',
      'override',
      '--env',
      'prod',
      '--digest',
      digest,
      '--reason',
      'CAB-123',
      '--local',
      '--api',
      api,
    );
    expect(overridden.code).toBe(0);
    expect(overridden.stdout).toContain('Started release rel-prod-9 in prod, overriding its release policy');
    expect(
      (await run('release', 'override', '--env', 'prod', '--digest', digest, '--local', '--local', '--api', api)).code,
    ).toBe(EXIT.usage);
    expect(
      (await run('image', 'abandon', digest, '--reason', 'CVE', '--local', '--local', '--api', api)).stdout,
    ).toContain('abandoned');
    expect(
      (await run('image', 'restore', digest, '--reason', 'fixed', '--local', '--local', '--api', api)).stdout,
    ).toContain('restored');
    expect(
      (await run('env', 'clear-hold', 'dev', '--reason', 'fixed forward', '--local', '--local', '--api', api)).stdout,
    ).toContain('hold cleared');
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/environments/prod/overrides', { imageDigest: digest, reason: 'CAB-123' }],
      ['POST', `/images/${encodeURIComponent(digest)}/abandon`, { reason: 'CVE' }],
      ['POST', `/images/${encodeURIComponent(digest)}/restore`, { reason: 'fixed' }],
      ['POST', '/environments/dev/clear-hold', { reason: 'fixed forward' }],
    ]);
  });

  it('watch on a terminal redraws one view in place: weight, step, bake bar and the last check, in colour', async () => {
    routes['GET /releases/rel-prod-1'] = [
      {
        status: 200,
        body: detail('running', {
          currentState: 'Await approval',
          awaitingApproval: { requestedAt: 'x', expiresAt: '2026-01-01T01:00:00Z' },
        }),
      },
      { status: 200, body: inFlight() },
      { status: 200, body: detail('rolled-back', { greenVersion: '2', reason: 'error rate 50% exceeds 1%' }) },
    ];
    const r = await runWith({ isTTY: true }, 'watch', 'rel-prod-1', '--interval', '50', '--local', '--api', api);
    expect(r.code).toBe(EXIT.rolledBack);
    expect(r.stdout).toContain('release approve rel-prod-1');
    expect(r.stdout).toContain('live 90% on 1, 10% on 2');
    expect(r.stdout).toContain('step 1 of 2 at 10%  [########............] 2 of 5 min baked');
    expect(r.stdout).toContain(
      '8 calls in 3 min (min 50), 0 errors, error rate 0% (limit 1%) → bake, 00:02:00 virtual',
    );
    expect(r.stdout).toContain('8 invocations, fewer than the 50 needed to judge');
    expect(r.stdout).toContain(`console   ${api}/#rel-prod-1`);
    // Each later frame starts by moving back over the previous one and clearing it.
    expect(r.stdout.match(new RegExp(`${ESC}\\[\\d+F${ESC}\\[0J`, 'g'))).toHaveLength(2);
    expect(r.stdout).toContain('\x1b[31m');
    routes['GET /releases/rel-prod-1'] = { status: 200, body: detail('released') };
    const plain = await runWith(
      { isTTY: true, env: { NO_COLOR: '1' } },
      'watch',
      'rel-prod-1',
      '--local',
      '--api',
      api,
    );
    expect(plain.stdout).toContain('RELEASED');
    expect(plain.stdout).not.toMatch(new RegExp(`${ESC}\\[\\d+m`));
  });

  it('counts the rows a wrapped line takes when it rewinds the view, ignoring colour codes', () => {
    const red = `${ESC}[31m${'x'.repeat(10)}${ESC}[39m`;
    expect(terminalRows([red, 'y'.repeat(25), ''], 10)).toBe(1 + 3 + 1);
    expect(terminalRows(['a'.repeat(500)], undefined)).toBe(1);
  });

  it('pause and resume call their routes; a refusal exits 5 with the reason in one line', async () => {
    routes['POST /environments/prod/releases/rel-prod-1/pause'] = [
      {
        status: 202,
        body: {
          releaseId: 'rel-prod-1',
          by: 'me',
          pausedAt: '2026-01-01T00:10:00.000Z',
          rollsBackAfter: '2026-01-01T01:10:00.000Z',
          maxPauseMinutes: 60,
        },
      },
      { status: 409, body: { message: 'release rel-prod-1 is already paused since 2026-01-01T00:10:00.000Z by me' } },
    ];
    routes['POST /environments/prod/releases/rel-prod-1/resume'] = {
      status: 200,
      body: { releaseId: 'rel-prod-1', pausedSeconds: 300 },
    };
    const paused = await run('release', 'pause', 'rel-prod-1', '--reason', 'db work', '--local', '--api', api);
    expect(paused.code).toBe(0);
    expect(seen.at(-1)).toMatchObject({
      url: '/environments/prod/releases/rel-prod-1/pause',
      body: { reason: 'db work' },
    });
    expect(paused.stdout).toBe(
      'Paused rel-prod-1: the bake holds; rolled back at 01:10:00 virtual unless resumed (switchyard release resume rel-prod-1)',
    );
    const again = await run('release', 'pause', 'rel-prod-1', '--local', '--api', api);
    expect(again.code).toBe(EXIT.conflict);
    expect(again.stderr).toBe(
      'switchyard: error 409: release rel-prod-1 is already paused since 2026-01-01T00:10:00.000Z by me',
    );
    const resumed = await run('release', 'resume', 'rel-prod-1', '--local', '--api', api);
    expect([resumed.code, resumed.stdout]).toEqual([0, 'Resumed rel-prod-1 after 5 min paused: the bake goes on']);
    expect(seen.at(-1)).toMatchObject({ url: '/environments/prod/releases/rel-prod-1/resume', body: {} });
  });

  it('watch and show say since when and by whom a release is paused, and how to resume it', async () => {
    const paused = { pausedAt: '2026-01-01T00:10:00Z', by: 'dana', reason: 'db work' };
    routes['GET /releases/rel-prod-1'] = [
      { status: 200, body: inFlight({ paused }) },
      { status: 200, body: inFlight({ paused }) },
      { status: 200, body: detail('released', { paused: null }) },
    ];
    const watched = await run('release', 'watch', 'rel-prod-1', '--interval', '50', '--local', '--api', api);
    expect(watched.code).toBe(0);
    const line = '⏸ paused since 00:10:00 virtual by dana (db work): switchyard release resume rel-prod-1';
    expect(watched.stdout.split('\n').filter((l) => l.includes(line))).toHaveLength(1);
    routes['GET /releases/rel-prod-1'] = { status: 200, body: inFlight({ paused }) };
    const shown = await run('release', 'show', 'rel-prod-1', '--local', '--api', api);
    expect(shown.stdout).toContain(
      '  paused    paused since 00:10:00 virtual by dana (db work): switchyard release resume rel-prod-1',
    );
  });

  it('watch without a terminal appends states, shifts and checks as lines, with no control codes', async () => {
    routes['GET /releases/rel-prod-1'] = [
      {
        status: 200,
        body: inFlight({
          events: [
            { at: '2026-01-01T00:00:00Z', kind: 'traffic-shifted', summary: 'live: 10% on version 2 (step 1 of 2)' },
          ],
        }),
      },
      { status: 200, body: detail('released') },
    ];
    const r = await run('release', 'watch', 'rel-prod-1', '--interval', '50', '--local', '--api', api);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`watching rel-prod-1: ${api}/#rel-prod-1`);
    expect(r.stdout).toContain('· traffic-shifted: live: 10% on version 2 (step 1 of 2)');
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('prints the local console link for local releases and the Step Functions console for cloud ones', async () => {
    routes['POST /environments/dev/releases'] = {
      status: 202,
      body: { releaseId: 'rel-dev-1', executionArn: 'arn:x', consoleUrl: 'https://console.aws/x', environment: 'dev' },
    };
    const local = await run('release', 'start', '--env', 'dev', '--tag', 'v1', '--local', '--api', api);
    expect(local.stdout).toContain(`console:   ${api}/#rel-dev-1`);
    expect(local.stdout).not.toContain('console.aws');
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
    try {
      const cloud = await runWith(
        { env: { AWS_REGION: 'eu-west-1' } },
        'release',
        'start',
        '--env',
        'dev',
        '--tag',
        'v1',
        '--api',
        api,
      );
      expect(cloud.stdout).toContain('console:   https://console.aws/x');
    } finally {
      process.env = saved;
    }
  });

  it('promote --full and fast-forward skip the bake; promote --to and the old --next go to the next environment', async () => {
    const dev = '/environments/dev/releases/rel-dev-1';
    routes[`POST ${dev}/fast-forward`] = { status: 202, body: { releaseId: 'rel-dev-1', message: 'skips' } };
    routes['POST /environments/staging/promotions/rel-dev-1'] = {
      status: 202,
      body: { releaseId: 'rel-staging-from-dev-1', environment: 'staging', consoleUrl: 'https://console.aws/x' },
    };
    const at = ['--local', '--api', api];
    expect((await run('release', 'promote', 'rel-dev-1', '--full', '--reason', 'hotfix', ...at)).code).toBe(0);
    expect(seen.at(-1)).toMatchObject({ url: `${dev}/fast-forward`, body: { reason: 'hotfix' } });
    expect((await run('release', 'fast-forward', 'rel-dev-1', '--reason', 'hotfix', ...at)).code).toBe(0);
    expect(seen.at(-1)?.url).toBe(`${dev}/fast-forward`);
    expect((await run('release', 'promote', 'rel-dev-1', '--full', ...at)).code).toBe(EXIT.usage);
    const to = await run('release', 'promote', 'rel-dev-1', '--to', 'staging', ...at);
    expect(to.stdout).toContain(
      `Promoted rel-dev-1 to staging: release rel-staging-from-dev-1\n  console: ${api}/#rel-staging-from-dev-1`,
    );
    // A promotion is a route of the environment it releases into.
    expect(seen.at(-1)).toMatchObject({ url: '/environments/staging/promotions/rel-dev-1', body: {} });
    expect((await run('release', 'promote', 'rel-dev-1', '--next', ...at)).code).toBe(0);
    expect(seen.at(-1)?.body).toEqual({});
    routes[`POST ${dev}/retry`] = {
      status: 202,
      body: { releaseId: 'rel-dev-1-retry', environment: 'dev', consoleUrl: 'https://console.aws/x' },
    };
    const retried = await run('release', 'retry', 'rel-dev-1', '--reason', 'flaky dependency', ...at);
    expect(retried.stdout).toBe(`Retried rel-dev-1 as release rel-dev-1-retry\n  console: ${api}/#rel-dev-1-retry`);
    expect(seen.at(-1)).toMatchObject({ url: `${dev}/retry`, body: { reason: 'flaky dependency' } });
    const old = await run('release', 'promote', 'rel-dev-1', '--reason', 'hotfix', ...at);
    expect(old.stderr).toContain('old spelling of `promote --full`');
    expect(seen.at(-1)?.url).toBe(`${dev}/fast-forward`);
  });
});

/** A dev release as a local history holds it. */
function devRecord(releaseId: string, status: ReleaseRecord['status']): ReleaseRecord {
  return {
    releaseId,
    executionArn: 'arn:local',
    environment: 'dev',
    imageUri: 'repo@sha256:1',
    digest: `sha256:${'1'.repeat(64)}`,
    targets: singleTarget({ functionName: 'switchyard-api-dev', blueVersion: '1' }),
    status,
    startedAt: '2026-01-01T00:00:00.000Z',
    trigger: 'api:me',
    events: [{ at: '2026-01-01T00:00:00.000Z', kind: 'validated', summary: 'ok' }],
  };
}

describe('switchyard local releases', () => {
  it('reads the SQLite history of a data directory without a server', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
    const store = new SqliteReleaseStore(join(dataDir, 'releases.sqlite'));
    await store.createRelease(devRecord('rel-dev-old', 'released'));
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

  it('a data directory that does not exist is named in one line, exit 4, and is not created', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
    const missing = join(parent, 'nope');
    try {
      const result = await run('local', 'releases', '--data-dir', missing);
      expect(result.code).toBe(4);
      expect(result.stderr).toBe(
        `switchyard: data directory ${missing} does not exist: pass the --data-dir a server or rehearsal used`,
      );
      expect(existsSync(missing)).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('an empty data directory has no history, and reading it leaves it empty', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
    try {
      const json = await run('local', 'releases', '--data-dir', dataDir, '--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({ releases: [] });
      const human = await run('local', 'releases', '--data-dir', dataDir);
      expect(human.stdout).toBe(`no release history in ${dataDir}: no server or rehearsal has run there`);
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reads the history while the server that writes it is running', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
    const writer = new SqliteReleaseStore(join(dataDir, 'releases.sqlite'));
    try {
      await writer.createRelease(devRecord('rel-dev-live', 'running'));
      const json = await run('local', 'releases', '--data-dir', dataDir, '--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout).releases).toEqual([expect.objectContaining({ releaseId: 'rel-dev-live' })]);
    } finally {
      writer.close();
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

/** A fleet release's detail as the release API answers it: written through the store's public methods, then viewed. */
async function fleetDetail(scenario: Omit<FleetScenario, 'releaseId' | 'environment'>) {
  const store = new MemoryReleaseStore();
  const releaseId = 'rel-prod-fleet';
  await writeFleetRelease(store, { releaseId, environment: 'prod', ...scenario });
  const record = await store.getRelease(releaseId);
  return releaseDetail(releaseId, record, undefined, {
    environment: 'prod',
    executionArn: record?.executionArn ?? '',
    region: 'eu-west-1',
  });
}

const HUNDRED = { members: 100, waves: [{ members: 1 }, { percent: 25 }, { percent: 100 }] } as const;

describe('switchyard release on a fleet', () => {
  it('show prints every member of a small fleet: wave, phase, live share and verdict, the tripping member marked', async () => {
    routes['GET /releases/rel-prod-fleet'] = {
      status: 200,
      body: await fleetDetail({
        members: 5,
        waves: [{ members: 1 }, { percent: 60 }, { percent: 100 }],
        tripAt: 2,
        end: 'halted',
      }),
    };
    const r = await run('release', 'show', 'rel-prod-fleet', '--local', '--api', api);
    expect(r.code).toBe(EXIT.ok);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('  fleet     5 members in 3 waves · wave 2 of 3 moving · halted by svc-003 in wave 2');
    expect(lines).toContain('  versions  blue 1 · green 2 on every member · 3 of 5 members with live traffic on green');
    const row = (name: string) =>
      lines
        .find((l) => l.trim().startsWith(`${name} `))
        ?.trim()
        .replace(/\s+/g, ' ');
    expect(row('svc-001')).toBe('svc-001 1 baking 100% ✓ healthy');
    expect(row('svc-002')).toBe('svc-002 2 baking 100% ✓ healthy');
    // The reason is clipped to keep the row within 100 columns; the halt line below gives it whole.
    expect(row('svc-003')).toMatch(/^svc-003 2 baking 100% ✗ svc-003 \(v2, 100%\): error rate 15\.33% .*… ◀ tripped$/);
    expect(row('svc-005')).toBe('svc-005 3 verified 0% —');
    expect(lines.filter((l) => l.includes('◀ tripped'))).toHaveLength(1);
    expect(lines).toContain(`  halted    svc-003 (v2, 100%): ${UNHEALTHY_REASON}`);
    // A fleet has no one blue and green of its own: the single function's versions line is not drawn.
    expect(r.stdout).not.toContain('blue none');
  });

  it('show keeps a 100-member fleet to a line per wave and the members that need a look; --members lists all', async () => {
    routes['GET /releases/rel-prod-fleet'] = {
      status: 200,
      body: await fleetDetail({ ...HUNDRED, tripAt: 17, end: 'rolled-back' }),
    };
    const r = await run('release', 'show', 'rel-prod-fleet', '--local', '--api', api);
    const lines = r.stdout.split('\n');
    const fleetBlock = lines.slice(
      lines.findIndex((l) => l.startsWith('  fleet ')),
      lines.findIndex((l) => l.includes('--members')) + 1,
    );
    // Headline, the halt, three waves, the header and one member row, the hint: the healthy 99 are only counted.
    expect(fleetBlock).toHaveLength(8);
    expect(fleetBlock[0]).toBe('  fleet     100 members in 3 waves · halted by svc-018 in wave 2');
    expect(fleetBlock[2]).toBe('  wave 1    1 member     1 rolled-back · 1 healthy');
    expect(fleetBlock[3]).toBe('  wave 2    24 members   24 rolled-back · 23 healthy, 1 unhealthy');
    expect(fleetBlock[4]).toBe('  wave 3    75 members   75 verified · 75 not judged');
    expect(fleetBlock[6]?.trim()).toMatch(
      /^svc-018 +2 +rolled-back +0% +✗ svc-018 \(v2, 100%\): error rate 15\.33% .* ◀ tripped$/,
    );
    expect(r.stdout).not.toMatch(/svc-017 /);
    expect(Math.max(...fleetBlock.map((l) => l.length))).toBeLessThanOrEqual(100);

    const all = await run('release', 'show', 'rel-prod-fleet', '--members', '--local', '--api', api);
    const rows = all.stdout.split('\n').filter((l) => /^ {4}svc-\d{3} /.test(l));
    expect(rows).toHaveLength(100);
    expect(rows.filter((l) => /rolled-back +0%/.test(l))).toHaveLength(25);
  });

  it('watch on a terminal redraws the grid in place; a 100-member frame stays under 25 rows at 100 columns', async () => {
    const halted = await fleetDetail({ ...HUNDRED, tripAt: 17, end: 'halted' });
    routes['GET /releases/rel-prod-fleet'] = [
      { status: 200, body: halted },
      { status: 200, body: await fleetDetail({ ...HUNDRED, tripAt: 17, end: 'rolled-back' }) },
    ];
    const r = await runWith(
      { isTTY: true, env: { NO_COLOR: '1' } },
      'watch',
      'rel-prod-fleet',
      '--interval',
      '50',
      '--local',
      '--api',
      api,
    );
    expect(r.code).toBe(EXIT.rolledBack);
    expect(r.stdout).toContain('wave 2 ▶  24 members   24 baking · 23 healthy, 1 unhealthy');
    expect(r.stdout).toContain('wave 2    24 members   24 rolled-back · 23 healthy, 1 unhealthy');
    const frames = r.stdout.split(new RegExp(`${ESC}\\[\\d+F${ESC}\\[0J`));
    expect(frames).toHaveLength(2);
    for (const frame of frames) expect(terminalRows(frame.split('\n'), 100)).toBeLessThan(25);
  });

  it('status counts a fleet environment’s members on blue and names those that are not', async () => {
    const member = (i: number, live: Record<string, unknown> | null, blue: string | null = '1') => ({
      name: memberName(i),
      functionName: `api-${memberName(i)}`,
      wave: i === 0 ? 0 : 1,
      live,
      blue,
    });
    const fleetEnv = {
      name: 'staging',
      functionName: 'switchyard-api-staging',
      live: { name: 'live', version: '1' },
      blue: '1',
      green: '1',
      approvalRequired: false,
      promotesTo: 'prod',
      runningRelease: null,
      fleet: {
        members: [
          member(0, { name: 'live', version: '2' }),
          member(1, { name: 'live', version: '1', routing: { version: '2', weight: 0.1 } }),
          member(2, null, null),
          ...Array.from({ length: 30 }, (_, i) => member(i + 3, { name: 'live', version: '1' })),
        ],
      },
    };
    routes['GET /environments'] = {
      status: 200,
      body: { environments: [{ ...fleetEnv, name: 'dev', fleet: null }, fleetEnv] },
    };
    const r = await run('status', '--local', '--api', api);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('  staging fleet: 33 members, 30 on blue, 3 not');
    expect(lines).toContain('    svc-001 (wave 1): live 2, blue 1');
    expect(lines).toContain('    svc-002 (wave 2): live 1 + 10% on 2, blue 1');
    expect(lines).toContain('    svc-003 (wave 2): live none, blue —');
    expect(r.stdout).not.toContain('svc-004');
    expect(r.stdout).not.toContain('dev fleet');
  });

  it('watch without a terminal counts members instead of a line per deploy, and ends with the grid', async () => {
    routes['GET /releases/rel-prod-fleet'] = [
      {
        status: 200,
        body: await fleetDetail({ members: 12, waves: [{ members: 1 }, { percent: 100 }], end: 'halted', tripAt: 5 }),
      },
      { status: 200, body: await fleetDetail({ members: 12, waves: [{ members: 1 }, { percent: 100 }], tripAt: 5 }) },
    ];
    const r = await run('release', 'watch', 'rel-prod-fleet', '--interval', '50', '--local', '--api', api);
    expect(r.code).toBe(EXIT.rolledBack);
    expect(r.stdout).not.toContain('· deployed:');
    expect(r.stdout).not.toContain('· verified:');
    expect(r.stdout).toContain('· fleet: 12 baking (of 12)');
    expect(r.stdout).toContain('· fleet: 12 rolled-back (of 12)');
    // The halt is the check that decided to roll back.
    expect(r.stdout).toMatch(/· check: unhealthy — 398 calls in 1 min \(min 50\), 61 errors, .* → roll-back/);
    const lines = r.stdout.split('\n');
    const end = lines.indexOf(`ROLLED BACK: release rel-prod-fleet — svc-006 (v2, 100%): ${UNHEALTHY_REASON}`);
    expect(end).toBeGreaterThan(0);
    // The grid, one row per member, right before the outcome.
    expect(lines.slice(end - 12, end).map((l) => l.trim().split(/\s+/)[0])).toEqual(
      Array.from({ length: 12 }, (_, i) => memberName(i)),
    );
  });
});
