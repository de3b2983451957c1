import { lockKey } from '../config/environments.ts';
import type { Environments } from '../config/schema.ts';
import {
  type CheckTarget,
  checkContext,
  checkedTraffic,
  EMPTY_SAMPLE,
  judgeOf,
  judgeTarget,
  metricSources,
  planTargetWindows,
  type TargetJudgement,
  watchedAlarms,
} from './check-health.ts';
import type { CaughtError, FinalizeOutcome, RollbackOutcome } from './conclude-release.ts';
import { causeMessage, recordReleased } from './conclude-release.ts';
import { AliasConflict, InvalidRelease, ReleaseNotRunning } from './errors.ts';
import { FLEET_CALL_CONCURRENCY, forEachBounded } from './fleet-release.ts';
import type {
  Alarms,
  Clock,
  FleetMemberChange,
  FleetMemberState,
  FunctionVersions,
  MetricWindow,
  Notifier,
  ReleaseRecord,
  ReleaseStore,
  VersionMetrics,
  VersionMetricsSample,
} from './ports.ts';
import type { FleetMemberContext, ReleaseContext } from './release-context.ts';
import { notifyBestEffort, stillRunning } from './release-guard.ts';
import { type CarriedTraffic, type NextAction, stepStarted, type TrafficState, withWarning } from './traffic.ts';

/**
 * A fleet's traffic, at fleet level (docs/fleet.md): the plan runs once per wave, so the loop's step index counts
 * across waves (`wave × plan length + step`). Shift traffic moves the current wave's members to the step (earlier
 * waves are at 100%); Check health judges every member that moved in one pass; any unhealthy member rolls the whole
 * fleet back. One loop for the fleet keeps the execution history to one bake loop, not one per member.
 */

export interface FleetTrafficDeps {
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly clock: Clock;
}

export interface FleetCheckDeps {
  readonly metrics: VersionMetrics;
  readonly alarms: Alarms;
  readonly store: ReleaseStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

export interface FleetConcludeDeps extends FleetTrafficDeps {
  readonly notifier: Notifier;
  readonly environments: Environments;
}

type Fleet = NonNullable<ReleaseContext['fleet']>;

function fleetOf(release: ReleaseContext): Fleet {
  if (!release.fleet) throw new InvalidRelease(`release ${release.releaseId} is not a fleet release`);
  return release.fleet;
}

/** The wave and the plan step of the loop's step index. */
export function fleetStep(release: ReleaseContext, stepIndex: number): { wave: number; step: number } {
  const length = release.plan.length;
  return { wave: Math.floor(stepIndex / length), step: stepIndex % length };
}

/** The loop's step count: the plan once per wave. */
export function fleetStepCount(release: ReleaseContext): number {
  return fleetOf(release).waves * release.plan.length;
}

async function fleetRecord(release: ReleaseContext, store: ReleaseStore): Promise<ReleaseRecord> {
  const record = await store.getRelease(release.releaseId);
  if (!record?.fleet) throw new InvalidRelease(`release ${release.releaseId} has no fleet record`);
  return record;
}

function greenOf(record: ReleaseRecord, member: string): string | undefined {
  return record.fleet?.members.find((m) => m.name === member)?.greenVersion;
}

/** The share of a member's live traffic on green at a step: 100 from an earlier wave, 0 in a later one. */
function targetPercent(member: FleetMemberContext, wave: number, percent: number): number {
  if (member.wave > wave) return 0;
  // A member without blue (its first release) has nothing to split with: it moves whole in its wave.
  if (member.wave < wave || member.blueVersion === null) return 100;
  return percent;
}

/**
 * Moves the members of the step's wave to its share (and any earlier member not yet at 100%, after a fast-forward),
 * at most FLEET_CALL_CONCURRENCY alias updates in flight (the Lambda adapter keeps them to the control-plane rate), one
 * GetAlias and one UpdateAlias a member that moves. Refuses when a member's live was changed outside this release.
 */
export async function shiftFleet(
  release: ReleaseContext,
  stepIndex: number,
  previous: CarriedTraffic | undefined,
  deps: FleetTrafficDeps,
): Promise<TrafficState> {
  const fleet = fleetOf(release);
  const stepCount = fleetStepCount(release);
  const { wave, step } = fleetStep(release, stepIndex);
  const planned = release.plan[step];
  if (!planned || stepIndex >= stepCount) {
    throw new InvalidRelease(`traffic step ${stepIndex} is outside the fleet's ${stepCount} steps`);
  }
  const record = await fleetRecord(release, deps.store);
  const moving = fleet.members.filter((m) => m.wave <= wave);
  const moved = await forEachBounded(moving, FLEET_CALL_CONCURRENCY, async (member) => {
    const green = greenOf(record, member.member);
    if (!green) throw new InvalidRelease(`fleet member ${member.member} has no green version`);
    const target = targetPercent(member, wave, planned.percent);
    const current = record.fleet?.members.find((m) => m.name === member.member)?.percent ?? 0;
    // An earlier wave's member is live on green already: nothing to move, nothing to read.
    if (target === current && current === 100) return { member, target, moved: false };
    const live = await deps.functions.getAlias(member.functionName, member.aliases.live);
    const blue = member.blueVersion;
    const ours =
      live === undefined || blue === null
        ? blue === null && !live?.routing
        : (live.version === blue && (!live.routing || live.routing.version === green)) ||
          (live.version === green && !live.routing);
    if (!ours) {
      throw new AliasConflict(
        `alias ${member.aliases.live} of fleet member ${member.member} (${member.functionName}) moved outside this release: ` +
          `it points at ${live?.version ?? 'nothing'}${live?.routing ? ` routing ${live.routing.weight} to ${live.routing.version}` : ''}, expected ${blue}`,
        { member: member.member, live },
      );
    }
    if (target >= 100 || blue === null) {
      if (live === undefined) await deps.functions.ensureAlias(member.functionName, member.aliases.live, green);
      else await deps.functions.updateAlias(member.functionName, member.aliases.live, green, undefined, live);
    } else {
      const routing = { version: green, weight: target / 100 };
      await deps.functions.updateAlias(member.functionName, member.aliases.live, blue, routing, live);
    }
    return { member, target, moved: true };
  });

  if (!(await stillRunning(deps.store, release.releaseId))) {
    // Stopped while the wave moved and reconciled already: take every move back.
    await forEachBounded(moving, FLEET_CALL_CONCURRENCY, async (m) => {
      if (m.blueVersion) await deps.functions.updateAlias(m.functionName, m.aliases.live, m.blueVersion);
    });
    throw new ReleaseNotRunning(
      `release ${release.releaseId} was stopped while the fleet moved; every member restored`,
    );
  }

  const now = deps.clock.now().toISOString();
  const state = stepStarted(
    { stepIndex, stepCount, percent: planned.percent, bakeSeconds: planned.bakeSeconds },
    release.checkIntervalSeconds,
    now,
    previous,
  );
  const changes: Record<string, FleetMemberChange> = {};
  for (const { member, target } of moved) changes[member.member] = { phase: 'baking', percent: target };
  const names = moved.filter((m) => m.moved).map((m) => m.member.member);
  await deps.store.updateFleet(
    release.releaseId,
    { currentWave: wave, members: changes },
    {
      at: now,
      kind: 'traffic-shifted',
      summary: `wave ${wave + 1} of ${fleet.waves}: ${names.length} member${names.length === 1 ? '' : 's'} to ${planned.percent}% (${names.join(', ')}); step ${step + 1} of ${release.plan.length}`,
      evidence: {
        stepIndex,
        stepCount,
        percent: planned.percent,
        bakeSeconds: state.bakeSeconds,
        fleet: { wave, waveCount: fleet.waves, members: names },
      },
    },
  );
  return state;
}

/**
 * Every metric window of one fleet check in one batched read (`sampleAll`: CloudWatch takes up to 500 queries a
 * GetMetricData call), in the windows' order; a window with no complete data yet reads as empty without a query.
 */
export async function sampleWindows(
  metrics: VersionMetrics,
  windows: readonly MetricWindow[],
): Promise<VersionMetricsSample[]> {
  const readable = windows.flatMap((window, index) => (window.end > window.start ? [index] : []));
  const samples =
    readable.length > 0 ? await metrics.sampleAll(readable.map((index) => windows[index] as MetricWindow)) : [];
  const byIndex = new Map(readable.map((index, i) => [index, samples[i] ?? EMPTY_SAMPLE]));
  return windows.map((_, index) => byIndex.get(index) ?? EMPTY_SAMPLE);
}

/** How bad a member's decision is, to name the worst in the fleet's evidence. */
const SEVERITY: Record<NextAction, number> = { 'roll-back': 3, bake: 2, shift: 1, finalize: 0 };

interface Judged extends TargetJudgement {
  readonly member: FleetMemberContext;
  readonly state: FleetMemberState | undefined;
}

/**
 * One turn of the fleet's bake loop: judges every member that moved (earlier waves at 100% too) exactly as a
 * single-function check judges its function (planTargetWindows and judgeTarget in core/check-health.ts: every
 * metric source, each with its own complete-data rule), each member with its own thresholds, every member's windows
 * in one batched read. The fleet bakes while any member bakes, moves on when every member may, and rolls back when
 * any member must, naming it (`trippedBy`).
 */
export async function checkFleetHealth(
  release: ReleaseContext,
  traffic: TrafficState,
  deps: FleetCheckDeps,
): Promise<TrafficState> {
  const fleet = fleetOf(release);
  const now = deps.clock.now();
  const { wave } = fleetStep(release, traffic.stepIndex);
  const judge = judgeOf(release);
  // Every member shares the fleet's step and bake, so the same sources and windows: one judgedUntil per source.
  const sources = metricSources(release, traffic);

  const record = await fleetRecord(release, deps.store);
  const moved = fleet.members.filter((m) => m.wave <= wave);
  // Every member's windows of every source, in one batched read.
  const windows: MetricWindow[] = [];
  const targets = moved.map((member) => {
    const green = greenOf(record, member.member) ?? '';
    const percent = targetPercent(member, wave, traffic.percent);
    // The relative judge reads the member's blue while blue still serves a share of it.
    const blueVersion =
      judge.mode !== 'absolute' && member.blueVersion !== null && percent < 100 ? member.blueVersion : undefined;
    const target: CheckTarget = {
      functionName: member.functionName,
      alias: member.aliases.live,
      greenVersion: green,
      blueVersion,
      thresholds: member.health ?? release.health,
    };
    return {
      member,
      percent,
      target,
      planned: planTargetWindows(target, sources, traffic.stepStartedAt, now, windows),
    };
  });
  const [samples, alarmStates] = await Promise.all([
    sampleWindows(deps.metrics, windows),
    watchedAlarms(release, deps.alarms),
  ]);
  const { ctx, pause } = await checkContext(release, traffic, now, alarmStates, record, deps.store);

  const judged: Judged[] = targets.map(({ member, percent, target, planned }) => {
    const judgement = judgeTarget(target, planned, samples, ctx);
    const reasons = [...judgement.check.reasons, ...(pause.held || pause.expired ? [pause.reason] : [])];
    return {
      ...judgement,
      check: {
        ...judgement.check,
        reasons: reasons.map((r) => `${member.member} (v${target.greenVersion}, ${percent}%): ${r}`),
      },
      member,
      state: record.fleet?.members.find((m) => m.name === member.member),
    };
  });
  const first = judged[0];
  if (!first) throw new InvalidRelease(`release ${release.releaseId} has no fleet member in wave ${wave + 1}`);
  const settled = judged.every((j) => j.settled);
  const settleSeconds = Math.max(...judged.map((j) => (j.settled ? 0 : j.settleSeconds)), 0);

  // The worst member decides: any roll-back rolls the fleet back; else the fleet bakes while any member bakes.
  const worst = judged.reduce((a, b) => (SEVERITY[b.next] > SEVERITY[a.next] ? b : a));
  const next = worst.next;
  const unhealthy = judged.filter((j) => j.decision.verdict === 'unhealthy').map((j) => j.member.member);
  const tripped = next === 'roll-back' ? worst : undefined;
  let warnings = [...traffic.warnings];
  for (const j of judged) {
    if (j.promotedWithoutData && (j.next === 'shift' || j.next === 'finalize')) {
      warnings = withWarning(
        warnings,
        `${j.member.member}: step ${traffic.stepIndex + 1} (${traffic.percent}%) promoted without enough traffic to judge`,
      );
    }
    if (j.decision.alert) {
      warnings = withWarning(warnings, `${j.member.member}: check at ${j.check.at} was ${j.decision.verdict}`);
    }
  }
  const alerted = judged.filter((j) => j.decision.alert && j.state?.verdict?.healthy !== false);
  if (alerted.length > 0) {
    await notifyBestEffort(deps, {
      subject: `Switchyard: ${release.environment} fleet release ${release.releaseId}: ${alerted.map((j) => j.member.member).join(', ')} unhealthy (alert only)`,
      releaseId: release.releaseId,
      environment: release.environment,
      outcome: 'unhealthy-alert',
      detail: { members: alerted.map((j) => j.member.member), check: alerted[0]?.check },
    });
  }

  const at = now.toISOString();
  const changes: Record<string, FleetMemberChange> = {};
  for (const j of judged) {
    changes[j.member.member] = {
      verdict: { healthy: j.decision.verdict !== 'unhealthy', reason: j.check.reasons.join('; ').slice(0, 500), at },
    };
  }
  const healthy = judged.filter((j) => j.decision.verdict === 'healthy').length;
  await deps.store.updateFleet(
    release.releaseId,
    { members: changes },
    {
      at,
      kind: 'health-check',
      summary: `wave ${wave + 1}: ${healthy} of ${judged.length} members healthy${unhealthy.length > 0 ? `, unhealthy: ${unhealthy.join(', ')}` : ''} → ${next}: ${worst.check.reasons.join('; ')}`,
      evidence: {
        check: worst.check,
        next,
        member: worst.member.member,
        fleet: { judged: judged.length, healthy, unhealthy },
      },
    },
  );
  if (tripped) {
    await deps.store.updateFleet(
      release.releaseId,
      { trippedBy: tripped.member.member },
      {
        at,
        kind: 'fleet-halted',
        summary: `fleet halted by ${tripped.member.member} in wave ${wave + 1}: ${tripped.check.reasons.join('; ')}`,
        evidence: { trippedBy: tripped.member.member, check: tripped.check, wave },
      },
    );
  }

  const skip = judged.some((j) => j.decision.skipToLastStep);
  return checkedTraffic(ctx, pause, {
    next,
    settled,
    settleSeconds,
    judgedUntil: first.judgedUntil,
    nextStepIndex: skip ? traffic.stepCount - 1 : traffic.stepIndex + 1,
    lastCheck: worst.check,
    warnings,
  });
}

/**
 * Halts the fleet: every member whose live routes to (or points at) its green goes back to its blue with no routing,
 * in parallel (bounded); then records, alerts and frees the one lock. Aliases first, as for a single function.
 */
export async function rollBackFleet(
  release: ReleaseContext,
  traffic: TrafficState | undefined,
  error: CaughtError | undefined,
  deps: FleetConcludeDeps,
): Promise<RollbackOutcome> {
  const fleet = fleetOf(release);
  const before = await fleetRecord(release, deps.store);
  if (before.status === 'released') {
    throw new ReleaseNotRunning(`release ${release.releaseId} is already released; every member stays on green`);
  }
  const trippedBy = before.fleet?.trippedBy ?? null;
  const reason = error
    ? causeMessage(error)
    : (traffic?.lastCheck?.reasons.join('; ') ?? 'a fleet member was judged unhealthy');
  const outcomes = await forEachBounded(fleet.members, FLEET_CALL_CONCURRENCY, async (member) => {
    const green = greenOf(before, member.member);
    if (!green) return { member: member.member, restored: null as string | null };
    const live = await deps.functions.getAlias(member.functionName, member.aliases.live);
    const onGreen = live !== undefined && (live.version === green || live.routing?.version === green);
    if (member.blueVersion && onGreen) {
      await deps.functions.updateAlias(member.functionName, member.aliases.live, member.blueVersion, undefined, live);
      return { member: member.member, restored: member.blueVersion as string | null };
    }
    return { member: member.member, restored: null };
  });
  const restored = outcomes.flatMap((o) => (o.restored ? [{ member: o.member, version: o.restored }] : []));
  const untouched = outcomes.filter((o) => !o.restored).map((o) => o.member);
  const at = deps.clock.now().toISOString();
  const changes: Record<string, FleetMemberChange> = {};
  // A member that never moved keeps its phase (verified, or failed): it was on blue throughout.
  for (const o of outcomes) if (o.restored) changes[o.member] = { phase: 'rolled-back', percent: 0 };
  const running = await stillRunning(deps.store, release.releaseId);
  const key = lockKey({ functionName: release.functionName, name: release.environment });
  const evidence = {
    greenVersion: null,
    stepIndex: traffic?.stepIndex ?? null,
    percent: traffic?.percent ?? null,
    lastCheck: traffic?.lastCheck ?? null,
    error: error ?? null,
  };
  try {
    await deps.store.updateFleet(
      release.releaseId,
      { currentWave: null, members: changes },
      {
        at,
        kind: 'fleet-rolled-back',
        summary: `${restored.length} member${restored.length === 1 ? '' : 's'} back on blue (${restored.map((r) => `${r.member} → ${r.version}`).join(', ') || 'none had moved'})${trippedBy ? `; tripped by ${trippedBy}` : ''}`,
        evidence: { restored, untouched, trippedBy },
      },
    );
    await deps.store.updateRelease(release.releaseId, running ? { status: 'rolled-back', reason, endedAt: at } : {}, {
      at,
      kind: 'rolled-back',
      summary: `fleet rolled back${trippedBy ? ` (tripped by ${trippedBy})` : ''}: ${reason}`,
      evidence,
    });
  } catch (failure) {
    // Every member is back on blue whatever the record says: a refused write must not keep the fleet locked.
    await deps.store.releaseLock(key, release.releaseId);
    throw failure;
  }
  await notifyBestEffort(deps, {
    subject: `Switchyard: ${release.environment} fleet release ${release.releaseId} rolled back${trippedBy ? ` (tripped by ${trippedBy})` : ''}`,
    releaseId: release.releaseId,
    environment: release.environment,
    outcome: 'rolled-back',
    detail: { reason, trippedBy, restored },
  });
  await deps.store.releaseLock(key, release.releaseId);
  return {
    outcome: 'rolled-back',
    live: { version: null },
    reason: trippedBy ? `tripped by ${trippedBy}: ${reason}` : reason,
    evidence: { ...evidence, trippedBy, restored, untouched },
  };
}

/** Every member live on green: points each member's blue alias at its previous version, records, frees the lock. */
export async function finalizeFleet(
  release: ReleaseContext,
  traffic: TrafficState | undefined,
  deps: FleetConcludeDeps,
): Promise<FinalizeOutcome> {
  const fleet = fleetOf(release);
  // Every member is live on green already: recorded first, so a stop that comes now finds the release done instead
  // of undoing it halfway through the blue aliases.
  const { warnings, outcome } = await recordReleased(
    release,
    traffic,
    `every member of the ${release.environment} fleet (${fleet.members.length}) live on its green; blue keeps the previous versions`,
    deps,
  );
  await forEachBounded(fleet.members, FLEET_CALL_CONCURRENCY, async (member) => {
    if (member.blueVersion) {
      await deps.functions.ensureAlias(member.functionName, member.aliases.blue, member.blueVersion);
    }
  });
  const changes: Record<string, FleetMemberChange> = {};
  for (const member of fleet.members) changes[member.member] = { phase: 'live', percent: 100 };
  await deps.store.updateFleet(release.releaseId, { currentWave: null, members: changes });
  await notifyBestEffort(deps, {
    subject: `Switchyard: ${release.environment} fleet release ${release.releaseId} is live`,
    releaseId: release.releaseId,
    environment: release.environment,
    outcome,
    detail: { members: fleet.members.length, warnings, promotesTo: release.promotesTo },
  });
  await deps.store.releaseLock(
    lockKey({ functionName: release.functionName, name: release.environment }),
    release.releaseId,
  );
  return { outcome, live: { version: 'fleet' }, blue: { version: null }, warnings, promotesTo: release.promotesTo };
}
