import { type MessageAttributeValue, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Notification, Notifier } from '../../core/ports/ports.ts';

let defaultClient: SNSClient | undefined;
function snsClient(): SNSClient {
  defaultClient ??= new SNSClient({});
  return defaultClient;
}

export interface SnsNotifierOptions {
  readonly topicArn: string;
  /** @default one `SNSClient` per module, with the default credential chain and region. */
  readonly client?: SNSClient;
}

const SUBJECT_LIMIT = 100;

/**
 * SNS subjects are at most 100 printable ASCII characters on one line (email endpoints show them); anything else
 * is replaced rather than letting Publish fail and lose the notification.
 */
export function snsSubject(subject: string): string {
  const ascii = subject
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = ascii.length > SUBJECT_LIMIT ? `${ascii.slice(0, SUBJECT_LIMIT - 3).trimEnd()}...` : ascii;
  return cut || 'Switchyard notification';
}

function stringAttribute(value: string): MessageAttributeValue | undefined {
  return value ? { DataType: 'String', StringValue: value } : undefined;
}

/** Release notifications on an SNS topic; `outcome` and `environment` are message attributes for filter policies. */
export class SnsNotifier implements Notifier {
  private readonly client: SNSClient;
  private readonly topicArn: string;

  constructor(options: SnsNotifierOptions) {
    if (!options.topicArn) throw new Error('SnsNotifier needs a topicArn');
    this.topicArn = options.topicArn;
    this.client = options.client ?? snsClient();
  }

  async notify(notification: Notification): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {};
    const outcome = stringAttribute(notification.outcome);
    const environment = stringAttribute(notification.environment);
    if (outcome) attributes.outcome = outcome;
    if (environment) attributes.environment = environment;
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(notification.subject),
        Message: JSON.stringify(notification),
        MessageAttributes: attributes,
      }),
    );
  }
}
