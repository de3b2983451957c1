import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { environments } from '../../config/environments.ts';
import { verifiedKey, verifiedVersions } from '../../core/validate-release.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { type ChildOutput, childOutput } from '../support/child-output.ts';

/**
 * The fault matrix's kill -9 cells: real processes on one data directory, each killed with SIGKILL at a point of a
 * release or of the restart that reconciles it. A cell is: the process dies at its first point, a restart dies at
 * the second, a third start runs to the end; then the invariants must hold — live on a verified version with no
 * routing, no lock or execution left over, and a record that exists, is closed and says what live shows.
 */

function runChild(dataDir: string, killAt: string): Promise<ChildOutput> {
  return childOutput(
    spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'kill-point-child.ts')], {
      env: { ...process.env, DATA_DIR: dataDir, KILL_AT: killAt, POWERTOOLS_LOG_LEVEL: 'ERROR' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

interface Cell {
  readonly first: 'after-202' | 'mid-alias-move' | 'mid-bake';
  /** Where each restart dies before the last one runs to the end. */
  readonly restarts: readonly ('mid-rollback' | 'mid-rollback-restored' | 'after-reconciled')[];
}

const CELLS: readonly Cell[] = [
  { first: 'after-202', restarts: ['after-reconciled'] },
  { first: 'mid-alias-move', restarts: ['mid-rollback'] },
  { first: 'mid-alias-move', restarts: ['mid-rollback-restored'] },
  { first: 'mid-alias-move', restarts: ['after-reconciled'] },
  { first: 'mid-alias-move', restarts: ['mid-rollback', 'mid-rollback-restored'] },
  { first: 'mid-bake', restarts: ['mid-rollback'] },
  { first: 'mid-bake', restarts: ['after-reconciled'] },
];

interface Outcome {
  readonly cell: string;
  readonly fired: boolean;
  readonly violations: string[];
}

async function runCell(cell: Cell): Promise<Outcome> {
  const name = [cell.first, ...cell.restarts].join(' → ');
  const dir = mkdtempSync(join(tmpdir(), 'sy-kill-'));
  try {
    const violations: string[] = [];
    let fired = true;
    let releaseId: string | undefined;
    for (const point of [cell.first, ...cell.restarts]) {
      const run = await runChild(dir, point);
      releaseId ??= /started (\S+)/.exec(run.stdout)?.[1];
      if (run.signal !== 'SIGKILL' || !run.stdout.includes(`fired ${point}`)) {
        fired = false;
        violations.push(
          `${point} did not kill the process (exit ${run.code}, ${run.signal}): ${run.stderr.slice(-500)}`,
        );
      }
    }
    const last = await runChild(dir, 'none');
    if (last.code !== 0) violations.push(`the last start failed (exit ${last.code}): ${last.stderr.slice(-500)}`);
    violations.push(...(await invariants(dir, releaseId)));
    return { cell: name, fired, violations };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What must hold after any cell, read by a fresh owner of the directory (which no dead process can block). */
async function invariants(dir: string, releaseId: string | undefined): Promise<string[]> {
  const violations: string[] = [];
  const rt = openLocalRuntime({ dataDir: dir, resume: true });
  try {
    const env = environments.prod;
    if (rt.store.heldLocks().length > 0) violations.push(`locks held: ${JSON.stringify(rt.store.heldLocks())}`);
    const unfinished = rt.store.unfinishedExecutions().map((e) => e.releaseId);
    if (unfinished.length > 0) violations.push(`executions never reconciled: ${unfinished.join(', ')}`);
    const live = await rt.functions.getAlias(env.functionName, env.aliases.live);
    if (!live) return [...violations, 'prod has no live alias'];
    if (live.routing) violations.push(`live still routes ${live.routing.weight} to ${live.routing.version}`);
    const digest = await rt.functions.versionImageDigest(env.functionName, live.version);
    if (!(await verifiedVersions(rt.store, env.name)).has(verifiedKey(env.functionName, live.version, digest))) {
      violations.push(`live is on version ${live.version}, which no release verified`);
    }
    const { releases } = await rt.store.listReleases({ environment: 'prod', limit: 100 });
    const setUps = releases.filter((r) => r.trigger === 'rehearsal:first-release');
    if (setUps.length !== 1) violations.push(`${setUps.length} set-up records claim a verified first release`);
    if (!releaseId) return [...violations, 'the killed release never answered 202'];
    const record = await rt.store.getRelease(releaseId);
    if (!record) return [...violations, `release ${releaseId} was lost (404)`];
    if (record.status === 'running') violations.push(`release ${releaseId} is still running`);
    const restored = /restored live to verified version (\S+)/.exec(
      record.events.findLast((e) => e.kind === 'reconciled')?.summary ?? '',
    )?.[1];
    if (restored !== undefined && restored !== live.version) {
      violations.push(`the record says live was restored to ${restored}, live is on ${live.version}`);
    }
    const green = record.targets.members[0]?.greenVersion;
    if (green !== undefined && live.version === green) {
      violations.push(`live is on the ${record.status} release's green version ${green}`);
    }
    return violations;
  } finally {
    await rt.close();
  }
}

describe('kill -9 at any point of a release or of the restart that reconciles it', () => {
  it('leaves live on a verified version, no lock held and a consistent record, however often it dies', async () => {
    const outcomes: Outcome[] = [];
    // Two cells at a time: each is three or four processes in a row.
    const queue = [...CELLS];
    await Promise.all(
      [0, 1].map(async () => {
        for (let cell = queue.shift(); cell; cell = queue.shift()) outcomes.push(await runCell(cell));
      }),
    );
    const held = outcomes.filter((o) => o.fired && o.violations.length === 0).length;
    // Straight to the terminal: the figure is the point of this test, and vitest hides console output of passing tests.
    writeSync(1, `fault matrix, kill -9 cells: cells: ${outcomes.length}, held: ${held}\n`);
    expect(outcomes.flatMap((o) => o.violations.map((v) => `${o.cell}: ${v}`))).toEqual([]);
    expect(held).toBe(CELLS.length);
  }, 600_000);
});
