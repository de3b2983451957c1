import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteReleaseStore } from '../../local/sqlite-release-store.ts';

/** Records as a data directory written before every release carried targets holds them. */
const BEFORE = {
  single: {
    releaseId: 'rel-prod-old',
    executionArn: 'local:rel-prod-old',
    environment: 'prod',
    functionName: 'switchyard-api-prod',
    imageUri: 'local/switchyard-api@sha256:b',
    digest: 'sha256:b',
    blueVersion: '1',
    greenVersion: '2',
    status: 'running',
    startedAt: '2026-12-01T10:00:00.000Z',
    trigger: 'api:alice',
    events: [],
  },
  fleet: {
    releaseId: 'rel-prod-fleet',
    executionArn: 'local:rel-prod-fleet',
    environment: 'prod',
    functionName: 'switchyard-api-prod',
    imageUri: 'local/switchyard-api@sha256:b',
    digest: 'sha256:b',
    blueVersion: null,
    status: 'rolled-back',
    startedAt: '2026-12-01T09:00:00.000Z',
    trigger: 'api:alice',
    events: [],
    fleet: {
      waveCount: 2,
      currentWave: null,
      trippedBy: 'm2',
      members: [
        {
          name: 'm1',
          functionName: 'f-m1',
          wave: 0,
          blueVersion: '1',
          greenVersion: '2',
          phase: 'rolled-back',
          percent: 0,
        },
        {
          name: 'm2',
          functionName: 'f-m2',
          wave: 1,
          blueVersion: '1',
          greenVersion: '2',
          phase: 'rolled-back',
          percent: 0,
          verdict: { healthy: false, reason: '12% errors', at: '2026-12-01T09:05:00.000Z' },
        },
      ],
    },
  },
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function dataDirWithOldRecords(): string {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-legacy-'));
  const path = join(dir, 'releases.db');
  new SqliteReleaseStore(path).close();
  const db = new DatabaseSync(path);
  for (const record of Object.values(BEFORE)) {
    db.prepare('INSERT INTO releases (release_id, environment, status, started_at, record) VALUES (?, ?, ?, ?, ?)').run(
      record.releaseId,
      record.environment,
      record.status,
      record.startedAt,
      JSON.stringify(record),
    );
  }
  db.close();
  return path;
}

describe('a data directory written before every release carried targets', () => {
  it('reads, lists and closes its records with their targets rebuilt', async () => {
    const store = new SqliteReleaseStore(dataDirWithOldRecords());
    try {
      const single = await store.getRelease('rel-prod-old');
      expect(single?.targets).toEqual({
        waveCount: 1,
        currentWave: null,
        members: [
          {
            name: 'switchyard-api-prod',
            functionName: 'switchyard-api-prod',
            wave: 0,
            blueVersion: '1',
            greenVersion: '2',
            phase: 'pending',
            percent: 0,
          },
        ],
      });
      expect(single).not.toHaveProperty('greenVersion');
      const { releases } = await store.listReleases({ environment: 'prod' });
      const fleet = releases.find((r) => r.releaseId === 'rel-prod-fleet');
      expect(fleet?.targets.trippedBy).toBe('m2');
      expect(fleet?.targets.members[1]?.verdict).toEqual({
        verdict: 'unhealthy',
        reason: '12% errors',
        at: '2026-12-01T09:05:00.000Z',
      });
      // A stop's reconcile closes an old running record as it would a new one.
      const closed = await store.closeRelease('rel-prod-old', {
        status: 'aborted',
        endedAt: '2026-12-01T10:30:00.000Z',
      });
      expect(closed).toEqual({ closed: true, status: 'aborted' });
      await store.update('rel-prod-old', { targets: { 'switchyard-api-prod': { phase: 'rolled-back' } } });
      expect((await store.getRelease('rel-prod-old'))?.targets.members[0]?.phase).toBe('rolled-back');
    } finally {
      store.close();
    }
  });
});
