import {
  CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricStat,
} from '@aws-sdk/client-cloudwatch';
import { metricPeriodSeconds } from '../../core/model/metric-period.ts';
import type { MetricWindow, VersionMetrics, VersionMetricsSample } from '../../core/ports/ports.ts';

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

/**
 * "A single GetMetricData call can include as many as 500 MetricDataQuery structures", with "a total of as many as
 * 100,800 data points" per page; more pages come through NextToken
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
 */
export const MAX_QUERIES_PER_CALL = 500;

const MINUTE_MS = 60_000;

/** What a sample is made of; each is one CloudWatch metric statistic per window. */
type Field = 'invocations' | 'functionErrors' | 'throttles' | 'p99' | 'applicationErrors';

interface FieldStat {
  readonly field: Field;
  readonly stat: MetricStat;
}

/** Lambda's own per-version metrics (namespace AWS/Lambda). */
const LAMBDA_STATS = [
  { field: 'invocations', metric: 'Invocations', stat: 'Sum' },
  { field: 'functionErrors', metric: 'Errors', stat: 'Sum' },
  { field: 'throttles', metric: 'Throttles', stat: 'Sum' },
  { field: 'p99', metric: 'Duration', stat: 'p99' },
] as const;

/** The application's high-resolution metrics (app/observability.ts). */
const HIGH_RESOLUTION_STATS = [
  { field: 'invocations', metric: 'Requests', stat: 'Sum' },
  { field: 'applicationErrors', metric: 'Errors', stat: 'Sum' },
  { field: 'p99', metric: 'Latency', stat: 'p99' },
] as const;

/**
 * The metric statistics one window needs. Lambda's source (DESIGN decision 7): the version behind the alias, plus
 * the application's 5xx count for that version (dimensions `service` + `FunctionVersion`, as Powertools publishes
 * them), which Lambda's `Errors` (function errors only) never sees. The high-resolution source: the application's
 * `Requests`, `Errors` and `Latency` for the version, in the window's short period. A request that crashes the
 * function publishes no application metric, so only Lambda's source sees it: it stays as the second source.
 */
export function windowStats(
  window: MetricWindow,
  application: ApplicationMetricsSource = APPLICATION_METRICS,
): FieldStat[] {
  const period = metricPeriodSeconds(window);
  const applicationDimensions = [
    { Name: 'service', Value: application.service ?? window.functionName },
    { Name: 'FunctionVersion', Value: window.version },
  ];
  const applicationStat = (metric: string, stat: string): MetricStat => ({
    Metric: { Namespace: application.namespace, MetricName: metric, Dimensions: applicationDimensions },
    Period: period,
    Stat: stat,
  });
  if (window.source === 'high-resolution') {
    return HIGH_RESOLUTION_STATS.map((s) => ({ field: s.field, stat: applicationStat(s.metric, s.stat) }));
  }
  const lambdaDimensions = [
    { Name: 'FunctionName', Value: window.functionName },
    { Name: 'Resource', Value: `${window.functionName}:${window.alias}` },
    { Name: 'ExecutedVersion', Value: window.version },
  ];
  return [
    ...LAMBDA_STATS.map((s) => ({
      field: s.field,
      stat: {
        Metric: { Namespace: 'AWS/Lambda', MetricName: s.metric, Dimensions: lambdaDimensions },
        Period: period,
        Stat: s.stat,
      },
    })),
    { field: 'applicationErrors', stat: applicationStat('Errors', 'Sum') },
  ];
}

/**
 * The data points a window covers: CloudWatch stamps a data point at the start of its period, so the start is aligned
 * down to the period, the end up to the next one, and a window covers at least one period.
 */
export function periodRange(window: MetricWindow): { start: number; end: number; period: number } {
  const period = metricPeriodSeconds(window);
  const ms = period * 1000;
  const start = Math.floor(window.start.getTime() / ms) * ms;
  const end = Math.max(start + ms, Math.ceil(window.end.getTime() / ms) * ms);
  return { start, end, period };
}

interface Series {
  readonly id: string;
  readonly stat: MetricStat;
  start: number;
  end: number;
}

type Points = Map<number, number>;

/**
 * Per-version metrics from CloudWatch `GetMetricData`: invocations, errors (function errors plus the 5xx responses
 * the application reports), throttles and p99 latency, from Lambda's 1-minute metrics or the application's
 * high-resolution ones. A handler that answers 500 without throwing is no Lambda error, and an invocation that
 * crashes publishes no application metric, so the two never overlap.
 *
 * `sampleAll` reads each distinct metric statistic once (a window and its whole step read the same series, split by
 * timestamp), packs up to 500 of them into one call, and sums each window's periods. A percentile cannot be combined
 * exactly across periods: a window of several periods reads the invocation-weighted mean of their p99s (a window of
 * one period, as a 10-second check's is, reads its p99 exactly).
 */
export class CloudWatchVersionMetrics implements VersionMetrics {
  private readonly client: CloudWatchClient;
  private readonly application: ApplicationMetricsSource;

  constructor(options: CloudWatchVersionMetricsOptions = {}) {
    this.client = options.client ?? cloudWatchClient();
    this.application = options.application ?? APPLICATION_METRICS;
  }

  async sample(window: MetricWindow): Promise<VersionMetricsSample> {
    const [sample] = await this.sampleAll([window]);
    if (!sample) throw new Error('GetMetricData returned no sample for the window');
    return sample;
  }

  async sampleAll(windows: readonly MetricWindow[]): Promise<VersionMetricsSample[]> {
    const series = new Map<string, Series>();
    const plans = windows.map((window) => {
      const range = periodRange(window);
      const fields = windowStats(window, this.application).map(({ field, stat }) => {
        const key = JSON.stringify(stat);
        let entry = series.get(key);
        if (!entry) {
          entry = { id: `m${series.size}`, stat, start: range.start, end: range.end };
          series.set(key, entry);
        }
        entry.start = Math.min(entry.start, range.start);
        entry.end = Math.max(entry.end, range.end);
        return { field, id: entry.id };
      });
      return { range, fields };
    });
    // Over 500, series that start together share a call, so each call's time range stays tight.
    const all = [...series.values()];
    const ordered = all.length > MAX_QUERIES_PER_CALL ? all.sort((a, b) => a.start - b.start) : all;
    const calls: Series[][] = [];
    for (let i = 0; i < ordered.length; i += MAX_QUERIES_PER_CALL) {
      calls.push(ordered.slice(i, i + MAX_QUERIES_PER_CALL));
    }
    const points = new Map<string, Points>();
    for (const batch of calls) await this.read(batch, points);

    return plans.map(({ range, fields }) => {
      const of = (field: Field): [number, number][] => {
        const id = fields.find((f) => f.field === field)?.id;
        const byTime = id ? points.get(id) : undefined;
        return [...(byTime ?? new Map<number, number>())].filter(([t]) => t >= range.start && t < range.end);
      };
      const sum = (field: Field) => of(field).reduce((total, [, v]) => total + v, 0);
      const invocations = new Map(of('invocations'));
      const p99s = of('p99');
      let weighted = 0;
      let weight = 0;
      for (const [t, p99] of p99s) {
        const w = invocations.get(t) ?? 0;
        weighted += p99 * w;
        weight += w;
      }
      const p99DurationMs =
        p99s.length === 0
          ? null
          : weight > 0
            ? weighted / weight
            : p99s.reduce((total, [, v]) => total + v, 0) / p99s.length;
      return {
        invocations: sum('invocations'),
        errors: sum('functionErrors') + sum('applicationErrors'),
        throttles: sum('throttles'),
        p99DurationMs,
      };
    });
  }

  /** One GetMetricData request (all its pages) for up to 500 series over the span they cover. */
  private async read(batch: readonly Series[], points: Map<string, Points>): Promise<void> {
    // CloudWatch rounds a start time under 15 days old down to the minute (GetMetricData StartTime), so the call
    // starts on a minute: every period of 1 to 60 seconds then starts where the windows' periods do.
    const start = Math.floor(Math.min(...batch.map((s) => s.start)) / MINUTE_MS) * MINUTE_MS;
    const end = Math.max(...batch.map((s) => s.end));
    const queries: MetricDataQuery[] = batch.map((s) => ({ Id: s.id, MetricStat: s.stat, ReturnData: true }));
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(start),
          EndTime: new Date(end),
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        if (!result.Id) continue;
        let byTime = points.get(result.Id);
        if (!byTime) {
          byTime = new Map();
          points.set(result.Id, byTime);
        }
        const values = result.Values ?? [];
        const timestamps = result.Timestamps ?? [];
        values.forEach((value, i) => {
          const at = timestamps[i];
          // A data point without its timestamp cannot be placed in a window; CloudWatch always sends both.
          if (at) byTime.set(new Date(at).getTime(), value);
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
}
