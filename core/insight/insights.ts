import type { ReleaseRecord, ReleaseStore } from '../ports/ports.ts';
import { type DoraMetrics, doraMetrics, type HistoryRelease, INSIGHT_WINDOWS } from './dora.ts';
import type { InsightStore } from './insight-store.ts';

/** Records read per page while the history is gathered. */
const PAGE_SIZE = 100;

/**
 * The release records of `environment` that can count in the `days` before `now`, with the commit times of each
 * release that went live (from its kept diff). Pages newest first, and goes a page past the window's start, so the
 * deployment an environment rollback inside the window undid is found.
 */
export async function environmentHistory(
  deps: {
    readonly store: Pick<ReleaseStore, 'listReleases'>;
    readonly insight?: Pick<InsightStore, 'getReleaseChanges'> | undefined;
  },
  environment: string,
  days: number,
  now: Date,
): Promise<HistoryRelease[]> {
  const from = now.getTime() - days * 86_400_000;
  const records: ReleaseRecord[] = [];
  let cursor: string | undefined;
  let pastWindow = false;
  do {
    const page = await deps.store.listReleases({
      environment,
      limit: PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
    });
    records.push(...page.releases);
    cursor = page.nextCursor;
    if (pastWindow) break;
    pastWindow = page.releases.some((r) => Date.parse(r.startedAt) < from);
  } while (cursor);
  return Promise.all(
    records.map(async (r): Promise<HistoryRelease> => {
      const changes = r.status === 'released' ? await deps.insight?.getReleaseChanges(r.releaseId) : undefined;
      return {
        releaseId: r.releaseId,
        environment: r.environment,
        status: r.status,
        trigger: r.trigger,
        startedAt: r.startedAt,
        endedAt: r.endedAt,
        events: r.events,
        ...(changes ? { commitTimes: changes.commits.times } : {}),
      };
    }),
  );
}

export interface EnvironmentInsights {
  readonly environment: string;
  /** One set of figures per window asked for. */
  readonly windows: readonly DoraMetrics[];
}

/** The DORA metrics of each environment over each window (7, 30 and 90 days unless one is asked for). */
export async function environmentInsights(
  deps: Parameters<typeof environmentHistory>[0],
  environments: readonly string[],
  now: Date,
  days?: number,
): Promise<EnvironmentInsights[]> {
  const windows = days === undefined ? [...INSIGHT_WINDOWS] : [days];
  const longest = Math.max(...windows);
  return Promise.all(
    environments.map(async (environment) => {
      const history = await environmentHistory(deps, environment, longest, now);
      return { environment, windows: windows.map((d) => doraMetrics(history, environment, d, now)) };
    }),
  );
}
