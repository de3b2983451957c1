import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../adapters/aws/sns-notifier.ts';
import type { Notification } from '../../core/ports/ports.ts';
import { MOTO_REGION, motoAccount } from '../support/moto.ts';

/**
 * SnsNotifier publishing to moto's SNS, read back from SQS queues subscribed with filter policies on the message
 * attributes it sets: an operator's subscription to prod failures receives exactly those.
 */

const aws = motoAccount();
const sns = aws.client(SNSClient);
const sqs = aws.client(SQSClient);

async function subscribedQueue(topicArn: string, name: string, filter: Record<string, readonly unknown[]>) {
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: `arn:aws:sqs:${MOTO_REGION}:${aws.account}:${name}`,
      Attributes: { FilterPolicy: JSON.stringify(filter), RawMessageDelivery: 'true' },
    }),
  );
  return async () => {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    return (out.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}') as Notification);
  };
}

const notification = (releaseId: string, environment: string, outcome: string): Notification => ({
  subject: `Release ${releaseId} ${outcome} in ${environment} — details inside`,
  releaseId,
  environment,
  outcome,
  detail: { version: '7' },
});

describe('SnsNotifier on moto', () => {
  it('publishes each notification whole, with the outcome and environment that subscriptions filter on', async () => {
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'switchyard-alerts' }))).TopicArn ?? '';
    const prodFailures = await subscribedQueue(topicArn, 'prod-failures', {
      environment: ['prod'],
      outcome: ['failed', 'rolled-back'],
    });
    const everything = await subscribedQueue(topicArn, 'everything', { outcome: [{ exists: true }] });
    const notifier = new SnsNotifier({ topicArn, client: sns });

    const sent = [
      notification('rel-1', 'prod', 'rolled-back'),
      notification('rel-2', 'prod', 'released'),
      notification('rel-3', 'staging', 'failed'),
    ];
    for (const n of sent) await notifier.notify(n);

    expect(await prodFailures()).toEqual([sent[0]]);
    expect((await everything()).map((n) => n.releaseId).sort()).toEqual(['rel-1', 'rel-2', 'rel-3']);
  });
});
