import { CloudWatchClient, DescribeAlarmsCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import type { AlarmState, AlarmStateValue, Alarms } from '../../core/ports/ports.ts';

let defaultClient: CloudWatchClient | undefined;
function cloudWatchClient(): CloudWatchClient {
  defaultClient ??= new CloudWatchClient({});
  return defaultClient;
}

export interface CloudWatchAlarmsOptions {
  /** @default one `CloudWatchClient` per module, with the default credential chain and region. */
  readonly client?: CloudWatchClient;
}

/** DescribeAlarms takes at most 100 names per call. */
const NAMES_PER_CALL = 100;

function stateOf(value: StateValue | undefined): AlarmStateValue {
  return value === 'OK' || value === 'ALARM' ? value : 'INSUFFICIENT_DATA';
}

/**
 * When the alarm last changed state. `StateUpdatedTimestamp` also moves when only the reason changes, which would
 * make an alarm that fired before the release look new; without either stamp, "now" keeps a firing alarm counted.
 */
function changedAt(alarm: { StateTransitionedTimestamp?: Date; StateUpdatedTimestamp?: Date }): Date {
  return alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp ?? new Date();
}

/** Metric and composite alarm states from CloudWatch `DescribeAlarms`; unknown names are left out. */
export class CloudWatchAlarms implements Alarms {
  private readonly client: CloudWatchClient;

  constructor(options: CloudWatchAlarmsOptions = {}) {
    this.client = options.client ?? cloudWatchClient();
  }

  async describe(names: readonly string[]): Promise<AlarmState[]> {
    const found = new Map<string, AlarmState>();
    const unique = [...new Set(names)];
    for (let i = 0; i < unique.length; i += NAMES_PER_CALL) {
      let nextToken: string | undefined;
      do {
        const page = await this.client.send(
          new DescribeAlarmsCommand({
            AlarmNames: unique.slice(i, i + NAMES_PER_CALL),
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            MaxRecords: NAMES_PER_CALL,
            NextToken: nextToken,
          }),
        );
        for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          if (!alarm.AlarmName) continue;
          found.set(alarm.AlarmName, {
            name: alarm.AlarmName,
            state: stateOf(alarm.StateValue),
            updatedAt: changedAt(alarm).toISOString(),
          });
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return unique.flatMap((name) => {
      const state = found.get(name);
      return state ? [state] : [];
    });
  }
}
