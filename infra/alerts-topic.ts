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

  constructor(scope: Construct, id: string, props: AlertsTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Switchyard releases',
      masterKey: props.key,
      enforceSSL: true,
    });
  }
}
