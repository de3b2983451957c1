import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { API_TOKEN_HEADER } from '../../local/api-token.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { childOutput } from '../support/child-output.ts';

const CLI = join(import.meta.dirname, '../../cli/switchyard.ts');
const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-owner-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('close', resolve));
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', SWITCHYARD_DATA_DIR: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

const finished = childOutput;

/** The URL a `local serve` prints once it listens. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const url = /release API on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    child.once('close', (code) => reject(new Error(`local serve exited ${code}: ${err.slice(-1000)}`)));
  });
}

describe('one owner per data directory', () => {
  it('a second local serve or rehearse on a served directory exits at once with one line and changes nothing', async () => {
    const dir = tempDir();
    const first = cli(['local', 'serve', '--port', '0', '--data-dir', dir, '--envs', 'dev', '--speedup', '1']);
    const url = await listening(first);
    const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { [API_TOKEN_HEADER]: token, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    // A push releases into dev, which then bakes for minutes (time ×1): the release the newcomer used to abort.
    const pushed = await api('POST', '/local/images', { commit: 'owner-test' });
    expect(pushed.status).toBe(201);
    const releaseId = (pushed.body.releases as { releaseId: string }[])[0]?.releaseId;
    expect(releaseId).toMatch(/^rel-dev-/);
    const files = ['client-keys.json', 'api-token', 'owner.json'];
    const before = Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    const statuses = async () => {
      const { status, body } = await api('GET', '/environments/dev/releases');
      expect(status).toBe(200);
      return (body.releases as { releaseId: string; status: string }[]).map((r) => `${r.releaseId} ${r.status}`);
    };
    const releasesBefore = await statuses();
    expect(releasesBefore).toContain(`${releaseId} running`);

    for (const command of [
      ['local', 'serve', '--port', '0', '--data-dir', dir],
      ['local', 'rehearse', '--env', 'dev', '--data-dir', dir],
    ]) {
      const second = await finished(cli(command));
      expect(second.code).toBe(69);
      expect(second.stdout).toBe('');
      const lines = second.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^switchyard: data directory ${dir} is in use by PID ${first.pid} \\(.*switchyard\\.ts local serve `,
        ),
      );
    }

    expect(Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]))).toEqual(before);
    // The first server still answers its own token, and its release runs on, untouched (not aborted).
    expect(await statuses()).toEqual(releasesBefore);
  }, 180_000);

  it('the directory is free again once its owner is gone, even killed with SIGKILL', async () => {
    const dir = tempDir();
    const owner = cli(['local', 'serve', '--port', '0', '--data-dir', dir, '--envs', 'dev']);
    await listening(owner);
    expect(() => openLocalRuntime({ dataDir: dir })).toThrow(`is in use by PID ${owner.pid}`);
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('close', resolve));
    const next = openLocalRuntime({ dataDir: dir, resume: true });
    await next.close();
  }, 120_000);

  it('keys and token are created once, and every start makes the directory and its files owner-only', async () => {
    const dir = join(tempDir(), 'data');
    mkdirSync(dir, { mode: 0o755 });
    const first = openLocalRuntime({ dataDir: dir });
    await first.close();
    const keys = readFileSync(join(dir, 'client-keys.json'), 'utf8');
    // What an older version or a copy may leave: everything readable by others.
    chmodSync(dir, 0o755);
    for (const file of ['client-keys.json', 'releases.sqlite']) chmodSync(join(dir, file), 0o644);
    writeFileSync(join(dir, 'api-token'), `${'ab'.repeat(32)}\n`, { mode: 0o644 });
    chmodSync(join(dir, 'api-token'), 0o644);

    const second = openLocalRuntime({ dataDir: dir });
    try {
      expect(readFileSync(join(dir, 'client-keys.json'), 'utf8')).toBe(keys);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      for (const file of ['client-keys.json', 'releases.sqlite', 'api-token']) {
        expect({ file, mode: statSync(join(dir, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
      }
    } finally {
      await second.close();
    }
  });
});
