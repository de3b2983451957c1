import { type CloudWatchClient, DescribeAlarmsCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';

export interface FakeAlarm {
  readonly state: StateValue;
  readonly changedAt: Date;
}

/**
 * A stateful stand-in for CloudWatch DescribeAlarms: metric alarms in a Map, at most 100 names per call as the API
 * enforces, and pages of `MaxRecords` (3 by default here, so callers must follow NextToken).
 */
export function fakeCloudWatchAlarms(client: CloudWatchClient): Map<string, FakeAlarm> {
  const alarms = new Map<string, FakeAlarm>();
  mockClient(client)
    .on(DescribeAlarmsCommand)
    .callsFake((input: DescribeAlarmsCommand['input']) => {
      const names = input.AlarmNames ?? [];
      if (names.length > 100) throw new Error('InvalidParameterValue: AlarmNames has more than 100 members');
      const matching = [...alarms.entries()]
        .filter(([name]) => names.includes(name))
        .sort(([a], [b]) => a.localeCompare(b));
      const start = Number(input.NextToken ?? 0);
      const next = start + Math.min(3, input.MaxRecords ?? 3);
      return {
        MetricAlarms: matching.slice(start, next).map(([name, alarm]) => ({
          AlarmName: name,
          StateValue: alarm.state,
          StateTransitionedTimestamp: alarm.changedAt,
          StateUpdatedTimestamp: alarm.changedAt,
        })),
        ...(next < matching.length ? { NextToken: String(next) } : {}),
      };
    });
  return alarms;
}
