import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../adapters/memory/clocks.ts';
import { MemoryFunctionVersions } from '../../../adapters/memory/memory-functions.ts';
import { MemoryNotifier } from '../../../adapters/memory/memory-notifier.ts';
import { MemoryReleaseStore } from '../../../adapters/memory/memory-release-store.ts';
import { environments } from '../../../config/environments.ts';
import { rollbackEnvironment } from '../../../core/environment-rollback.ts';
import { requestFastForward } from '../../../core/fast-forward.ts';
import type { FunctionVersions, ReleaseRecord } from '../../../core/ports.ts';
import { singleTarget } from '../../../core/ports.ts';
import { reconcileStoppedExecution } from '../../../core/reconcile.ts';
import { environmentsWith } from '../../support/environments.ts';

const FN = 'switchyard-api-prod';
const LOCK = `${FN}#prod`;

async function world() {
  const functions = new MemoryFunctionVersions();
  functions.createFunction(FN);
  for (const digest of ['sha256:aaaa', 'sha256:bbbb']) {
    const { codeSha256 } = await functions.updateCodeAndWait(FN, `repo@${digest}`);
    await functions.publishVersion(FN, digest, codeSha256);
  }
  const deps = {
    environments,
    functions,
    store: new MemoryReleaseStore(),
    notifier: new MemoryNotifier(),
    clock: new ManualClock(),
  };
  return deps;
}

function record(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    releaseId: 'rel-1',
    executionArn: 'arn:exec:rel-1',
    environment: 'prod',
    targets: singleTarget({ functionName: FN, blueVersion: '1', greenVersion: '2' }),
    imageUri: 'repo@sha256:bbbb',
    digest: 'sha256:bbbb',
    status: 'running',
    startedAt: '2026-11-26T09:00:00.000Z',
    trigger: 'api:test',
    events: [],
    ...overrides,
  };
}

async function holdLock(deps: Awaited<ReturnType<typeof world>>, releaseId = 'rel-1') {
  await deps.store.acquireLock(
    LOCK,
    {
      releaseId,
      executionArn: `arn:exec:${releaseId}`,
      acquiredAt: '2026-11-26T09:00:00Z',
      expiresAt: '2026-11-26T12:00:00Z',
    },
    deps.clock.now(),
  );
}

describe('reconciling a stopped execution', () => {
  it('puts live back on blue when the release had moved it, closes the record and frees the lock', async () => {
    const deps = await world();
    await deps.functions.ensureAlias(FN, 'live', '1');
    await deps.functions.updateAlias(FN, 'live', '1', { version: '2', weight: 0.1 });
    await deps.store.createRelease(record());
    await holdLock(deps);

    const result = await reconcileStoppedExecution(
      { name: 'rel-1', executionArn: 'arn:exec:rel-1', status: 'ABORTED' },
      deps,
    );

    expect(await deps.functions.getAlias(FN, 'live')).toEqual({ name: 'live', version: '1' });
    expect(result.live).toEqual({ version: '1', routing: false });
    expect(await deps.store.getRelease('rel-1')).toMatchObject({ status: 'aborted' });
    expect(await deps.store.getLock(LOCK)).toBeUndefined();
    expect(deps.notifier.sent).toMatchObject([{ outcome: 'reconciled', releaseId: 'rel-1' }]);
  });

  it('leaves live alone when something else moved it, and still frees the lock', async () => {
    const deps = await world();
    await deps.functions.ensureAlias(FN, 'live', '1');
    await deps.store.createRelease(
      record({ targets: singleTarget({ functionName: FN, blueVersion: '2', greenVersion: '2' }) }),
    );
    await holdLock(deps);
    const result = await reconcileStoppedExecution({ name: 'rel-1', executionArn: 'x', status: 'TIMED_OUT' }, deps);
    expect(await deps.functions.getAlias(FN, 'live')).toEqual({ name: 'live', version: '1' });
    expect(result.actions).toContain('live was not moved by this release');
    expect(await deps.store.getRelease('rel-1')).toMatchObject({ status: 'failed' });
    expect(await deps.store.getLock(LOCK)).toBeUndefined();
  });

  it('does nothing for a release that had already concluded, and never frees another release’s lock', async () => {
    const deps = await world();
    await deps.functions.ensureAlias(FN, 'live', '2');
    await deps.store.createRelease(record({ status: 'rolled-back' }));
    await holdLock(deps, 'rel-other');
    const result = await reconcileStoppedExecution({ name: 'rel-1', executionArn: 'x', status: 'FAILED' }, deps);
    expect(result.actions).toEqual(['nothing to do: the release had cleaned up']);
    expect(await deps.functions.getAlias(FN, 'live')).toEqual({ name: 'live', version: '2' });
    expect(await deps.store.getLock(LOCK)).toMatchObject({ releaseId: 'rel-other' });
    expect(deps.notifier.sent).toEqual([]);
  });

  it('frees the lock of a release refused before it had a record, from the execution input', async () => {
    const deps = await world();
    await holdLock(deps, 'rel-early');
    const result = await reconcileStoppedExecution(
      { name: 'rel-early', executionArn: 'x', status: 'ABORTED', input: { environment: 'prod' } },
      deps,
    );
    expect(result.actions).toEqual([
      'recorded the release as aborted, so a Validate release still in flight starts nothing',
      'freed the environment lock',
    ]);
    expect(await deps.store.getLock(LOCK)).toBeUndefined();
    expect(await deps.store.getRelease('rel-early')).toMatchObject({
      status: 'aborted',
      reason: 'execution aborted before Validate release recorded it',
    });
  });
});

describe('instant environment rollback', () => {
  it('moves live to the version blue keeps, records it in the history and frees its lock', async () => {
    const deps = await world();
    await deps.functions.ensureAlias(FN, 'live', '2');
    await deps.functions.ensureAlias(FN, 'blue', '1');
    const result = await rollbackEnvironment('prod', 'alice', 'checkout errors after release', deps);
    expect(result).toEqual({
      environment: 'prod',
      from: '2',
      to: '1',
      by: 'alice',
      reason: 'checkout errors after release',
    });
    expect(await deps.functions.getAlias(FN, 'live')).toEqual({ name: 'live', version: '1' });
    expect(await deps.store.getLock(LOCK)).toBeUndefined();
    const history = await deps.store.listReleases({ environment: 'prod' });
    expect(history.releases[0]).toMatchObject({ status: 'rolled-back', trigger: 'manual-rollback:alice' });
    expect(history.releases[0]?.targets.members).toMatchObject([{ greenVersion: '1', phase: 'rolled-back' }]);
    expect(deps.notifier.sent[0]).toMatchObject({ outcome: 'environment-rolled-back' });
  });

  it('refuses while a release runs, naming it, and touches nothing', async () => {
    const deps = await world();
    await deps.functions.ensureAlias(FN, 'live', '2');
    await deps.functions.ensureAlias(FN, 'blue', '1');
    await holdLock(deps, 'rel-running');
    await expect(rollbackEnvironment('prod', 'alice', 'why', deps)).rejects.toThrow(
      'prod is busy: release rel-running is running; abort it to roll back',
    );
    expect(await deps.functions.getAlias(FN, 'live')).toEqual({ name: 'live', version: '2' });
    expect(await deps.store.getLock(LOCK)).toMatchObject({ releaseId: 'rel-running' });
  });

  it('refuses without a reason, for an unknown environment, or when live already runs blue', async () => {
    const deps = await world();
    await deps.functions.ensureAlias(FN, 'live', '1');
    await deps.functions.ensureAlias(FN, 'blue', '1');
    await expect(rollbackEnvironment('prod', 'a', '  ', deps)).rejects.toThrow('a rollback needs a reason');
    await expect(rollbackEnvironment('qa', 'a', 'r', deps)).rejects.toThrow('unknown environment "qa"');
    await expect(rollbackEnvironment('prod', 'a', 'r', deps)).rejects.toThrow('live already runs version 1');
    expect(await deps.store.getLock(LOCK)).toBeUndefined();
  });
});

describe('instant rollback of a fleet environment', () => {
  const MEMBERS = ['m1', 'm2', 'm3', 'm4'];
  const fn = (member: string) => `switchyard-api-prod-${member}`;

  /** Prod with a 4-member fleet, each member on version 2 behind live with version 1 on blue. */
  async function fleetWorld() {
    const deps = await world();
    for (const member of MEMBERS) {
      deps.functions.createFunction(fn(member));
      for (const digest of ['sha256:aaaa', 'sha256:bbbb']) {
        const { codeSha256 } = await deps.functions.updateCodeAndWait(fn(member), `repo@${digest}`);
        await deps.functions.publishVersion(fn(member), digest, codeSha256);
      }
      await deps.functions.ensureAlias(fn(member), 'live', '2');
      await deps.functions.ensureAlias(fn(member), 'blue', '1');
    }
    const environments = environmentsWith('prod', {
      lockTtlMinutes: 6 * 60,
      fleet: {
        deployConcurrency: 2,
        waves: [{ members: 1 }, { percent: 100 }],
        members: MEMBERS.map((name) => ({ name, functionName: fn(name) })),
      },
    });
    return { ...deps, environments };
  }

  it("moves every member's live back to its own blue, drops a stray split, records each member and frees the lock", async () => {
    const deps = await fleetWorld();
    await deps.functions.updateAlias(fn('m2'), 'live', '1', { version: '2', weight: 0.1 });
    await deps.functions.updateAlias(fn('m4'), 'live', '1');
    const result = await rollbackEnvironment('prod', 'alice', 'checkout errors after release', deps);
    expect(result.members).toEqual([
      { member: 'm1', functionName: fn('m1'), from: '2', to: '1' },
      { member: 'm2', functionName: fn('m2'), from: '1 + 10% on 2', to: '1' },
      { member: 'm3', functionName: fn('m3'), from: '2', to: '1' },
    ]);
    expect(result.skipped).toEqual([{ member: 'm4', why: 'already on version 1' }]);
    for (const member of MEMBERS) {
      expect(await deps.functions.getAlias(fn(member), 'live'), member).toEqual({ name: 'live', version: '1' });
    }
    expect(await deps.store.getLock(LOCK)).toBeUndefined();
    const [recorded] = (await deps.store.listReleases({ environment: 'prod' })).releases;
    expect(recorded).toMatchObject({ status: 'rolled-back', trigger: 'manual-rollback:alice' });
    expect(recorded?.targets.members.map((m) => [m.name, m.phase])).toEqual([
      ['m1', 'rolled-back'],
      ['m2', 'rolled-back'],
      ['m3', 'rolled-back'],
      ['m4', 'pending'],
    ]);
    expect((await deps.store.getRelease(recorded?.releaseId ?? ''))?.events.at(-1)?.summary).toBe(
      "live 3 members off their blue → each member's blue by alice: checkout errors after release " +
        '(m1 2 → 1, m2 1 + 10% on 2 → 1, m3 2 → 1, m4 left (already on version 1))',
    );
    expect(deps.notifier.sent[0]).toMatchObject({ outcome: 'environment-rolled-back' });
  });

  it('still moves the other members when one alias update fails, names it, records what moved and frees the lock', async () => {
    const deps = await fleetWorld();
    const real = deps.functions;
    const failing: FunctionVersions = Object.assign(Object.create(real), {
      updateAlias: (name: string, alias: string, version: string) =>
        name === fn('m3') ? Promise.reject(new Error('Rate exceeded')) : real.updateAlias(name, alias, version),
    });
    await expect(rollbackEnvironment('prod', 'alice', 'errors', { ...deps, functions: failing })).rejects.toThrow(
      'prod: 1 of 4 members could not be rolled back (m3: Rate exceeded); the others run their blue; roll back again',
    );
    expect(await real.getAlias(fn('m3'), 'live')).toEqual({ name: 'live', version: '2' });
    for (const member of ['m1', 'm2', 'm4']) {
      expect(await real.getAlias(fn(member), 'live'), member).toEqual({ name: 'live', version: '1' });
    }
    expect(await deps.store.getLock(LOCK)).toBeUndefined();
    // A second rollback moves only the member left behind.
    const again = await rollbackEnvironment('prod', 'alice', 'errors, again', deps);
    expect(again.members?.map((m) => m.member)).toEqual(['m3']);
    expect(await real.getAlias(fn('m3'), 'live')).toEqual({ name: 'live', version: '1' });
  });

  it('records the attempt as failed when every alias update fails, names each, and frees the lock', async () => {
    const deps = await fleetWorld();
    const failing: FunctionVersions = Object.assign(Object.create(deps.functions), {
      updateAlias: () => Promise.reject(new Error('Rate exceeded')),
    });
    await expect(rollbackEnvironment('prod', 'alice', 'errors', { ...deps, functions: failing })).rejects.toThrow(
      'prod: no member could be rolled back (m1: Rate exceeded; m2: Rate exceeded; m3: Rate exceeded; m4: Rate exceeded); roll back again',
    );
    const [attempt] = (await deps.store.listReleases({ environment: 'prod' })).releases;
    expect(attempt).toMatchObject({ status: 'failed', trigger: 'manual-rollback:alice' });
    expect(attempt?.targets.members.every((m) => m.phase === 'pending')).toBe(true);
    expect(await deps.store.getLock(LOCK)).toBeUndefined();
  });

  it('refuses when no member can move, naming why for each, and frees the lock', async () => {
    const deps = await fleetWorld();
    for (const member of MEMBERS) await deps.functions.updateAlias(fn(member), 'live', '1');
    await expect(rollbackEnvironment('prod', 'a', 'r', deps)).rejects.toThrow(
      'no member of the prod fleet can be rolled back: m1 already on version 1, m2 already on version 1, ' +
        'm3 already on version 1, m4 already on version 1',
    );
    expect(await deps.store.getLock(LOCK)).toBeUndefined();
  });
});

describe('fast-forward', () => {
  it('records who asked and why on a running release', async () => {
    const deps = await world();
    await deps.store.createRelease(record());
    await requestFastForward('rel-1', 'bob', 'hotfix for the outage', deps);
    expect((await deps.store.getRelease('rel-1'))?.events).toMatchObject([
      { kind: 'fast-forward-requested', summary: 'fast-forward requested by bob: hotfix for the outage' },
    ]);
  });

  it('refuses without a reason, for an unknown release, or one that has ended', async () => {
    const deps = await world();
    await deps.store.createRelease(record({ status: 'released' }));
    await expect(requestFastForward('rel-1', 'bob', '', deps)).rejects.toThrow('a fast-forward needs a reason');
    await expect(requestFastForward('nope', 'bob', 'r', deps)).rejects.toThrow('no release nope');
    await expect(requestFastForward('rel-1', 'bob', 'r', deps)).rejects.toThrow('release rel-1 has ended (released)');
  });
});
