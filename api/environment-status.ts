import { lockKey } from '../config/environments.ts';
import type { EnvironmentConfig } from '../config/schema.ts';
import type { AliasState } from '../core/ports.ts';
import type { ReleaseOperations } from './release-operations.ts';

/** One environment as `GET /environments` and `switchyard status` show it: Argo's `get rollout`, per environment. */
export interface EnvironmentStatus {
  readonly name: string;
  readonly functionName: string;
  /** The `live` alias: its version and, mid-release, the share routed to the new one. */
  readonly live: AliasState | null;
  readonly blue: string | null;
  readonly green: string | null;
  readonly approvalRequired: boolean;
  readonly promotesTo: string | null;
  /** The release holding the environment's lock, while its lease has not expired. */
  readonly runningRelease: {
    readonly releaseId: string;
    readonly executionArn: string;
    readonly since: string;
    /** Set while an operator holds its bake. */
    readonly paused?: { readonly pausedAt: string; readonly by: string };
  } | null;
}

async function statusOf(env: EnvironmentConfig, ops: ReleaseOperations, now: Date): Promise<EnvironmentStatus> {
  const [live, blue, green, lock] = await Promise.all([
    ops.functions.getAlias(env.functionName, env.aliases.live),
    ops.functions.getAlias(env.functionName, env.aliases.blue),
    ops.functions.getAlias(env.functionName, env.aliases.green),
    ops.store.getLock(lockKey(env)),
  ]);
  const held = lock && Date.parse(lock.expiresAt) > now.getTime() ? lock : undefined;
  const paused = held ? (await ops.store.getRelease(held.releaseId))?.paused : undefined;
  return {
    name: env.name,
    functionName: env.functionName,
    live: live ?? null,
    blue: blue?.version ?? null,
    green: green?.version ?? null,
    approvalRequired: env.approvalRequired,
    promotesTo: env.promotesTo ?? null,
    runningRelease: held
      ? {
          releaseId: held.releaseId,
          executionArn: held.executionArn,
          since: held.acquiredAt,
          ...(paused ? { paused: { pausedAt: paused.pausedAt, by: paused.by } } : {}),
        }
      : null,
  };
}

/** Every configured environment's aliases and lock holder, read now. */
export async function environmentStatuses(ops: ReleaseOperations): Promise<EnvironmentStatus[]> {
  const now = ops.clock.now();
  return Promise.all(Object.values(ops.environments).map((env) => statusOf(env, ops, now)));
}
