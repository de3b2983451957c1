import { describe, expect, it } from 'vitest';
import { abortRelease } from '../../../core/operations/abort.ts';
import { releaseRecord, releaseWorld } from './release-world.ts';

describe('aborting a release', () => {
  it('records who asked and why, then stops the execution with that cause', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord({ status: 'running' }));
    world.running.add('rel-1');

    const outcome = await abortRelease({ releaseId: 'rel-1', by: 'bob', reason: 'change freeze' }, world);

    expect(outcome).toEqual({ releaseId: 'rel-1', by: 'bob', cause: 'aborted by bob: change freeze' });
    expect(world.stopped).toEqual([{ releaseId: 'rel-1', cause: 'aborted by bob: change freeze' }]);
    const record = await world.store.getRelease('rel-1');
    expect(record?.events.at(-1)).toEqual({
      at: world.clock.now().toISOString(),
      kind: 'abort-requested',
      summary: 'aborted by bob: change freeze',
      evidence: { by: 'bob', reason: 'change freeze' },
    });
    // The record stays running: the reconcile rule closes it once the execution has stopped.
    expect(record?.status).toBe('running');
  });

  it('needs no reason', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord({ status: 'running' }));
    expect((await abortRelease({ releaseId: 'rel-1', by: 'bob' }, world)).cause).toBe('aborted by bob');
  });

  it('stops a release still in Validate release, which has an execution and no record yet', async () => {
    const world = releaseWorld();
    world.running.add('rel-early');
    await abortRelease({ releaseId: 'rel-early', by: 'bob' }, world);
    expect(world.stopped).toEqual([{ releaseId: 'rel-early', cause: 'aborted by bob' }]);
    expect(await world.store.getRelease('rel-early')).toBeUndefined();
  });

  it('refuses a release that has ended, stopping and recording nothing', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord({ status: 'rolled-back' }));
    await expect(abortRelease({ releaseId: 'rel-1', by: 'bob' }, world)).rejects.toMatchObject({
      name: 'ReleaseNotRunning',
      message: 'release rel-1 has ended (rolled-back)',
    });
    expect(world.stopped).toEqual([]);
    expect((await world.store.getRelease('rel-1'))?.events).toEqual([]);
  });

  it('refuses a release nobody started', async () => {
    const world = releaseWorld();
    await expect(abortRelease({ releaseId: 'rel-ghost', by: 'bob' }, world)).rejects.toMatchObject({
      name: 'ReleaseNotFound',
      message: 'no running release rel-ghost',
    });
    expect(world.stopped).toEqual([]);
  });
});
