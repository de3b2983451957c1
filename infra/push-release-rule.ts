import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/schema.ts';
import { ECR_PUSH_INPUT_PATHS } from '../core/model/release-request.ts';
import { deadLetterQueue } from './dead-letter-queue.ts';

export interface PushReleaseRuleProps {
  /** The environment a push releases into (one with `releaseOnPush`). */
  readonly environment: EnvironmentConfig;
  readonly repository: ecr.IRepository;
  readonly stateMachine: sfn.IStateMachine;
  /** Encrypts the dead-letter queue. */
  readonly key: kms.IKey;
  /** @default 8 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(2) */
  readonly maxEventAge?: Duration;
}

/** The event pattern of a successful push to the repository: the fields Validate release insists on. */
export function ecrPushPattern(repositoryName: string): events.EventPattern {
  return {
    source: ['aws.ecr'],
    detailType: ['ECR Image Action'],
    detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': [repositoryName] },
  };
}

/** The state machine input the rule builds from an ECR event, field by field from `ECR_PUSH_INPUT_PATHS`. */
export function ecrPushInput(environment: string): events.RuleTargetInput {
  const fields = Object.fromEntries(
    Object.entries(ECR_PUSH_INPUT_PATHS).map(([field, path]) => [field, events.EventField.fromPath(path)]),
  );
  return events.RuleTargetInput.fromObject({ trigger: 'ecr-push', environment, ...fields });
}

/**
 * Starts a release when an image lands in the repository: an EventBridge rule on ECR's PUSH/SUCCESS for this
 * repository, whose input transformer builds the release request. Delivery is retried, and whatever still fails
 * waits in an encrypted, TLS-only dead-letter queue.
 */
export class PushReleaseRule extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: PushReleaseRuleProps) {
    super(scope, id);
    if (!props.environment.releaseOnPush) {
      throw new Error(`environment ${props.environment.name} does not release on push`);
    }
    this.deadLetterQueue = deadLetterQueue(this, props.key);
    this.rule = new events.Rule(this, 'Rule', {
      description: `Releases pushes to ${props.environment.repositoryName} into ${props.environment.name}`,
      eventPattern: ecrPushPattern(props.environment.repositoryName),
    });
    // The role EventBridge assumes to start the release: only for a rule of this account. EventBridge sets
    // aws:SourceAccount (the rule's account) and aws:SourceArn (the rule)
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/policy-keys-eventbridge.html). The rule's own ARN
    // cannot be named here (the rule refers to the role), so any rule of this account and Region.
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'StartsRelease', {
      description: `EventBridge starts ${props.environment.name} releases on push`,
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'events',
              resource: 'rule',
              resourceName: '*',
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          },
        },
      }),
    });
    this.rule.addTarget(
      new targets.SfnStateMachine(props.stateMachine, {
        role,
        input: ecrPushInput(props.environment.name),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(2),
      }),
    );
  }
}
