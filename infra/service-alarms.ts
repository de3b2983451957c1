import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ServiceMetrics } from './service-metrics.ts';

export interface ServiceAlarmsProps {
  readonly metrics: ServiceMetrics;
  readonly topic: sns.ITopic;
  /** Dead-letter queues whose messages are events nobody acted on. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
}

/**
 * Alarms on the release service itself, each notifying the alerts topic: an execution that failed, timed out or
 * was aborted, a reconcile run (something stopped mid-release) or a reconcile error, and events stuck in a DLQ.
 */
export class ServiceAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  /**
   * The alarms' ARNs, built from their names rather than read from the alarms: the alerts topic's key policy names
   * them, and a reference would make the key depend on the alarms, which depend on the topic and so on the key.
   */
  readonly alarmArns: string[] = [];

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const m = props.metrics;
    const stack = Stack.of(this);
    const atLeastOnce = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const alarmName = `${stack.stackName}-${alarmId}`;
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        alarmName,
        metric,
        alarmDescription: description,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(props.topic));
      this.alarms.push(alarm);
      this.alarmArns.push(
        stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: alarmName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      );
    };
    atLeastOnce('ExecutionsFailed', m.releasesFailed(), 'A release execution failed or rolled back');
    atLeastOnce('ExecutionsTimedOut', m.releasesTimedOut(), 'A release execution timed out; reconcile cleans up');
    atLeastOnce('ExecutionsAborted', m.releasesAborted(), 'A release execution was aborted; reconcile cleans up');
    atLeastOnce('ReconcileRuns', m.reconcileInvocations(), 'The reconcile handler ran for a stopped execution');
    atLeastOnce('ReconcileErrors', m.reconcileErrors(), 'The reconcile handler failed: check live and the lock');
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      atLeastOnce(
        `${name}DeadLetters`,
        ServiceMetrics.deadLetters(queue, name),
        `${name}: events EventBridge could not deliver are waiting in the dead-letter queue`,
      );
    }
  }
}
