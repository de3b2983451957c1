import { describe, expect, it } from 'vitest';
import { environments, lockKey } from '../../../config/environments.ts';
import { holdForPause, pauseRelease, resumeRelease } from '../../../core/pause.ts';
import type { ReleaseEvent } from '../../../core/ports.ts';
import type { ReleaseContext } from '../../../core/release-context.ts';
import { environmentsWith } from '../../support/environments.ts';
import { releaseRecord, releaseWorld } from './release-world.ts';

const shifted: ReleaseEvent = {
  at: '2026-11-26T09:02:00.000Z',
  kind: 'traffic-shifted',
  summary: 'live → 10% on 2',
  evidence: { stepIndex: 0, stepCount: 2, percent: 10, bakeSeconds: 300 },
};

async function baking(world = releaseWorld(), events: ReleaseEvent[] = [shifted]) {
  await world.store.createRelease(releaseRecord({ status: 'running', environment: 'prod', events }));
  return world;
}

describe('pausing a release', () => {
  it('records who paused a baking release and why, and when the pause runs out', async () => {
    const world = await baking();
    const outcome = await pauseRelease({ releaseId: 'rel-1', by: 'dana', reason: 'db migration' }, world);
    const now = world.clock.now();
    expect(outcome).toEqual({
      releaseId: 'rel-1',
      by: 'dana',
      pausedAt: now.toISOString(),
      rollsBackAfter: new Date(now.getTime() + 60 * 60_000).toISOString(),
      maxPauseMinutes: 60,
    });
    const record = await world.store.getRelease('rel-1');
    expect(record?.paused).toEqual({ pausedAt: now.toISOString(), by: 'dana', reason: 'db migration' });
    expect(record?.events.at(-1)?.summary).toBe('paused by dana at step 1 of 2 (10%): db migration');
  });

  it('refuses a release that has not shifted traffic yet', async () => {
    const world = await baking(releaseWorld(), []);
    await expect(pauseRelease({ releaseId: 'rel-1', by: 'dana' }, world)).rejects.toMatchObject({
      name: 'ReleaseConflict',
      message: 'release rel-1 has not shifted traffic yet: nothing is baking to pause',
    });
  });

  it('refuses a release waiting for approval', async () => {
    const world = await baking(releaseWorld(), [
      { at: '2026-11-26T09:01:00.000Z', kind: 'approval-requested', summary: 'waiting', evidence: { expiresAt: 'x' } },
    ]);
    await expect(pauseRelease({ releaseId: 'rel-1', by: 'dana' }, world)).rejects.toMatchObject({
      name: 'ReleaseConflict',
      message: 'release rel-1 is waiting for approval, not baking: approve or reject it (a pause holds a bake)',
    });
  });

  it('refuses a release that has ended, one already paused, and one nobody started', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord({ status: 'released' }));
    await expect(pauseRelease({ releaseId: 'rel-1', by: 'dana' }, world)).rejects.toMatchObject({
      name: 'ReleaseNotRunning',
      message: 'release rel-1 has ended (released)',
    });
    await expect(pauseRelease({ releaseId: 'rel-x', by: 'dana' }, world)).rejects.toMatchObject({
      name: 'ReleaseNotFound',
    });
    const paused = await baking(releaseWorld());
    await pauseRelease({ releaseId: 'rel-1', by: 'dana' }, paused);
    await expect(pauseRelease({ releaseId: 'rel-1', by: 'erin' }, paused)).rejects.toMatchObject({
      name: 'ReleaseConflict',
      message: `release rel-1 is already paused since ${paused.clock.now().toISOString()} by dana`,
    });
  });

  it('refuses where the environment allows no pause', async () => {
    const world = await baking({ ...releaseWorld(), environments: environmentsWith('prod', { maxPauseMinutes: 0 }) });
    await expect(pauseRelease({ releaseId: 'rel-1', by: 'dana' }, world)).rejects.toMatchObject({
      name: 'ReleaseConflict',
      message: 'prod allows no pause (maxPauseMinutes is 0 or unset)',
    });
  });
});

describe('resuming a release', () => {
  it('clears the pause and records how long it held', async () => {
    const world = await baking();
    await pauseRelease({ releaseId: 'rel-1', by: 'dana' }, world);
    world.clock.advance(150);
    expect(await resumeRelease({ releaseId: 'rel-1', by: 'erin' }, world)).toEqual({
      releaseId: 'rel-1',
      by: 'erin',
      pausedSeconds: 150,
    });
    const record = await world.store.getRelease('rel-1');
    expect(record?.paused).toBeUndefined();
    expect(record?.events.at(-1)).toMatchObject({ kind: 'resumed', evidence: { by: 'erin', pausedSeconds: 150 } });
  });

  it('refuses a release that is not paused', async () => {
    const world = await baking();
    await expect(resumeRelease({ releaseId: 'rel-1', by: 'erin' }, world)).rejects.toMatchObject({
      name: 'ReleaseConflict',
      message: 'release rel-1 is not paused',
    });
  });
});

describe('what a pause means to Check health', () => {
  const env = environments.prod;
  const context = {
    releaseId: 'rel-1',
    environment: 'prod',
    lockKey: lockKey(env),
    maxPauseSeconds: 600,
    lockTtlMinutes: 120,
  } as ReleaseContext;
  const key = lockKey(env);

  async function pausedWithLock() {
    const world = await baking();
    const now = world.clock.now();
    await world.store.acquireLock(
      key,
      {
        releaseId: 'rel-1',
        executionArn: 'arn',
        acquiredAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 120 * 60_000).toISOString(),
      },
      now,
    );
    await pauseRelease({ releaseId: 'rel-1', by: 'dana' }, world);
    return world;
  }

  it('holds and renews the lock to its lifetime from now', async () => {
    const world = await pausedWithLock();
    world.clock.advance(300);
    const now = world.clock.now();
    const hold = await holdForPause(context, await world.store.getRelease('rel-1'), now, world.store);
    expect(hold).toMatchObject({ held: true, expired: false });
    expect((await world.store.getLock(key))?.expiresAt).toBe(new Date(now.getTime() + 120 * 60_000).toISOString());
  });

  it('rolls back past the pause limit, leaving the lock as it was', async () => {
    const world = await pausedWithLock();
    const before = await world.store.getLock(key);
    world.clock.advance(601);
    const hold = await holdForPause(context, await world.store.getRelease('rel-1'), world.clock.now(), world.store);
    expect(hold).toMatchObject({ held: false, expired: true });
    expect(hold.expired && hold.reason).toMatch(/longer than the 10-minute pause limit \(maxPauseMinutes\)/);
    expect(await world.store.getLock(key)).toEqual(before);
  });

  it('rolls back when the lock is no longer this release’s', async () => {
    const world = await pausedWithLock();
    await world.store.releaseLock(key, 'rel-1');
    const hold = await holdForPause(context, await world.store.getRelease('rel-1'), world.clock.now(), world.store);
    expect(hold).toMatchObject({ held: false, expired: true });
    expect(await world.store.getLock(key)).toBeUndefined();
  });

  it('does nothing for a release that is not paused', async () => {
    const world = await baking();
    const hold = await holdForPause(context, await world.store.getRelease('rel-1'), world.clock.now(), world.store);
    expect(hold).toEqual({ held: false, expired: false });
  });
});
