import { lockKey } from '../config/environments.ts';
import { memberWaves } from '../config/fleet.ts';
import { type WindowState, windowStateAt } from '../config/release-windows.ts';
import type { EnvironmentConfig } from '../config/schema.ts';
import { currentChange, type PolicyChange, policyKey } from '../core/policy/policy-entry.ts';
import type { AliasState } from '../core/ports/ports.ts';
import type { ReleaseOperations } from '../core/ports/release-operations.ts';

/** One fleet member's aliases as they are now (the engine moves them; this only reads). */
export interface FleetMemberStatus {
  readonly name: string;
  readonly functionName: string;
  /** 0-based, from the fleet's waves in config order. */
  readonly wave: number;
  readonly live: AliasState | null;
  readonly blue: string | null;
}

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
  /** A fleet environment's members (docs/fleet.md): each one's `live` (with its split) and `blue`; null otherwise. */
  readonly fleet: { readonly members: readonly FleetMemberStatus[] } | null;
  /**
   * The release policy now: the window state (open and when it closes, closed and when it opens, frozen until when
   * and why, or unrestricted) and the hold an operator's rollback placed, if any.
   */
  readonly policy: { readonly window: WindowState; readonly hold: PolicyChange | null };
}

/** An image no release may start from, with the change that abandoned it. */
export interface AbandonedImage {
  readonly imageDigest: string;
  readonly abandoned: PolicyChange;
}

/**
 * GetAlias counts against Lambda's control-plane quota of 15 requests per second per account and Region
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), shared with the releases themselves: a
 * fleet's members are read this many at a time, so a 100-member status (200 reads) never crowds out a release's
 * own UpdateAlias calls.
 */
export const FLEET_ALIAS_READS_IN_FLIGHT = 4;

/** Each member's live and blue aliases, a few members at a time. */
async function fleetMembers(
  env: EnvironmentConfig,
  fleet: NonNullable<EnvironmentConfig['fleet']>,
  ops: ReleaseOperations,
): Promise<FleetMemberStatus[]> {
  const waves = memberWaves(fleet);
  const statuses: FleetMemberStatus[] = [];
  for (let start = 0; start < fleet.members.length; start += FLEET_ALIAS_READS_IN_FLIGHT) {
    const batch = fleet.members.slice(start, start + FLEET_ALIAS_READS_IN_FLIGHT);
    statuses.push(
      ...(await Promise.all(
        batch.map(async (member, i) => {
          const aliases = member.aliases ?? env.aliases;
          const [live, blue] = await Promise.all([
            ops.functions.getAlias(member.functionName, aliases.live),
            ops.functions.getAlias(member.functionName, aliases.blue),
          ]);
          return {
            name: member.name,
            functionName: member.functionName,
            wave: waves[start + i] ?? 0,
            live: live ?? null,
            blue: blue?.version ?? null,
          };
        }),
      )),
    );
  }
  return statuses;
}

async function statusOf(env: EnvironmentConfig, ops: ReleaseOperations, now: Date): Promise<EnvironmentStatus> {
  const [live, blue, green, lock, hold] = await Promise.all([
    ops.functions.getAlias(env.functionName, env.aliases.live),
    ops.functions.getAlias(env.functionName, env.aliases.blue),
    ops.functions.getAlias(env.functionName, env.aliases.green),
    ops.store.getLock(lockKey(env)),
    ops.store.getPolicyEntry(policyKey('hold', env.name)),
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
    fleet: env.fleet ? { members: await fleetMembers(env, env.fleet, ops) } : null,
    policy: {
      window: windowStateAt(env.policy, now),
      hold: hold?.active ? (currentChange(hold) ?? null) : null,
    },
  };
}

/** The images abandoned now, in every environment. */
export async function abandonedImages(ops: ReleaseOperations): Promise<AbandonedImage[]> {
  const entries = await ops.store.listPolicyEntries('image');
  return entries.flatMap((entry) => {
    const abandoned = entry.active ? currentChange(entry) : undefined;
    return abandoned ? [{ imageDigest: entry.subject, abandoned }] : [];
  });
}

/** Every configured environment's aliases and lock holder, read now. */
export async function environmentStatuses(ops: ReleaseOperations): Promise<EnvironmentStatus[]> {
  const now = ops.clock.now();
  return Promise.all(Object.values(ops.environments).map((env) => statusOf(env, ops, now)));
}
