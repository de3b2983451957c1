import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier, snsSubject } from '../../../../adapters/aws/sns-notifier.ts';
import type { Notification } from '../../../../core/ports/ports.ts';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:switchyard-releases';
const notifier = () => new SnsNotifier({ topicArn: TOPIC, client: new SNSClient({ region: 'eu-west-1' }) });

const notification: Notification = {
  subject: 'Switchyard: prod release rel-1 rolled back',
  releaseId: 'rel-1',
  environment: 'prod',
  outcome: 'rolled-back',
  detail: { reason: 'error rate 7% exceeds 1%', restoredVersion: '7' },
};

beforeEach(() => {
  sns.reset();
});

describe('SnsNotifier', () => {
  it('publishes the notification as JSON with outcome and environment attributes for filter policies', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    await notifier().notify(notification);

    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input).toEqual({
      TopicArn: TOPIC,
      Subject: 'Switchyard: prod release rel-1 rolled back',
      Message: JSON.stringify(notification),
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: 'rolled-back' },
        environment: { DataType: 'String', StringValue: 'prod' },
      },
    });
  });

  it('leaves out empty attributes, which SNS rejects', async () => {
    sns.on(PublishCommand).resolves({});
    await notifier().notify({ ...notification, environment: '' });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.MessageAttributes).toEqual({
      outcome: { DataType: 'String', StringValue: 'rolled-back' },
    });
  });

  it('passes a failed publish through', async () => {
    sns.on(PublishCommand).rejects(new Error('AuthorizationError'));
    await expect(notifier().notify(notification)).rejects.toThrow('AuthorizationError');
  });

  it('needs a topic', () => {
    expect(() => new SnsNotifier({ topicArn: '' })).toThrow('topicArn');
  });
});

describe('snsSubject', () => {
  it('cuts a long subject to 100 characters', () => {
    const subject = snsSubject(`Switchyard: ${'x'.repeat(200)}`);
    expect(subject).toHaveLength(100);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('keeps one line of printable ASCII', () => {
    expect(snsSubject('  live → 8\nrolled\tback  ')).toBe('live 8 rolled back');
  });

  it('never sends an empty subject', () => {
    expect(snsSubject(' \n ')).toBe('Switchyard notification');
  });
});
