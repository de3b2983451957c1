import { lockKey } from '../../config/environments.ts';
import type { EnvironmentConfig } from '../../config/schema.ts';
import { ExecutionNameTaken } from '../model/errors.ts';
import type { LockHolder, ReleaseExecutions } from '../ports/ports.ts';
import { type CheckReleaseDeps, checkRelease, lockedError } from '../steps/validate-release.ts';

export type StartReleaseDeps = CheckReleaseDeps &
  Pick<ReleaseExecutions, 'executionArnFor' | 'startExecution' | 'describeExecution'>;

/** What a release is started with: the state machine's input (`core/model/release-request.ts` parses it). */
export interface StartInput extends Record<string, unknown> {
  readonly environment: string;
  readonly imageDigest?: string | undefined;
}

export interface StartedRelease {
  readonly releaseId: string;
  readonly executionArn: string;
  readonly environment: string;
  readonly imageDigest: string | undefined;
  /** True when the release existed already (the same idempotency key, promotion or retry): nothing was started. */
  readonly replayed: boolean;
}

/**
 * How long the lock taken before StartExecution lasts: Validate release re-takes it (same release id) for the whole
 * release within seconds; if the execution never starts, the lock frees itself soon.
 */
const START_LOCK_MINUTES = 15;

/**
 * Starts the execution named `releaseId`, unless it exists and `replayable`: a retry (same idempotency key) gets the
 * release it started the first time. Validate release's own checks run first (one function, so a start it would
 * refuse is refused here with the same error), then the environment lock is taken with a conditional write before
 * StartExecution, so of two simultaneous starts exactly one starts and the other gets `ReleaseLocked`.
 */
export async function startNamedRelease(
  env: EnvironmentConfig,
  releaseId: string,
  input: StartInput,
  replayable: boolean,
  deps: StartReleaseDeps,
): Promise<StartedRelease> {
  const started = (executionArn: string, replayed: boolean): StartedRelease => ({
    releaseId,
    executionArn,
    environment: env.name,
    imageDigest: input.imageDigest,
    replayed,
  });
  if (replayable) {
    const existing = (await deps.store.getRelease(releaseId)) ?? (await deps.describeExecution(releaseId));
    if (existing) return started(existing.executionArn, true);
  }
  const checked = await checkRelease(input, releaseId, deps);
  if (checked.gate.kind === 'wait') {
    // Outside its windows in `wait` mode: the execution waits for the window in "Await release window" and takes
    // the lock only once it opens, so nothing is locked while it waits.
    try {
      return started((await deps.startExecution(releaseId, input)).executionArn, false);
    } catch (error) {
      if (error instanceof ExecutionNameTaken) return started(deps.executionArnFor(releaseId), true);
      throw error;
    }
  }
  const key = lockKey(env);
  const now = deps.clock.now();
  const holder = (minutes: number): LockHolder => ({
    releaseId,
    executionArn: deps.executionArnFor(releaseId),
    acquiredAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + minutes * 60_000).toISOString(),
  });
  const lock = await deps.store.acquireLock(key, holder(START_LOCK_MINUTES), now);
  if (!lock.acquired) throw lockedError(env.name, lock.holder);
  try {
    const { executionArn } = await deps.startExecution(releaseId, input);
    return started(executionArn, false);
  } catch (error) {
    if (error instanceof ExecutionNameTaken) {
      // A concurrent retry with the same key started it: a running execution keeps its lock for the whole
      // release, an ended one needs none.
      const execution = await deps.describeExecution(releaseId);
      if (execution?.status === 'RUNNING') await deps.store.acquireLock(key, holder(env.lockTtlMinutes), now);
      else await deps.store.releaseLock(key, releaseId);
      return started(deps.executionArnFor(releaseId), true);
    }
    await deps.store.releaseLock(key, releaseId);
    throw error;
  }
}
