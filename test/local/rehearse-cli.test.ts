import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STRATEGY_PRESETS, strategyPreset } from '../../config/traffic-plan.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm start -- …` without the npm wrapper: `switchyard local rehearse`, as the start script runs it. */
function rehearse(...args: string[]) {
  return spawnSync('npx', ['tsx', 'cli/switchyard.ts', 'local', 'rehearse', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('npm start options', () => {
  it('npm start is switchyard local rehearse', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8'));
    expect(pkg.scripts.start).toBe('tsx cli/switchyard.ts local rehearse');
  });

  it('refuses bad options with exit 64 and one line that says what is wrong, before building anything', () => {
    const cases: [string[], string][] = [
      [['--strategy', 'bogus'], 'unknown strategy "bogus": use config, all-at-once, canary, linear'],
      [['--fail-rate', '2'], 'must be a decimal number from 0 to 1'],
      [['--fail-rate', '0x1'], 'must be a decimal number from 0 to 1'],
      [['--env', 'nope'], 'Allowed choices are dev, staging, prod'],
      [['--speedup', '1e2'], 'must be a decimal number from 1 to 3600'],
      [['--fail-helth'], 'Did you mean --fail-health?'],
    ];
    for (const [args, message] of cases) {
      const result = rehearse(...args);
      expect([args, result.status]).toEqual([args, 64]);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(message);
    }
  });

  it('names its strategy presets the way the CLI does', () => {
    expect(strategyPreset('canary')).toEqual(STRATEGY_PRESETS.canary);
    expect(strategyPreset('config')).toBeUndefined();
    expect(strategyPreset(undefined)).toBeUndefined();
  });
});
