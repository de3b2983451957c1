import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchVersionMetrics, metricRange } from '../../../../adapters/aws/cloudwatch-version-metrics.ts';

const cloudWatch = mockClient(CloudWatchClient);
const metrics = () =>
  new CloudWatchVersionMetrics({
    client: new CloudWatchClient({ region: 'eu-west-1' }),
    application: { namespace: 'Orders/App', service: 'orders-api' },
  });

const window = {
  functionName: 'orders-api-prod',
  alias: 'live',
  version: '8',
  start: new Date('2026-11-26T10:03:25Z'),
  end: new Date('2026-11-26T10:08:10Z'),
};

function query(id: string, metricName: string, stat: string, period: number) {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [
          { Name: 'FunctionName', Value: 'orders-api-prod' },
          { Name: 'Resource', Value: 'orders-api-prod:live' },
          { Name: 'ExecutedVersion', Value: '8' },
        ],
      },
      Period: period,
      Stat: stat,
    },
    ReturnData: true,
  };
}

/** The application's own 5xx count for the version, as Powertools publishes it (EMF). */
function applicationErrorsQuery(period: number, namespace = 'Orders/App', service = 'orders-api') {
  return {
    Id: 'applicationErrors',
    MetricStat: {
      Metric: {
        Namespace: namespace,
        MetricName: 'Errors',
        Dimensions: [
          { Name: 'service', Value: service },
          { Name: 'FunctionVersion', Value: '8' },
        ],
      },
      Period: period,
      Stat: 'Sum',
    },
    ReturnData: true,
  };
}

beforeEach(() => {
  cloudWatch.reset();
});

describe('CloudWatchVersionMetrics', () => {
  it("asks for the version behind the alias, and the application's 5xx count for it, over whole minutes in one period", async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await metrics().sample(window);

    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual({
      MetricDataQueries: [
        query('invocations', 'Invocations', 'Sum', 360),
        query('functionErrors', 'Errors', 'Sum', 360),
        query('throttles', 'Throttles', 'Sum', 360),
        query('p99duration', 'Duration', 'p99', 360),
        applicationErrorsQuery(360),
      ],
      StartTime: new Date('2026-11-26T10:03:00Z'),
      EndTime: new Date('2026-11-26T10:09:00Z'),
      ScanBy: 'TimestampAscending',
      NextToken: undefined,
    });
  });

  it('sums counts over every data point and page, and keeps the worst p99', async () => {
    cloudWatch
      .on(GetMetricDataCommand, { NextToken: undefined })
      .resolves({
        MetricDataResults: [
          { Id: 'invocations', Values: [100, 50] },
          { Id: 'functionErrors', Values: [1] },
          { Id: 'p99duration', Values: [120.5] },
        ],
        NextToken: 'more',
      })
      .on(GetMetricDataCommand, { NextToken: 'more' })
      .resolves({
        MetricDataResults: [
          { Id: 'throttles', Values: [2, 3] },
          { Id: 'p99duration', Values: [340] },
          { Id: 'unexpected', Values: [9] },
        ],
      });

    expect(await metrics().sample(window)).toEqual({
      invocations: 150,
      errors: 1,
      throttles: 5,
      p99DurationMs: 340,
    });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  it('counts as errors both function errors and the 5xx responses the application reports', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'invocations', Values: [200] },
        { Id: 'functionErrors', Values: [2] },
        { Id: 'applicationErrors', Values: [30, 7] },
      ],
    });

    expect(await metrics().sample(window)).toMatchObject({ invocations: 200, errors: 39 });
  });

  it('counts 5xx responses when no invocation failed', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'invocations', Values: [100] },
        { Id: 'functionErrors', Values: [] },
        { Id: 'applicationErrors', Values: [100] },
      ],
    });

    expect(await metrics().sample(window)).toMatchObject({ invocations: 100, errors: 100 });
  });

  it("reads the application's metrics from Switchyard/App under the environment's function name by default", async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await new CloudWatchVersionMetrics({ client: new CloudWatchClient({ region: 'eu-west-1' }) }).sample(window);

    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.at(-1)).toEqual(
      applicationErrorsQuery(360, 'Switchyard/App', 'orders-api-prod'),
    );
  });

  it('reads no traffic as zero counts and a null p99', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'invocations', Values: [] },
        { Id: 'p99duration', Values: [] },
      ],
    });
    expect(await metrics().sample(window)).toEqual({ invocations: 0, errors: 0, throttles: 0, p99DurationMs: null });
  });
});

describe('metricRange', () => {
  it('covers at least one whole minute for an empty window', () => {
    const at = new Date('2026-11-26T10:00:00Z');
    expect(metricRange({ start: at, end: at })).toEqual({
      start: at,
      end: new Date('2026-11-26T10:01:00Z'),
      period: 60,
    });
  });

  it('keeps the period a multiple of 60 seconds', () => {
    const range = metricRange({ start: new Date('2026-11-26T10:00:59Z'), end: new Date('2026-11-26T11:00:01Z') });
    expect(range.period).toBe(3660);
    expect(range.period % 60).toBe(0);
  });
});
