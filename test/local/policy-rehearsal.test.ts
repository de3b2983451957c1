import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../cli/switchyard.ts';
import { SqliteReleaseStore } from '../../local/sqlite-release-store.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-policy-rehearsal-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npm start -- …` in this process: `switchyard local rehearse` with the test's data directory. */
async function rehearse(...args: string[]) {
  const out: string[] = [];
  const code = await main(['local', 'rehearse', '--data-dir', dataDir, ...args], {
    out: (line) => out.push(line),
    err: (line) => out.push(line),
    env: {},
    isTTY: false,
  });
  return { code, lines: out };
}

describe('npm start options for the release policy', () => {
  it('--frozen: the release is refused naming the freeze, live untouched (exit 2)', async () => {
    const { code, lines } = await rehearse('--env', 'dev', '--frozen');
    expect(code).toBe(EXIT.failed);
    expect(lines).toContain('  live: version 1 (blue was version 1)');
    expect(lines.join('\n')).toMatch(
      /RELEASE FAILED: .*\n.*\n {2}reason: ReleaseRefused: dev is frozen by "rehearsal-freeze" until /,
    );
  });

  it('--wait-for-window: the pushed release waits for its window on the virtual clock, then starts and is released', async () => {
    const { code, lines } = await rehearse('--env', 'dev', '--wait-for-window');
    expect(code).toBe(EXIT.ok);
    const policy = lines.find((l) => l.startsWith('Release policy:')) ?? '';
    const waiting = lines.filter((l) => l.includes('waiting for window "rehearsal-window" (opens at '));
    expect(policy).toContain('outside it releases wait');
    expect(waiting.length).toBeGreaterThan(0);
    const opensAt = /opens at ([^)]+)\)/.exec(waiting[0] ?? '')?.[1] ?? '';
    expect(lines.some((l) => l.startsWith('RELEASED: release rel-dev-'))).toBe(true);
    // The release's record starts at the opening (virtual time), not when it was pushed.
    const releaseId = /RELEASED: release (\S+)/.exec(lines.find((l) => l.startsWith('RELEASED')) ?? '')?.[1] ?? '';
    const store = new SqliteReleaseStore(join(dataDir, 'releases.sqlite'), { readOnly: true });
    const record = await store.getRelease(releaseId);
    expect(Date.parse(record?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(opensAt));
  }, 120_000);
});
