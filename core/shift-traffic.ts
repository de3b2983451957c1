import { AliasConflict, InvalidRelease, ReleaseNotRunning } from './errors.ts';
import type { Clock, FunctionVersions, ReleaseStore } from './ports.ts';
import type { ReleaseContext } from './release-context.ts';
import { stillRunning } from './release-guard.ts';
import { type CarriedTraffic, stepStarted, type TrafficState } from './traffic.ts';

export interface ShiftTrafficDeps {
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly clock: Clock;
}

/**
 * Moves `live` to the plan's step `stepIndex`: below 100% `live` stays on blue and routes the step's share to
 * green; at 100% `live` points at green with no routing. Refuses when `live` was changed outside this release.
 */
export async function shiftTraffic(
  release: ReleaseContext,
  greenVersion: string,
  stepIndex: number,
  previous: CarriedTraffic | undefined,
  deps: ShiftTrafficDeps,
): Promise<TrafficState> {
  const step = release.plan[stepIndex];
  if (!step) {
    throw new InvalidRelease(`traffic step ${stepIndex} is outside the plan of ${release.plan.length} steps`);
  }
  const { functionName, aliases, blueVersion } = release;
  const live = await deps.functions.getAlias(functionName, aliases.live);
  // A first release (no blue) protects nothing verified: live is Terraform's bootstrap version, or missing.
  const liveIsOurs =
    live === undefined || blueVersion === null
      ? blueVersion === null && !live?.routing
      : (live.version === blueVersion && (!live.routing || live.routing.version === greenVersion)) ||
        (live.version === greenVersion && !live.routing);
  if (!liveIsOurs) {
    throw new AliasConflict(
      `alias ${aliases.live} moved outside this release: it points at ${live?.version ?? 'nothing'}` +
        `${live?.routing ? ` routing ${live.routing.weight} to ${live.routing.version}` : ''}, expected ${blueVersion}`,
      { live },
    );
  }

  if (step.percent >= 100 || blueVersion === null) {
    if (live === undefined) await deps.functions.ensureAlias(functionName, aliases.live, greenVersion);
    else await deps.functions.updateAlias(functionName, aliases.live, greenVersion, undefined, live);
  } else {
    const routing = { version: greenVersion, weight: step.percent / 100 };
    await deps.functions.updateAlias(functionName, aliases.live, blueVersion, routing, live);
  }

  if (!(await stillRunning(deps.store, release.releaseId))) {
    // Stopped while this step was in flight and reconciled already: take the move back.
    if (blueVersion) await deps.functions.updateAlias(functionName, aliases.live, blueVersion);
    throw new ReleaseNotRunning(
      `release ${release.releaseId} was stopped while traffic moved; ${aliases.live} restored`,
    );
  }

  const now = deps.clock.now().toISOString();
  const state = stepStarted(
    { stepIndex, stepCount: release.plan.length, percent: step.percent, bakeSeconds: step.bakeSeconds },
    release.checkIntervalSeconds,
    now,
    previous,
  );
  await deps.store.updateRelease(
    release.releaseId,
    {},
    {
      at: now,
      kind: 'traffic-shifted',
      summary: `${aliases.live}: ${step.percent}% on version ${greenVersion} (step ${stepIndex + 1} of ${release.plan.length})`,
      evidence: { stepIndex, stepCount: release.plan.length, percent: step.percent, bakeSeconds: state.bakeSeconds },
    },
  );
  return state;
}
