import { type FleetWave, memberWaves } from '../../config/fleet.ts';
import type { ReleaseRecord, ReleaseStore, TargetChange } from '../../core/ports.ts';
import { pendingTargets } from '../../core/target-set.ts';
import type { HealthCheck } from '../../core/traffic.ts';

/** What the surfaces' tests need of a store: the public methods a release's states write through. */
export type FleetWrites = Pick<ReleaseStore, 'createRelease' | 'update' | 'closeRelease'>;

export interface FleetScenario {
  readonly releaseId: string;
  readonly environment: string;
  readonly members: number;
  readonly waves: readonly FleetWave[];
  /** The member (0-based, config order) whose check trips the fleet; none releases every wave. */
  readonly tripAt?: number;
  /** Stop after the halt (the fleet mid-rollback, still running) or after the rollback (closed, rolled back). */
  readonly end?: 'halted' | 'rolled-back';
  /** The first event's time; each write adds a minute. */
  readonly startedAt?: string;
}

export const memberName = (index: number) => `svc-${String(index + 1).padStart(3, '0')}`;

/** What an unhealthy member's check says, after its name, its green and its share, as Check health prefixes it. */
export const UNHEALTHY_REASON = 'error rate 15.33% over 398 calls exceeds 1%';

/** A check's evidence as Check health records it, with the numbers the verdict was made on. */
export function checkEvidence(at: string, reasons: readonly string[]): HealthCheck {
  const healthy = reasons.length === 0;
  const window = { start: new Date(Date.parse(at) - 60_000).toISOString(), end: at };
  const sample = healthy
    ? { invocations: 412, errors: 1, throttles: 0, errorRatePercent: 0.24, p99DurationMs: 180 }
    : { invocations: 398, errors: 61, throttles: 0, errorRatePercent: 15.33, p99DurationMs: 210 };
  return {
    at,
    verdict: healthy ? 'healthy' : 'unhealthy',
    reasons: [...reasons],
    window,
    sample,
    step: sample,
    thresholds: { maxErrorRatePercent: 1, minInvocations: 50, maxErrors: 10, maxP99DurationMs: 2000 },
    firingAlarms: [],
    ignoredAlarms: [],
  };
}

/** Roll back's write for a fleet: every member that moved back on its blue, the record closed, the tripping member named. */
export async function writeFleetRollback(
  store: Pick<ReleaseStore, 'update'>,
  releaseId: string,
  fleet: { readonly moved: readonly string[]; readonly untouched: readonly string[]; readonly trippedBy: string },
  at: string,
  reason: string,
): Promise<void> {
  await store.update(
    releaseId,
    {
      status: 'rolled-back',
      reason,
      endedAt: at,
      currentWave: null,
      targets: Object.fromEntries(fleet.moved.map((n) => [n, { phase: 'rolled-back', percent: 0 } as TargetChange])),
    },
    {
      at,
      kind: 'rolled-back',
      summary: `fleet rolled back (tripped by ${fleet.trippedBy}): ${reason}; ${fleet.moved.length} members back on blue`,
      evidence: {
        greenVersion: null,
        stepIndex: 0,
        percent: 100,
        lastCheck: null,
        error: null,
        restored: fleet.moved.map((member) => ({ member, version: '1' })),
        untouched: [...fleet.untouched],
        trippedBy: fleet.trippedBy,
      },
    },
  );
}

/**
 * Writes a fleet release the way the release's states do, through the store's public methods: the record with every
 * member pending, each member deployed and verified, the waves shifted and every moved member checked one wave at a
 * time, then (with `tripAt`) the check that halts it and the rollback of every member that moved.
 */
export async function writeFleetRelease(store: FleetWrites, scenario: FleetScenario): Promise<ReleaseRecord> {
  const id = scenario.releaseId;
  let time = Date.parse(scenario.startedAt ?? '2026-11-27T10:00:00Z');
  const at = () => {
    time += 60_000;
    return new Date(time).toISOString();
  };
  const names = Array.from({ length: scenario.members }, (_, i) => memberName(i));
  const waves = memberWaves({
    waves: [...scenario.waves],
    members: names.map((name) => ({ name, functionName: `api-${name}` })),
  });
  const waveCount = scenario.waves.length;
  const record: ReleaseRecord = {
    releaseId: id,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:SwitchyardRelease:${id}`,
    environment: scenario.environment,
    imageUri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/switchyard-api@sha256:${'f'.repeat(64)}`,
    digest: `sha256:${'f'.repeat(64)}`,
    status: 'running',
    startedAt: new Date(time).toISOString(),
    trigger: 'api:fleet-test',
    events: [{ at: new Date(time).toISOString(), kind: 'validated', summary: `fleet of ${names.length} validated` }],
    targets: pendingTargets(
      names.map((name, i) => ({ name, functionName: `api-${name}`, wave: waves[i] ?? 0, blueVersion: '1' })),
      waveCount,
    ),
  };
  await store.createRelease(record);
  for (const name of names) {
    await store.update(
      id,
      { targets: { [name]: { phase: 'deployed', greenVersion: '2' } } },
      {
        at: at(),
        kind: 'deployed',
        summary: `${name}: green → version 2`,
        evidence: { version: '2', codeSha256: 'abc', reused: false, member: name },
      },
    );
    await store.update(
      id,
      { targets: { [name]: { phase: 'verified' } } },
      {
        at: at(),
        kind: 'verified',
        summary: `${name}: green version 2 passed 0 checks`,
        evidence: { checks: [], member: name },
      },
    );
  }
  const tripped = scenario.tripAt === undefined ? undefined : names[scenario.tripAt];
  const trippedWave = scenario.tripAt === undefined ? undefined : (waves[scenario.tripAt] ?? 0);
  const lastWave = trippedWave ?? waveCount - 1;
  let reasons: string[] = [];
  for (let wave = 0; wave <= lastWave; wave++) {
    const inWave = names.filter((_, i) => waves[i] === wave);
    await store.update(
      id,
      {
        currentWave: wave,
        targets: Object.fromEntries(inWave.map((n) => [n, { phase: 'baking', percent: 100 } as TargetChange])),
      },
      {
        at: at(),
        kind: 'traffic-shifted',
        summary: `wave ${wave + 1} of ${waveCount}: ${inWave.length} members to 100% (${inWave.join(', ')}); step 1 of 1`,
        evidence: {
          stepIndex: 0,
          stepCount: 1,
          percent: 100,
          bakeSeconds: 600,
          fleet: { wave, waveCount, members: inWave },
        },
      },
    );
    // Check health judges every member that has moved, each on its own, and names the one that decided.
    const checked = at();
    const moved = names.filter((_, i) => (waves[i] ?? 0) <= wave);
    const trips = wave === trippedWave && tripped !== undefined;
    const deciding = trips ? tripped : (moved[0] ?? '');
    reasons = trips ? [`${tripped} (v2, 100%): ${UNHEALTHY_REASON}`] : [];
    const verdicts = Object.fromEntries(
      moved.map((n): [string, TargetChange] => {
        const unhealthy = trips && n === tripped;
        const reason = unhealthy ? reasons.join('; ') : '';
        return [n, { verdict: { verdict: unhealthy ? 'unhealthy' : 'healthy', reason, at: checked } }];
      }),
    );
    const next = trips ? 'roll-back' : wave === waveCount - 1 ? 'finalize' : 'shift';
    const healthy = trips ? moved.length - 1 : moved.length;
    await store.update(
      id,
      { targets: verdicts, ...(trips ? { trippedBy: tripped } : {}) },
      {
        at: checked,
        kind: 'health-check',
        summary: `wave ${wave + 1}: ${healthy} of ${moved.length} members healthy${trips ? `, unhealthy: ${tripped}` : ''} → ${next}: ${reasons.join('; ')}`,
        evidence: {
          check: checkEvidence(checked, reasons),
          next,
          member: deciding,
          fleet: { judged: moved.length, healthy, unhealthy: trips && tripped ? [tripped] : [] },
        },
      },
    );
  }
  if (trippedWave === undefined) {
    await store.closeRelease(
      id,
      { status: 'released', endedAt: at() },
      {
        at: new Date(time).toISOString(),
        kind: 'released',
        summary: `every member of the ${scenario.environment} fleet (${names.length}) live on its green`,
        evidence: { lastCheck: null, warnings: [] },
      },
    );
    const live = Object.fromEntries(names.map((n) => [n, { phase: 'live', percent: 100 } as TargetChange]));
    await store.update(id, { currentWave: null, targets: live });
  } else if (scenario.end !== 'halted' && tripped) {
    const moved = names.filter((_, i) => (waves[i] ?? 0) <= trippedWave);
    const untouched = names.filter((_, i) => (waves[i] ?? 0) > trippedWave);
    await writeFleetRollback(store, id, { moved, untouched, trippedBy: tripped }, at(), reasons.join('; '));
  }
  return record;
}
