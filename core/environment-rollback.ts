import { environmentNamed, lockKey, UnknownEnvironment } from '../config/environments.ts';
import type { Environments } from '../config/schema.ts';
import { InvalidRelease, ReleaseLocked } from './errors.ts';
import type { Clock, FunctionVersions, Notifier, ReleaseStore } from './ports.ts';
import { notifyBestEffort } from './release-guard.ts';

export interface EnvironmentRollbackDeps {
  readonly environments: Environments;
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

export interface EnvironmentRollbackResult {
  readonly environment: string;
  readonly from: string;
  readonly to: string;
  readonly by: string;
  readonly reason: string;
}

/**
 * Instant rollback outside a release: `live` goes back to the version `blue` keeps, with no routing. Holds the
 * environment's lock while it works, so it never races a release; a running release is aborted instead.
 */
export async function rollbackEnvironment(
  environment: string,
  by: string,
  reason: string,
  deps: EnvironmentRollbackDeps,
): Promise<EnvironmentRollbackResult> {
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
      expiresAt: new Date(now.getTime() + 5 * 60_000).toISOString(),
    },
    now,
  );
  if (!lock.acquired) {
    throw new ReleaseLocked(`${env.name} is busy: release ${lock.holder.releaseId} is running; abort it to roll back`, {
      runningRelease: lock.holder.releaseId,
    });
  }
  try {
    const [live, blue] = await Promise.all([
      deps.functions.getAlias(env.functionName, env.aliases.live),
      deps.functions.getAlias(env.functionName, env.aliases.blue),
    ]);
    if (!live || !blue) {
      throw new InvalidRelease(`${env.name} has no ${live ? env.aliases.blue : env.aliases.live} alias`);
    }
    // A split left behind keeps its main version (the last verified one); only the stray share is dropped.
    const target = live.routing ? live.version : blue.version;
    if (live.version === blue.version && !live.routing) {
      throw new InvalidRelease(
        `${env.aliases.live} already runs version ${blue.version}, the one ${env.aliases.blue} keeps`,
      );
    }
    await deps.functions.updateAlias(env.functionName, env.aliases.live, target);
    const from = live.routing
      ? `${live.version} + ${live.routing.weight * 100}% on ${live.routing.version}`
      : live.version;
    const result = { environment: env.name, from, to: target, by, reason };
    const digest = (await deps.functions.versionImageDigest(env.functionName, target)) ?? 'unknown';
    const at = deps.clock.now().toISOString();
    await deps.store.createRelease({
      releaseId: operationId,
      executionArn: `manual:${by}`,
      environment: env.name,
      functionName: env.functionName,
      imageUri: `${env.repositoryName}@${digest}`,
      digest,
      blueVersion: live.version,
      greenVersion: target,
      status: 'rolled-back',
      reason,
      startedAt: now.toISOString(),
      endedAt: at,
      trigger: `manual-rollback:${by}`,
      events: [
        {
          at,
          kind: 'rolled-back',
          summary: `${env.aliases.live} ${from} → ${target} by ${by}: ${reason}`,
        },
      ],
    });
    await notifyBestEffort(deps, {
      subject: `Switchyard: ${env.name} rolled back to version ${target} by ${by}`,
      releaseId: operationId,
      environment: env.name,
      outcome: 'environment-rolled-back',
      detail: { ...result },
    });
    return result;
  } finally {
    await deps.store.releaseLock(lockKey(env), operationId);
  }
}
