import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbReleaseStore } from '../../adapters/aws/dynamodb-release-store.ts';
import { lockKey } from '../../config/environments.ts';
import type { ReleaseEvent } from '../../core/ports.ts';
import { singleTarget } from '../../core/ports.ts';
import { environmentsWith } from '../support/environments.ts';
import { DIGEST_GREEN, ReleaseWorld } from '../workflow/harness.ts';
import { type DynaliteTable, dynaliteTable } from './dynalite-table.ts';

/** DynamoDB's item size limit. */
const ITEM_LIMIT_BYTES = 400 * 1024;
/** The longest bake the config allows (the lock lives at most 24 h and outlasts the bake by 15 min)… */
// A 24-hour lock less the wait for the last minute's complete data (3 minutes) and 15 minutes of margin.
const LONGEST_BAKE_MINUTES = 24 * 60 - 18;
/** …at the shortest check interval it allows. */
const SHORTEST_INTERVAL_SECONDS = 10;

/** A health-check event shaped as Check health writes it (core/check-health.ts), about 1 KB of JSON. */
function healthCheck(i: number, start: number): ReleaseEvent {
  const at = new Date(start + i * SHORTEST_INTERVAL_SECONDS * 1000).toISOString();
  return {
    at,
    kind: 'health-check',
    summary: `healthy at 100% → bake: error rate 0.00% of 120 invocations ≤ 1%`,
    evidence: {
      next: 'bake',
      check: {
        at,
        verdict: 'healthy',
        reasons: ['error rate 0.00% of 120 invocations ≤ 1%'],
        window: { start: at, end: at },
        sample: { invocations: 120, errors: 0, throttles: 0, p99DurationMs: 412, errorRatePercent: 0 },
        step: { invocations: 120 * (i + 1), errors: 0, throttles: 0, p99DurationMs: 430, errorRatePercent: 0 },
        thresholds: { maxErrorRatePercent: 1, minInvocations: 20, maxErrors: 5, maxP99DurationMs: 2000 },
        firingAlarms: [],
        ignoredAlarms: [],
      },
    },
  };
}

/** The release item's size as DynamoDB counts it, near enough: attribute names plus their JSON values. */
async function releaseItemBytes(table: DynaliteTable, releaseId: string): Promise<number> {
  const out = await table.client.send(
    new GetItemCommand({
      TableName: table.tableName,
      Key: { pk: { S: `RELEASE#${releaseId}` }, sk: { S: 'RELEASE' } },
    }),
  );
  return Buffer.byteLength(JSON.stringify(out.Item ?? {}));
}

describe('release history on dynalite never outgrows a DynamoDB item', () => {
  let table: DynaliteTable;
  let store: DynamoDbReleaseStore;
  beforeAll(async () => {
    table = await dynaliteTable();
    store = new DynamoDbReleaseStore({ tableName: table.tableName, client: table.client });
  });
  afterAll(async () => {
    await table.close();
  });

  it(`keeps every check of the longest bake the config allows (${LONGEST_BAKE_MINUTES} min at ${SHORTEST_INTERVAL_SECONDS} s), closes the record and frees the lock`, async () => {
    const start = Date.parse('2026-11-26T10:00:00.000Z');
    const releaseId = 'rel-prod-longest';
    const key = 'switchyard-api-prod#prod';
    const now = new Date(start);
    await store.acquireLock(
      key,
      {
        releaseId,
        executionArn: 'arn',
        acquiredAt: now.toISOString(),
        expiresAt: new Date(start + 864e5).toISOString(),
      },
      now,
    );
    await store.createRelease({
      releaseId,
      executionArn: 'arn',
      environment: 'prod',
      targets: singleTarget({ functionName: 'switchyard-api-prod', blueVersion: '1' }),
      imageUri: `repo@${DIGEST_GREEN}`,
      digest: DIGEST_GREEN,
      status: 'running',
      startedAt: now.toISOString(),
      trigger: 'api',
      events: [{ at: now.toISOString(), kind: 'validated', summary: 'validated' }],
    });
    const checks = (LONGEST_BAKE_MINUTES * 60) / SHORTEST_INTERVAL_SECONDS;
    let historyBytes = 0;
    for (let i = 0; i < checks; i += 25) {
      const batch = Array.from({ length: Math.min(25, checks - i) }, (_, j) => healthCheck(i + j, start));
      historyBytes += batch.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0);
      await Promise.all(batch.map((event) => store.update(releaseId, {}, event)));
    }
    const end = new Date(start + checks * SHORTEST_INTERVAL_SECONDS * 1000).toISOString();
    await store.update(
      releaseId,
      { status: 'released', endedAt: end },
      { at: end, kind: 'released', summary: 'live → 2' },
    );
    expect(await store.releaseLock(key, releaseId)).toBe(true);

    // The old single-item history would have needed this many bytes in one item.
    expect(historyBytes).toBeGreaterThan(10 * ITEM_LIMIT_BYTES);
    expect(await releaseItemBytes(table, releaseId)).toBeLessThan(ITEM_LIMIT_BYTES / 100);
    const record = await store.getRelease(releaseId);
    expect(record?.status).toBe('released');
    expect(record?.events).toHaveLength(checks + 2);
    expect(record?.events.filter((e) => e.kind === 'health-check')).toHaveLength(checks);
    expect(record?.events.at(-1)?.kind).toBe('released');
    expect(await store.getLock(key)).toBeUndefined();
  }, 240_000);

  it('rolls back a release pre-filled past the old item limit: the record ends closed and the lock free', async () => {
    const environments = environmentsWith('prod', { approvalRequired: false });
    const world = await new ReleaseWorld({
      environment: 'prod',
      environments,
      traffic: () => ({ invocations: 100, errors: 50 }),
    }).seed();
    // The seeded first release that verified version 1 lives in this store too: it is what makes version 1 blue.
    const seeded = await world.store.getRelease('release-0');
    if (!seeded) throw new Error('the world seeded no first release');
    await store.createRelease(seeded);
    const releaseId = 'release-1';
    const start = world.clock.now();
    // 720 checks' worth of history (about 1 KB each, so past 400 KB): where the old single item was refused.
    await store.createRelease({
      releaseId,
      executionArn: 'arn',
      environment: 'prod',
      targets: singleTarget({ functionName: world.functionName, blueVersion: '1' }),
      imageUri: `repo@${DIGEST_GREEN}`,
      digest: DIGEST_GREEN,
      status: 'running',
      startedAt: start.toISOString(),
      trigger: 'api',
      events: [],
    });
    for (let i = 0; i < 720; i += 40) {
      await Promise.all(
        Array.from({ length: 40 }, (_, j) => store.update(releaseId, {}, healthCheck(i + j, start.getTime()))),
      );
    }
    const result = await world.run(world.apiRequest(), {
      name: releaseId,
      handlers: world.handlers({ ...world.deps, store }),
    });

    expect(result).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    const record = await store.getRelease(releaseId);
    expect(record?.status).toBe('rolled-back');
    expect(record?.events.length).toBeGreaterThan(720);
    expect(record?.events.at(-1)?.kind).toBe('rolled-back');
    const prod = environments.prod;
    if (!prod) throw new Error('no prod environment');
    expect(await store.getLock(lockKey(prod))).toBeUndefined();
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  }, 120_000);
});
