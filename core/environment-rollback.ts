import { randomBytes } from 'node:crypto';
import { environmentNamed, lockKey, UnknownEnvironment } from '../config/environments.ts';
import type { EnvironmentConfig, Environments } from '../config/schema.ts';
import { errorMessage, InvalidRelease, ReleaseLocked, TransientFailure } from './errors.ts';
import type { AliasState, Clock, FunctionVersions, Notifier, ReleaseStore } from './ports.ts';
import type { TargetContext } from './release-context.ts';
import { notifyBestEffort } from './release-guard.ts';
import { environmentTargets, pendingTargets } from './target-set.ts';
import { describeLive, forEachBounded, pointLive, TARGET_CALL_CONCURRENCY } from './traffic-router.ts';

export interface EnvironmentRollbackDeps {
  readonly environments: Environments;
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

/** One fleet member's part of an environment rollback. */
export interface MemberRollback {
  readonly member: string;
  readonly functionName: string;
  readonly from: string;
  readonly to: string;
}

export interface EnvironmentRollbackResult {
  readonly environment: string;
  readonly from: string;
  readonly to: string;
  readonly by: string;
  readonly reason: string;
  /** A fleet environment's members moved back to their blue (docs/fleet.md). */
  readonly members?: readonly MemberRollback[];
  /** Fleet members left where they were: already on their blue, or with no blue to go back to. */
  readonly skipped?: readonly { readonly member: string; readonly why: string }[];
}

/** A rollback recorded as running and answered at once (finishEnvironmentRollback moves the targets). */
export interface StartedRollback {
  readonly operationId: string;
  readonly environment: string;
  readonly members: number;
  readonly by: string;
  readonly reason: string;
}

/** How long a rollback holds its environment's lock at most: a 100-member fleet takes about 30 s at the budget. */
const ROLLBACK_LOCK_MINUTES = 5;

const BY_PREFIX = 'manual-rollback:';

/** Members named one by one in a fleet rollback's history line; the API's answer lists every one. */
const MEMBERS_IN_SUMMARY = 25;

/**
 * Instant rollback outside a release, in two halves for one target or a hundred: the start takes the environment's
 * lock (so it never races a release; a running release is aborted instead) and records the rollback as running; the
 * finish moves every target's `live` back to the version its `blue` keeps, through the traffic router, then closes the
 * record, alerts and frees the lock. A single function's rollback runs both at once (rollbackEnvironment); a fleet's
 * answers after the start and finishes in the background, since moving 100 members at the control-plane budget takes
 * longer than API Gateway waits for an answer (29 s).
 */
export async function startEnvironmentRollback(
  environment: string,
  by: string,
  reason: string,
  deps: EnvironmentRollbackDeps,
): Promise<StartedRollback> {
  if (!reason.trim()) throw new InvalidRelease('a rollback needs a reason', { field: 'reason' });
  let env: EnvironmentConfig;
  try {
    env = environmentNamed(environment, deps.environments);
  } catch (error) {
    if (error instanceof UnknownEnvironment) throw new InvalidRelease(error.message, { field: 'environment' });
    throw error;
  }
  const now = deps.clock.now();
  // Unique, so a second rollback in the same millisecond records its own operation.
  const operationId = `rollback-${env.name}-${now.getTime()}-${randomBytes(3).toString('hex')}`;
  const lock = await deps.store.acquireLock(
    lockKey(env),
    {
      releaseId: operationId,
      executionArn: `manual:${by}`,
      acquiredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ROLLBACK_LOCK_MINUTES * 60_000).toISOString(),
    },
    now,
  );
  if (!lock.acquired) {
    throw new ReleaseLocked(`${env.name} is busy: release ${lock.holder.releaseId} is running; abort it to roll back`, {
      runningRelease: lock.holder.releaseId,
    });
  }
  try {
    const targets = environmentTargets(env);
    await deps.store.createRelease({
      releaseId: operationId,
      executionArn: `manual:${by}`,
      environment: env.name,
      // Each target goes back to its own blue: no one image names the rollback.
      imageUri: `${env.repositoryName}@unknown`,
      digest: 'unknown',
      status: 'running',
      reason,
      startedAt: now.toISOString(),
      trigger: `${BY_PREFIX}${by}`,
      events: [],
      targets: pendingTargets(
        targets.map((t) => ({ ...t, wave: 0, blueVersion: null })),
        1,
      ),
    });
    return { operationId, environment: env.name, members: targets.length, by, reason };
  } catch (error) {
    await deps.store.releaseLock(lockKey(env), operationId);
    throw error;
  }
}

/** Both halves at once: a single function's rollback answers with its result. */
export async function rollbackEnvironment(
  environment: string,
  by: string,
  reason: string,
  deps: EnvironmentRollbackDeps,
): Promise<EnvironmentRollbackResult> {
  const started = await startEnvironmentRollback(environment, by, reason, deps);
  return finishEnvironmentRollback(started.operationId, deps);
}

/** A split left behind keeps its main version (the last verified one); only the stray share is dropped. */
function rollbackVersion(live: AliasState, blue: AliasState): string {
  return live.routing ? live.version : blue.version;
}

interface Move {
  readonly target: Omit<TargetContext, 'blueVersion'>;
  readonly live: AliasState;
  readonly to: string;
}

/**
 * The finish: every target whose `live` is off its `blue` goes back to it (bounded), each target's phase recorded as
 * it lands; a target with no `live` or `blue` alias is skipped and named; a target whose move fails is named while the
 * others still move, since rolling back is the safe direction for each. Closes the record (rolled back, or failed when
 * nothing could move), alerts and frees the lock, whatever happened.
 */
export async function finishEnvironmentRollback(
  operationId: string,
  deps: EnvironmentRollbackDeps,
): Promise<EnvironmentRollbackResult> {
  const record = await deps.store.getRelease(operationId);
  if (!record?.trigger.startsWith(BY_PREFIX) || record.status !== 'running') {
    throw new InvalidRelease(`${operationId} is not an environment rollback waiting to run`);
  }
  const env = environmentNamed(record.environment, deps.environments);
  const by = record.trigger.slice(BY_PREFIX.length);
  const reason = record.reason ?? '';
  const fleet = env.fleet !== undefined;
  try {
    const states = await forEachBounded(environmentTargets(env), TARGET_CALL_CONCURRENCY, async (target) => {
      const [live, blue] = await Promise.all([
        deps.functions.getAlias(target.functionName, target.aliases.live),
        deps.functions.getAlias(target.functionName, target.aliases.blue),
      ]);
      return { target, live, blue };
    });
    const skipped: { member: string; why: string }[] = [];
    const moves: Move[] = [];
    for (const { target, live, blue } of states) {
      if (!live || !blue) {
        const why = `no ${live ? target.aliases.blue : target.aliases.live} alias`;
        if (!fleet) throw new InvalidRelease(`${env.name} has ${why}`);
        skipped.push({ member: target.name, why });
      } else if (live.version === blue.version && !live.routing) {
        if (!fleet) {
          throw new InvalidRelease(
            `${target.aliases.live} already runs version ${blue.version}, the one ${target.aliases.blue} keeps`,
          );
        }
        skipped.push({ member: target.name, why: `already on version ${blue.version}` });
      } else {
        moves.push({ target, live, to: rollbackVersion(live, blue) });
      }
    }
    if (moves.length === 0) {
      throw new InvalidRelease(
        `no member of the ${env.name} fleet can be rolled back: ${skipped.map((s) => `${s.member} ${s.why}`).join(', ')}`,
      );
    }
    const outcomes = await forEachBounded(moves, TARGET_CALL_CONCURRENCY, async (m) => {
      try {
        await pointLive(deps.functions, m.target, m.to, m.live);
        await deps.store.update(operationId, {
          targets: { [m.target.name]: { greenVersion: m.to, phase: 'rolled-back', percent: 0 } },
        });
        return { ...m, error: undefined };
      } catch (error) {
        return { ...m, error: errorMessage(error) };
      }
    });
    const members = outcomes
      .filter((o) => o.error === undefined)
      .map((o) => ({
        member: o.target.name,
        functionName: o.target.functionName,
        from: describeLive(o.live),
        to: o.to,
      }));
    const failed = outcomes.flatMap((o) => (o.error === undefined ? [] : [{ member: o.target.name, error: o.error }]));
    const first = members[0];
    if (!first) {
      // Nothing moved: no rollback to record.
      throw new TransientFailure(
        `${env.name}: ${fleet ? 'no member could be rolled back' : 'live could not be rolled back'} (${failed.map((f) => (fleet ? `${f.member}: ${f.error}` : f.error)).join('; ')}); roll back again`,
        { failed },
      );
    }
    const result: EnvironmentRollbackResult = fleet
      ? {
          environment: env.name,
          from: `${members.length} member${members.length === 1 ? '' : 's'} off their blue`,
          to: "each member's blue",
          by,
          reason,
          members,
          skipped,
        }
      : { environment: env.name, from: first.from, to: first.to, by, reason };
    const at = deps.clock.now().toISOString();
    await deps.store.update(
      operationId,
      { status: 'rolled-back', endedAt: at },
      {
        at,
        kind: 'rolled-back',
        summary: `${env.aliases.live} ${result.from} → ${result.to} by ${by}: ${reason}${membersLine(result, failed)}`,
      },
    );
    await notifyBestEffort(deps, {
      subject: `Switchyard: ${env.name} rolled back to ${fleet ? "each member's blue" : `version ${result.to}`} by ${by}`,
      releaseId: operationId,
      environment: env.name,
      outcome: 'environment-rolled-back',
      detail: { ...result, ...(failed.length > 0 ? { failed } : {}) },
    });
    if (failed.length > 0) {
      // Every target that could move has moved and the record says so; the rest are named, and a second rollback
      // moves only them (the others already run their blue).
      throw new TransientFailure(
        `${env.name}: ${failed.length} of ${failed.length + members.length} members could not be rolled back (${failed.map((f) => `${f.member}: ${f.error}`).join('; ')}); the others run their blue; roll back again`,
        { failed },
      );
    }
    return result;
  } catch (error) {
    if (!(error instanceof TransientFailure && (await deps.store.getRelease(operationId))?.status === 'rolled-back')) {
      await recordRollbackFailure(operationId, env.name, by, error, deps);
    }
    throw error;
  } finally {
    await deps.store.releaseLock(lockKey(env), operationId);
  }
}

/** The fleet's part of the history line: who moved, who was left and why, who failed. */
function membersLine(result: EnvironmentRollbackResult, failed: readonly { member: string; error: string }[]): string {
  if (!result.members) return '';
  const parts = [
    ...result.members.map((m) => `${m.member} ${m.from} → ${m.to}`),
    ...(result.skipped ?? []).map((s) => `${s.member} left (${s.why})`),
    ...failed.map((f) => `${f.member} failed (${f.error})`),
  ];
  const shown = parts.slice(0, MEMBERS_IN_SUMMARY);
  const more = parts.length - shown.length;
  return ` (${shown.join(', ')}${more > 0 ? `, and ${more} more` : ''})`;
}

async function recordRollbackFailure(
  operationId: string,
  environment: string,
  by: string,
  error: unknown,
  deps: Pick<EnvironmentRollbackDeps, 'store' | 'clock'>,
): Promise<void> {
  const at = deps.clock.now().toISOString();
  await deps.store.update(
    operationId,
    { status: 'failed', endedAt: at },
    {
      at,
      kind: 'failed',
      summary: `rollback of ${environment} by ${by} failed: ${errorMessage(error)}; roll back again`,
      evidence: { error: { Error: error instanceof Error ? error.name : 'Error', Cause: errorMessage(error) } },
    },
  );
}

/** A started rollback nothing will run (its background invocation was refused): closed as failed, its lock freed. */
export async function abandonEnvironmentRollback(
  started: StartedRollback,
  error: unknown,
  deps: EnvironmentRollbackDeps,
): Promise<void> {
  const env = environmentNamed(started.environment, deps.environments);
  try {
    await recordRollbackFailure(started.operationId, env.name, started.by, error, deps);
  } finally {
    await deps.store.releaseLock(lockKey(env), started.operationId);
  }
}
