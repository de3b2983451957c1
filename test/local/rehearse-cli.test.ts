import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STRATEGY_PRESETS, strategyPreset } from '../../config/traffic-plan.ts';
import { type ChildOutput, childOutput } from '../support/child-output.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `npm start -- …` without the npm wrapper: `switchyard local rehearse`, as the start script runs it, on this
 * test's own Node with tsx's loader (what `tsx` itself runs).
 */
function rehearse(...args: string[]): Promise<ChildOutput> {
  return childOutput(
    spawn(process.execPath, ['--import', 'tsx', 'cli/switchyard.ts', 'local', 'rehearse', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    }),
  );
}

describe('npm start options', () => {
  it('npm start is switchyard local rehearse', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8'));
    expect(pkg.scripts.start).toBe('tsx cli/switchyard.ts local rehearse');
  });

  // Thirteen CLI processes, two at a time: a loaded machine needs more than the default minute for them.
  it('refuses bad options with exit 64 and one line that names the option and what it accepts', {
    timeout: 240_000,
  }, async () => {
    const refusals: [string[], string][] = [
      [['--env', 'nope'], '--env must be one of dev, staging, prod; got "nope"'],
      [['--strategy', 'bogus'], '--strategy must be one of config, all-at-once, canary, linear; got "bogus"'],
      [['--fail-rate', '2'], '--fail-rate must be a number from 0 to 1, written in decimal; got "2"'],
      [['--fail-rate', '0x1'], '--fail-rate must be a number from 0 to 1, written in decimal; got "0x1"'],
      [['--speedup', '1e2'], '--speedup must be a number from 1 to 3600, written in decimal; got "1e2"'],
      [['--rate', ' 5'], '--rate must be a number from 1 to 2000, written in decimal; got " 5"'],
      [['--latency-ms=-1'], '--latency-ms must be a number from 0 to 60000, written in decimal; got "-1"'],
      [['--latency-ms', '-1'], '--latency-ms must be a number from 0 to 60000, written in decimal; got "-1"'],
      [['--bogus'], "unknown option '--bogus'"],
      [
        ['--fail-at-minute', 'soon'],
        '--fail-at-minute must be a number from 0 to 1440, written in decimal; got "soon"',
      ],
      [['--fail-helth'], "unknown option '--fail-helth' (Did you mean --fail-health?)"],
      [
        ['--downstream-fail-rate', '1.5'],
        '--downstream-fail-rate must be a number from 0 to 1, written in decimal; got "1.5"',
      ],
      [
        ['--downstream-minutes', 'x'],
        '--downstream-minutes must be a number from 0 to 1440, written in decimal; got "x"',
      ],
    ];
    const runs: ChildOutput[] = [];
    for (let i = 0; i < refusals.length; i += 2) {
      runs.push(...(await Promise.all(refusals.slice(i, i + 2).map(([args]) => rehearse(...args)))));
    }
    for (const [index, [args, message]] of refusals.entries()) {
      const run = runs[index];
      if (run === undefined) throw new Error(`no run for ${args.join(' ')}`);
      expect(run.code, args.join(' ')).toBe(64);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stderr, args.join(' ')).toContain(message);
    }
  });

  it('ends a fleet rehearsal ROLLED BACK with exit 1, its summary listing every member', {
    timeout: 240_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-rehearse-cli-'));
    try {
      const run = await rehearse('--fleet', '3', '--data-dir', dataDir);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toMatch(/^ROLLED BACK: release rel-prod-\S+ in prod$/m);
      expect(run.stdout).toContain('\n  fleet: 3 members; the fault was in m02; halted by m02\n');
      for (const [name, wave] of [
        ['m01', 1],
        ['m02', 2],
        ['m03', 2],
      ]) {
        expect(run.stdout).toContain(`\n    ${name} (wave ${wave}): live on version 1, blue 1, rolled-back\n`);
      }
      // A fleet's members replace the single function's live line.
      expect(run.stdout).not.toMatch(/^ {2}live: /m);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('names its strategy presets the way the CLI does', () => {
    expect(strategyPreset('canary')).toEqual(STRATEGY_PRESETS.canary);
    expect(strategyPreset('config')).toBeUndefined();
    expect(strategyPreset(undefined)).toBeUndefined();
  });
});
