import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { EnvironmentConfig } from '../config/schema.ts';

/**
 * Which metric answers each question about releases; the dashboard and the alarms decide what to do with them.
 * A rolled-back release ends in a Fail state, so AWS/States counts it as failed: the Roll back handler's
 * invocations tell the two apart.
 */
export class ServiceMetrics {
  constructor(
    private readonly stateMachine: sfn.IStateMachine,
    private readonly rollBack: lambda.IFunction,
    private readonly reconcile: lambda.IFunction,
  ) {}

  releasesStarted(period = Duration.minutes(5)): cloudwatch.IMetric {
    return this.stateMachine.metricStarted({ period, statistic: 'Sum', label: 'Started' });
  }

  releasesSucceeded(period = Duration.minutes(5)): cloudwatch.IMetric {
    return this.stateMachine.metricSucceeded({ period, statistic: 'Sum', label: 'Released' });
  }

  /** Executions that ended in Failed (rolled back or refused), timed out or were aborted. */
  releasesFailed(period = Duration.minutes(5)): cloudwatch.IMetric {
    return this.stateMachine.metricFailed({ period, statistic: 'Sum', label: 'Failed or rolled back' });
  }

  releasesTimedOut(period = Duration.minutes(5)): cloudwatch.IMetric {
    return this.stateMachine.metricTimedOut({ period, statistic: 'Sum', label: 'Timed out' });
  }

  releasesAborted(period = Duration.minutes(5)): cloudwatch.IMetric {
    return this.stateMachine.metricAborted({ period, statistic: 'Sum', label: 'Aborted' });
  }

  releasesRolledBack(period = Duration.minutes(5)): cloudwatch.IMetric {
    return this.rollBack.metricInvocations({ period, statistic: 'Sum', label: 'Rolled back' });
  }

  releaseDuration(statistic: 'p50' | 'p90' | 'Maximum', period = Duration.hours(1)): cloudwatch.IMetric {
    return this.stateMachine.metricTime({ period, statistic, label: `Release duration ${statistic}` });
  }

  reconcileInvocations(period = Duration.minutes(5)): cloudwatch.IMetric {
    return this.reconcile.metricInvocations({ period, statistic: 'Sum', label: 'Reconcile runs' });
  }

  reconcileErrors(period = Duration.minutes(5)): cloudwatch.IMetric {
    return this.reconcile.metricErrors({ period, statistic: 'Sum', label: 'Reconcile errors' });
  }

  static deadLetters(queue: sqs.IQueue, label: string): cloudwatch.IMetric {
    return queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum', label });
  }

  /**
   * The error rate of each version behind `live` (DESIGN decision 7: FunctionName + Resource + ExecutedVersion),
   * one line per version that served traffic in the window.
   */
  static versionErrorRate(env: EnvironmentConfig, period = Duration.minutes(1)): cloudwatch.IMetric {
    const resource = `${env.functionName}:${env.aliases.live}`;
    const search = (metric: string) =>
      `SEARCH('{AWS/Lambda,FunctionName,Resource,ExecutedVersion} FunctionName="${env.functionName}" Resource="${resource}" MetricName="${metric}"', 'Sum', ${period.toSeconds()})`;
    return new cloudwatch.MathExpression({
      expression: `100 * ${search('Errors')} / ${search('Invocations')}`,
      label: `${env.name} error % by version`,
      period,
    });
  }
}
