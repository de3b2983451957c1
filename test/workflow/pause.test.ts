import { describe, expect, it } from 'vitest';
import { pauseRelease, resumeRelease } from '../../core/operations/pause.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { environmentsWith, ONE_MINUTE_BAKE } from '../support/environments.ts';
import { ReleaseWorld } from './harness.ts';

const MINUTE = 60_000;

/**
 * Runs a prod canary (10% for 5 minutes, then 100% for 10) on the synthesized state machine, pausing it before
 * check `pauseAt` and resuming it before check `resumeAt` (if given), and records the lock after every check.
 */
async function pausedRun(world: ReleaseWorld, pauseAt: number, resumeAt?: number) {
  const handlers = world.handlers();
  const check = handlers[STATES.check];
  const locks: { check: number; percent: number; expiresAt: string | undefined; paused: boolean }[] = [];
  handlers[STATES.check] = async (input) => {
    const done = world.checkedAt.length;
    if (done === pauseAt)
      await pauseRelease({ releaseId: 'release-1', by: 'dana', reason: 'db migration' }, world.deps);
    if (done === resumeAt) await resumeRelease({ releaseId: 'release-1', by: 'dana' }, world.deps);
    const output = await check?.(input);
    const record = await world.store.getRelease('release-1');
    locks.push({
      check: done,
      percent: world.checkedAt.at(-1) ?? 0,
      expiresAt: (await world.lock())?.expiresAt,
      paused: record?.paused !== undefined,
    });
    return output;
  };
  const result = await world.run(world.apiRequest(), { handlers });
  return { result, locks };
}

describe('pausing a bake on the synthesized state machine', () => {
  it('holds the step past its bake time, renews the lock at each check, and goes on to Released once resumed', async () => {
    const world = await new ReleaseWorld().seed();
    const acquiredExpiry = Date.parse('2026-11-26T10:00:00.000Z') + 120 * MINUTE;
    // Paused before the second check at 10%; 20 checks (20 minutes) later, resumed: four times the 5-minute bake.
    const { result, locks } = await pausedRun(world, 1, 21);

    expect(result.status).toBe('SUCCEEDED');
    expect(await world.shifts()).toEqual([10, 100]);
    expect(await world.live()).toEqual({ name: 'live', version: '2' });
    expect(await world.lock()).toBeUndefined();

    // Without the pause, the 10% step takes 8 checks (see the canary test); held, it took the 20 paused ones more.
    const atTen = world.checkedAt.filter((p) => p === 10).length;
    expect(atTen).toBeGreaterThanOrEqual(20 + 7);
    const held = locks.filter((l) => l.paused);
    expect(held).toHaveLength(20);
    expect(held.every((l) => l.percent === 10)).toBe(true);
    // Each paused check moved the lock's expiry on (to 120 minutes after it), past the expiry it was taken with.
    const expiries = held.map((l) => Date.parse(l.expiresAt ?? ''));
    for (let i = 1; i < expiries.length; i++) expect(expiries[i]).toBeGreaterThan(expiries[i - 1] ?? 0);
    expect(expiries.at(-1)).toBeGreaterThan(acquiredExpiry);

    const record = await world.store.getRelease('release-1');
    const kinds = record?.events.map((e) => e.kind) ?? [];
    // Traffic moved to 100% only after the resume.
    expect(kinds.indexOf('resumed')).toBeLessThan(kinds.lastIndexOf('traffic-shifted'));
    expect(kinds.indexOf('pause-requested')).toBeGreaterThan(kinds.indexOf('traffic-shifted'));
    const heldChecks = record?.events.filter((e) => e.kind === 'health-check' && e.summary.includes('the step holds'));
    expect(heldChecks).toHaveLength(20);
    // Paused at 10:01 (virtual); the first held check a minute later renews the lock to 120 minutes after it.
    expect(heldChecks?.[0]?.summary).toMatch(
      /→ bake: .*; paused by dana since 10:01:00 \(1 of 60 min\): the step holds; lock renewed to 12:02:00$/,
    );
  });

  it('still rolls back on an unhealthy check while paused, and frees the lock', async () => {
    // Errors from the sixth check on: the release is paused from the second check and never resumed.
    const world = await new ReleaseWorld({
      traffic: (check) => (check < 5 ? { invocations: 100, errors: 0 } : { invocations: 100, errors: 40 }),
    }).seed();
    const { result, locks } = await pausedRun(world, 1);

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.cause).toMatch(/error rate 40\.00% exceeds 1%/);
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
    // It was held (lock renewed) until the unhealthy check, and never left 10%.
    expect(locks.filter((l) => l.paused).length).toBeGreaterThanOrEqual(3);
    expect(await world.shifts()).toEqual([10]);
    const record = await world.store.getRelease('release-1');
    expect(record).toMatchObject({ status: 'rolled-back' });
    expect(record?.paused).toBeUndefined();
    // The first unhealthy check rolls back at once: the pause does not keep a failing build serving until its limit.
    const checks = record?.events.filter((e) => e.kind === 'health-check') ?? [];
    const firstUnhealthy = checks.findIndex((e) => e.summary.startsWith('unhealthy'));
    expect(firstUnhealthy).toBeGreaterThan(0);
    expect(firstUnhealthy).toBe(checks.length - 1);
    expect(result.cause).not.toContain('pause limit');
  });

  it('rolls back a pause nobody resumed once it outlasts maxPauseMinutes, saying why', async () => {
    const world = await new ReleaseWorld({
      environments: environmentsWith('prod', { maxPauseMinutes: 5, bake: ONE_MINUTE_BAKE }),
    }).seed();
    const { result } = await pausedRun(world, 1);

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.cause).toContain('longer than the 5-minute pause limit (maxPauseMinutes): rolling back');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
    expect(await world.shifts()).toEqual([10]);
  });
});
