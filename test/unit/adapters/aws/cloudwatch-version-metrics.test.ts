import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CloudWatchVersionMetrics,
  MAX_QUERIES_PER_CALL,
  periodRange,
} from '../../../../adapters/aws/cloudwatch-version-metrics.ts';
import { InvalidMetricWindow } from '../../../../core/model/metric-period.ts';
import type { MetricWindow } from '../../../../core/ports/ports.ts';

const cloudWatch = mockClient(CloudWatchClient);
const metrics = () =>
  new CloudWatchVersionMetrics({
    client: new CloudWatchClient({ region: 'eu-west-1' }),
    application: { namespace: 'Orders/App', service: 'orders-api' },
  });

const window: MetricWindow = {
  functionName: 'orders-api-prod',
  alias: 'live',
  version: '8',
  start: new Date('2026-11-26T10:03:25Z'),
  end: new Date('2026-11-26T10:08:10Z'),
};

const at = (iso: string) => new Date(iso);

function lambdaQuery(id: string, metricName: string, stat: string, version = '8') {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [
          { Name: 'FunctionName', Value: 'orders-api-prod' },
          { Name: 'Resource', Value: 'orders-api-prod:live' },
          { Name: 'ExecutedVersion', Value: version },
        ],
      },
      Period: 60,
      Stat: stat,
    },
    ReturnData: true,
  };
}

/** The application's own metric for the version, as Powertools publishes it (EMF). */
function applicationQuery(
  id: string,
  metricName: string,
  stat: string,
  period: number,
  { version = '8', namespace = 'Orders/App', service = 'orders-api' } = {},
) {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: namespace,
        MetricName: metricName,
        Dimensions: [
          { Name: 'service', Value: service },
          { Name: 'FunctionVersion', Value: version },
        ],
      },
      Period: period,
      Stat: stat,
    },
    ReturnData: true,
  };
}

beforeEach(() => {
  cloudWatch.reset();
});

describe('CloudWatchVersionMetrics: Lambda 1-minute source', () => {
  it("asks for the version behind the alias, and the application's 5xx count for it, in 1-minute periods over whole minutes", async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await metrics().sample(window);

    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual({
      MetricDataQueries: [
        lambdaQuery('m0', 'Invocations', 'Sum'),
        lambdaQuery('m1', 'Errors', 'Sum'),
        lambdaQuery('m2', 'Throttles', 'Sum'),
        lambdaQuery('m3', 'Duration', 'p99'),
        applicationQuery('m4', 'Errors', 'Sum', 60),
      ],
      StartTime: at('2026-11-26T10:03:00Z'),
      EndTime: at('2026-11-26T10:09:00Z'),
      ScanBy: 'TimestampAscending',
      NextToken: undefined,
    });
  });

  it('sums counts over every data point and page, and weights each minute p99 by its invocations', async () => {
    cloudWatch
      .on(GetMetricDataCommand, { NextToken: undefined })
      .resolves({
        MetricDataResults: [
          { Id: 'm0', Timestamps: [at('2026-11-26T10:03:00Z'), at('2026-11-26T10:04:00Z')], Values: [100, 300] },
          { Id: 'm1', Timestamps: [at('2026-11-26T10:04:00Z')], Values: [1] },
          { Id: 'm3', Timestamps: [at('2026-11-26T10:03:00Z')], Values: [100] },
        ],
        NextToken: 'more',
      })
      .on(GetMetricDataCommand, { NextToken: 'more' })
      .resolves({
        MetricDataResults: [
          { Id: 'm2', Timestamps: [at('2026-11-26T10:03:00Z'), at('2026-11-26T10:05:00Z')], Values: [2, 3] },
          { Id: 'm3', Timestamps: [at('2026-11-26T10:04:00Z')], Values: [500] },
          { Id: 'unexpected', Timestamps: [at('2026-11-26T10:04:00Z')], Values: [9] },
        ],
      });

    expect(await metrics().sample(window)).toEqual({
      invocations: 400,
      errors: 1,
      throttles: 5,
      // (100 × 100 + 500 × 300) / 400
      p99DurationMs: 400,
    });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  it('counts as errors both function errors and the 5xx responses the application reports', async () => {
    const t = [at('2026-11-26T10:05:00Z')];
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'm0', Timestamps: t, Values: [200] },
        { Id: 'm1', Timestamps: t, Values: [2] },
        { Id: 'm4', Timestamps: [...t, at('2026-11-26T10:06:00Z')], Values: [30, 7] },
      ],
    });

    expect(await metrics().sample(window)).toMatchObject({ invocations: 200, errors: 39 });
  });

  it("reads the application's metrics from Switchyard/App under the environment's function name by default", async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await new CloudWatchVersionMetrics({ client: new CloudWatchClient({ region: 'eu-west-1' }) }).sample(window);

    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.at(-1)).toEqual(
      applicationQuery('m4', 'Errors', 'Sum', 60, { namespace: 'Switchyard/App', service: 'orders-api-prod' }),
    );
  });

  it('reads no traffic as zero counts and a null p99', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'm0', Timestamps: [], Values: [] },
        { Id: 'm3', Timestamps: [], Values: [] },
      ],
    });
    expect(await metrics().sample(window)).toEqual({ invocations: 0, errors: 0, throttles: 0, p99DurationMs: null });
  });
});

describe('CloudWatchVersionMetrics: high-resolution source', () => {
  const highResolution: MetricWindow = {
    ...window,
    start: at('2026-11-26T10:03:20Z'),
    end: at('2026-11-26T10:03:40Z'),
    source: 'high-resolution',
    periodSeconds: 10,
  };

  it("asks for the application's Requests, Errors and Latency p99 by FunctionVersion in 10-second periods", async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await metrics().sample(highResolution);

    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual({
      MetricDataQueries: [
        applicationQuery('m0', 'Requests', 'Sum', 10),
        applicationQuery('m1', 'Errors', 'Sum', 10),
        applicationQuery('m2', 'Latency', 'p99', 10),
      ],
      // CloudWatch rounds the start down to the minute anyway; the 10-second periods start on it.
      StartTime: at('2026-11-26T10:03:00Z'),
      EndTime: at('2026-11-26T10:03:40Z'),
      ScanBy: 'TimestampAscending',
      NextToken: undefined,
    });
  });

  it('keeps only the periods inside the window: the call starts on the minute, the window later', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'm0',
          Timestamps: ['10:03:00', '10:03:10', '10:03:20', '10:03:30'].map((t) => at(`2026-11-26T${t}Z`)),
          Values: [1000, 1000, 40, 60],
        },
        { Id: 'm1', Timestamps: [at('2026-11-26T10:03:10Z'), at('2026-11-26T10:03:30Z')], Values: [500, 3] },
        { Id: 'm2', Timestamps: [at('2026-11-26T10:03:20Z')], Values: [80] },
      ],
    });

    expect(await metrics().sample(highResolution)).toEqual({
      invocations: 100,
      errors: 3,
      throttles: 0,
      p99DurationMs: 80,
    });
  });

  it('refuses a period CloudWatch does not allow below a minute', async () => {
    await expect(metrics().sample({ ...highResolution, periodSeconds: 15 })).rejects.toThrow(InvalidMetricWindow);
    await expect(metrics().sample({ ...highResolution, periodSeconds: 15 })).rejects.toThrow(
      'a high-resolution period must be one of 1, 5, 10, 20, 30 seconds, not 15',
    );
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});

describe('CloudWatchVersionMetrics.sampleAll', () => {
  it("reads a check's windows (green and blue, window and step, both sources) in one call, each series once", async () => {
    const stepStart = at('2026-11-26T10:01:30Z');
    const hr = { source: 'high-resolution', periodSeconds: 10 } as const;
    const windows: MetricWindow[] = [
      { ...window, ...hr, start: at('2026-11-26T10:03:20Z'), end: at('2026-11-26T10:03:30Z') },
      { ...window, ...hr, start: stepStart, end: at('2026-11-26T10:03:30Z') },
      { ...window, ...hr, version: '7', start: at('2026-11-26T10:03:20Z'), end: at('2026-11-26T10:03:30Z') },
      { ...window, ...hr, version: '7', start: stepStart, end: at('2026-11-26T10:03:30Z') },
      { ...window, start: at('2026-11-26T10:01:00Z'), end: at('2026-11-26T10:02:00Z') },
      { ...window, start: stepStart, end: at('2026-11-26T10:02:00Z') },
      { ...window, version: '7', start: at('2026-11-26T10:01:00Z'), end: at('2026-11-26T10:02:00Z') },
      { ...window, version: '7', start: stepStart, end: at('2026-11-26T10:02:00Z') },
    ];
    const seconds = (from: string, count: number, step: number) =>
      Array.from({ length: count }, (_, i) => new Date(Date.parse(`2026-11-26T${from}Z`) + i * step * 1000));
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        // Green's requests, 10 per 10-second period from 10:01:30 to 10:03:20.
        { Id: 'm0', Timestamps: seconds('10:01:30', 12, 10), Values: Array(12).fill(10) },
        { Id: 'm1', Timestamps: [at('2026-11-26T10:03:20Z')], Values: [4] },
        // Blue's requests, 90 per period.
        { Id: 'm3', Timestamps: seconds('10:01:30', 12, 10), Values: Array(12).fill(90) },
        // Lambda's green invocations in its 1-minute periods.
        { Id: 'm6', Timestamps: [at('2026-11-26T10:01:00Z')], Values: [55] },
      ],
    });

    const samples = await metrics().sampleAll(windows);

    const calls = cloudWatch.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.MetricDataQueries).toEqual([
      applicationQuery('m0', 'Requests', 'Sum', 10),
      applicationQuery('m1', 'Errors', 'Sum', 10),
      applicationQuery('m2', 'Latency', 'p99', 10),
      applicationQuery('m3', 'Requests', 'Sum', 10, { version: '7' }),
      applicationQuery('m4', 'Errors', 'Sum', 10, { version: '7' }),
      applicationQuery('m5', 'Latency', 'p99', 10, { version: '7' }),
      lambdaQuery('m6', 'Invocations', 'Sum'),
      lambdaQuery('m7', 'Errors', 'Sum'),
      lambdaQuery('m8', 'Throttles', 'Sum'),
      lambdaQuery('m9', 'Duration', 'p99'),
      applicationQuery('m10', 'Errors', 'Sum', 60),
      lambdaQuery('m11', 'Invocations', 'Sum', '7'),
      lambdaQuery('m12', 'Errors', 'Sum', '7'),
      lambdaQuery('m13', 'Throttles', 'Sum', '7'),
      lambdaQuery('m14', 'Duration', 'p99', '7'),
      applicationQuery('m15', 'Errors', 'Sum', 60, { version: '7' }),
    ]);
    expect(input?.StartTime).toEqual(at('2026-11-26T10:01:00Z'));
    expect(input?.EndTime).toEqual(at('2026-11-26T10:03:30Z'));
    expect(samples.map((s) => [s.invocations, s.errors])).toEqual([
      [10, 4],
      [120, 4],
      [90, 0],
      [1080, 0],
      [55, 0],
      [55, 0],
      [0, 0],
      [0, 0],
    ]);
  });

  it('splits hundreds of windows into calls of at most 500 queries, paginating each call', async () => {
    // 400 fleet members, green and blue each: 800 high-resolution windows of 3 series = 2,400 distinct series.
    const windows: MetricWindow[] = Array.from({ length: 800 }, (_, i) => ({
      functionName: `member-${Math.floor(i / 2)}`,
      alias: 'live',
      version: i % 2 === 0 ? '2' : '1',
      start: at('2026-11-26T10:03:20Z'),
      end: at('2026-11-26T10:03:30Z'),
      source: 'high-resolution',
      periodSeconds: 10,
    }));
    const t = [at('2026-11-26T10:03:20Z')];
    cloudWatch
      .on(GetMetricDataCommand)
      .callsFake((input: { MetricDataQueries: { Id: string }[]; NextToken?: string }) => {
        const ids = input.MetricDataQueries.map((q) => q.Id);
        // Every call answers in two pages: the first half of its series, then the rest.
        const half = Math.ceil(ids.length / 2);
        const page = input.NextToken === undefined ? ids.slice(0, half) : ids.slice(half);
        return {
          MetricDataResults: page.map((Id) => ({ Id, Timestamps: t, Values: [Number(Id.slice(1)) % 3 === 0 ? 7 : 1] })),
          ...(input.NextToken === undefined ? { NextToken: `page-2-of-${ids[0]}` } : {}),
        };
      });

    // Each member's application metrics carry its own service name (the default: the function's name).
    const fleetMetrics = new CloudWatchVersionMetrics({
      client: new CloudWatchClient({ region: 'eu-west-1' }),
      application: { namespace: 'Orders/App' },
    });
    const samples = await fleetMetrics.sampleAll(windows);

    const calls = cloudWatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    const firstPages = calls.filter((c) => c.NextToken === undefined);
    expect(firstPages.map((c) => c.MetricDataQueries?.length)).toEqual([500, 500, 500, 500, 400]);
    expect(calls).toHaveLength(10);
    expect(calls.every((c) => (c.MetricDataQueries?.length ?? 0) <= MAX_QUERIES_PER_CALL)).toBe(true);
    // Every series is asked for once, with its own id, across the calls.
    const ids = firstPages.flatMap((c) => c.MetricDataQueries?.map((q) => q.Id) ?? []);
    expect(new Set(ids).size).toBe(2400);
    expect(firstPages[1]?.MetricDataQueries?.[0]).toEqual(
      applicationQuery('m500', 'Latency', 'p99', 10, { service: 'member-83', version: '2' }),
    );
    expect(samples).toHaveLength(800);
    // Requests are series m(3i) (7 each), Errors m(3i+1) (1 each): every window got its own numbers from its page.
    expect(samples.every((s) => s.invocations === 7 && s.errors === 1)).toBe(true);
  });

  it('reads nothing for no windows', async () => {
    expect(await metrics().sampleAll([])).toEqual([]);
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});

describe('periodRange', () => {
  it('covers at least one whole period for an empty window', () => {
    const start = at('2026-11-26T10:00:00Z');
    expect(periodRange({ ...window, start, end: start })).toEqual({
      start: start.getTime(),
      end: Date.parse('2026-11-26T10:01:00Z'),
      period: 60,
    });
    expect(periodRange({ ...window, start, end: start, source: 'high-resolution' }).end).toBe(
      Date.parse('2026-11-26T10:00:10Z'),
    );
  });
});
