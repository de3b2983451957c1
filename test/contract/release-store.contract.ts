import { beforeEach, describe, expect, it } from 'vitest';
import { singleTarget } from '../../core/model/target-set.ts';
import type { HealthCheck } from '../../core/model/traffic.ts';
import type { LockHolder, ReleaseEvent, ReleaseRecord, ReleaseStore, TargetSet } from '../../core/ports/ports.ts';

const KEY = 'orders-api-prod#prod';
const NOW = new Date('2026-11-26T10:00:00.000Z');

function holder(releaseId: string, expiresAt = '2026-11-26T12:00:00.000Z'): LockHolder {
  return {
    releaseId,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:switchyard:${releaseId}`,
    acquiredAt: '2026-11-26T09:00:00.000Z',
    expiresAt,
  };
}

function release(releaseId: string, overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    releaseId,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:switchyard:${releaseId}`,
    environment: 'prod',
    imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-api@sha256:abc',
    digest: 'sha256:abc',
    status: 'running',
    targets: single('7'),
    startedAt: '2026-11-26T10:00:00.000Z',
    trigger: 'api:alice',
    events: [
      {
        at: '2026-11-26T10:00:00.000Z',
        kind: 'validated',
        summary: 'validated',
        evidence: {
          plan: [
            { percent: 10, bakeSeconds: 300 },
            { percent: 100, bakeSeconds: 0 },
          ],
          preexistingAlarms: [],
          unverifiedLiveVersion: null,
        },
      },
    ],
    ...overrides,
  };
}

const FUNCTION = 'orders-api-prod';

/** The one target of a single-function release, on blue `blueVersion`. */
function single(blueVersion: string | null): TargetSet {
  return singleTarget({ functionName: FUNCTION, blueVersion });
}

const CHECK: HealthCheck = {
  at: '2026-11-26T10:05:00.000Z',
  verdict: 'healthy',
  reasons: [],
  window: { start: '2026-11-26T10:02:00.000Z', end: '2026-11-26T10:03:00.000Z' },
  sample: { invocations: 120, errors: 0, throttles: 0, p99DurationMs: null, errorRatePercent: 0 },
  step: { invocations: 120, errors: 0, throttles: 0, p99DurationMs: null, errorRatePercent: 0 },
  thresholds: { maxErrorRatePercent: 1, minInvocations: 50, maxErrors: 5, maxP99DurationMs: null },
  firingAlarms: [],
  ignoredAlarms: [],
};

const at = (minute: number) => `2026-11-26T10:${String(minute).padStart(2, '0')}:00.000Z`;
const fastForward = (by: string, minute: number): ReleaseEvent => ({
  at: at(minute),
  kind: 'fast-forward-requested',
  summary: `fast-forward requested by ${by}: hotfix`,
  evidence: { by, reason: 'hotfix' },
});

const MEMBERS = ['orders', 'payments', 'search', 'carts', 'users', 'stock', 'mail', 'audit', 'rates', 'tax'];

/** A 10-member fleet in 3 waves, every member pending on its blue. */
function fleetOf(count = MEMBERS.length): TargetSet {
  return {
    waveCount: 3,
    currentWave: null,
    members: MEMBERS.slice(0, count).map((name, index) => ({
      name,
      functionName: `shop-${name}-prod`,
      wave: index === 0 ? 0 : index < 4 ? 1 : 2,
      blueVersion: String(index + 3),
      phase: 'pending' as const,
      percent: 0,
    })),
  };
}

const memberEvent = (member: string, kind: 'deployed' | 'verified', minute: number): ReleaseEvent =>
  kind === 'deployed'
    ? {
        at: at(minute),
        kind,
        summary: `${member}: green → version 9`,
        evidence: { version: '9', codeSha256: 'abc', reused: false, member },
      }
    : { at: at(minute), kind, summary: `${member}: verified`, evidence: { checks: [], member } };

/** Where an implementation differs from DynamoDB as AWS documents it: the reason, and where it shows. */
export interface ReleaseStoreDifferences {
  /**
   * Concurrent conditional writes of one item can interleave and both pass their condition or lose a write, where
   * DynamoDB applies each write to an item atomically: the tests of racing writes do not run on it, for this reason.
   */
  readonly nonAtomicConcurrentUpdates?: string;
}

/** What the release logic relies on from the lock and the release records, for every ReleaseStore. */
export function describeReleaseStoreContract(
  name: string,
  makeStore: () => Promise<ReleaseStore> | ReleaseStore,
  differences: ReleaseStoreDifferences = {},
) {
  /** A test of writes racing on one item: it runs only where updates are atomic (the subject states why not). */
  const concurrently = (title: string, test: () => Promise<void>) =>
    it.runIf(!differences.nonAtomicConcurrentUpdates)(title, test);

  describe(`${name} (ReleaseStore contract)`, () => {
    let store: ReleaseStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    describe('the lock', () => {
      it('is acquired when free, and names its holder', async () => {
        expect(await store.acquireLock(KEY, holder('rel-1'), NOW)).toEqual({ acquired: true });
        expect(await store.getLock(KEY)).toEqual(holder('rel-1'));
      });

      it('is refused while another release holds it, naming that release, and stays with it', async () => {
        await store.acquireLock(KEY, holder('rel-1'), NOW);
        expect(await store.acquireLock(KEY, holder('rel-2'), NOW)).toEqual({
          acquired: false,
          holder: holder('rel-1'),
        });
        expect(await store.getLock(KEY)).toEqual(holder('rel-1'));
      });

      it('is acquired over an expired holder', async () => {
        await store.acquireLock(KEY, holder('rel-1', '2026-11-26T09:30:00.000Z'), new Date('2026-11-26T09:00:00Z'));
        expect(await store.acquireLock(KEY, holder('rel-2'), NOW)).toEqual({ acquired: true });
        expect(await store.getLock(KEY)).toEqual(holder('rel-2'));
      });

      it('is acquired again by a retry of the release that holds it', async () => {
        await store.acquireLock(KEY, holder('rel-1'), NOW);
        expect(await store.acquireLock(KEY, holder('rel-1'), NOW)).toEqual({ acquired: true });
        expect((await store.getLock(KEY))?.releaseId).toBe('rel-1');
      });

      it('is kept when a release that does not hold it lets go', async () => {
        await store.acquireLock(KEY, holder('rel-1'), NOW);
        expect(await store.releaseLock(KEY, 'rel-2')).toBe(false);
        expect(await store.getLock(KEY)).toEqual(holder('rel-1'));
      });

      it('is freed by its holder, once', async () => {
        await store.acquireLock(KEY, holder('rel-1'), NOW);
        expect(await store.releaseLock(KEY, 'rel-1')).toBe(true);
        expect(await store.getLock(KEY)).toBeUndefined();
        expect(await store.releaseLock(KEY, 'rel-1')).toBe(false);
        expect(await store.acquireLock(KEY, holder('rel-2'), NOW)).toEqual({ acquired: true });
      });

      it('is renewed by its holder: a later expiry, the same holder', async () => {
        await store.acquireLock(KEY, holder('rel-1'), NOW);
        expect(await store.renewLock(KEY, 'rel-1', '2026-11-26T13:30:00.000Z')).toBe(true);
        expect(await store.getLock(KEY)).toEqual(holder('rel-1', '2026-11-26T13:30:00.000Z'));
        // Renewed past its first expiry, the lock still keeps another release out.
        const later = new Date('2026-11-26T12:30:00.000Z');
        const refused = await store.acquireLock(KEY, holder('rel-2', '2026-11-26T14:00:00.000Z'), later);
        expect(refused).toEqual({ acquired: false, holder: holder('rel-1', '2026-11-26T13:30:00.000Z') });
      });

      it('is not renewed by a release that does not hold it, nor when nobody does', async () => {
        await store.acquireLock(KEY, holder('rel-1'), NOW);
        expect(await store.renewLock(KEY, 'rel-2', '2026-11-26T13:30:00.000Z')).toBe(false);
        expect(await store.getLock(KEY)).toEqual(holder('rel-1'));
        expect(await store.renewLock('orders-api-staging#staging', 'rel-1', '2026-11-26T13:30:00.000Z')).toBe(false);
        expect(await store.getLock('orders-api-staging#staging')).toBeUndefined();
      });

      it('is one per key', async () => {
        await store.acquireLock(KEY, holder('rel-1'), NOW);
        expect(await store.acquireLock('orders-api-staging#staging', holder('rel-2'), NOW)).toEqual({
          acquired: true,
        });
        expect(await store.getLock('unknown#dev')).toBeUndefined();
      });
    });

    describe('release records', () => {
      it('reads back what was created, null blue version included', async () => {
        await store.createRelease(release('rel-1', { targets: single(null) }));
        expect(await store.getRelease('rel-1')).toEqual(release('rel-1', { targets: single(null) }));
        expect(await store.getRelease('rel-unknown')).toBeUndefined();
      });

      it('keeps the first record when a retry creates it again', async () => {
        await store.createRelease(release('rel-1'));
        await store.createRelease(release('rel-1', { digest: 'sha256:other', events: [] }));
        expect(await store.getRelease('rel-1')).toEqual(release('rel-1'));
      });

      it('applies a patch and appends events in order, with their evidence', async () => {
        await store.createRelease(release('rel-1'));
        const deployed: ReleaseEvent = {
          at: '2026-11-26T10:01:00.000Z',
          kind: 'deployed',
          summary: 'green → 8',
          evidence: { version: '8', codeSha256: 'abc', reused: false },
        };
        const released: ReleaseEvent = {
          at: '2026-11-26T10:20:00.000Z',
          kind: 'released',
          summary: 'live → 8',
          evidence: { lastCheck: CHECK, warnings: [] },
        };

        await store.update('rel-1', { targets: { [FUNCTION]: { greenVersion: '8' } } }, deployed);
        await store.update('rel-1', {}, { at: CHECK.at, kind: 'health-check', summary: 'ok' });
        await store.update('rel-1', { status: 'released', endedAt: released.at, reason: 'warned' }, released);

        const record = await store.getRelease('rel-1');
        expect(record).toMatchObject({ status: 'released', endedAt: released.at, reason: 'warned' });
        expect(record?.targets.members[0]).toMatchObject({ name: FUNCTION, greenVersion: '8', blueVersion: '7' });
        expect(record?.events.map((e) => e.kind)).toEqual(['validated', 'deployed', 'health-check', 'released']);
        expect(record?.events[3]).toEqual(released);
      });

      it('updates the status alone, keeping the events', async () => {
        await store.createRelease(release('rel-1'));
        await store.update('rel-1', { status: 'failed', reason: 'no' });
        expect(await store.getRelease('rel-1')).toEqual(release('rel-1', { status: 'failed', reason: 'no' }));
      });

      it('reads an event written with no evidence back without any', async () => {
        await store.createRelease(release('rel-1'));
        await store.update('rel-1', {}, { at: at(2), kind: 'approved', summary: 'approved by bob' });
        expect((await store.getRelease('rel-1'))?.events[1]).toEqual({
          at: at(2),
          kind: 'approved',
          summary: 'approved by bob',
        });
      });

      it('refuses to update a release that was never created', async () => {
        await expect(store.update('rel-ghost', { status: 'failed' })).rejects.toThrow();
        expect(await store.getRelease('rel-ghost')).toBeUndefined();
      });
    });

    describe('ending a running release (closeRelease)', () => {
      const released: ReleaseEvent = {
        at: at(20),
        kind: 'released',
        summary: 'live → 8',
        evidence: { lastCheck: null, warnings: [] },
      };

      it('ends a running release with its status, end, reason and event in one write', async () => {
        await store.createRelease(release('rel-1'));
        expect(
          await store.closeRelease('rel-1', { status: 'released', endedAt: at(20), reason: 'warned' }, released),
        ).toEqual({ closed: true, status: 'released' });
        const record = await store.getRelease('rel-1');
        expect(record).toMatchObject({ status: 'released', endedAt: at(20), reason: 'warned' });
        expect(record?.events.map((e) => e.kind)).toEqual(['validated', 'released']);
      });

      it('writes nothing once something else ended it, and says so', async () => {
        await store.createRelease(release('rel-1'));
        expect(await store.closeRelease('rel-1', { status: 'aborted', endedAt: at(19), reason: 'stopped' })).toEqual({
          closed: true,
          status: 'aborted',
        });
        expect(await store.closeRelease('rel-1', { status: 'released', endedAt: at(20) }, released)).toEqual({
          closed: false,
          status: 'aborted',
        });
        const record = await store.getRelease('rel-1');
        expect(record).toMatchObject({ status: 'aborted', endedAt: at(19), reason: 'stopped' });
        expect(record?.events.map((e) => e.kind)).toEqual(['validated']);
      });

      concurrently('two at once: exactly one ends the release, and the record is what the winner wrote', async () => {
        await store.createRelease(release('rel-1'));
        const results = await Promise.all([
          store.closeRelease('rel-1', { status: 'released', endedAt: at(20) }, released),
          store.closeRelease('rel-1', { status: 'aborted', endedAt: at(20), reason: 'stopped' }),
        ]);
        expect(results.filter((r) => r.closed)).toHaveLength(1);
        const winner = results[0]?.closed ? 'released' : 'aborted';
        expect(results.map((r) => r.status)).toEqual([winner, winner]);
        expect((await store.getRelease('rel-1'))?.status).toBe(winner);
      });

      it('refuses a release that was never created', async () => {
        await expect(store.closeRelease('rel-ghost', { status: 'failed', endedAt: at(1) })).rejects.toThrow(
          'release rel-ghost has no record',
        );
        expect(await store.getRelease('rel-ghost')).toBeUndefined();
      });
    });

    describe('the typed state decisions read (set with the event that causes it)', () => {
      it('a record with no such event reads as the defaults: nothing requested, pending or warned', async () => {
        await store.createRelease(release('rel-1'));
        await store.update(
          'rel-1',
          { targets: { [FUNCTION]: { greenVersion: '8' } } },
          { at: at(1), kind: 'deployed', summary: 'green → 8' },
        );
        const record = await store.getRelease('rel-1');
        expect(record?.fastForwardRequested).toBeUndefined();
        expect(record?.awaitingApproval).toBeUndefined();
        expect(record?.releasedWithWarnings).toBeUndefined();
        expect(record?.notedDuplicates).toBeUndefined();
      });

      it('keeps the first fast-forward request, and its evidence, however many follow', async () => {
        await store.createRelease(release('rel-1'));
        await store.update('rel-1', {}, fastForward('alice', 3));
        await store.update('rel-1', {}, fastForward('bob', 4));
        const record = await store.getRelease('rel-1');
        expect(record?.fastForwardRequested).toEqual(fastForward('alice', 3));
        expect(record?.events.map((e) => e.kind)).toEqual([
          'validated',
          'fast-forward-requested',
          'fast-forward-requested',
        ]);
      });

      it('holds the step traffic is on, and a pause until it is resumed', async () => {
        await store.createRelease(release('rel-1'));
        await store.update(
          'rel-1',
          {},
          {
            at: at(2),
            kind: 'traffic-shifted',
            summary: '10%',
            evidence: { stepIndex: 0, stepCount: 2, percent: 10, bakeSeconds: 300 },
          },
        );
        await store.update(
          'rel-1',
          {},
          { at: at(3), kind: 'pause-requested', summary: 'paused', evidence: { by: 'alice', reason: 'db work' } },
        );
        await store.update(
          'rel-1',
          {},
          { at: at(4), kind: 'pause-requested', summary: 'paused', evidence: { by: 'bob' } },
        );
        let record = await store.getRelease('rel-1');
        expect(record?.currentStep).toEqual({ stepIndex: 0, stepCount: 2, percent: 10, shiftedAt: at(2) });
        expect(record?.paused).toEqual({ pausedAt: at(3), by: 'alice', reason: 'db work' });
        await store.update(
          'rel-1',
          {},
          { at: at(5), kind: 'resumed', summary: 'resumed', evidence: { by: 'alice', pausedSeconds: 120 } },
        );
        expect((await store.getRelease('rel-1'))?.paused).toBeUndefined();
        await store.update(
          'rel-1',
          {},
          { at: at(6), kind: 'pause-requested', summary: 'paused', evidence: { by: 'bob' } },
        );
        expect((await store.getRelease('rel-1'))?.paused).toEqual({ pausedAt: at(6), by: 'bob' });
        await store.update(
          'rel-1',
          { status: 'rolled-back', endedAt: at(7) },
          { at: at(7), kind: 'rolled-back', summary: 'rolled back' },
        );
        record = await store.getRelease('rel-1');
        expect(record?.paused).toBeUndefined();
        expect(record?.currentStep).toBeUndefined();
      });

      it('holds a pending approval from its request until it is answered', async () => {
        await store.createRelease(release('rel-1'));
        await store.update(
          'rel-1',
          {},
          { at: at(2), kind: 'approval-requested', summary: 'waiting', evidence: { expiresAt: at(50) } },
        );
        expect((await store.getRelease('rel-1'))?.awaitingApproval).toEqual({ requestedAt: at(2), expiresAt: at(50) });
        await store.update('rel-1', {}, { at: at(3), kind: 'rejected', summary: 'rejected by bob: no' });
        expect((await store.getRelease('rel-1'))?.awaitingApproval).toBeUndefined();
      });

      it('drops a pending approval when the release ends without an answer', async () => {
        await store.createRelease(release('rel-1'));
        await store.update(
          'rel-1',
          {},
          { at: at(2), kind: 'approval-requested', summary: 'waiting', evidence: { expiresAt: at(50) } },
        );
        await store.update(
          'rel-1',
          { status: 'failed', reason: 'approval timed out', endedAt: at(51) },
          {
            at: at(51),
            kind: 'failed',
            summary: 'approval timed out',
            evidence: { error: { Error: 'States.Timeout' } },
          },
        );
        const record = await store.getRelease('rel-1');
        expect(record?.awaitingApproval).toBeUndefined();
        expect(record?.status).toBe('failed');
      });

      it('records the warnings a release went live with, in the same write as the release', async () => {
        await store.createRelease(release('rel-1'));
        await store.createRelease(release('rel-2'));
        const warnings = ['step 1 (10%) promoted without enough traffic to judge'];
        await store.update(
          'rel-1',
          { status: 'released', endedAt: at(20), reason: warnings.join('; ') },
          { at: at(20), kind: 'released', summary: 'live → 8', evidence: { lastCheck: CHECK, warnings } },
        );
        await store.update(
          'rel-2',
          { status: 'released', endedAt: at(20) },
          { at: at(20), kind: 'released', summary: 'live → 9', evidence: { lastCheck: null, warnings: [] } },
        );
        expect((await store.getRelease('rel-1'))?.releasedWithWarnings).toEqual(warnings);
        expect((await store.getRelease('rel-2'))?.releasedWithWarnings).toBeUndefined();
        const listed = await store.listReleases({ status: 'released' });
        expect(listed.releases.find((r) => r.releaseId === 'rel-1')?.releasedWithWarnings).toEqual(warnings);
      });

      it('notes each duplicate delivery on the first release', async () => {
        await store.createRelease(release('rel-1'));
        for (const execution of ['copy-a', 'copy-b']) {
          await store.update(
            'rel-1',
            {},
            { at: at(1), kind: 'duplicate-delivery', summary: 'ignored', evidence: { eventId: 'e-1', execution } },
          );
        }
        expect((await store.getRelease('rel-1'))?.notedDuplicates).toEqual(['copy-a', 'copy-b']);
      });

      it('sets the state of the events a record is created with', async () => {
        const created = release('rel-1', { events: [...release('rel-1').events, fastForward('alice', 1)] });
        await store.createRelease(created);
        expect((await store.getRelease('rel-1'))?.fastForwardRequested).toEqual(fastForward('alice', 1));
      });
    });

    describe('listing releases', () => {
      beforeEach(async () => {
        await store.createRelease(release('rel-a', { startedAt: at(1), status: 'released' }));
        await store.createRelease(release('rel-b', { startedAt: at(2), environment: 'staging', status: 'released' }));
        await store.createRelease(release('rel-c', { startedAt: at(3), status: 'rolled-back' }));
        await store.createRelease(release('rel-d', { startedAt: at(4), status: 'released' }));
        await store.createRelease(release('rel-e', { startedAt: at(5), environment: 'staging', status: 'running' }));
        await store.createRelease(release('rel-f', { startedAt: at(6), status: 'released' }));
      });

      async function everyPage(filter: { environment?: string; status?: 'released'; limit: number }) {
        const pages: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listReleases({ ...filter, ...(cursor ? { cursor } : {}) });
          expect(page.releases.length).toBeLessThanOrEqual(filter.limit);
          pages.push(page.releases.map((r) => r.releaseId));
          cursor = page.nextCursor;
        } while (cursor && pages.length < 10);
        return pages;
      }

      it('lists newest first', async () => {
        const page = await store.listReleases({});
        expect(page.releases.map((r) => r.releaseId)).toEqual(['rel-f', 'rel-e', 'rel-d', 'rel-c', 'rel-b', 'rel-a']);
        expect(page.nextCursor).toBeUndefined();
        expect(page.releases[0]).toEqual(
          release('rel-f', { startedAt: '2026-11-26T10:06:00.000Z', status: 'released' }),
        );
      });

      it("shows each release's latest event", async () => {
        const latest: ReleaseEvent = { at: '2026-11-26T10:30:00.000Z', kind: 'deployed', summary: 'green → 8' };
        await store.update('rel-f', { targets: { [FUNCTION]: { greenVersion: '8' } } }, latest);
        const page = await store.listReleases({ limit: 1 });
        expect(page.releases[0]?.releaseId).toBe('rel-f');
        expect(page.releases[0]?.events.at(-1)).toEqual(latest);
      });

      it('filters by environment and by status', async () => {
        const staging = await store.listReleases({ environment: 'staging' });
        expect(staging.releases.map((r) => r.releaseId)).toEqual(['rel-e', 'rel-b']);
        const released = await store.listReleases({ status: 'released' });
        expect(released.releases.map((r) => r.releaseId)).toEqual(['rel-f', 'rel-d', 'rel-b', 'rel-a']);
        const both = await store.listReleases({ environment: 'prod', status: 'released' });
        expect(both.releases.map((r) => r.releaseId)).toEqual(['rel-f', 'rel-d', 'rel-a']);
      });

      it('pages through every release with the cursor, each once', async () => {
        const pages = await everyPage({ limit: 2 });
        expect(pages.flat()).toEqual(['rel-f', 'rel-e', 'rel-d', 'rel-c', 'rel-b', 'rel-a']);
        expect(pages[0]).toEqual(['rel-f', 'rel-e']);
      });

      it('pages through a filtered listing with the cursor', async () => {
        const pages = await everyPage({ environment: 'prod', status: 'released', limit: 2 });
        expect(pages.flat()).toEqual(['rel-f', 'rel-d', 'rel-a']);
        expect(pages[0]).toEqual(['rel-f', 'rel-d']);
      });

      it('refuses a cursor it did not issue, by name', async () => {
        const forged = Buffer.from(JSON.stringify({ pk: 'LOCK#x', sk: 'LOCK' })).toString('base64url');
        for (const cursor of ['not-a-cursor!!', forged]) {
          await expect(store.listReleases({ cursor })).rejects.toMatchObject({ name: 'InvalidCursor' });
        }
      });
    });

    describe('approval requests', () => {
      const request = {
        taskToken: 'token-1',
        requestedAt: '2026-11-26T10:00:00.000Z',
        expiresAt: '2026-11-26T11:00:00.000Z',
      };

      it('hands a saved request back once, then nothing', async () => {
        await store.saveApprovalRequest('rel-1', request);
        expect(await store.takeApprovalRequest('rel-1')).toEqual(request);
        expect(await store.takeApprovalRequest('rel-1')).toBeUndefined();
      });

      it('keeps requests apart by release', async () => {
        await store.saveApprovalRequest('rel-1', request);
        expect(await store.takeApprovalRequest('rel-2')).toBeUndefined();
        expect(await store.takeApprovalRequest('rel-1')).toEqual(request);
      });
    });

    describe('deliveries (one ECR event, however often EventBridge delivers it)', () => {
      const EVENT = 'ecr-push#dev#0c6e8b9f-1d6c-4f4a-9b1e-3d0a2b1c9e11';
      const AT = '2026-11-26T10:00:00.000Z';

      it('the first release owns the delivery, and its own retries change nothing', async () => {
        expect(await store.recordDelivery(EVENT, 'rel-1', AT)).toEqual({
          releaseId: 'rel-1',
          firstAt: AT,
          duplicates: [],
        });
        expect(await store.recordDelivery(EVENT, 'rel-1', '2026-11-26T10:00:05.000Z')).toEqual({
          releaseId: 'rel-1',
          firstAt: AT,
          duplicates: [],
        });
      });

      it('a later copy is recorded as a duplicate of the first, once however often it retries', async () => {
        await store.recordDelivery(EVENT, 'rel-1', AT);
        expect(await store.recordDelivery(EVENT, 'copy-a', AT)).toEqual({
          releaseId: 'rel-1',
          firstAt: AT,
          duplicates: ['copy-a'],
        });
        await store.recordDelivery(EVENT, 'copy-a', AT);
        expect(await store.recordDelivery(EVENT, 'copy-b', AT)).toMatchObject({ duplicates: ['copy-a', 'copy-b'] });
      });

      concurrently('two copies at once: exactly one owns the delivery, the other is its duplicate', async () => {
        const [a, b] = await Promise.all([
          store.recordDelivery(EVENT, 'copy-a', AT),
          store.recordDelivery(EVENT, 'copy-b', AT),
        ]);
        expect(a.releaseId).toBe(b.releaseId);
        const other = a.releaseId === 'copy-a' ? 'copy-b' : 'copy-a';
        expect((await store.recordDelivery(EVENT, other, AT)).duplicates).toEqual([other]);
      });

      it('keeps deliveries apart by key', async () => {
        await store.recordDelivery(EVENT, 'rel-1', AT);
        expect(await store.recordDelivery(`${EVENT}-other`, 'rel-2', AT)).toMatchObject({ releaseId: 'rel-2' });
      });
    });

    describe('targets (one record, per-target state)', () => {
      it('keeps the fleet a release was created with, members in their order', async () => {
        await store.createRelease(release('fleet-1', { targets: fleetOf() }));
        const record = await store.getRelease('fleet-1');
        expect(record?.targets).toEqual(fleetOf());
        const listed = await store.listReleases({ environment: 'prod' });
        expect(listed.releases[0]?.targets.members.map((m) => m.name)).toEqual(MEMBERS);
      });

      it('changes one member with its event in one write, and no other member', async () => {
        await store.createRelease(release('fleet-1', { targets: fleetOf() }));
        await store.update(
          'fleet-1',
          { targets: { search: { phase: 'deployed', greenVersion: '9' } } },
          memberEvent('search', 'deployed', 1),
        );
        const record = await store.getRelease('fleet-1');
        const expected = fleetOf().members.map((m) =>
          m.name === 'search' ? { ...m, phase: 'deployed', greenVersion: '9' } : m,
        );
        expect(record?.targets.members).toEqual(expected);
        expect(record?.events.at(-1)).toEqual(memberEvent('search', 'deployed', 1));
        expect(record?.events).toHaveLength(2);
      });

      concurrently('loses none of the members written at once (the Map runs them concurrently)', async () => {
        await store.createRelease(release('fleet-1', { targets: fleetOf() }));
        await Promise.all(
          MEMBERS.map((name, i) =>
            store.update(
              'fleet-1',
              { targets: { [name]: { phase: 'verified', greenVersion: String(20 + i) } } },
              memberEvent(name, 'verified', 2),
            ),
          ),
        );
        const record = await store.getRelease('fleet-1');
        expect(record?.targets.members.map((m) => [m.name, m.phase, m.greenVersion])).toEqual(
          MEMBERS.map((name, i) => [name, 'verified', String(20 + i)]),
        );
        expect(record?.events).toHaveLength(1 + MEMBERS.length);
      });

      it('changes the wave, the member that tripped and several members in one write with the event', async () => {
        await store.createRelease(release('fleet-1', { targets: fleetOf() }));
        await store.update('fleet-1', { targets: { orders: { phase: 'verified', greenVersion: '9' } } });
        const halted: ReleaseEvent = {
          at: at(7),
          kind: 'health-check',
          summary: 'payments unhealthy → roll-back',
          evidence: { check: CHECK, next: 'roll-back', member: 'payments' },
        };
        await store.update(
          'fleet-1',
          {
            currentWave: 1,
            trippedBy: 'payments',
            targets: {
              orders: { phase: 'baking', percent: 100 },
              payments: {
                phase: 'baking',
                percent: 10,
                verdict: { verdict: 'unhealthy', reason: '12% errors', at: at(7) },
              },
            },
          },
          halted,
        );
        const record = await store.getRelease('fleet-1');
        expect(record?.targets.currentWave).toBe(1);
        expect(record?.targets.trippedBy).toBe('payments');
        expect(record?.targets.members[0]).toEqual({
          ...fleetOf().members[0],
          phase: 'baking',
          percent: 100,
          greenVersion: '9',
        });
        expect(record?.targets.members[1]).toMatchObject({
          phase: 'baking',
          percent: 10,
          verdict: { verdict: 'unhealthy', reason: '12% errors', at: at(7) },
        });
        expect(record?.targets.members.slice(2)).toEqual(fleetOf().members.slice(2));
        expect(record?.events.at(-1)).toEqual(halted);
        await store.update('fleet-1', { currentWave: null });
        expect((await store.getRelease('fleet-1'))?.targets).toMatchObject({
          currentWave: null,
          trippedBy: 'payments',
        });
      });

      it('refuses a target the release does not have, changing nothing', async () => {
        await store.createRelease(release('fleet-1', { targets: fleetOf(3) }));
        await store.createRelease(release('single-1'));
        await expect(store.update('fleet-1', { targets: { nobody: { phase: 'deployed' } } })).rejects.toThrow(/nobody/);
        await expect(
          store.update('fleet-1', { currentWave: 0, targets: { nobody: { phase: 'live' } } }),
        ).rejects.toThrow(/nobody/);
        await expect(store.update('single-1', { targets: { orders: { phase: 'deployed' } } })).rejects.toThrow(
          /no target "orders"/,
        );
        await expect(store.update('missing', { targets: { orders: { phase: 'deployed' } } })).rejects.toThrow(
          /missing/,
        );
        expect((await store.getRelease('fleet-1'))?.targets).toEqual(fleetOf(3));
        expect((await store.getRelease('single-1'))?.targets).toEqual(single('7'));
        expect((await store.getRelease('fleet-1'))?.events).toHaveLength(1);
      });
    });

    describe('release policy entries (abandoned images, holds)', () => {
      const change = (action: 'held' | 'cleared', by: string) => ({
        at: at(1),
        action,
        by,
        reason: `${action} by ${by}`,
      });
      const hold = (version: number, history: ReturnType<typeof change>[]) => ({
        key: 'hold#prod',
        kind: 'hold' as const,
        subject: 'prod',
        active: history.at(-1)?.action === 'held',
        version,
        history,
      });

      it('writes version 1 only where none exists, and each later version only over the one before', async () => {
        expect(await store.getPolicyEntry('hold#prod')).toBeUndefined();
        const first = hold(1, [change('held', 'alice')]);
        expect(await store.putPolicyEntry(first)).toBe(true);
        expect(await store.putPolicyEntry(hold(1, [change('held', 'bob')]))).toBe(false);
        const cleared = hold(2, [...first.history, change('cleared', 'carol')]);
        expect(await store.putPolicyEntry(cleared)).toBe(true);
        // A writer that read version 1 loses to the one that wrote version 2.
        expect(await store.putPolicyEntry(hold(2, [...first.history, change('cleared', 'dave')]))).toBe(false);
        expect(await store.getPolicyEntry('hold#prod')).toEqual(cleared);
      });

      it('lists one kind in key order', async () => {
        const image = (digest: string) => ({
          key: `image#${digest}`,
          kind: 'image' as const,
          subject: digest,
          active: true,
          version: 1,
          history: [{ at: at(1), action: 'abandoned' as const, by: 'alice', reason: 'CVE' }],
        });
        await store.putPolicyEntry(image('sha256:bb'));
        await store.putPolicyEntry(image('sha256:aa'));
        await store.putPolicyEntry(hold(1, [change('held', 'alice')]));
        expect((await store.listPolicyEntries('image')).map((e) => e.subject)).toEqual(['sha256:aa', 'sha256:bb']);
        expect((await store.listPolicyEntries('hold')).map((e) => e.subject)).toEqual(['prod']);
      });
    });
  });
}
