import {
  CloudWatchClient,
  GetMetricDataCommand,
  type MetricDatum,
  PutMetricDataCommand,
  type StandardUnit,
} from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CloudWatchVersionMetrics, windowStats } from '../../adapters/aws/cloudwatch-version-metrics.ts';
import { motoAccount } from '../support/moto.ts';

/**
 * The application's own metrics, as its Lambda function writes them (EMF lines from app/observability.ts through
 * Powertools), put into moto's CloudWatch with PutMetricData the way CloudWatch Logs extracts EMF, then read back
 * through CloudWatchVersionMetrics.sampleAll: the namespace, dimensions, metric names and storage resolution the
 * application writes are the ones the bake reads.
 */

const FUNCTION_NAME = 'switchyard-api-prod';
const VERSION = '7';

interface EmfLine {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { Name: string; Unit?: string; StorageResolution?: number }[];
    }[];
  };
  readonly [field: string]: unknown;
}

/** What CloudWatch makes of one EMF line: a datum per metric and dimension set, at the line's timestamp. */
function emfToMetricData(line: EmfLine): { namespace: string; data: MetricDatum[] }[] {
  return line._aws.CloudWatchMetrics.map((directive) => ({
    namespace: directive.Namespace,
    data: directive.Dimensions.flatMap((dimensionSet) =>
      directive.Metrics.map((metric) => ({
        MetricName: metric.Name,
        Dimensions: dimensionSet.map((name) => ({ Name: name, Value: String(line[name]) })),
        Value: Number(line[metric.Name]),
        ...(metric.Unit ? { Unit: metric.Unit as StandardUnit } : {}),
        StorageResolution: metric.StorageResolution ?? 60,
        Timestamp: new Date(line._aws.Timestamp),
      })),
    ),
  }));
}

/** Runs the application's recordRequest for each request and returns the EMF lines it printed. */
async function applicationEmf(requests: readonly { statusCode: number; latencyMs: number }[]): Promise<EmfLine[]> {
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', FUNCTION_NAME);
  const printed: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    const observability = await import('../../app/observability.ts');
    observability.useFunctionVersionDimension(VERSION);
    for (const r of requests) observability.recordRequest({ ...r, usedPreviousSecret: false });
  } finally {
    write.mockRestore();
    vi.unstubAllEnvs();
  }
  return printed
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

const REQUESTS = [
  { statusCode: 200, latencyMs: 40 },
  { statusCode: 200, latencyMs: 60 },
  { statusCode: 503, latencyMs: 900 },
  { statusCode: 200, latencyMs: 50 },
  { statusCode: 500, latencyMs: 700 },
];

describe('CloudWatchVersionMetrics on moto, reading the application’s EMF metrics', () => {
  let client: CloudWatchClient;
  let emittedAt: number;
  beforeAll(async () => {
    client = motoAccount().client(CloudWatchClient);
    const lines = await applicationEmf(REQUESTS);
    expect(lines).toHaveLength(REQUESTS.length);
    emittedAt = lines[0]?._aws.Timestamp ?? Date.now();
    for (const line of lines) {
      for (const { namespace, data } of emfToMetricData(line)) {
        await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
      }
    }
  });
  afterAll(() => client.destroy());

  const window = (periodSeconds: number, source: 'high-resolution' | 'lambda') => {
    const ms = periodSeconds * 1000;
    const start = new Date(Math.floor(emittedAt / ms) * ms);
    return {
      functionName: FUNCTION_NAME,
      alias: 'live',
      version: VERSION,
      start,
      end: new Date(start.getTime() + ms),
      source,
      ...(source === 'high-resolution' ? { periodSeconds } : {}),
    };
  };

  // CloudWatch answers percentile statistics such as p99 for any metric (GetMetricData MetricStat.Stat,
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html). moto computes only
  // Sum, Average, Minimum, Maximum and SampleCount (moto/cloudwatch/models.py, Statistics.get_statistics_for_type)
  // and fails the whole GetMetricData with an HTML error page once a p99 series has a data point. So the
  // high-resolution window is read here with the adapter's own queries (windowStats) less the percentile, and the
  // difference is pinned below.
  it('finds the requests and 5xx answers of the version with the adapter’s high-resolution queries', async () => {
    const w = window(10, 'high-resolution');
    const stats = windowStats(w).filter((s) => !s.stat.Stat?.startsWith('p'));
    expect(stats.map((s) => s.field)).toEqual(['invocations', 'applicationErrors']);
    const out = await client.send(
      new GetMetricDataCommand({
        MetricDataQueries: stats.map((s, i) => ({ Id: `m${i}`, MetricStat: s.stat, ReturnData: true })),
        StartTime: w.start,
        EndTime: w.end,
      }),
    );
    const sums = (out.MetricDataResults ?? []).map((r) => (r.Values ?? []).reduce((a, b) => a + b, 0));
    expect(sums).toEqual([REQUESTS.length, 2]);
  });

  it('differs from CloudWatch: moto cannot answer the p99 of a high-resolution window that has data', async () => {
    const metrics = new CloudWatchVersionMetrics({ client });
    await expect(metrics.sampleAll([window(10, 'high-resolution')])).rejects.toThrow(/not valid JSON/);
  });

  it('counts the 5xx answers of the version in a 1-minute window beside Lambda’s metrics', async () => {
    const metrics = new CloudWatchVersionMetrics({ client });
    const [sample] = await metrics.sampleAll([window(60, 'lambda')]);
    // No Lambda ran here, so Lambda's own metrics (AWS/Lambda, which no caller may put) have no data point.
    expect(sample).toEqual({ invocations: 0, errors: 2, throttles: 0, p99DurationMs: null });
  });

  it('sees nothing for another version of the same function', async () => {
    const metrics = new CloudWatchVersionMetrics({ client });
    const [sample] = await metrics.sampleAll([{ ...window(10, 'high-resolution'), version: '8' }]);
    expect(sample).toEqual({ invocations: 0, errors: 0, throttles: 0, p99DurationMs: null });
  });
});
