import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
      stdio: ['ignore', 'ignore', 'pipe'],
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

  it('names its strategy presets the way the CLI does', () => {
    expect(strategyPreset('canary')).toEqual(STRATEGY_PRESETS.canary);
    expect(strategyPreset('config')).toBeUndefined();
    expect(strategyPreset(undefined)).toBeUndefined();
  });
});
