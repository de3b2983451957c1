import type { Environments } from '../config/schema.ts';
import { ReleaseConflict, ReleaseNotFound, ReleaseNotRunning } from './errors.ts';
import type { Clock, ReleaseRecord, ReleaseStore } from './ports.ts';
import type { ReleaseContext } from './release-context.ts';
import type { TrafficState } from './traffic.ts';

export interface PauseDeps {
  readonly store: ReleaseStore;
  readonly clock: Clock;
  readonly environments: Environments;
}

export interface PauseRequest {
  readonly releaseId: string;
  readonly by: string;
  readonly reason?: string | undefined;
}

export interface PauseOutcome {
  readonly releaseId: string;
  readonly by: string;
  readonly pausedAt: string;
  /** Past this, the next check rolls the release back unless someone resumed it. */
  readonly rollsBackAfter: string;
  readonly maxPauseMinutes: number;
}

export interface ResumeOutcome {
  readonly releaseId: string;
  readonly by: string;
  readonly pausedSeconds: number;
}

function hhmmss(iso: string): string {
  return iso.slice(11, 19);
}

async function runningRecord(releaseId: string, store: ReleaseStore): Promise<ReleaseRecord> {
  const record = await store.getRelease(releaseId);
  if (!record) throw new ReleaseNotFound(`no release ${releaseId}`);
  if (record.status !== 'running') throw new ReleaseNotRunning(`release ${releaseId} has ended (${record.status})`);
  return record;
}

/**
 * Holds a release's bake: the checks go on (an unhealthy one still rolls back), but the step does not advance and
 * its bake time stands still until someone resumes it. Only a bake can be held: a release that has not moved
 * traffic yet, or waits for an approval, has nothing baking; one already paused keeps its first pause.
 */
export async function pauseRelease(request: PauseRequest, deps: PauseDeps): Promise<PauseOutcome> {
  const { releaseId, by, reason } = request;
  const record = await runningRecord(releaseId, deps.store);
  const maxPauseMinutes = deps.environments[record.environment as keyof Environments]?.maxPauseMinutes ?? 0;
  if (maxPauseMinutes === 0) {
    throw new ReleaseConflict(`${record.environment} allows no pause (maxPauseMinutes is 0 or unset)`);
  }
  if (record.awaitingApproval) {
    throw new ReleaseConflict(
      `release ${releaseId} is waiting for approval, not baking: approve or reject it (a pause holds a bake)`,
    );
  }
  if (!record.currentStep) {
    throw new ReleaseConflict(`release ${releaseId} has not shifted traffic yet: nothing is baking to pause`);
  }
  if (record.paused) {
    throw new ReleaseConflict(
      `release ${releaseId} is already paused since ${record.paused.pausedAt} by ${record.paused.by}`,
    );
  }
  if (record.fastForwardRequested) {
    throw new ReleaseConflict(`release ${releaseId} is being fast-forwarded: there is no bake left to hold`);
  }
  const pausedAt = deps.clock.now().toISOString();
  const step = record.currentStep;
  await deps.store.update(
    releaseId,
    {},
    {
      at: pausedAt,
      kind: 'pause-requested',
      summary: `paused by ${by} at step ${step.stepIndex + 1} of ${step.stepCount} (${step.percent}%)${reason ? `: ${reason}` : ''}`,
      evidence: { by, ...(reason ? { reason } : {}) },
    },
  );
  const rollsBackAfter = new Date(Date.parse(pausedAt) + maxPauseMinutes * 60_000).toISOString();
  return { releaseId, by, pausedAt, rollsBackAfter, maxPauseMinutes };
}

/** Lets a paused bake go on from where it was held. */
export async function resumeRelease(
  request: PauseRequest,
  deps: Omit<PauseDeps, 'environments'>,
): Promise<ResumeOutcome> {
  const { releaseId, by } = request;
  const record = await runningRecord(releaseId, deps.store);
  if (!record.paused) throw new ReleaseConflict(`release ${releaseId} is not paused`);
  const now = deps.clock.now();
  const pausedSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(record.paused.pausedAt)) / 1000));
  await deps.store.update(
    releaseId,
    {},
    {
      at: now.toISOString(),
      kind: 'resumed',
      summary: `resumed by ${by} after ${Math.round(pausedSeconds / 60)} min paused`,
      evidence: { by, pausedSeconds },
    },
  );
  return { releaseId, by, pausedSeconds };
}

/** What a pause means to one Check health. */
export type PauseHold =
  | { readonly held: false; readonly expired: false }
  /** The bake holds: the step does not advance, and the lock was renewed. */
  | { readonly held: true; readonly expired: false; readonly reason: string }
  /** The pause went past its limit, or the lock is no longer this release's: roll back. */
  | { readonly held: false; readonly expired: true; readonly reason: string };

const NOT_PAUSED: PauseHold = { held: false, expired: false };

/**
 * The pause rule for one Check health. A paused release renews its environment lock (to the lock's lifetime from
 * now), so the lock outlasts the pause. Past `maxPauseMinutes` it rolls back rather than resumes: nobody is there to
 * watch the rest of the release, and rolling back puts `live` on the verified version. A lock that is no longer this
 * release's (it expired and another release took it) also rolls back: two releases must never move one alias.
 */
export async function holdForPause(
  release: ReleaseContext,
  record: ReleaseRecord | undefined,
  now: Date,
  store: Pick<ReleaseStore, 'renewLock'>,
): Promise<PauseHold> {
  const paused = record?.status === 'running' ? record.paused : undefined;
  if (!paused) return NOT_PAUSED;
  const maxSeconds = release.maxPauseSeconds ?? 0;
  const pausedSeconds = Math.max(0, (now.getTime() - Date.parse(paused.pausedAt)) / 1000);
  const since = `paused by ${paused.by} since ${hhmmss(paused.pausedAt)}`;
  if (pausedSeconds > maxSeconds) {
    return {
      held: false,
      expired: true,
      reason: `${since}, longer than the ${maxSeconds / 60}-minute pause limit (maxPauseMinutes): rolling back`,
    };
  }
  const expiresAt = new Date(now.getTime() + (release.lockTtlMinutes ?? 0) * 60_000).toISOString();
  const key = release.lockKey;
  if (!(await store.renewLock(key, release.releaseId, expiresAt))) {
    return { held: false, expired: true, reason: `${since}, but the environment lock is no longer this release's` };
  }
  return {
    held: true,
    expired: false,
    reason: `${since} (${Math.floor(pausedSeconds / 60)} of ${maxSeconds / 60} min): the step holds; lock renewed to ${hhmmss(expiresAt)}`,
  };
}

/**
 * The traffic state after a held check: the bake's time and end stay where they were, and the next check comes one
 * interval later. The wait during which the release is resumed counts as baked (at most one check interval).
 */
export function heldTraffic(before: TrafficState, checked: TrafficState, checkIntervalSeconds: number): TrafficState {
  const { bakeEndedAt: _dropped, ...rest } = checked;
  return {
    ...rest,
    bakedSeconds: before.bakedSeconds,
    ...(before.bakeEndedAt ? { bakeEndedAt: before.bakeEndedAt } : {}),
    waitSeconds: checkIntervalSeconds,
    next: 'bake',
    nextStepIndex: before.stepIndex,
  };
}
