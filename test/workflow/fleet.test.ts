import { describe, expect, it } from 'vitest';
import { followOnInput } from '../../core/operations/follow-on.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { enteredStates, FLEET_MEMBERS, FleetWorld } from './fleet-harness.ts';

describe('a fleet release on the synthesized state machine (5 members, 3 waves)', () => {
  it('deploys and verifies every member in the Map, moves the waves in order and ends with every member live on green', async () => {
    const world = await new FleetWorld().seed();
    const result = await world.run(world.apiRequest());

    expect(result.status).toBe('SUCCEEDED');
    const states = enteredStates(result);
    expect(states.filter((s) => s === STATES.deployMember)).toHaveLength(5);
    expect(states.filter((s) => s === STATES.verifyMember)).toHaveLength(5);
    expect(states).not.toContain(STATES.deploy);
    for (const name of FLEET_MEMBERS) {
      expect(await world.memberLive(name)).toEqual({ name: 'live', version: '2' });
      expect(await world.memberAlias(name, 'blue')).toEqual({ name: 'blue', version: '1' });
      expect(await world.memberAlias(name, 'green')).toEqual({ name: 'green', version: '2' });
    }
    expect(await world.lock()).toBeUndefined();
    const record = await world.store.getRelease('release-1');
    expect(record?.status).toBe('released');
    expect(record?.fleet?.members.map((m) => [m.name, m.wave, m.phase, m.percent, m.greenVersion])).toEqual([
      ['m1', 0, 'live', 100, '2'],
      ['m2', 1, 'live', 100, '2'],
      ['m3', 1, 'live', 100, '2'],
      ['m4', 2, 'live', 100, '2'],
      ['m5', 2, 'live', 100, '2'],
    ]);
    // The canary plan (10%, then 100%) once per wave, each shift naming its wave and the members it moved.
    const shifts = (record?.events ?? [])
      .filter((e) => e.kind === 'traffic-shifted')
      .map((e) => (e.kind === 'traffic-shifted' ? [e.evidence?.fleet?.wave, e.evidence?.percent] : []));
    expect(shifts).toEqual([
      [0, 10],
      [0, 100],
      [1, 10],
      [1, 100],
      [2, 10],
      [2, 100],
    ]);
    // Each member's own events carry its name.
    const deployed = (record?.events ?? []).filter((e) => e.kind === 'deployed');
    expect(deployed.map((e) => (e.kind === 'deployed' ? e.evidence?.member : undefined)).sort()).toEqual([
      ...FLEET_MEMBERS,
    ]);
    // The state payloads stay small: the largest state output of this release.
    const largest = Math.max(...result.events.map((e) => JSON.stringify(e.output ?? null).length));
    expect(largest).toBeLessThan(64 * 1024);
  });

  it('halts the fleet on a fault in a wave-2 member: waves 1 and 2 roll back, nobody stays on green, the lock is freed', async () => {
    // m3 (in wave 2) fails half its requests once its canary takes traffic; wave 1 (m1) released cleanly before.
    const world = await new FleetWorld({ errorRate: { m3: 0.5 } }).seed();
    const result = await world.run(world.apiRequest());

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ReleaseRolledBack');
    expect(enteredStates(result)).toContain(STATES.rollBack);
    for (const name of FLEET_MEMBERS) {
      expect(await world.memberLive(name)).toEqual({ name: 'live', version: '1' });
    }
    expect(await world.lock()).toBeUndefined();
    const record = await world.store.getRelease('release-1');
    expect(record?.status).toBe('rolled-back');
    expect(record?.fleet?.trippedBy).toBe('m3');
    expect(record?.fleet?.currentWave).toBeNull();
    const phases = Object.fromEntries((record?.fleet?.members ?? []).map((m) => [m.name, m.phase]));
    expect(phases).toEqual({ m1: 'rolled-back', m2: 'rolled-back', m3: 'rolled-back', m4: 'verified', m5: 'verified' });
    const halted = record?.events.find((e) => e.kind === 'fleet-halted');
    expect(halted?.kind === 'fleet-halted' && halted.evidence?.trippedBy).toBe('m3');
    expect(halted?.kind === 'fleet-halted' && halted.evidence?.wave).toBe(1);
    const restored = record?.events.find((e) => e.kind === 'fleet-rolled-back');
    expect(restored?.kind === 'fleet-rolled-back' && restored.evidence).toMatchObject({
      restored: [
        { member: 'm1', version: '1' },
        { member: 'm2', version: '1' },
        { member: 'm3', version: '1' },
      ],
      untouched: ['m4', 'm5'],
      trippedBy: 'm3',
    });
    // Wave 3 never moved.
    const waves = (record?.events ?? []).flatMap((e) =>
      e.kind === 'traffic-shifted' && e.evidence?.fleet ? [e.evidence.fleet.wave] : [],
    );
    expect(Math.max(...waves)).toBe(1);
    expect(result.cause).toContain('m3');
  });

  it('a retry of the halted fleet release is a fleet release again: every member deployed, verified and judged', async () => {
    // m3's new version still fails, so the retry halts too; what matters is that it releases the whole fleet.
    const world = await new FleetWorld({ errorRate: { m3: 0.5 } }).seed();
    await world.run(world.apiRequest());
    const first = await world.store.getRelease('release-1');
    const env = world.environments.prod;
    if (!first || !env) throw new Error('no first release');

    const retry = await world.run(followOnInput(first, env, 'ops', 'retry after the fix', { retryOf: 'release-1' }), {
      name: 'release-1-retry',
    });
    const states = enteredStates(retry);
    expect(states.filter((s) => s === STATES.deployMember)).toHaveLength(5);
    expect(states.filter((s) => s === STATES.verifyMember)).toHaveLength(5);
    expect(states).not.toContain(STATES.deploy);
    const record = await world.store.getRelease('release-1-retry');
    expect(record?.fleet?.members.map((m) => m.name)).toEqual([...FLEET_MEMBERS]);
    expect(record).toMatchObject({ status: 'rolled-back', digest: first.digest });
    expect(record?.fleet?.trippedBy).toBe('m3');
    expect(record?.events[0]?.summary).toContain('retry of release-1');
    for (const name of FLEET_MEMBERS) expect(await world.memberLive(name)).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
  });
});

describe('a 100-member fleet (the size the design is sized for)', () => {
  it('keeps every state payload and the execution well inside Step Functions limits', async () => {
    const members = Array.from({ length: 100 }, (_, i) => `n${String(i + 1).padStart(3, '0')}`);
    // Short bakes: the payloads depend on the fleet's size, not on how long it bakes.
    const world = await new FleetWorld({ perCheck: 600 }, members, {
      patch: { strategy: { kind: 'canary', percent: 10, bakeMinutes: 1 }, bake: { minutes: 2 } },
    }).seed();
    const result = await world.run(world.apiRequest());
    expect(result.status).toBe('SUCCEEDED');
    const payloads = result.events.flatMap((e) => [e.input, e.output].filter((p) => p !== undefined));
    const largest = Math.max(...payloads.map((p) => Buffer.byteLength(JSON.stringify(p))));
    const transitions = result.events.filter((e) => e.type === 'StateEntered').length;
    process.stdout.write(
      `fleet N=100: largest state payload ${largest} bytes (limit 262144), ${transitions} states entered, ${result.events.length} engine events\n`,
    );
    // A quarter of the 256 KiB limit, as payload-bound.test.ts holds single releases to.
    expect(largest).toBeLessThan(64 * 1024);
    const record = await world.store.getRelease('release-1');
    expect(record?.fleet?.members.every((m) => m.phase === 'live')).toBe(true);
    // About 40 s on a loaded 2-core machine (100 members' traffic through the in-memory metrics): a generous budget,
    // not a speed check.
  }, 600_000);
});
