import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { MetricWindow, VersionMetrics, VersionMetricsSample } from '../../core/ports.ts';

let defaultClient: CloudWatchClient | undefined;
function cloudWatchClient(): CloudWatchClient {
  defaultClient ??= new CloudWatchClient({});
  return defaultClient;
}

/** Where the application publishes its request metrics (app/observability.ts, EMF through Powertools). */
export interface ApplicationMetricsSource {
  /** POWERTOOLS_METRICS_NAMESPACE of the application. */
  readonly namespace: string;
  /**
   * The `service` dimension (POWERTOOLS_SERVICE_NAME).
   * @default the function's name, which Terraform sets as each environment's service name, so one environment's
   * 5xx responses are never counted against another environment's version of the same number
   */
  readonly service?: string;
}

export const APPLICATION_METRICS: ApplicationMetricsSource = { namespace: 'Switchyard/App' };

export interface CloudWatchVersionMetricsOptions {
  /** @default one `CloudWatchClient` per module, with the default credential chain and region. */
  readonly client?: CloudWatchClient;
  /** @default APPLICATION_METRICS: namespace `Switchyard/App`, service the function's name */
  readonly application?: ApplicationMetricsSource;
}

const MINUTE_MS = 60_000;

/** Lambda's own per-version metrics (namespace AWS/Lambda). */
const LAMBDA_QUERIES = [
  { id: 'invocations', metric: 'Invocations', stat: 'Sum' },
  { id: 'functionErrors', metric: 'Errors', stat: 'Sum' },
  { id: 'throttles', metric: 'Throttles', stat: 'Sum' },
  { id: 'p99duration', metric: 'Duration', stat: 'p99' },
] as const;

/** The application's count of responses >= 500, which Lambda's `Errors` (function errors only) never sees. */
const APPLICATION_ERRORS = 'applicationErrors';

type QueryId = (typeof LAMBDA_QUERIES)[number]['id'] | typeof APPLICATION_ERRORS;

/**
 * The time range and period for a window: the start aligned down to its minute (data points are stamped at the
 * start of their minute), the end up to the next one, and one period spanning it all so a sample is one data point.
 */
export function metricRange(window: Pick<MetricWindow, 'start' | 'end'>): { start: Date; end: Date; period: number } {
  const start = Math.floor(window.start.getTime() / MINUTE_MS) * MINUTE_MS;
  const end = Math.max(start + MINUTE_MS, Math.ceil(window.end.getTime() / MINUTE_MS) * MINUTE_MS);
  return { start: new Date(start), end: new Date(end), period: (end - start) / 1000 };
}

/**
 * The GetMetricData queries for one version behind one alias (DESIGN decision 7), plus the application's 5xx count
 * for that version (dimensions `service` + `FunctionVersion`, as Powertools publishes them).
 */
export function versionMetricQueries(
  window: MetricWindow,
  period: number,
  application: ApplicationMetricsSource = APPLICATION_METRICS,
): MetricDataQuery[] {
  const dimensions = [
    { Name: 'FunctionName', Value: window.functionName },
    { Name: 'Resource', Value: `${window.functionName}:${window.alias}` },
    { Name: 'ExecutedVersion', Value: window.version },
  ];
  const lambda: MetricDataQuery[] = LAMBDA_QUERIES.map((q) => ({
    Id: q.id,
    MetricStat: {
      Metric: { Namespace: 'AWS/Lambda', MetricName: q.metric, Dimensions: dimensions },
      Period: period,
      Stat: q.stat,
    },
    ReturnData: true,
  }));
  const applicationErrors: MetricDataQuery = {
    Id: APPLICATION_ERRORS,
    MetricStat: {
      Metric: {
        Namespace: application.namespace,
        MetricName: 'Errors',
        Dimensions: [
          { Name: 'service', Value: application.service ?? window.functionName },
          { Name: 'FunctionVersion', Value: window.version },
        ],
      },
      Period: period,
      Stat: 'Sum',
    },
    ReturnData: true,
  };
  return [...lambda, applicationErrors];
}

/**
 * Per-version metrics from CloudWatch `GetMetricData`: Lambda's invocations, throttles and duration, and as errors
 * its function errors plus the 5xx responses the application reports. A handler that answers 500 without throwing
 * is no Lambda error, and an invocation that crashes publishes no application metric, so the two never overlap.
 */
export class CloudWatchVersionMetrics implements VersionMetrics {
  private readonly client: CloudWatchClient;
  private readonly application: ApplicationMetricsSource;

  constructor(options: CloudWatchVersionMetricsOptions = {}) {
    this.client = options.client ?? cloudWatchClient();
    this.application = options.application ?? APPLICATION_METRICS;
  }

  async sample(window: MetricWindow): Promise<VersionMetricsSample> {
    const range = metricRange(window);
    const queries = versionMetricQueries(window, range.period, this.application);
    const values = new Map<QueryId, number[]>(queries.map((q) => [q.Id as QueryId, []]));
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
      errors: sum('functionErrors') + sum(APPLICATION_ERRORS),
      throttles: sum('throttles'),
      // Percentiles of several periods cannot be combined exactly; the worst one is the safe reading.
      p99DurationMs: durations.length > 0 ? Math.max(...durations) : null,
    };
  }
}
