import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../adapters/memory/clocks.ts';
import { MemoryReleaseStore } from '../../../../adapters/memory/memory-release-store.ts';
import { environments } from '../../../../config/environments.ts';
import type { ReleasePolicy } from '../../../../config/release-windows.ts';
import type { EnvironmentConfig } from '../../../../config/schema.ts';
import { ReleaseConflict, ReleaseRefused } from '../../../../core/model/errors.ts';
import { parseReleaseRequest } from '../../../../core/model/release-request.ts';
import { abandonImage, clearHold, holdAfterRollback, restoreImage } from '../../../../core/policy/policy-changes.ts';
import { gateRelease } from '../../../../core/policy/release-gate.ts';

const DIGEST = `sha256:${'7'.repeat(64)}`;
const NOW = new Date('2026-11-26T10:00:00.000Z');
const NIGHTLY: ReleasePolicy = {
  timeZone: 'UTC',
  windows: [{ name: 'nightly', opens: '0 22 * * *', durationMinutes: 120 }],
  freezes: [],
};
const FROZEN: ReleasePolicy = {
  timeZone: 'UTC',
  freezes: [{ name: 'audit', from: '2026-11-26T00:00:00Z', until: '2026-11-27T00:00:00Z', reason: 'audit week' }],
};

const env = (policy?: ReleasePolicy): EnvironmentConfig => ({ ...environments.prod, ...(policy ? { policy } : {}) });
const api = (extra: Record<string, unknown> = {}) =>
  parseReleaseRequest({ trigger: 'api', environment: 'prod', imageDigest: DIGEST, requestedBy: 'alice', ...extra });
const push = parseReleaseRequest({
  trigger: 'ecr-push',
  environment: 'prod',
  eventId: 'e1',
  eventTime: 'now',
  repositoryName: 'switchyard-api',
  imageDigest: DIGEST,
  actionType: 'PUSH',
  result: 'SUCCESS',
});

async function refusal(promise: Promise<unknown>): Promise<ReleaseRefused> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ReleaseRefused)) throw new Error(`expected ReleaseRefused, got ${String(error)}`);
  return error;
}

describe('the release gate', () => {
  const setup = () => ({ store: new MemoryReleaseStore(), clock: new ManualClock(NOW) });

  it('lets a release start with nothing to record where no policy, hold or abandonment applies', async () => {
    const { store } = setup();
    expect(await gateRelease(env(), api(), NOW, store)).toEqual({ kind: 'start', overrides: [] });
  });

  it('refuses an abandoned image before anything else, and no override passes it', async () => {
    const deps = setup();
    await abandonImage(DIGEST, 'bob', 'CVE', deps);
    await holdAfterRollback('prod', 'carol', 'errors', 'op-1', deps);
    const error = await refusal(
      gateRelease(env(FROZEN), api({ override: { reason: 'now' }, passHold: true }), NOW, deps.store),
    );
    expect(error.details).toMatchObject({ policy: 'abandoned', by: 'bob', reason: 'CVE' });
    await restoreImage(DIGEST, 'bob', 'fixed', deps);
    expect((await gateRelease(env(), api({ passHold: true, reason: 'fix' }), NOW, deps.store)).kind).toBe('start');
  });

  it('a hold refuses pushes and API releases without passHold; passHold is recorded with who and why', async () => {
    const deps = setup();
    await holdAfterRollback('prod', 'carol', 'errors', 'op-1', deps);
    expect((await refusal(gateRelease(env(), push, NOW, deps.store))).details).toMatchObject({ policy: 'hold' });
    expect((await refusal(gateRelease(env(), api(), NOW, deps.store))).message).toContain('errors');
    const passed = await gateRelease(env(), api({ passHold: true, reason: 'hotfix' }), NOW, deps.store);
    expect(passed).toMatchObject({
      kind: 'start',
      overrides: [
        { kind: 'policy-overridden', evidence: { by: 'alice', reason: 'hotfix', overrode: 'hold', name: 'prod' } },
      ],
    });
  });

  it('a freeze refuses every trigger; the override passes it and names the freeze', async () => {
    const { store } = setup();
    const pushed = await refusal(gateRelease(env(FROZEN), push, NOW, store));
    expect(pushed.details).toMatchObject({ policy: 'freeze', freeze: 'audit', until: '2026-11-27T00:00:00Z' });
    const overridden = await gateRelease(env(FROZEN), api({ override: { reason: 'CAB-1' } }), NOW, store);
    expect(overridden).toMatchObject({
      kind: 'start',
      overrides: [{ evidence: { by: 'alice', reason: 'CAB-1', overrode: 'freeze', name: 'audit' } }],
    });
  });

  it('outside the windows a push waits and an API start is refused by default, naming when it opens', async () => {
    const { store } = setup();
    expect(await gateRelease(env(NIGHTLY), push, NOW, store)).toEqual({
      kind: 'wait',
      window: 'nightly',
      opensAt: '2026-11-26T22:00:00.000Z',
      summary: 'waiting for window "nightly" (opens at 2026-11-26T22:00:00.000Z)',
    });
    const refused = await refusal(gateRelease(env(NIGHTLY), api(), NOW, store));
    expect(refused.details).toEqual({ policy: 'window', window: 'nightly', opensAt: '2026-11-26T22:00:00.000Z' });
    const inside = new Date('2026-11-26T23:00:00Z');
    expect(await gateRelease(env(NIGHTLY), api(), inside, store)).toEqual({ kind: 'start', overrides: [] });
  });
});

describe('policy changes', () => {
  it('record each change in order and refuse one that changes nothing, naming who made the state', async () => {
    const deps = { store: new MemoryReleaseStore(), clock: new ManualClock(NOW) };
    await expect(clearHold('prod', 'dave', 'nothing to clear', deps)).rejects.toThrow(ReleaseConflict);
    const held = await holdAfterRollback('prod', 'carol', 'errors', 'op-1', deps);
    // A second rollback while held keeps the first hold.
    expect(await holdAfterRollback('prod', 'erin', 'again', 'op-2', deps)).toEqual(held);
    const cleared = await clearHold('prod', 'dave', 'fixed', deps);
    expect(cleared.history.map((c) => [c.action, c.by])).toEqual([
      ['held', 'carol'],
      ['cleared', 'dave'],
    ]);
    await abandonImage(DIGEST, 'bob', 'CVE', deps);
    await expect(abandonImage(DIGEST, 'eve', 'again', deps)).rejects.toThrow(/already abandoned \(by bob/);
  });

  it('two changes racing on one entry are both kept: the loser reads again and builds on the winner', async () => {
    const store = new MemoryReleaseStore();
    const deps = { store, clock: new ManualClock(NOW) };
    await abandonImage(DIGEST, 'bob', 'CVE', deps);
    // The restore reads version 1, then a concurrent restore-and-abandon lands before its write.
    let raced = false;
    const racing = {
      getPolicyEntry: (key: string) => store.getPolicyEntry(key),
      putPolicyEntry: async (entry: Parameters<typeof store.putPolicyEntry>[0]) => {
        if (!raced) {
          raced = true;
          await restoreImage(DIGEST, 'carol', 'first', deps);
          await abandonImage(DIGEST, 'dave', 'again', deps);
        }
        return store.putPolicyEntry(entry);
      },
    };
    const entry = await restoreImage(DIGEST, 'erin', 'second', { store: racing, clock: deps.clock });
    expect(entry.history.map((c) => c.by)).toEqual(['bob', 'carol', 'dave', 'erin']);
    expect(entry.active).toBe(false);
  });
});
