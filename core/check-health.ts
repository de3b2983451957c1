import {
  type CheckContext,
  checkContext,
  checkedTraffic,
  judgeOf,
  judgeTarget,
  type TargetJudgement,
  watchedAlarms,
} from './analyse.ts';
import { combineOutcomes } from './decide.ts';
import { InvalidRelease } from './errors.ts';
import { metricSources, planTargetWindows, readWindows, type WindowPlan } from './metric-windows.ts';
import type { Alarms, Clock, Notifier, ReleaseRecord, ReleaseStore, TargetChange, VersionMetrics } from './ports.ts';
import { type Green, isFleet, type ReleaseContext, type TargetContext } from './release-context.ts';
import { notifyBestEffort } from './release-guard.ts';
import { movedTargets, requireGreen, targetPercent, waveStep } from './shift-traffic.ts';
import { type HealthCheck, type TrafficState, withWarning } from './traffic.ts';

export interface CheckHealthDeps {
  readonly metrics: VersionMetrics;
  readonly alarms: Alarms;
  readonly store: ReleaseStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

interface Judged extends TargetJudgement {
  readonly target: TargetContext;
  /** What summaries call this target: its name in a fleet, nothing for a single function. */
  readonly prefix: string;
}

/**
 * One turn of the bake loop, for one target or a fleet's: measure (every moved target's windows of every source in
 * one batched read, and the watched alarms), decide (each target judged on its own thresholds, the outcomes combined
 * by `combineOutcomes`, as a target's sources are), record the check, alert on a target's turn to an alerting verdict.
 * The release bakes while any target bakes, moves on when every target may, and rolls back when any target must,
 * naming it (`trippedBy`).
 */
export async function checkHealth(
  release: ReleaseContext,
  greens: readonly Green[],
  traffic: TrafficState,
  deps: CheckHealthDeps,
): Promise<TrafficState> {
  const now = deps.clock.now();
  const { wave } = waveStep(release, traffic.stepIndex);
  const judge = judgeOf(release);
  const fleet = isFleet(release);
  // Every target shares the release's step and bake, so the same sources and windows: one judgedUntil per source.
  const sources = metricSources(release, traffic);
  const windows: WindowPlan = new Map();
  const planned = movedTargets(release, wave).map((target) => {
    const green = requireGreen(greens, target);
    const percent = targetPercent(target, wave, traffic.percent);
    // The relative judge reads the target's blue by its own version over the same window, while blue serves a share.
    const blueVersion =
      judge.mode !== 'absolute' && target.blueVersion !== null && percent < 100 ? target.blueVersion : undefined;
    const check = {
      name: target.name,
      functionName: target.functionName,
      alias: target.aliases.live,
      greenVersion: green,
      blueVersion,
      thresholds: target.health ?? release.health,
    };
    return { target, percent, check, sources: planTargetWindows(check, sources, traffic.stepStartedAt, now, windows) };
  });
  const [samples, alarmStates, record] = await Promise.all([
    readWindows(deps.metrics, windows),
    watchedAlarms(release, deps.alarms),
    deps.store.getRelease(release.releaseId),
  ]);
  const { ctx, pause, fastForward } = await checkContext(release, traffic, now, alarmStates, record, deps.store);

  const judged: Judged[] = planned.map(({ target, percent, check, sources: planned }) => {
    const judgement = judgeTarget(check, planned, samples, ctx);
    const prefix = fleet ? `${target.name} (v${check.greenVersion}, ${percent}%): ` : '';
    return {
      ...judgement,
      check: { ...judgement.check, reasons: judgement.check.reasons.map((r) => `${prefix}${r}`) },
      target,
      prefix: fleet ? `${target.name}: ` : '',
    };
  });
  const combined = combineOutcomes(judged.map((j) => ({ decision: { ...j.decision, next: j.next }, fresh: j.fresh })));
  const deciding = judged[combined.deciding];
  if (!deciding) throw new InvalidRelease(`release ${release.releaseId} has no target in wave ${wave + 1}`);
  const next = combined.next;
  const reasons = [
    ...deciding.check.reasons,
    ...(fastForward ? [fastForward.summary] : []),
    ...(pause.held || pause.expired ? [pause.reason] : []),
  ];
  const check: HealthCheck = { ...deciding.check, reasons };
  const warnings = warningsAfter(traffic, judged, next);
  await alertOnTurn(release, judged, record, deps);

  const unhealthy = judged.filter((j) => j.decision.verdict === 'unhealthy').map((j) => j.target.name);
  const healthy = judged.filter((j) => j.decision.verdict === 'healthy').length;
  const at = now.toISOString();
  const verdicts: Record<string, TargetChange> = {};
  for (const j of judged) {
    verdicts[j.target.name] = {
      verdict: { verdict: j.decision.verdict, reason: j.check.reasons.join('; ').slice(0, 500), at },
    };
  }
  const tripped = next === 'roll-back' ? deciding.target.name : undefined;
  await deps.store.update(
    release.releaseId,
    { targets: verdicts, ...(tripped ? { trippedBy: tripped } : {}) },
    {
      at,
      kind: 'health-check',
      summary: fleet
        ? `wave ${wave + 1}: ${healthy} of ${judged.length} members healthy${unhealthy.length > 0 ? `, unhealthy: ${unhealthy.join(', ')}` : ''} → ${next}: ${reasons.join('; ')}`
        : `${check.verdict} at ${traffic.percent}% → ${next}: ${reasons.join('; ')}`,
      evidence: {
        check,
        next,
        ...(fleet ? { member: deciding.target.name, fleet: { judged: judged.length, healthy, unhealthy } } : {}),
      },
    },
  );

  const skip = judged.some((j) => j.decision.skipToLastStep);
  return checkedTraffic(ctx, pause, {
    next,
    settled: judged.every((j) => j.settled),
    settleSeconds: Math.max(...judged.map((j) => (j.settled ? 0 : j.settleSeconds)), 0),
    judgedUntil: deciding.judgedUntil,
    nextStepIndex: skip ? traffic.stepCount - 1 : traffic.stepIndex + 1,
    lastCheck: check,
    warnings,
  });
}

/** The release's warnings after a check: a step promoted without data, and every alert-only verdict. */
function warningsAfter(traffic: TrafficState, judged: readonly Judged[], next: string): string[] {
  let warnings = [...traffic.warnings];
  for (const j of judged) {
    if (j.promotedWithoutData && (next === 'shift' || next === 'finalize')) {
      warnings = withWarning(
        warnings,
        `${j.prefix}step ${traffic.stepIndex + 1} (${traffic.percent}%) promoted without enough traffic to judge`,
      );
    }
    if (j.decision.alert) {
      warnings = withWarning(
        warnings,
        `${j.prefix}check at ${j.check.at} was ${j.decision.verdict}: ${j.decidingReasons.join('; ')}`,
      );
    }
  }
  return warnings;
}

/**
 * Alerts on a target's turn to an alerting verdict (alert-only unhealthy, or an unhealthy environment), not on every
 * check that still sees it: a target whose last recorded verdict was the same alerts no more. One notification per
 * check names every target that turned.
 */
async function alertOnTurn(
  release: ReleaseContext,
  judged: readonly Judged[],
  record: ReleaseRecord | undefined,
  deps: CheckHealthDeps,
): Promise<void> {
  const last = new Map(record?.targets.members.map((m) => [m.name, m.verdict?.verdict]));
  const turned = judged.filter((j) => j.decision.alert && last.get(j.target.name) !== j.decision.verdict);
  const first = turned[0];
  if (!first) return;
  const environment = turned.every((j) => j.decision.verdict === 'environment-unhealthy');
  const what = environment ? 'sees an unhealthy environment (blue fails alike)' : 'is unhealthy';
  await notifyBestEffort(deps, {
    subject: isFleet(release)
      ? `Switchyard: ${release.environment} fleet release ${release.releaseId}: ${turned.map((j) => j.target.name).join(', ')} ${environment ? 'sees an unhealthy environment' : 'unhealthy'} (alert only)`
      : `Switchyard: ${release.environment} release ${release.releaseId} ${what} (alert only)`,
    releaseId: release.releaseId,
    environment: release.environment,
    outcome: environment ? 'environment-unhealthy-alert' : 'unhealthy-alert',
    detail: {
      check: first.check,
      ...(isFleet(release) ? { members: turned.map((j) => j.target.name) } : {}),
    },
  });
}
