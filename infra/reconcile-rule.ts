import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.ts';

/** The execution statuses that can leave an alias unverified or a lock held. */
export const STOPPED_STATUSES = ['ABORTED', 'TIMED_OUT', 'FAILED'] as const;

export interface ReconcileRuleProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly handler: lambda.IFunction;
  /** Encrypts the dead-letter queue. */
  readonly key: kms.IKey;
  /** @default 8 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(6) */
  readonly maxEventAge?: Duration;
}

/**
 * Sends every stopped execution of the release state machine to the reconcile handler, which puts `live` back on a
 * verified version and frees the lock. Delivery is retried; what still fails waits in an encrypted dead-letter queue.
 */
export class ReconcileRule extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ReconcileRuleProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, props.key);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Reconciles release executions that were aborted, timed out or failed',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: [...STOPPED_STATUSES], stateMachineArn: [props.stateMachine.stateMachineArn] },
      },
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.handler, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(6),
      }),
    );
  }
}
