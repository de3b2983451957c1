import { InvalidRelease, ReleaseNotRunning } from './errors.ts';
import type { Clock, FunctionVersions, ReleaseStore, TargetChange } from './ports.ts';
import { type Green, greenOf, isFleet, type ReleaseContext, type TargetContext } from './release-context.ts';
import { stillRunning } from './release-guard.ts';
import { type CarriedTraffic, stepStarted, type TrafficState } from './traffic.ts';
import { forEachBounded, restoreBlue, routeToGreen, TARGET_CALL_CONCURRENCY } from './traffic-router.ts';

export interface TrafficDeps {
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly clock: Clock;
}

/**
 * The plan runs once per wave, so the loop's step index counts across waves (`wave × plan length + step`); a
 * single function is one wave, and its step index is the plan's.
 */
export function waveStep(release: ReleaseContext, stepIndex: number): { wave: number; step: number } {
  const length = release.plan.length;
  return { wave: Math.floor(stepIndex / length), step: stepIndex % length };
}

/** The loop's step count: the plan once per wave. */
export function stepCount(release: ReleaseContext): number {
  return release.waves * release.plan.length;
}

/** The share of a target's live traffic on green at a step: 100 after its wave, 0 before it. */
export function targetPercent(target: TargetContext, wave: number, percent: number): number {
  if (target.wave > wave) return 0;
  // A target without blue (its first release) has nothing to split with: it moves whole in its wave.
  if (target.wave < wave || target.blueVersion === null) return 100;
  return percent;
}

/** The targets whose traffic has moved by `wave`: its own and every earlier wave's. */
export function movedTargets(release: ReleaseContext, wave: number): TargetContext[] {
  return release.targets.filter((t) => t.wave <= wave);
}

/** Green's version for a target, or an InvalidRelease when the deploy Map did not hand one back. */
export function requireGreen(greens: readonly Green[], target: TargetContext): string {
  const green = greenOf(greens, target.name);
  if (!green) throw new InvalidRelease(`target ${target.name} has no green version`);
  return green;
}

/**
 * Moves the step's wave to its share (and any earlier target not yet at 100%, after a fast-forward) through the
 * traffic router, at most TARGET_CALL_CONCURRENCY alias updates in flight; a target already at 100% is not read again.
 * Refuses when a target's live was changed outside this release. A stop that came meanwhile takes every move back.
 */
export async function shiftTraffic(
  release: ReleaseContext,
  greens: readonly Green[],
  stepIndex: number,
  previous: CarriedTraffic | undefined,
  deps: TrafficDeps,
): Promise<TrafficState> {
  const count = stepCount(release);
  const { wave, step } = waveStep(release, stepIndex);
  const planned = release.plan[step];
  if (!planned || stepIndex >= count) {
    throw new InvalidRelease(`traffic step ${stepIndex} is outside the release's ${count} steps`);
  }
  const record = await deps.store.getRelease(release.releaseId);
  const moving = movedTargets(release, wave);
  const moved = await forEachBounded(moving, TARGET_CALL_CONCURRENCY, async (target) => {
    const green = requireGreen(greens, target);
    const percent = targetPercent(target, wave, planned.percent);
    const current = record?.targets.members.find((m) => m.name === target.name)?.percent ?? 0;
    if (percent === current && current === 100) return { target, percent, moved: false };
    await routeToGreen(deps.functions, target, green, percent);
    return { target, percent, moved: true };
  });

  if (!(await stillRunning(deps.store, release.releaseId))) {
    // Stopped while traffic moved and reconciled already: take every move back.
    await forEachBounded(moving, TARGET_CALL_CONCURRENCY, (t) =>
      restoreBlue(deps.functions, t, greenOf(greens, t.name)),
    );
    throw new ReleaseNotRunning(
      `release ${release.releaseId} was stopped while traffic moved; ${isFleet(release) ? 'every member' : (release.targets[0]?.aliases.live ?? 'live')} restored`,
    );
  }

  const now = deps.clock.now().toISOString();
  const state = stepStarted(
    { stepIndex, stepCount: count, percent: planned.percent, bakeSeconds: planned.bakeSeconds },
    release.checkIntervalSeconds,
    now,
    previous,
  );
  const changes: Record<string, TargetChange> = {};
  // An earlier wave's target is live on green; the step's own wave bakes.
  for (const { target, percent } of moved) {
    changes[target.name] = { phase: target.wave < wave ? 'live' : 'baking', percent };
  }
  const names = moved.filter((m) => m.moved).map((m) => m.target.name);
  const single = release.targets[0];
  const summary =
    isFleet(release) || !single
      ? `wave ${wave + 1} of ${release.waves}: ${names.length} member${names.length === 1 ? '' : 's'} to ${planned.percent}% (${names.join(', ')}); step ${step + 1} of ${release.plan.length}`
      : `${single.aliases.live}: ${planned.percent}% on version ${requireGreen(greens, single)} (step ${stepIndex + 1} of ${count})`;
  await deps.store.update(
    release.releaseId,
    { currentWave: wave, targets: changes },
    {
      at: now,
      kind: 'traffic-shifted',
      summary,
      evidence: {
        stepIndex,
        stepCount: count,
        percent: planned.percent,
        bakeSeconds: state.bakeSeconds,
        ...(isFleet(release) ? { fleet: { wave, waveCount: release.waves, members: names } } : {}),
      },
    },
  );
  return state;
}
