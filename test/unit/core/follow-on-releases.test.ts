import { describe, expect, it } from 'vitest';
import { environments, lockKey } from '../../../config/environments.ts';
import { promoteToNext } from '../../../core/promotion.ts';
import { retryRelease } from '../../../core/retry.ts';
import { DIGEST, releaseRecord, releaseWorld } from './release-world.ts';

const WARNING = 'step 1 (100%) promoted without enough traffic to judge';

async function wentLiveWithWarnings(world: ReturnType<typeof releaseWorld>) {
  await world.store.createRelease(releaseRecord({ status: 'running', endedAt: undefined }));
  await world.store.update(
    'rel-1',
    { status: 'released', endedAt: '2026-11-26T09:10:00.000Z', reason: WARNING },
    {
      at: '2026-11-26T09:10:00.000Z',
      kind: 'released',
      summary: 'live → 2',
      evidence: { lastCheck: null, warnings: [WARNING] },
    },
  );
}

describe('promotion to the next environment', () => {
  it('starts the released digest in the environment the config names, linked to its source, holding its lock', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord());

    const started = await promoteToNext({ releaseId: 'rel-1', by: 'alice' }, world);

    expect(started).toEqual({
      releaseId: 'rel-staging-from-1',
      executionArn: world.executionArnFor('rel-staging-from-1'),
      environment: 'staging',
      imageDigest: DIGEST,
      replayed: false,
    });
    expect(world.started.get('rel-staging-from-1')).toEqual({
      trigger: 'api',
      environment: 'staging',
      imageDigest: DIGEST,
      repositoryName: environments.staging.repositoryName,
      requestedBy: 'alice',
      reason: 'promotion of rel-1 from dev',
      promotedFrom: 'rel-1',
    });
    expect(await world.store.getLock(lockKey(environments.staging))).toMatchObject({ releaseId: 'rel-staging-from-1' });
  });

  it('is one release however often it is asked for', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord());
    await promoteToNext({ releaseId: 'rel-1', by: 'alice', reason: 'ship it' }, world);
    const again = await promoteToNext({ releaseId: 'rel-1', by: 'bob' }, world);
    expect(again).toMatchObject({ releaseId: 'rel-staging-from-1', replayed: true });
    expect([...world.started.keys()]).toEqual(['rel-staging-from-1']);
    expect(world.started.get('rel-staging-from-1')).toMatchObject({ requestedBy: 'alice', reason: 'ship it' });
  });

  it('refuses what the config or the release does not allow, starting nothing', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord({ releaseId: 'rel-running', status: 'running' }));
    await world.store.createRelease(releaseRecord({ releaseId: 'rel-prod', environment: 'prod' }));
    await world.store.createRelease(releaseRecord());
    const refusals: [Parameters<typeof promoteToNext>[0], { name: string; message: string }][] = [
      [
        { releaseId: 'rel-running', by: 'a' },
        { name: 'ReleaseConflict', message: 'release rel-running is running; only a released digest is promoted' },
      ],
      [
        { releaseId: 'rel-prod', by: 'a' },
        { name: 'ReleaseConflict', message: 'prod promotes to no other environment' },
      ],
      [
        { releaseId: 'rel-1', by: 'a', environment: 'prod' },
        { name: 'ReleaseConflict', message: 'dev promotes to staging, not prod' },
      ],
      [
        { releaseId: 'rel-ghost', by: 'a' },
        { name: 'ReleaseNotFound', message: 'no release rel-ghost' },
      ],
    ];
    for (const [request, refusal] of refusals) {
      await expect(promoteToNext(request, world)).rejects.toMatchObject(refusal);
    }
    expect(world.started.size).toBe(0);
    expect(await world.store.getLock(lockKey(environments.staging))).toBeUndefined();
  });

  it('holds a release that went live with warnings until the caller accepts them', async () => {
    const world = releaseWorld();
    await wentLiveWithWarnings(world);

    await expect(promoteToNext({ releaseId: 'rel-1', by: 'alice' }, world)).rejects.toMatchObject({
      name: 'ReleaseConflict',
      message: `release rel-1 went live with warnings (${WARNING}); send acceptWarnings: true to promote it`,
      details: { warnings: [WARNING] },
    });
    expect(world.started.size).toBe(0);

    const started = await promoteToNext({ releaseId: 'rel-1', by: 'alice', acceptWarnings: true }, world);
    expect(started).toMatchObject({ releaseId: 'rel-staging-from-1', replayed: false });
  });

  it('promotes a release whose record predates the warnings field (no field: no warnings)', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord({ events: [{ at: 'x', kind: 'deployed', summary: 'green → 2' }] }));
    expect(await promoteToNext({ releaseId: 'rel-1', by: 'alice' }, world)).toMatchObject({ replayed: false });
  });

  it('is refused while another release holds the next environment, and leaves that lock alone', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord());
    const holder = {
      releaseId: 'rel-other',
      executionArn: world.executionArnFor('rel-other'),
      acquiredAt: '2026-11-26T09:00:00.000Z',
      expiresAt: '2026-11-26T12:00:00.000Z',
    };
    await world.store.acquireLock(lockKey(environments.staging), holder, world.clock.now());
    await expect(promoteToNext({ releaseId: 'rel-1', by: 'alice' }, world)).rejects.toMatchObject({
      name: 'ReleaseLocked',
      details: { runningRelease: 'rel-other' },
    });
    expect(world.started.size).toBe(0);
    expect(await world.store.getLock(lockKey(environments.staging))).toEqual(holder);
  });

  it('keeps at most 256 characters of who asked', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord());
    await promoteToNext({ releaseId: 'rel-1', by: 'x'.repeat(300) }, world);
    expect(world.started.get('rel-staging-from-1')?.requestedBy).toBe('x'.repeat(256));
  });
});

describe('retrying a release', () => {
  it('starts the same digest in the same environment, once, for a release that did not go live', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord({ status: 'rolled-back' }));

    const started = await retryRelease({ releaseId: 'rel-1', by: 'bob', reason: 'flaky check' }, world);
    const again = await retryRelease({ releaseId: 'rel-1', by: 'bob' }, world);

    // `rel-1` names no environment, so its retry is named by a hash after the environment it runs in.
    expect(started).toMatchObject({
      releaseId: expect.stringMatching(/^rel-dev-retry-[0-9a-f]{20}$/),
      replayed: false,
    });
    expect(started.environment).toBe('dev');
    expect(again).toMatchObject({ releaseId: started.releaseId, replayed: true });
    expect(world.started.get(started.releaseId)).toEqual({
      trigger: 'api',
      environment: 'dev',
      imageDigest: DIGEST,
      repositoryName: environments.dev.repositoryName,
      requestedBy: 'bob',
      reason: 'retry of rel-1: flaky check',
      retryOf: 'rel-1',
    });
  });

  it('refuses a release that is running or went live', async () => {
    const world = releaseWorld();
    await world.store.createRelease(releaseRecord({ releaseId: 'rel-live' }));
    await world.store.createRelease(releaseRecord({ releaseId: 'rel-run', status: 'running' }));
    await expect(retryRelease({ releaseId: 'rel-live', by: 'b' }, world)).rejects.toMatchObject({
      name: 'ReleaseConflict',
      message: 'release rel-live is released; only a failed, rolled-back or aborted release is retried',
    });
    await expect(retryRelease({ releaseId: 'rel-run', by: 'b' }, world)).rejects.toMatchObject({
      name: 'ReleaseConflict',
    });
    await expect(retryRelease({ releaseId: 'rel-ghost', by: 'b' }, world)).rejects.toMatchObject({
      name: 'ReleaseNotFound',
    });
    expect(world.started.size).toBe(0);
  });
});
