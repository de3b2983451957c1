import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarms } from '../../../../adapters/aws/cloudwatch-alarms.ts';

const cloudWatch = mockClient(CloudWatchClient);
const alarms = () => new CloudWatchAlarms({ client: new CloudWatchClient({ region: 'eu-west-1' }) });

beforeEach(() => {
  cloudWatch.reset();
});

describe('CloudWatchAlarms', () => {
  it('describes metric and composite alarms by name, in the order asked, leaving unknown names out', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'api-5xx',
          StateValue: 'ALARM',
          StateTransitionedTimestamp: new Date('2026-11-26T09:00:00Z'),
          StateUpdatedTimestamp: new Date('2026-11-26T10:05:00Z'),
        },
      ],
      CompositeAlarms: [
        { AlarmName: 'api-health', StateValue: 'OK', StateUpdatedTimestamp: new Date('2026-11-26T08:00:00Z') },
      ],
    });

    const states = await alarms().describe(['api-health', 'missing', 'api-5xx']);

    expect(states).toEqual([
      { name: 'api-health', state: 'OK', updatedAt: '2026-11-26T08:00:00.000Z' },
      // A reason-only update while firing does not make a pre-existing alarm look new.
      { name: 'api-5xx', state: 'ALARM', updatedAt: '2026-11-26T09:00:00.000Z' },
    ]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toEqual({
      AlarmNames: ['api-health', 'missing', 'api-5xx'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
      MaxRecords: 100,
      NextToken: undefined,
    });
  });

  it('asks for at most 100 names per call and follows NextToken', async () => {
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);
    cloudWatch
      .on(DescribeAlarmsCommand, { NextToken: undefined })
      .callsFake((input: { AlarmNames: string[] }) => ({
        MetricAlarms: [{ AlarmName: input.AlarmNames[0], StateValue: 'INSUFFICIENT_DATA' }],
        NextToken: input.AlarmNames.length === 100 ? 'second-page' : undefined,
      }))
      .on(DescribeAlarmsCommand, { NextToken: 'second-page' })
      .resolves({ MetricAlarms: [{ AlarmName: 'alarm-99', StateValue: 'ALARM' }] });

    const states = await alarms().describe(names);

    const inputs = cloudWatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.AlarmNames?.length, i.NextToken])).toEqual([
      [100, undefined],
      [100, 'second-page'],
      [50, undefined],
    ]);
    expect(states.map((s) => `${s.name}=${s.state}`)).toEqual([
      'alarm-0=INSUFFICIENT_DATA',
      'alarm-99=ALARM',
      'alarm-100=INSUFFICIENT_DATA',
    ]);
  });

  it('calls nothing for no names', async () => {
    expect(await alarms().describe([])).toEqual([]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);
  });
});
