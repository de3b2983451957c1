import type { InsightStore } from '../insight/insight-store.ts';
import { errorMessage } from '../model/errors.ts';
import type { Clock, Notification, Notifier, ReleaseStore } from '../ports/ports.ts';

/**
 * Whether the release's record still says running. An execution can be stopped (StopExecution, a timeout) while
 * one of its Lambdas is still in flight; the reconcile handler closes the record first, so an in-flight step that
 * checks this after moving an alias knows to undo its move.
 */
export async function stillRunning(store: ReleaseStore, releaseId: string): Promise<boolean> {
  return (await store.getRelease(releaseId))?.status === 'running';
}

/**
 * Sends a notification without letting its failure change the release's outcome: a rollback or a release must not
 * hinge on SNS. A failure is recorded in the release's history instead of being dropped.
 */
export async function notifyBestEffort(
  deps: {
    notifier: Notifier;
    store: ReleaseStore;
    clock: Clock;
    insight?: Pick<InsightStore, 'getReleaseChanges'> | undefined;
  },
  notification: Notification,
): Promise<void> {
  try {
    await deps.notifier.notify(await withChangesSummary(deps, notification));
  } catch (error) {
    await deps.store
      .update(
        notification.releaseId,
        {},
        {
          at: deps.clock.now().toISOString(),
          kind: 'notification-failed',
          summary: `"${notification.subject}" was not sent: ${errorMessage(error)}`,
        },
      )
      .catch(() => undefined);
  }
}

/**
 * The release's one-line change summary ("3 commits, 2 packages upgraded, …", docs/insight.md) added to a
 * notification about it, when its diff is kept; a diff that cannot be read leaves the notification as it was.
 */
async function withChangesSummary(
  deps: { insight?: Pick<InsightStore, 'getReleaseChanges'> | undefined },
  notification: Notification,
): Promise<Notification> {
  const changes = await deps.insight?.getReleaseChanges(notification.releaseId).catch(() => undefined);
  return changes ? { ...notification, detail: { ...notification.detail, changes: changes.summary } } : notification;
}
