import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { MetricWindow, VersionMetrics, VersionMetricsSample } from '../../core/ports.ts';

let defaultClient: CloudWatchClient | undefined;
function cloudWatchClient(): CloudWatchClient {
  defaultClient ??= new CloudWatchClient({});
  return defaultClient;
}

export interface CloudWatchVersionMetricsOptions {
  /** @default one `CloudWatchClient` per module, with the default credential chain and region. */
  readonly client?: CloudWatchClient;
}

const MINUTE_MS = 60_000;

/** The query ids, which are also the sample fields they feed. */
const QUERIES = [
  { id: 'invocations', metric: 'Invocations', stat: 'Sum' },
  { id: 'errors', metric: 'Errors', stat: 'Sum' },
  { id: 'throttles', metric: 'Throttles', stat: 'Sum' },
  { id: 'p99duration', metric: 'Duration', stat: 'p99' },
] as const;

type QueryId = (typeof QUERIES)[number]['id'];

/**
 * The time range and period for a window: the start aligned down to its minute (data points are stamped at the
 * start of their minute), the end up to the next one, and one period spanning it all so a sample is one data point.
 */
export function metricRange(window: Pick<MetricWindow, 'start' | 'end'>): { start: Date; end: Date; period: number } {
  const start = Math.floor(window.start.getTime() / MINUTE_MS) * MINUTE_MS;
  const end = Math.max(start + MINUTE_MS, Math.ceil(window.end.getTime() / MINUTE_MS) * MINUTE_MS);
  return { start: new Date(start), end: new Date(end), period: (end - start) / 1000 };
}

/** The GetMetricData queries for one version behind one alias (DESIGN decision 7). */
export function versionMetricQueries(window: MetricWindow, period: number): MetricDataQuery[] {
  const dimensions = [
    { Name: 'FunctionName', Value: window.functionName },
    { Name: 'Resource', Value: `${window.functionName}:${window.alias}` },
    { Name: 'ExecutedVersion', Value: window.version },
  ];
  return QUERIES.map((q) => ({
    Id: q.id,
    MetricStat: {
      Metric: { Namespace: 'AWS/Lambda', MetricName: q.metric, Dimensions: dimensions },
      Period: period,
      Stat: q.stat,
    },
    ReturnData: true,
  }));
}

/** Per-version Lambda metrics from CloudWatch `GetMetricData`. */
export class CloudWatchVersionMetrics implements VersionMetrics {
  private readonly client: CloudWatchClient;

  constructor(options: CloudWatchVersionMetricsOptions = {}) {
    this.client = options.client ?? cloudWatchClient();
  }

  async sample(window: MetricWindow): Promise<VersionMetricsSample> {
    const range = metricRange(window);
    const queries = versionMetricQueries(window, range.period);
    const values = new Map<QueryId, number[]>(QUERIES.map((q) => [q.id, []]));
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: range.start,
          EndTime: range.end,
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const bucket = values.get(result.Id as QueryId);
        if (bucket) bucket.push(...(result.Values ?? []));
      }
      nextToken = page.NextToken;
    } while (nextToken);

    const sum = (id: QueryId) => (values.get(id) ?? []).reduce((total, v) => total + v, 0);
    const durations = values.get('p99duration') ?? [];
    return {
      invocations: sum('invocations'),
      errors: sum('errors'),
      throttles: sum('throttles'),
      // Percentiles of several periods cannot be combined exactly; the worst one is the safe reading.
      p99DurationMs: durations.length > 0 ? Math.max(...durations) : null,
    };
  }
}
