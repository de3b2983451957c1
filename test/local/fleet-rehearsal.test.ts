import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetRehearsalEnvironments } from '../../local/fleet-rehearsal.ts';
import { rehearse } from '../../local/rehearsal.ts';
import { SqliteReleaseStore } from '../../local/sqlite-release-store.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { openLocalRuntime } from '../../wiring/local.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-fleet-rehearsal-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the fleet rehearsal (npm start -- --fleet N)', () => {
  it('builds a valid prod fleet of N members, keeping only the waves that move someone new', () => {
    expect(fleetRehearsalEnvironments('prod', 12).prod?.fleet?.waves).toHaveLength(3);
    expect(fleetRehearsalEnvironments('prod', 3).prod?.fleet?.waves).toEqual([{ members: 1 }, { percent: 100 }]);
    expect(fleetRehearsalEnvironments('prod', 1).prod?.fleet?.waves).toEqual([{ members: 1 }]);
    expect(() => fleetRehearsalEnvironments('prod', 0)).toThrow(/--fleet must be a whole number from 1 to 24/);
  });

  it('halts the fleet on the faulty member of wave 2 and ends ROLLED BACK with every member back on blue', async () => {
    // ×120 and 30 requests a second per member: the faulty member serves tens of requests once it takes its whole
    // traffic, and the default fault fails half of them after its fifth, so it trips even on a slow machine.
    const report = await rehearse(
      { environment: 'prod', speedup: 120, ratePerSecond: 60, dataDir, fleet: { members: 3 } },
      openLocalRuntime,
    );
    expect(report.outcome).toBe('rolled-back');
    expect(report.fleet?.faultyMember).toBe('m02');
    expect(report.fleet?.trippedBy).toBe('m02');
    expect(report.fleet?.members.map((m) => [m.name, m.live])).toEqual([
      ['m01', { version: '1' }],
      ['m02', { version: '1' }],
      ['m03', { version: '1' }],
    ]);
    const entered = report.result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    expect(entered.filter((s) => s === STATES.deployMember)).toHaveLength(3);
    expect(entered).toContain(STATES.rollBack);
    const store = new SqliteReleaseStore(join(dataDir, 'releases.sqlite'));
    try {
      expect(await store.getLock('switchyard-api-prod#prod')).toBeUndefined();
    } finally {
      store.close();
    }
  }, 240_000);
});
