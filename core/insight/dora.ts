import type { ReleaseEvent, ReleaseStatus } from '../ports/ports.ts';

/**
 * The four DORA metrics of one environment over a window of days, computed from the release history alone
 * (docs/insight.md says what counts and why). Each figure is placed in the band of the 2023 Accelerate State of
 * DevOps Report it falls into (DORA_BANDS).
 */

export type Band = 'elite' | 'high' | 'medium' | 'low';

export const INSIGHT_WINDOWS = [7, 30, 90] as const;

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * The software delivery performance clusters of the 2023 Accelerate State of DevOps Report (DORA), table
 * "Software delivery performance", https://dora.dev/research/2023/dora-report/ : each cluster's description, and the
 * bound this project reads it as (a figure at or better than `best` is in the band). The report describes clusters,
 * not thresholds; where two clusters' ranges touch, the better band takes the boundary.
 */
export const DORA_BANDS = {
  source: 'Accelerate State of DevOps Report 2023 (DORA), https://dora.dev/research/2023/dora-report/',
  deploymentFrequency: [
    { band: 'elite', report: 'On demand (multiple deploys per day)', minPerDay: 1 },
    { band: 'high', report: 'Between once per day and once per week', minPerDay: 1 / 7 },
    { band: 'medium', report: 'Between once per week and once per month', minPerDay: 1 / 30 },
    { band: 'low', report: 'Fewer than once per month', minPerDay: 0 },
  ],
  leadTime: [
    { band: 'elite', report: 'Less than one day', maxSeconds: DAY },
    { band: 'high', report: 'Between one day and one week', maxSeconds: 7 * DAY },
    { band: 'medium', report: 'Between one week and one month', maxSeconds: 30 * DAY },
    { band: 'low', report: 'More than one month', maxSeconds: Number.POSITIVE_INFINITY },
  ],
  changeFailureRate: [
    { band: 'elite', report: '5%', maxRate: 0.05 },
    { band: 'high', report: '10%', maxRate: 0.1 },
    { band: 'medium', report: '15%', maxRate: 0.15 },
    { band: 'low', report: '64%', maxRate: 1 },
  ],
  timeToRestore: [
    { band: 'elite', report: 'Less than one hour', maxSeconds: HOUR },
    { band: 'high', report: 'Less than one day', maxSeconds: DAY },
    { band: 'medium', report: 'Between one day and one week', maxSeconds: 7 * DAY },
    { band: 'low', report: 'More than one week', maxSeconds: Number.POSITIVE_INFINITY },
  ],
} as const satisfies {
  source: string;
  deploymentFrequency: readonly { band: Band; report: string; minPerDay: number }[];
  leadTime: readonly { band: Band; report: string; maxSeconds: number }[];
  changeFailureRate: readonly { band: Band; report: string; maxRate: number }[];
  timeToRestore: readonly { band: Band; report: string; maxSeconds: number }[];
};

/** The part of a release record the metrics read. */
export interface HistoryRelease {
  readonly releaseId: string;
  readonly environment: string;
  readonly status: ReleaseStatus;
  readonly trigger: string;
  readonly startedAt: string;
  readonly endedAt?: string | undefined;
  readonly events: readonly ReleaseEvent[];
  /** When each commit new on green was made (the release's changes, `commits.times`); absent when none are known. */
  readonly commitTimes?: readonly string[] | undefined;
}

export interface DoraMetrics {
  readonly environment: string;
  readonly days: number;
  readonly from: string;
  readonly to: string;
  readonly deploymentFrequency: {
    /** Releases that reached 100% and stayed (no environment rollback undid them). */
    readonly deployments: number;
    readonly perDay: number;
    readonly band: Band | null;
  };
  readonly leadTime: {
    /** Commits whose lead time is known: those new on a deployment with recorded changes. */
    readonly commits: number;
    readonly medianSeconds: number | null;
    readonly p90Seconds: number | null;
    readonly band: Band | null;
  };
  readonly changeFailureRate: {
    /** Releases that moved traffic. */
    readonly changes: number;
    readonly failures: number;
    readonly rate: number | null;
    readonly band: Band | null;
    /** The failed releases, oldest first. */
    readonly failed: readonly string[];
  };
  readonly timeToRestore: {
    readonly restores: number;
    readonly medianSeconds: number | null;
    readonly p90Seconds: number | null;
    readonly band: Band | null;
  };
  /** Per UTC day of the window, oldest first: for the console's charts. */
  readonly daily: readonly { readonly date: string; readonly deployments: number; readonly failures: number }[];
}

/** Records an environment rollback writes (core/operations/environment-rollback.ts): not releases of a new version. */
export const isEnvironmentRollback = (r: Pick<HistoryRelease, 'trigger'>) => r.trigger.startsWith('manual-rollback:');

const seconds = (iso: string) => Date.parse(iso) / 1000;

/** The `q` quantile by nearest rank: the smallest value with at least q of all values at or below it. */
export function nearestRank(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? null;
}

function movedTraffic(r: HistoryRelease): boolean {
  return r.status === 'released' || r.events.some((e) => e.kind === 'traffic-shifted');
}

/** When the failure began: the check that sent the release back, or the operator's abort, after traffic moved. */
function failureStart(r: HistoryRelease): string | undefined {
  const firstShift = r.events.find((e) => e.kind === 'traffic-shifted')?.at;
  if (!firstShift) return undefined;
  const failing = r.events.find(
    (e) =>
      e.at >= firstShift &&
      ((e.kind === 'health-check' && e.evidence && 'next' in e.evidence && e.evidence.next === 'roll-back') ||
        e.kind === 'abort-requested' ||
        e.kind === 'failed' ||
        e.kind === 'rolled-back'),
  );
  return failing?.at;
}

function bandOf<T extends { band: Band }>(bands: readonly T[], fits: (b: T) => boolean): Band {
  return (bands.find(fits) ?? bands[bands.length - 1])?.band ?? 'low';
}

/**
 * The metrics of `environment` over the `days` before `now`. A release counts in the window its end falls in (an
 * environment rollback, its start); `history` is every record of the environment, in any order, reaching back at
 * least to the window's start plus the deployment before it.
 */
export function doraMetrics(
  history: readonly HistoryRelease[],
  environment: string,
  days: number,
  now: Date,
): DoraMetrics {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be a whole number from 1, not ${days}`);
  const to = now.getTime() / 1000;
  const from = to - days * DAY;
  const records = history.filter((r) => r.environment === environment);
  const releases = records
    .filter((r) => !isEnvironmentRollback(r) && r.endedAt && r.status !== 'running')
    .sort((a, b) => seconds(a.endedAt ?? '') - seconds(b.endedAt ?? ''));
  const rollbacks = records.filter(isEnvironmentRollback).sort((a, b) => seconds(a.startedAt) - seconds(b.startedAt));

  // Each environment rollback marks the deployment live before it as failed (once, however many rollbacks follow).
  const undoneBy = new Map<string, HistoryRelease>();
  for (const rollback of rollbacks) {
    const at = seconds(rollback.startedAt);
    const live = releases.filter((r) => r.status === 'released' && seconds(r.endedAt ?? '') <= at).at(-1);
    if (live && !undoneBy.has(live.releaseId)) undoneBy.set(live.releaseId, rollback);
  }

  const inWindow = (iso: string | undefined) => iso !== undefined && seconds(iso) > from && seconds(iso) <= to;
  const windowReleases = releases.filter((r) => inWindow(r.endedAt));
  const deployments = windowReleases.filter((r) => r.status === 'released' && !undoneBy.has(r.releaseId));
  const changes = windowReleases.filter(movedTraffic);
  const failed = changes.filter((r) => r.status !== 'released' || undoneBy.has(r.releaseId));

  const leadTimes = windowReleases
    .filter((r) => r.status === 'released')
    .flatMap((r) => (r.commitTimes ?? []).map((t) => seconds(r.endedAt ?? '') - seconds(t)))
    .filter((s) => s >= 0);

  const restores: number[] = [];
  for (const r of windowReleases) {
    if (r.status === 'released') continue;
    const start = failureStart(r);
    if (start && r.endedAt) restores.push(seconds(r.endedAt) - seconds(start));
  }
  for (const rollback of rollbacks) {
    if (rollback.status === 'rolled-back' && rollback.endedAt && inWindow(rollback.startedAt)) {
      restores.push(seconds(rollback.endedAt) - seconds(rollback.startedAt));
    }
  }

  const perDay = deployments.length / days;
  const leadMedian = nearestRank(leadTimes, 0.5);
  const rate = changes.length > 0 ? failed.length / changes.length : null;
  const restoreMedian = nearestRank(restores, 0.5);

  const daily = Array.from({ length: days }, (_, i) => {
    const dayStart = Math.floor(to / DAY) * DAY - (days - 1 - i) * DAY;
    const onDay = (iso: string | undefined) =>
      iso !== undefined && seconds(iso) >= dayStart && seconds(iso) < dayStart + DAY;
    return {
      date: new Date(dayStart * 1000).toISOString().slice(0, 10),
      deployments: deployments.filter((r) => onDay(r.endedAt)).length,
      failures: failed.filter((r) => onDay(r.endedAt)).length,
    };
  });

  return {
    environment,
    days,
    from: new Date(from * 1000).toISOString(),
    to: now.toISOString(),
    deploymentFrequency: {
      deployments: deployments.length,
      perDay,
      band: deployments.length > 0 ? bandOf(DORA_BANDS.deploymentFrequency, (b) => perDay >= b.minPerDay) : null,
    },
    leadTime: {
      commits: leadTimes.length,
      medianSeconds: leadMedian,
      p90Seconds: nearestRank(leadTimes, 0.9),
      band: leadMedian === null ? null : bandOf(DORA_BANDS.leadTime, (b) => leadMedian < b.maxSeconds),
    },
    changeFailureRate: {
      changes: changes.length,
      failures: failed.length,
      rate,
      band: rate === null ? null : bandOf(DORA_BANDS.changeFailureRate, (b) => rate <= b.maxRate),
      failed: failed.map((r) => r.releaseId),
    },
    timeToRestore: {
      restores: restores.length,
      medianSeconds: restoreMedian,
      p90Seconds: nearestRank(restores, 0.9),
      band: restoreMedian === null ? null : bandOf(DORA_BANDS.timeToRestore, (b) => restoreMedian < b.maxSeconds),
    },
    daily,
  };
}
