import { describe, expect, it } from 'vitest';
import { DORA_BANDS, doraMetrics, type HistoryRelease, nearestRank } from '../../../../core/insight/dora.ts';
import type { HealthCheck } from '../../../../core/model/traffic.ts';
import type { ReleaseEvent } from '../../../../core/ports/ports.ts';

const NOW = new Date('2026-03-31T12:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** A health check event; only `next` matters to the metrics, the check itself is a stand-in. */
function healthCheck(at: string, next: 'bake' | 'roll-back'): ReleaseEvent {
  return { at, kind: 'health-check', summary: next, evidence: { check: {} as HealthCheck, next } };
}

function shifted(at: string): ReleaseEvent {
  return {
    at,
    kind: 'traffic-shifted',
    summary: 'shift',
    evidence: { stepIndex: 0, stepCount: 2, percent: 10, bakeSeconds: 600 },
  };
}

function release(
  id: string,
  end: number,
  outcome: 'released' | 'rolled-back-after-traffic' | 'rejected-before-traffic',
  opts: { failingCheckMinutes?: number; commitTimes?: string[]; environment?: string } = {},
): HistoryRelease {
  const start = end - 3 * HOUR;
  const events: ReleaseEvent[] = [{ at: iso(start), kind: 'validated', summary: 'validated' }];
  if (outcome !== 'rejected-before-traffic') events.push(shifted(iso(end - 2 * HOUR)));
  if (outcome === 'rolled-back-after-traffic') {
    events.push(healthCheck(iso(end - 90 * MIN), 'bake'));
    events.push(healthCheck(iso(end - (opts.failingCheckMinutes ?? 0) * MIN), 'roll-back'));
    events.push({ at: iso(end), kind: 'rolled-back', summary: 'rolled back' });
  }
  if (outcome === 'rejected-before-traffic') events.push({ at: iso(end), kind: 'verification-failed', summary: 'no' });
  return {
    releaseId: id,
    environment: opts.environment ?? 'prod',
    status: outcome === 'released' ? 'released' : 'rolled-back',
    trigger: 'ecr-push:e',
    startedAt: iso(start),
    endedAt: iso(end),
    events,
    ...(opts.commitTimes ? { commitTimes: opts.commitTimes } : {}),
  };
}

function environmentRollback(id: string, start: number, minutes: number): HistoryRelease {
  return {
    releaseId: id,
    environment: 'prod',
    status: 'rolled-back',
    trigger: 'manual-rollback:oncall',
    startedAt: iso(start),
    endedAt: iso(start + minutes * MIN),
    events: [{ at: iso(start + minutes * MIN), kind: 'rolled-back', summary: 'environment rollback' }],
  };
}

/**
 * 60 prod releases, one every 36 hours, the last ending now (release i ends 88.5 − 1.5·i days ago):
 *  - i % 10 = 3 (3, 13, …, 53): rolled back after traffic moved; the failing check came 10 + i minutes before the end;
 *  - i % 10 = 7 (7, 17, …, 57): rejected by verification, before any traffic moved;
 *  - every other one released; 20 and 50 were then undone by an environment rollback 2 hours later, taking 5 minutes.
 * Each release's changes hold two commits: one made 2 h before it went live, and one 30 h (even i) or 200 h (odd i)
 * before. Two staging releases and a staging rollback sit beside them and must change nothing.
 */
function seededHistory(): HistoryRelease[] {
  const history: HistoryRelease[] = [];
  for (let i = 0; i < 60; i++) {
    const end = NOW.getTime() - (88.5 - 1.5 * i) * DAY;
    const commitTimes = [iso(end - 2 * HOUR), iso(end - (i % 2 === 0 ? 30 : 200) * HOUR)];
    const outcome = i % 10 === 3 ? 'rolled-back-after-traffic' : i % 10 === 7 ? 'rejected-before-traffic' : 'released';
    history.push(release(`rel-${i}`, end, outcome, { failingCheckMinutes: 10 + i, commitTimes }));
    if (i === 20 || i === 50) history.push(environmentRollback(`rb-${i}`, end + 2 * HOUR, 5));
  }
  history.push(release('stg-1', NOW.getTime() - DAY, 'rolled-back-after-traffic', { environment: 'staging' }));
  history.push(release('stg-2', NOW.getTime() - 2 * DAY, 'released', { environment: 'staging' }));
  return history.reverse();
}

describe('DORA metrics over a seeded history of 60 releases', () => {
  const history = seededHistory();

  it('over 90 days: every release, both environment rollbacks', () => {
    const m = doraMetrics(history, 'prod', 90, NOW);
    // Released: 60 − 6 rolled back − 6 rejected = 48; less the 2 undone by an environment rollback = 46.
    expect(m.deploymentFrequency).toEqual({ deployments: 46, perDay: 46 / 90, band: 'high' });
    // Lead times of the 48 that went live: 48 × 2 h, 30 × 30 h (the even ones), 18 × 200 h (the odd ones released).
    // 96 values: the median is the 48th (2 h), p90 the 87th (ranks 79–96 are 200 h).
    expect(m.leadTime).toEqual({ commits: 96, medianSeconds: 2 * 3600, p90Seconds: 200 * 3600, band: 'elite' });
    // Moved traffic: 60 − 6 rejected = 54. Failed: the 6 rolled back + rel-20 and rel-50 = 8; 8/54 = 14.8 %.
    expect(m.changeFailureRate).toEqual({
      changes: 54,
      failures: 8,
      rate: 8 / 54,
      band: 'medium',
      failed: ['rel-3', 'rel-13', 'rel-20', 'rel-23', 'rel-33', 'rel-43', 'rel-50', 'rel-53'],
    });
    // Restores: the rolled-back ones, (10 + i) min each: 13, 23, 33, 43, 53, 63 min; the two rollbacks, 5 min each.
    // Sorted (s): 300, 300, 780, 1380, 1980, 2580, 3180, 3780: the median is the 4th, p90 the 8th.
    expect(m.timeToRestore).toEqual({ restores: 8, medianSeconds: 1380, p90Seconds: 3780, band: 'elite' });
    expect(m.daily).toHaveLength(90);
    expect(m.daily.reduce((n, d) => n + d.deployments, 0)).toBe(46);
    expect(m.daily.reduce((n, d) => n + d.failures, 0)).toBe(8);
  });

  it('over 30 days: releases 40 to 59 (39 ended exactly 30 days ago, on the boundary, and is left out)', () => {
    const m = doraMetrics(history, 'prod', 30, NOW);
    // 20 releases; 47 and 57 rejected, 43 and 53 rolled back: 16 released, less rel-50 undone = 15.
    expect(m.deploymentFrequency).toEqual({ deployments: 15, perDay: 0.5, band: 'high' });
    // 16 went live: 16 × 2 h, 10 × 30 h (40, 42, …, 58), 6 × 200 h (41, 45, 49, 51, 55, 59).
    // 32 values: the median is the 16th (2 h), p90 the 29th (ranks 27–32 are 200 h).
    expect(m.leadTime).toEqual({ commits: 32, medianSeconds: 2 * 3600, p90Seconds: 200 * 3600, band: 'elite' });
    // Moved traffic: 18. Failed: 43, 50, 53: 3/18 = 16.7 %, above the report's 15 %: low.
    expect(m.changeFailureRate).toMatchObject({ changes: 18, failures: 3, rate: 3 / 18, band: 'low' });
    // Restores: 53 min (rel-43), 63 min (rel-53), 5 min (the rollback after rel-50): median 2nd = 53 min.
    expect(m.timeToRestore).toEqual({ restores: 3, medianSeconds: 3180, p90Seconds: 3780, band: 'elite' });
  });

  it('over 7 days: releases 55 to 59, with nothing failed and nothing to restore', () => {
    const m = doraMetrics(history, 'prod', 7, NOW);
    // 55, 56, 58, 59 released; 57 rejected before traffic (neither a change nor a failure).
    expect(m.deploymentFrequency).toEqual({ deployments: 4, perDay: 4 / 7, band: 'high' });
    // 8 values: 4 × 2 h, 2 × 30 h (56, 58), 2 × 200 h (55, 59): median the 4th, p90 the 8th.
    expect(m.leadTime).toEqual({ commits: 8, medianSeconds: 2 * 3600, p90Seconds: 200 * 3600, band: 'elite' });
    expect(m.changeFailureRate).toEqual({ changes: 4, failures: 0, rate: 0, band: 'elite', failed: [] });
    expect(m.timeToRestore).toEqual({ restores: 0, medianSeconds: null, p90Seconds: null, band: null });
    // By UTC date: 55 on 25 March at noon, 56 on the 27th at midnight, 58 on the 30th, 59 on the 31st.
    expect(m.daily.map((d) => d.date)).toEqual([25, 26, 27, 28, 29, 30, 31].map((d) => `2026-03-${d}`));
    expect(m.daily.map((d) => d.deployments)).toEqual([1, 0, 1, 0, 0, 1, 1]);
  });

  it('counts staging apart from prod', () => {
    const m = doraMetrics(history, 'staging', 7, NOW);
    expect(m.deploymentFrequency.deployments).toBe(1);
    expect(m.changeFailureRate).toMatchObject({ changes: 2, failures: 1, failed: ['stg-1'] });
  });
});

describe('DORA bands', () => {
  const at = (i: number) => NOW.getTime() - i * HOUR - 1;
  it('an environment with no release has no figures and no bands', () => {
    const m = doraMetrics([], 'prod', 30, NOW);
    expect(m.deploymentFrequency).toEqual({ deployments: 0, perDay: 0, band: null });
    expect(m.leadTime.band).toBeNull();
    expect(m.changeFailureRate).toMatchObject({ changes: 0, rate: null, band: null });
  });

  it('two deployments a day over a week is elite; a lead time of exactly one day is high, not elite', () => {
    const history = Array.from({ length: 14 }, (_, i) =>
      release(`r${i}`, at(i * 12), 'released', { commitTimes: [iso(at(i * 12) - DAY)] }),
    );
    const m = doraMetrics(history, 'prod', 7, NOW);
    expect(m.deploymentFrequency.band).toBe('elite');
    expect(m.leadTime).toMatchObject({ medianSeconds: 86_400, band: 'high' });
  });

  it('cites the report every band comes from', () => {
    expect(DORA_BANDS.source).toContain('https://dora.dev/research/2023/dora-report/');
  });

  it('refuses a window that is not a whole number of days', () => {
    expect(() => doraMetrics([], 'prod', 0, NOW)).toThrow(/whole number/);
    expect(() => doraMetrics([], 'prod', 1.5, NOW)).toThrow(/whole number/);
  });

  it('takes quantiles by nearest rank', () => {
    expect(nearestRank([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(nearestRank([1, 2, 3, 4], 0.5)).toBe(2);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(nearestRank([], 0.5)).toBeNull();
  });
});
