import { type FleetWave, memberWaves } from '../../config/fleet.ts';
import type { FleetMemberChange, ReleaseRecord, ReleaseStore } from '../../core/ports.ts';
import type { HealthCheck } from '../../core/traffic.ts';

/** What the surfaces' tests need of a store: the public methods the fleet's states write through. */
export type FleetWrites = Pick<ReleaseStore, 'createRelease' | 'updateRelease' | 'updateFleetMember' | 'updateFleet'>;

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

/** A check's evidence as Check health records it, with the numbers the verdict was made on. */
export function checkEvidence(at: string, healthy: boolean): HealthCheck {
  const window = { start: new Date(Date.parse(at) - 60_000).toISOString(), end: at };
  const sample = healthy
    ? { invocations: 412, errors: 1, throttles: 0, errorRatePercent: 0.24, p99DurationMs: 180 }
    : { invocations: 398, errors: 61, throttles: 0, errorRatePercent: 15.33, p99DurationMs: 210 };
  return {
    at,
    verdict: healthy ? 'healthy' : 'unhealthy',
    reasons: healthy ? [] : ['error rate 15.33% over 398 calls exceeds 1%'],
    window,
    sample,
    step: sample,
    thresholds: { maxErrorRatePercent: 1, minInvocations: 50, maxErrors: 10, maxP99DurationMs: 2000 },
    firingAlarms: [],
    ignoredAlarms: [],
  };
}

/**
 * Writes a fleet release the way the fleet's states do, through the store's public methods: the record with every
 * member pending, each member deployed and verified, the waves shifted and checked one by one, then (with `tripAt`)
 * the halt and the rollback of every member that moved.
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
    functionName: `api-${names[0]}`,
    imageUri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/switchyard-api@sha256:${'f'.repeat(64)}`,
    digest: `sha256:${'f'.repeat(64)}`,
    blueVersion: '1',
    status: 'running',
    startedAt: new Date(time).toISOString(),
    trigger: 'api:fleet-test',
    events: [{ at: new Date(time).toISOString(), kind: 'validated', summary: `fleet of ${names.length} validated` }],
    fleet: {
      waveCount,
      currentWave: null,
      members: names.map((name, i) => ({
        name,
        functionName: `api-${name}`,
        wave: waves[i] ?? 0,
        blueVersion: '1',
        phase: 'pending',
        percent: 0,
      })),
    },
  };
  await store.createRelease(record);
  for (const name of names) {
    await store.updateFleetMember(
      id,
      name,
      { phase: 'deployed', greenVersion: '2' },
      {
        at: at(),
        kind: 'deployed',
        summary: `${name}: version 2 published`,
        evidence: { version: '2', codeSha256: 'abc', reused: false, member: name },
      },
    );
    await store.updateFleetMember(
      id,
      name,
      { phase: 'verified' },
      { at: at(), kind: 'verified', summary: `${name}: verified`, evidence: { checks: [], member: name } },
    );
  }
  const trippedWave = scenario.tripAt === undefined ? undefined : (waves[scenario.tripAt] ?? 0);
  const lastWave = trippedWave ?? waveCount - 1;
  for (let wave = 0; wave <= lastWave; wave++) {
    const inWave = names.filter((_, i) => waves[i] === wave);
    const shifted = at();
    await store.updateFleet(
      id,
      {
        currentWave: wave,
        members: Object.fromEntries(inWave.map((n) => [n, { phase: 'baking', percent: 100 } as FleetMemberChange])),
      },
      {
        at: shifted,
        kind: 'traffic-shifted',
        summary: `wave ${wave + 1} of ${waveCount}: ${inWave.length} members → 100% on the new version`,
        evidence: {
          stepIndex: 0,
          stepCount: 1,
          percent: 100,
          bakeSeconds: 600,
          fleet: { wave, waveCount, members: inWave },
        },
      },
    );
    const checked = at();
    const tripped = scenario.tripAt === undefined ? undefined : names[scenario.tripAt];
    const trips = wave === trippedWave && tripped !== undefined;
    const verdicts = Object.fromEntries(
      inWave.map((n) => {
        const healthy = !(trips && n === tripped);
        const reason = healthy
          ? 'error rate 0.24% over 412 calls (limit 1%)'
          : 'error rate 15.33% over 398 calls exceeds 1%';
        const change: FleetMemberChange = { verdict: { healthy, reason, at: checked } };
        return [n, trips ? change : { ...change, phase: 'live' as const }];
      }),
    );
    const worst = trips ? tripped : inWave[0];
    await store.updateFleet(
      id,
      { members: verdicts },
      {
        at: checked,
        kind: 'health-check',
        summary: `wave ${wave + 1}: ${trips ? `${tripped} unhealthy` : `${inWave.length} members healthy`} at 100%`,
        evidence: {
          check: checkEvidence(checked, !trips),
          next: trips ? 'roll-back' : wave === waveCount - 1 ? 'finalize' : 'shift',
          ...(worst ? { member: worst } : {}),
          fleet: {
            judged: inWave.length,
            healthy: trips ? inWave.length - 1 : inWave.length,
            unhealthy: trips && tripped ? [tripped] : [],
          },
        },
      },
    );
    if (trips && tripped) {
      await store.updateFleet(
        id,
        { trippedBy: tripped },
        {
          at: at(),
          kind: 'fleet-halted',
          summary: `${tripped} unhealthy in wave ${wave + 1}: the fleet halts and every member that moved rolls back`,
          evidence: { trippedBy: tripped, check: checkEvidence(checked, false), wave },
        },
      );
    }
  }
  if (trippedWave === undefined) {
    await store.updateFleet(id, { currentWave: null });
    await store.updateRelease(
      id,
      { status: 'released', endedAt: at(), greenVersion: '2' },
      { at: new Date(time).toISOString(), kind: 'released', summary: `${names.length} members live on version 2` },
    );
  } else if (scenario.end !== 'halted') {
    const moved = names.filter((_, i) => (waves[i] ?? 0) <= trippedWave);
    const untouched = names.filter((_, i) => (waves[i] ?? 0) > trippedWave);
    const tripped = names[scenario.tripAt ?? 0] ?? '';
    await store.updateFleet(
      id,
      {
        currentWave: null,
        members: Object.fromEntries(moved.map((n) => [n, { phase: 'rolled-back', percent: 0 } as FleetMemberChange])),
      },
      {
        at: at(),
        kind: 'fleet-rolled-back',
        summary: `${moved.length} members back on blue; ${untouched.length} never moved`,
        evidence: { restored: moved.map((member) => ({ member, version: '1' })), untouched, trippedBy: tripped },
      },
    );
    await store.updateRelease(id, {
      status: 'rolled-back',
      endedAt: new Date(time).toISOString(),
      reason: `${tripped} unhealthy: error rate 15.33% over 398 calls exceeds 1%`,
    });
  }
  return record;
}
