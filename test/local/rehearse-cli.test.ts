import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STRATEGY_PRESETS, strategyPreset } from '../../config/traffic-plan.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm start -- …` without the npm wrapper: the rehearsal's own command line. */
function rehearse(...args: string[]) {
  return spawnSync('npx', ['tsx', 'local/rehearse.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

describe('npm start options', () => {
  it('refuses bad options with exit 64 and says what is wrong, before building anything', () => {
    const strategy = rehearse('--strategy', 'bogus');
    expect(strategy.status).toBe(64);
    expect(strategy.stderr).toContain('unknown strategy "bogus": use config, all-at-once, canary, linear');
    const rate = rehearse('--fail-rate', '2');
    expect(rate.status).toBe(64);
    expect(rate.stderr).toContain('--fail-rate must be a number from 0 to 1');
    const onset = rehearse('--fail-at-minute', 'soon');
    expect(onset.status).toBe(64);
    expect(onset.stderr).toContain('--fail-at-minute must be a number from 0 to 1440');
  });

  it('names its strategy presets the way the CLI does', () => {
    expect(strategyPreset('canary')).toEqual(STRATEGY_PRESETS.canary);
    expect(strategyPreset('config')).toBeUndefined();
    expect(strategyPreset(undefined)).toBeUndefined();
  });
});
