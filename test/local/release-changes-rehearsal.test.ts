import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseApiHandler } from '../../api/release-api.ts';
import { main } from '../../cli/switchyard.ts';
import type { ReleaseChanges } from '../../core/insight/release-changes.ts';
import type { Notification } from '../../core/ports/ports.ts';
import { ensureApiToken } from '../../local/api-token.ts';
import type { LocalImage } from '../../local/local-registry.ts';
import { ExecutionLog, LocalReleaseOperations } from '../../local/local-release-operations.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { eventually, invoke, releasePath, signedEvent } from '../api/api-events.ts';
import { CALLER } from '../api/release-api.contract.ts';
import { AppRepository } from '../support/app-repository.ts';

/**
 * A rehearsal of two builds of the app that differ by a dependency upgrade and two commits: each local build records
 * its change set from the repository it is built from, the prod release of the second computes its diff as it
 * starts, and `switchyard release changes` (over HTTP, through the release API) shows exactly those two commits and
 * that upgrade. The images are the app's bundle; the commits and lock files are those of a scratch repository.
 */

let dataDir: string;
let runtime: LocalRuntime;
let repo: AppRepository;
let server: Server;
let api: string;
let base: LocalImage;
let candidate: LocalImage;
let commits: { feature: string; upgrade: string };
const notifications: Notification[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-insight-'));
  ensureApiToken(dataDir);
  const log = new ExecutionLog();
  runtime = openLocalRuntime({
    dataDir,
    speedup: 1200,
    approvals: 'manual',
    onEvent: (id, e) => log.record(id, e),
    onNotification: (n) => notifications.push(n),
  });
  const handler = releaseApiHandler(new LocalReleaseOperations(runtime, log));
  server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const reply = await invoke(handler, signedEvent(req.method ?? 'GET', req.url ?? '/', raw || undefined, CALLER));
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  repo = new AppRepository({ zod: '4.1.0', '@smithy/types': '4.0.0' }, { vitest: '5.1.1' });
  base = await runtime.registry.build('switchyard-api', { commit: repo.head(), source: repo.dir });
  const feature = repo.commit('Add the orders route', { 'orders.ts': 'export const orders = [];\n' });
  const upgrade = repo.upgrade('zod', '4.2.0');
  commits = { feature, upgrade };
  candidate = await runtime.registry.build('switchyard-api', { commit: upgrade, source: repo.dir });
  await runtime.bootstrap('prod', base);
});

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  await runtime.close();
  repo.remove();
  rmSync(dataDir, { recursive: true, force: true });
});

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--local', '--api', api], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { SWITCHYARD_DATA_DIR: dataDir },
    isTTY: false,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('a prod release of a build that upgrades one dependency in two commits', () => {
  let releaseId: string;

  beforeAll(async () => {
    const started = await cli('release', 'start', '--env', 'prod', '--digest', candidate.digest, '--json');
    expect(started.stderr).toBe('');
    releaseId = JSON.parse(started.stdout).releaseId;
    await eventually(
      () => cli('release', 'show', releaseId, '--json'),
      (r) => JSON.parse(r.stdout).awaitingApproval !== null,
    );
  });

  afterAll(async () => {
    await invoke(
      releaseApiHandler(new LocalReleaseOperations(runtime, new ExecutionLog())),
      signedEvent('POST', `${releasePath(releaseId)}/reject`, { reason: 'rehearsal over' }, CALLER),
    );
  });

  it('shows exactly those two commits and that upgrade, and nothing else', async () => {
    const json = await cli('release', 'changes', releaseId, '--json');
    expect(json.code).toBe(0);
    const changes = JSON.parse(json.stdout).changes as ReleaseChanges;
    expect(changes.blueDigest).toBe(base.digest);
    expect(changes.greenDigest).toBe(candidate.digest);
    expect(changes.commits).toMatchObject({ count: 2, complete: true });
    expect(changes.commits.items.map((c) => [c.sha, c.subject])).toEqual([
      [commits.upgrade, 'Upgrade zod to 4.2.0'],
      [commits.feature, 'Add the orders route'],
    ]);
    expect(changes.packages).toEqual({
      added: { count: 0, items: [] },
      removed: { count: 0, items: [] },
      upgraded: { count: 1, items: [{ name: 'zod', from: '4.1.0', to: '4.2.0' }] },
      downgraded: { count: 0, items: [] },
    });
    expect(changes.summary).toBe('2 commits, 1 package upgraded');

    const human = await cli('release', 'changes', releaseId);
    expect(human.code).toBe(0);
    const lines = human.stdout.split('\n');
    expect(lines[0]).toBe(`${releaseId}: 2 commits, 1 package upgraded`);
    expect(lines.filter((l) => /^ {2}[0-9a-f]{12} /.test(l)).map((l) => l.slice(2, 14))).toEqual([
      commits.upgrade.slice(0, 12),
      commits.feature.slice(0, 12),
    ]);
    expect(lines.filter((l) => /^ {2}(upgraded|downgraded|added|removed) /.test(l))).toEqual([
      '  upgraded   zod 4.1.0 → 4.2.0',
    ]);
  });

  it('puts the summary in the approval notification', () => {
    const approval = notifications.find((n) => n.releaseId === releaseId && /awaits approval/.test(n.subject));
    expect(approval?.detail.changes).toBe('2 commits, 1 package upgraded');
  });

  it('keeps the diff it computed at the start, whatever is built later', async () => {
    repo.commit('A later change');
    await runtime.registry.build('switchyard-api', { commit: repo.head(), source: repo.dir });
    const again = JSON.parse((await cli('release', 'changes', releaseId, '--json')).stdout).changes as ReleaseChanges;
    expect(again.commits.count).toBe(2);
  });

  it('answers 404, naming why, for a release with no recorded changes', async () => {
    const r = await cli('release', 'changes', 'rel-prod-nonexistent');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no release rel-prod-nonexistent/);
  });
});

describe('switchyard insights', () => {
  it('prints each metric of the environment with its band, and --json the API answer', async () => {
    const json = await cli('insights', '--env', 'prod', '--days', '7', '--json');
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body.environments.map((e: { environment: string }) => e.environment)).toEqual(['prod']);
    const week = body.environments[0].windows[0];
    expect(week.days).toBe(7);
    const human = await cli('insights', '--env', 'prod', '--days', '7');
    expect(human.code).toBe(0);
    const lines = human.stdout.split('\n');
    expect(lines[0]).toBe('prod');
    expect(lines[1]).toMatch(/^ {2}metric +last 7 days/);
    const deployments = lines.find((l) => l.startsWith('  deployments'));
    expect(deployments).toContain(
      `${week.deploymentFrequency.deployments} (${week.deploymentFrequency.perDay.toFixed(2)}/day)`,
    );
    expect(human.stdout).toContain('https://dora.dev/research/2023/dora-report/');
  });

  it('refuses a window that is not a whole number of days from 1 to 365', async () => {
    const r = await cli('insights', '--days', '0');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--days must be a whole number from 1 to 365/);
  });
});
