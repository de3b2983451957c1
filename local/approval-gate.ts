import type { Clock, ReleaseStore, TaskTokens } from '../core/ports/ports.ts';
import { type ApprovalDecision, decideApproval } from '../core/steps/approval.ts';
import type { TaskHandler } from '../handlers/task-handler.ts';

/** A named error, as a failed task token reports it to the state machine's Catch. */
class TaskFailure extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * "Await approval" on the local engine, which has no task-token API: the state's handler records the request as in
 * the cloud, then the execution waits here until approve()/reject() answers its token.
 */
export class LocalApprovalGate {
  private readonly waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Approval windows still open, so close() can stop them before the store they write to closes. */
  private readonly windows = new Set<ReturnType<typeof setTimeout>>();

  /** SendTaskSuccess / SendTaskFailure for local tokens. */
  readonly taskTokens: TaskTokens = {
    succeed: async (token, output) => {
      this.waiting.get(token)?.resolve(output);
      this.waiting.delete(token);
    },
    fail: async (token, error, cause) => {
      this.waiting.get(token)?.reject(new TaskFailure(error, cause));
      this.waiting.delete(token);
    },
  };

  constructor(
    private readonly deps: { store: ReleaseStore; clock: Clock },
    /** `auto` approves as soon as approval is requested (rehearsals), recorded as such. */
    private readonly policy: 'auto' | 'manual' = 'manual',
    /**
     * Virtual seconds per real second. The approval window runs on the same scaled clock as the bake and the
     * lock, so an unanswered approval fails safe before the environment's lock could expire.
     */
    private readonly speedup = 1,
  ) {}

  /** Wraps the "Await approval" handler so the state finishes only when its token is answered. */
  wrap(requestApproval: TaskHandler): TaskHandler {
    return async (input) => {
      const { taskToken, release } = input as {
        taskToken: string;
        release: { releaseId: string; approvalTimeoutSeconds: number };
      };
      const answered = new Promise((resolve, reject) => this.waiting.set(taskToken, { resolve, reject }));
      await requestApproval(input);
      if (this.policy === 'auto') await this.decide(release.releaseId, { approved: true, by: 'rehearsal (automatic)' });
      const window = setTimeout(
        () => {
          this.windows.delete(window);
          // What the state's timeout does in the cloud: States.Timeout, caught as a failure before traffic moves.
          // The token fails whether or not the stored request could be taken, so the execution never hangs.
          void this.deps.store
            .takeApprovalRequest(release.releaseId)
            .catch(() => undefined)
            .finally(() => this.taskTokens.fail(taskToken, 'States.Timeout', 'nobody answered the approval in time'));
        },
        (release.approvalTimeoutSeconds * 1000) / this.speedup,
      );
      this.windows.add(window);
      try {
        return await answered;
      } finally {
        clearTimeout(window);
        this.windows.delete(window);
      }
    };
  }

  /** Stops every open approval window: the runtime is shutting down and its store is about to close. */
  close(): void {
    for (const window of this.windows) clearTimeout(window);
    this.windows.clear();
  }

  decide(releaseId: string, decision: ApprovalDecision) {
    return decideApproval(releaseId, decision, { ...this.deps, tasks: this.taskTokens });
  }
}
