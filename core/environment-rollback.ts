import { environmentNamed, lockKey, UnknownEnvironment } from '../config/environments.ts';
import type { EnvironmentConfig, Environments } from '../config/schema.ts';
import { errorMessage, InvalidRelease, ReleaseLocked, TransientFailure } from './errors.ts';
import { FLEET_CALL_CONCURRENCY, forEachBounded } from './fleet-release.ts';
import type { AliasState, Clock, FunctionVersions, Notifier, ReleaseStore } from './ports.ts';
import { notifyBestEffort } from './release-guard.ts';

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

/** What one function's rollback moved: `live` from a version (or a split) to the version `blue` keeps. */
interface Moved {
  /** A fleet's record names no one version: each member's are in the history line. */
  readonly from: string | null;
  readonly to?: string;
  readonly digest: string;
}

/**
 * Instant rollback outside a release: `live` goes back to the version `blue` keeps, with no routing; in a fleet
 * environment, every member's `live` goes back to its own `blue`. Holds the environment's lock while it works, so
 * it never races a release; a running release is aborted instead.
 */
/** Checks the request and takes the environment's lock for the rollback's operation id. */
async function takeEnvironment(
  environment: string,
  by: string,
  reason: string,
  deps: Pick<EnvironmentRollbackDeps, 'environments' | 'store' | 'clock'>,
): Promise<{ env: EnvironmentConfig; operationId: string; now: Date }> {
  if (!reason.trim()) throw new InvalidRelease('a rollback needs a reason', { field: 'reason' });
  let env: ReturnType<typeof environmentNamed>;
  try {
    env = environmentNamed(environment, deps.environments);
  } catch (error) {
    if (error instanceof UnknownEnvironment) throw new InvalidRelease(error.message, { field: 'environment' });
    throw error;
  }
  const now = deps.clock.now();
  const operationId = `rollback-${env.name}-${now.getTime()}`;
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
  return { env, operationId, now };
}

/** How long a rollback holds its environment's lock at most: a 100-member fleet takes about 30 s at the budget. */
const ROLLBACK_LOCK_MINUTES = 5;

export async function rollbackEnvironment(
  environment: string,
  by: string,
  reason: string,
  deps: EnvironmentRollbackDeps,
): Promise<EnvironmentRollbackResult> {
  const { env, operationId, now } = await takeEnvironment(environment, by, reason, deps);
  try {
    const { moved, result, failed } = env.fleet
      ? await rollBackFleet(env, env.fleet, by, reason, deps.functions)
      : { ...(await rollBackFunction(env, by, reason, deps.functions)), failed: [] };
    const at = deps.clock.now().toISOString();
    await deps.store.createRelease({
      releaseId: operationId,
      executionArn: `manual:${by}`,
      environment: env.name,
      functionName: env.functionName,
      imageUri: `${env.repositoryName}@${moved.digest}`,
      digest: moved.digest,
      blueVersion: moved.from,
      ...(moved.to ? { greenVersion: moved.to } : {}),
      status: 'rolled-back',
      reason,
      startedAt: now.toISOString(),
      endedAt: at,
      trigger: `manual-rollback:${by}`,
      events: [rolledBackEvent(env, result, failed, at)],
    });
    await notifyRolledBack(env, operationId, result, failed, deps);
    if (failed.length > 0) {
      // Every member that could move has moved and the record says so; the rest are named, and a second rollback
      // moves only them (the others already run their blue).
      throw new TransientFailure(
        `${env.name}: ${failed.length} of ${failed.length + (result.members?.length ?? 0)} members could not be rolled back (${failed.map((f) => `${f.member}: ${f.error}`).join('; ')}); the others run their blue; roll back again`,
        { failed },
      );
    }
    return result;
  } finally {
    await deps.store.releaseLock(lockKey(env), operationId);
  }
}

type Failed = readonly { member: string; error: string }[];

/** The history event of a done environment rollback, whether it answered at once or ran in the background. */
function rolledBackEvent(env: EnvironmentConfig, result: EnvironmentRollbackResult, failed: Failed, at: string) {
  return {
    at,
    kind: 'rolled-back' as const,
    summary: `${env.aliases.live} ${result.from} → ${result.to} by ${result.by}: ${result.reason}${membersLine(result, failed)}`,
  };
}

/** The alert of a done environment rollback (best effort, as every notification). */
function notifyRolledBack(
  env: EnvironmentConfig,
  operationId: string,
  result: EnvironmentRollbackResult,
  failed: Failed,
  deps: EnvironmentRollbackDeps,
): Promise<void> {
  return notifyBestEffort(deps, {
    subject: `Switchyard: ${env.name} rolled back to ${result.members ? "each member's blue" : `version ${result.to}`} by ${result.by}`,
    releaseId: operationId,
    environment: env.name,
    outcome: 'environment-rolled-back',
    detail: { ...result, ...(failed.length > 0 ? { failed } : {}) },
  });
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

/** Members named one by one in a fleet rollback's history line; the API's answer lists every one. */
const MEMBERS_IN_SUMMARY = 25;

/** A split left behind keeps its main version (the last verified one); only the stray share is dropped. */
function rollbackTarget(live: AliasState, blue: AliasState): string {
  return live.routing ? live.version : blue.version;
}

function describeLive(live: AliasState): string {
  return live.routing ? `${live.version} + ${live.routing.weight * 100}% on ${live.routing.version}` : live.version;
}

async function rollBackFunction(
  env: EnvironmentConfig,
  by: string,
  reason: string,
  functions: FunctionVersions,
): Promise<{ moved: Moved; result: EnvironmentRollbackResult }> {
  const [live, blue] = await Promise.all([
    functions.getAlias(env.functionName, env.aliases.live),
    functions.getAlias(env.functionName, env.aliases.blue),
  ]);
  if (!live || !blue) {
    throw new InvalidRelease(`${env.name} has no ${live ? env.aliases.blue : env.aliases.live} alias`);
  }
  const target = rollbackTarget(live, blue);
  if (live.version === blue.version && !live.routing) {
    throw new InvalidRelease(
      `${env.aliases.live} already runs version ${blue.version}, the one ${env.aliases.blue} keeps`,
    );
  }
  await functions.updateAlias(env.functionName, env.aliases.live, target, undefined, live);
  const digest = (await functions.versionImageDigest(env.functionName, target)) ?? 'unknown';
  return {
    moved: { from: live.version, to: target, digest },
    result: { environment: env.name, from: describeLive(live), to: target, by, reason },
  };
}

/**
 * Every member whose `live` is off its `blue` goes back to it, FLEET_CALL_CONCURRENCY at a time. A member with no
 * `live` or `blue` alias (its first release never finished) is skipped and named; a member whose move fails is
 * named in `failed` while the others still move, since rolling back is the safe direction for each of them.
 */
async function rollBackFleet(
  env: EnvironmentConfig,
  fleet: NonNullable<EnvironmentConfig['fleet']>,
  by: string,
  reason: string,
  functions: FunctionVersions,
  /** Called as each member reaches its blue: a background rollback records its progress. */
  onMoved: (member: string) => Promise<void> = async () => {},
): Promise<{ moved: Moved; result: EnvironmentRollbackResult; failed: { member: string; error: string }[] }> {
  const states = await forEachBounded(fleet.members, FLEET_CALL_CONCURRENCY, async (member) => {
    const aliases = member.aliases ?? env.aliases;
    const [live, blue] = await Promise.all([
      functions.getAlias(member.functionName, aliases.live),
      functions.getAlias(member.functionName, aliases.blue),
    ]);
    return { member, aliases, live, blue };
  });
  const skipped: { member: string; why: string }[] = [];
  const toMove: { name: string; functionName: string; alias: string; live: AliasState; from: string; to: string }[] =
    [];
  for (const { member, aliases, live, blue } of states) {
    if (!live || !blue) skipped.push({ member: member.name, why: `no ${live ? aliases.blue : aliases.live} alias` });
    else if (live.version === blue.version && !live.routing) {
      skipped.push({ member: member.name, why: `already on version ${blue.version}` });
    } else {
      const to = rollbackTarget(live, blue);
      toMove.push({
        name: member.name,
        functionName: member.functionName,
        alias: aliases.live,
        live,
        from: describeLive(live),
        to,
      });
    }
  }
  if (toMove.length === 0) {
    throw new InvalidRelease(
      `no member of the ${env.name} fleet can be rolled back: ${skipped.map((s) => `${s.member} ${s.why}`).join(', ')}`,
    );
  }
  const outcomes = await forEachBounded(toMove, FLEET_CALL_CONCURRENCY, async (m) => {
    try {
      await functions.updateAlias(m.functionName, m.alias, m.to, undefined, m.live);
    } catch (error) {
      return { ...m, error: errorMessage(error) };
    }
    try {
      await onMoved(m.name);
      return { ...m, error: undefined };
    } catch (error) {
      return { ...m, error: errorMessage(error) };
    }
  });
  const members = outcomes
    .filter((o) => o.error === undefined)
    .map(({ name, functionName, from, to }) => ({ member: name, functionName, from, to }));
  const failed = outcomes.flatMap((o) => (o.error === undefined ? [] : [{ member: o.name, error: o.error }]));
  if (members.length === 0) {
    // Nothing moved: no rollback to record.
    throw new TransientFailure(
      `${env.name}: no member could be rolled back (${failed.map((f) => `${f.member}: ${f.error}`).join('; ')}); roll back again`,
      { failed },
    );
  }
  const first = members[0];
  const digest = first ? ((await functions.versionImageDigest(first.functionName, first.to)) ?? 'unknown') : 'unknown';
  return {
    moved: { from: null, digest },
    result: {
      environment: env.name,
      from: `${members.length} member${members.length === 1 ? '' : 's'} off their blue`,
      to: "each member's blue",
      by,
      reason,
      members,
      skipped,
    },
    failed,
  };
}

/** A fleet rollback that answers at once and moves the members in the background (finishFleetRollback). */
export interface StartedRollback {
  readonly operationId: string;
  readonly environment: string;
  readonly members: number;
  readonly by: string;
  readonly reason: string;
}

const BY_PREFIX = 'manual-rollback:';

/**
 * The answer half of a fleet's environment rollback: takes the lock and records the rollback as running, every member
 * pending, so `GET /releases/{operationId}` reads its progress. Moving up to 100 members at the control-plane budget
 * takes longer than API Gateway waits for an answer (29 s), so finishFleetRollback does it in the background.
 */
export async function startFleetRollback(
  environment: string,
  by: string,
  reason: string,
  deps: EnvironmentRollbackDeps,
): Promise<StartedRollback> {
  const { env, operationId, now } = await takeEnvironment(environment, by, reason, deps);
  try {
    if (!env.fleet) throw new InvalidRelease(`${env.name} has no fleet: roll it back in one request`);
    const members = env.fleet.members;
    await deps.store.createRelease({
      releaseId: operationId,
      executionArn: `manual:${by}`,
      environment: env.name,
      functionName: env.functionName,
      // Each member goes back to its own blue: no one image names the rollback.
      imageUri: `${env.repositoryName}@unknown`,
      digest: 'unknown',
      blueVersion: null,
      status: 'running',
      reason,
      startedAt: now.toISOString(),
      trigger: `${BY_PREFIX}${by}`,
      events: [],
      fleet: {
        waveCount: 1,
        currentWave: 0,
        members: members.map((m) => ({
          name: m.name,
          functionName: m.functionName,
          wave: 0,
          blueVersion: null,
          phase: 'pending' as const,
          percent: 100,
        })),
      },
    });
    return { operationId, environment: env.name, members: members.length, by, reason };
  } catch (error) {
    await deps.store.releaseLock(lockKey(env), operationId);
    throw error;
  }
}

/**
 * The background half: moves every member back to its blue as rollbackEnvironment does, each member's phase
 * recorded as it lands (`rolled-back`), then closes the record (rolled back, or failed when nothing could move, the
 * members that could not named), alerts and frees the lock, whatever happened.
 */
export async function finishFleetRollback(
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
  try {
    if (!env.fleet) throw new InvalidRelease(`${env.name} has no fleet`);
    const { result, failed } = await rollBackFleet(env, env.fleet, by, reason, deps.functions, (member) =>
      deps.store.updateFleetMember(operationId, member, { phase: 'rolled-back', percent: 0 }),
    );
    const at = deps.clock.now().toISOString();
    await deps.store.updateRelease(
      operationId,
      { status: 'rolled-back', endedAt: at },
      rolledBackEvent(env, result, failed, at),
    );
    await notifyRolledBack(env, operationId, result, failed, deps);
    return result;
  } catch (error) {
    await recordRollbackFailure(operationId, env.name, by, error, deps);
    throw error;
  } finally {
    await deps.store.releaseLock(lockKey(env), operationId);
  }
}

async function recordRollbackFailure(
  operationId: string,
  environment: string,
  by: string,
  error: unknown,
  deps: Pick<EnvironmentRollbackDeps, 'store' | 'clock'>,
): Promise<void> {
  const at = deps.clock.now().toISOString();
  await deps.store.updateRelease(
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
export async function abandonFleetRollback(
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
