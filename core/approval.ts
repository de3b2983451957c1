import { ApprovalRejected, NoPendingApproval } from './errors.ts';
import type { Clock, Notifier, ReleaseStore, TaskTokens } from './ports.ts';
import { type Green, isFleet, type ReleaseContext } from './release-context.ts';
import { notifyBestEffort } from './release-guard.ts';

export interface RequestApprovalDeps {
  readonly store: ReleaseStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

export interface ApprovalDecision {
  readonly approved: boolean;
  readonly by: string;
  readonly comment?: string;
}

/**
 * Parks a verified release before any traffic moves: keeps the task token (never logged, never returned by the
 * API) and tells operators how to answer. The state's own timeout fails the release safely if nobody does.
 */
export async function requestApproval(
  release: ReleaseContext,
  greens: readonly Green[],
  taskToken: string,
  deps: RequestApprovalDeps,
): Promise<void> {
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + release.approvalTimeoutSeconds * 1000).toISOString();
  await deps.store.saveApprovalRequest(release.releaseId, { taskToken, requestedAt: now.toISOString(), expiresAt });
  const greenVersion = isFleet(release) ? undefined : greens[0]?.version;
  await deps.store.update(
    release.releaseId,
    {},
    {
      at: now.toISOString(),
      kind: 'approval-requested',
      summary: `${greenVersion === undefined ? `all ${release.targets.length} fleet members` : `version ${greenVersion}`} passed verification; waiting for approval until ${expiresAt}`,
      evidence: { expiresAt },
    },
  );
  await notifyBestEffort(deps, {
    subject: `Switchyard: ${release.environment} release ${release.releaseId} awaits approval`,
    releaseId: release.releaseId,
    environment: release.environment,
    outcome: 'approval-requested',
    detail: {
      ...(greenVersion === undefined ? { members: release.targets.length } : { greenVersion }),
      digest: release.digest,
      expiresAt,
      approve: `switchyard release approve ${release.releaseId}`,
      reject: `switchyard release reject ${release.releaseId} --reason "…"`,
    },
  });
}

export interface DecideApprovalDeps {
  readonly store: ReleaseStore;
  readonly clock: Clock;
  readonly tasks: TaskTokens;
}

/** Answers a pending approval once: the token is taken from the store before it is used. */
export async function decideApproval(
  releaseId: string,
  decision: ApprovalDecision,
  deps: DecideApprovalDeps,
): Promise<{ releaseId: string; approved: boolean }> {
  const pending = await deps.store.takeApprovalRequest(releaseId);
  if (!pending) throw new NoPendingApproval(`release ${releaseId} is not waiting for approval`);
  const now = deps.clock.now();
  const at = now.toISOString();
  if (decision.approved && now.getTime() > Date.parse(pending.expiresAt)) {
    // Too late to approve: fail the release now rather than leave it waiting for the state's own timeout.
    await deps.tasks.fail(pending.taskToken, 'ApprovalExpired', `the approval window closed at ${pending.expiresAt}`);
    throw new NoPendingApproval(
      `release ${releaseId} can no longer be approved: its window closed at ${pending.expiresAt}`,
    );
  }
  const note = decision.comment ? `: ${decision.comment}` : '';
  try {
    if (decision.approved) {
      await deps.tasks.succeed(pending.taskToken, { approvedBy: decision.by, comment: decision.comment ?? null, at });
    } else {
      const rejection = new ApprovalRejected(`rejected by ${decision.by}${note}`);
      await deps.tasks.fail(pending.taskToken, rejection.name, rejection.message);
    }
  } catch (error) {
    // A token Step Functions no longer knows (timed out, execution stopped) is gone for good; any other failure
    // puts it back so the operator can answer again.
    if (!(error instanceof NoPendingApproval)) await deps.store.saveApprovalRequest(releaseId, pending);
    throw error;
  }
  await deps.store.update(
    releaseId,
    {},
    {
      at,
      kind: decision.approved ? 'approved' : 'rejected',
      summary: `${decision.approved ? 'approved' : 'rejected'} by ${decision.by}${note}`,
    },
  );
  return { releaseId, approved: decision.approved };
}
