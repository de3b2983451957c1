import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface ServiceKeyProps {
  /**
   * What happens to the key when the stack is deleted.
   * @default RemovalPolicy.RETAIN — logs and messages encrypted with it stay readable
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The customer-managed KMS key of the service's own data: the state machine's log group, the alerts topic, the
 * EventBridge dead-letter queues and the CodeBuild artifacts. The services that write with it are named in its
 * policy, each limited to this account (an AWS-managed key cannot be shared with CloudWatch alarms or EventBridge).
 */
export class ServiceKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ServiceKeyProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'Switchyard: encrypts the release service logs, alerts topic and dead-letter queues',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts the state machine's log group; the condition keeps it to this account's log groups.
    // The encryption context exists only on cryptographic calls: kms:DescribeKey supports no kms:EncryptionContext key
    // (service authorization reference, KMS), so under that condition it would always be refused. AWS's own
    // CloudWatchLogsAPIKeyAccess policy grants DescribeKey in a statement of its own, without the encryption context
    // (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/CloudWatchLogsAPIKeyAccess.html).
    const logs = new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsDescribesThisKey',
        principals: [logs],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsThisAccountsLogGroups',
        principals: [logs],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    // EventBridge sends to the encrypted dead-letter queues. CloudWatch alarms get their own statement, limited to
    // the alarms that notify the alerts topic (AlertsTopic.letAlarmsPublish).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeWritesEncryptedDeadLetters',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
}
