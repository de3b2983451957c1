import type { Notification, Notifier } from '../../core/ports/ports.ts';

/** Keeps every notification, and hands each to an optional listener (the local runtime prints them). */
export class MemoryNotifier implements Notifier {
  readonly sent: Notification[] = [];
  constructor(private readonly listener?: (notification: Notification) => void) {}

  async notify(notification: Notification): Promise<void> {
    this.sent.push(structuredClone(notification));
    this.listener?.(notification);
  }
}
