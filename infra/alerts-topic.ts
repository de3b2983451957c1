import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlertsTopicProps {
  /** The key the topic's messages are encrypted with; its policy must let CloudWatch alarms use it. */
  readonly key: kms.IKey;
}

/** Release notifications and the service's alarms: KMS-encrypted, and a policy that refuses anything but TLS. */
export class AlertsTopic extends Construct {
  readonly topic: sns.Topic;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: AlertsTopicProps) {
    super(scope, id);
    this.key = props.key;
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Switchyard releases',
      masterKey: props.key,
      enforceSSL: true,
    });
  }

  /**
   * Lets these alarms (and no other) publish to the topic and encrypt with its key.
   *
   * `enforceSSL` gives the topic an `AWS::SNS::TopicPolicy` (aws-cdk PRs #29144 and #31569,
   * https://github.com/aws/aws-cdk/pull/29144, https://github.com/aws/aws-cdk/pull/31569), and a topic policy replaces
   * SNS's default one, which was what let the account's CloudWatch alarms publish. Without this statement every alarm
   * action fails with "…alarm:NAME is not authorized to perform: SNS:Publish on resource …"; AWS's fix is a statement
   * for `cloudwatch.amazonaws.com`, limited to the alarms by `aws:SourceArn`
   * (https://www.repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger). The topic is encrypted, so
   * CloudWatch also needs kms:GenerateDataKey* and kms:Decrypt on the key, under the same conditions
   * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, "compatibility with AWS services").
   */
  letAlarmsPublish(alarmArns: readonly string[]): void {
    if (alarmArns.length === 0) return;
    const conditions = {
      StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      ArnLike: { 'aws:SourceArn': [...alarmArns] },
    };
    const cloudwatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsPublish',
        principals: [cloudwatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions,
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsEncryptAlerts',
        principals: [cloudwatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions,
      }),
    );
  }
}
