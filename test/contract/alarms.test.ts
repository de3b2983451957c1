import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchAlarms } from '../../adapters/aws/cloudwatch-alarms.ts';
import { MemoryAlarms } from '../../adapters/memory/memory-alarms.ts';
import { describeAlarmsContract } from './alarms.contract.ts';
import { fakeCloudWatchAlarms } from './aws-fakes/cloudwatch-alarms-service.ts';

describeAlarmsContract('MemoryAlarms', () => {
  const alarms = new MemoryAlarms();
  return { alarms, setAlarm: (name, state, changedAt) => alarms.set(name, state, changedAt) };
});

describeAlarmsContract('CloudWatchAlarms over a fake CloudWatch', () => {
  const client = new CloudWatchClient({ region: 'eu-west-1' });
  const fake = fakeCloudWatchAlarms(client);
  return {
    alarms: new CloudWatchAlarms({ client }),
    setAlarm: (name, state, changedAt) => fake.set(name, { state, changedAt }),
  };
});
