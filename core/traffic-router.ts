import { AliasConflict } from './errors.ts';
import type { AliasState, FunctionVersions } from './ports.ts';

/**
 * The only code that moves a `live` alias (docs/architecture.md, "One release model"): Shift traffic, Roll back,
 * Reconcile and the environment rollback all go through it, for one target or a hundred.
 */

/** Lambda control-plane calls in flight at once for one release, however many targets it has. */
export const TARGET_CALL_CONCURRENCY = 10;

/** Runs `task` for every item, at most `limit` at a time; every item is tried, then the first failure is thrown. */
export async function forEachBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      try {
        results[index] = { status: 'fulfilled', value: await task(item) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}

/** A function's live alias as a release moves it: the version it protects (blue) and the one it brings (green). */
export interface RoutedTarget {
  readonly name: string;
  readonly functionName: string;
  readonly aliases: { readonly live: string };
  readonly blueVersion: string | null;
}

/**
 * Whether `live` is where this release left it or found it: on blue, routing nothing or a share to green, or wholly
 * on green. A first release (no blue) protects nothing verified: live is Terraform's bootstrap version, or missing.
 */
export function liveIsOurs(live: AliasState | undefined, blue: string | null, green: string): boolean {
  if (live === undefined || blue === null) return blue === null && !live?.routing;
  return (
    (live.version === blue && (!live.routing || live.routing.version === green)) ||
    (live.version === green && !live.routing)
  );
}

/** Whether `live` serves green at all: wholly, or a share of it. */
export function liveOnGreen(live: AliasState | undefined, green: string | undefined): boolean {
  return live !== undefined && green !== undefined && (live.version === green || live.routing?.version === green);
}

/** `3`, or `3 + 10% on 4` while live splits its traffic. */
export function describeLive(live: AliasState | undefined): string {
  if (!live) return 'nothing';
  return live.routing
    ? `${live.version} + ${Number((live.routing.weight * 100).toFixed(2))}% on ${live.routing.version}`
    : live.version;
}

/**
 * Puts `percent` of the target's live traffic on green: below 100 live stays on blue and routes the share to green;
 * at 100 (or with no blue to split with) live points at green. Refuses (AliasConflict) when live moved outside the
 * release. One GetAlias, one UpdateAlias, the second conditional on the first.
 */
export async function routeToGreen(
  functions: FunctionVersions,
  target: RoutedTarget,
  green: string,
  percent: number,
): Promise<void> {
  const { functionName, aliases, blueVersion } = target;
  const live = await functions.getAlias(functionName, aliases.live);
  if (!liveIsOurs(live, blueVersion, green)) {
    throw new AliasConflict(
      `alias ${aliases.live} of ${functionName} moved outside this release: it points at ${describeLive(live)}, ` +
        `expected ${blueVersion}`,
      { target: target.name, live },
    );
  }
  if (percent >= 100 || blueVersion === null) {
    if (live === undefined) await functions.ensureAlias(functionName, aliases.live, green);
    else await functions.updateAlias(functionName, aliases.live, green, undefined, live);
  } else {
    await functions.updateAlias(
      functionName,
      aliases.live,
      blueVersion,
      { version: green, weight: percent / 100 },
      live,
    );
  }
}

/** What a restore found and did. */
export interface Restored {
  /** The version live was put back on, or null when nothing was moved. */
  readonly restored: string | null;
  /** Live as read before the restore. */
  readonly live: AliasState | undefined;
  readonly onGreen: boolean;
}

/**
 * Puts the target's live back on blue with no routing, if and only if it serves green: undoes only what the
 * release did. A target with no blue, or whose live is not on green, is left as it is.
 */
export async function restoreBlue(
  functions: FunctionVersions,
  target: RoutedTarget,
  green: string | undefined,
): Promise<Restored> {
  const live = await functions.getAlias(target.functionName, target.aliases.live);
  const onGreen = liveOnGreen(live, green);
  if (!target.blueVersion || !onGreen) return { restored: null, live, onGreen };
  await functions.updateAlias(target.functionName, target.aliases.live, target.blueVersion, undefined, live);
  return { restored: target.blueVersion, live, onGreen };
}

/** Points live at `version` with no routing, refused if live changed since `expected` was read (an environment rollback). */
export async function pointLive(
  functions: FunctionVersions,
  target: { readonly functionName: string; readonly aliases: { readonly live: string } },
  version: string,
  expected: AliasState,
): Promise<void> {
  await functions.updateAlias(target.functionName, target.aliases.live, version, undefined, expected);
}
