import { environments as configured, environmentNamed } from '../config/environments.ts';
import { fleetReleaseMinutes, waveSizes } from '../config/fleet.ts';
import { type EnvironmentConfig, type Environments, parseEnvironments } from '../config/schema.ts';
import type { TrafficState } from '../core/traffic.ts';
import { STATES } from '../state-machine/state-names.ts';
import type { ExecutionEvent } from './engine.ts';
import { MAX_REHEARSAL_FLEET } from './fleet-limits.ts';
import { LocalGateway } from './gateway.ts';
import { LoadGenerator, type LoadReport } from './load-generator.ts';
import type { FaultOptions } from './local-registry.ts';
import { progressPrinter, type RehearsalOptions, type RehearsalReport, summarizeRehearsal } from './rehearsal.ts';
import type { OpenLocalRuntime } from './runtime.ts';

/**
 * Requests per real second each member gets at least: enough that a 10% canary sees a judgeable share at ×60
 * (30 a virtual minute, 3 on green), with the members' low-traffic thresholds below.
 */
export const MEMBER_MIN_RATE = 30;
/** The members' own thresholds: low-traffic members, as a fleet of per-route functions has (config `health`). */
const MEMBER_HEALTH = { minInvocations: 10, maxErrors: 3 } as const;
/**
 * A quiet step promotes with a warning: a loaded machine may send a member's canary too few requests to judge, and
 * the rehearsal's point is that the fault, and only the fault, halts the fleet. Every other setting is prod's.
 */
const ON_INSUFFICIENT_DATA = 'promote-with-warning' as const;
/** One canary member first, then a quarter of the fleet, then the rest. */
const WAVES = [{ members: 1 }, { percent: 25 }, { percent: 100 }];

/** Without fault options: half the requests fail once the member's green has served a few (it passes verification). */
const DEFAULT_FAULT: FaultOptions = { failRate: 0.5, failAfterRequests: 5 };

const memberName = (index: number) => `m${String(index + 1).padStart(2, '0')}`;

/** The member a rehearsal faults: the first of the second wave, so the first wave has released cleanly by then. */
export function faultyMemberIndex(count: number): number {
  return Math.min(1, count - 1);
}

/** The environments with `environment` turned into a fleet of `count` members named m01…, built from its image. */
export function fleetRehearsalEnvironments(
  environment: string,
  count: number,
  base: Environments = configured,
): Environments {
  if (!Number.isInteger(count) || count < 1 || count > MAX_REHEARSAL_FLEET) {
    throw new Error(`--fleet must be a whole number from 1 to ${MAX_REHEARSAL_FLEET}; got ${count}`);
  }
  const env = environmentNamed(environment, base);
  // A small fleet keeps only the waves that move someone new (three members: one, then the rest).
  const sizes = waveSizes(WAVES, count);
  const waves = WAVES.filter((_, i) => (sizes[i] ?? 0) > (sizes[i - 1] ?? 0));
  const fleet = {
    deployConcurrency: 4,
    waves,
    members: Array.from({ length: count }, (_, i) => ({
      name: memberName(i),
      functionName: `${env.functionName}-${memberName(i)}`,
      health: MEMBER_HEALTH,
    })),
  };
  const withFleet = { ...env, onInsufficientData: ON_INSUFFICIENT_DATA, fleet } as EnvironmentConfig;
  const lockTtlMinutes = Math.max(env.lockTtlMinutes, fleetReleaseMinutes(withFleet, fleet));
  return parseEnvironments({ ...structuredClone(base), [env.name]: { ...withFleet, lockTtlMinutes } });
}

interface FleetOutput {
  readonly release?: {
    plan: { percent: number }[];
    member?: string;
    fleet?: { waves: number; members: { member: string; wave: number }[] };
  };
  readonly green?: { version: string };
  readonly version?: string;
  readonly traffic?: TrafficState;
  readonly rollback?: { reason: string };
  readonly outcome?: { outcome: string };
}

/** The fleet's progress lines: the members each state acts on, and the waves as they move. */
function fleetLine(event: ExecutionEvent): string | undefined {
  if (event.type !== 'StateExited') return undefined;
  const out = (event.output ?? {}) as FleetOutput;
  const fleet = out.release?.fleet;
  const steps = out.release?.plan.length ?? 1;
  switch (event.state) {
    case STATES.validate: {
      if (!fleet) return undefined;
      const waves = Array.from({ length: fleet.waves }, (_, w) =>
        fleet.members.filter((m) => m.wave === w).map((m) => m.member),
      );
      return `    ◆ fleet of ${fleet.members.length}: ${waves.map((names, w) => `wave ${w + 1} ${names.join(', ')}`).join('; ')}`;
    }
    case STATES.deploy:
      return out.release?.member ? `    ◆ ${out.release.member}: green → version ${out.green?.version}` : undefined;
    case STATES.verify:
      return out.version ? `    ◆ version ${out.version} verified` : undefined;
    case STATES.shift: {
      if (!fleet || !out.traffic) return undefined;
      const wave = Math.floor(out.traffic.stepIndex / steps);
      const names = fleet.members.filter((m) => m.wave === wave).map((m) => m.member);
      const earlier = wave === 0 ? '' : wave === 1 ? ' (wave 1 at 100%)' : ` (waves 1–${wave} at 100%)`;
      return `    ◆ wave ${wave + 1}/${fleet.waves}: ${names.join(', ')} at ${out.traffic.percent}%${earlier}`;
    }
    case STATES.check: {
      const check = out.traffic?.lastCheck;
      return fleet && check?.verdict === 'unhealthy' ? `    ◆ unhealthy: ${check.reasons[0] ?? ''}` : undefined;
    }
    case STATES.rollBack: {
      const evidence = (out.rollback as { evidence?: { restored?: { member: string; version: string }[] } } | undefined)
        ?.evidence;
      const restored = evidence?.restored ?? [];
      return fleet
        ? `    ◆ back on blue: ${restored.map((r) => `${r.member} → ${r.version}`).join(', ') || 'no member had moved'}`
        : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * A fleet release on one machine: `count` member functions from one image, each with its own gateway and signed load,
 * a new build with a fault in one member, and the synthesized state machine moving the fleet wave by wave.
 */
export async function rehearseFleet(
  options: RehearsalOptions & { readonly fleet: { readonly members: number } },
  openRuntime: OpenLocalRuntime,
): Promise<RehearsalReport> {
  const started = performance.now();
  const print = options.print ?? (() => undefined);
  const environments = fleetRehearsalEnvironments(options.environment, options.fleet.members, options.environments);
  const env = environmentNamed(options.environment, environments);
  const members = env.fleet?.members ?? [];
  const faulty = members[faultyMemberIndex(members.length)];
  const events: ExecutionEvent[] = [];
  const onProgress = progressPrinter(print);
  const runtime = openRuntime({
    speedup: options.speedup,
    environments,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.definition ? { definition: options.definition } : {}),
    onEvent: (_id, event) => {
      events.push(event);
      onProgress(event);
      const line = fleetLine(event);
      if (line) print(line);
    },
    onNotification: (n) => print(`  ✉ ${n.subject}`),
    approvals: 'auto',
  });
  const gateways = members.map(
    (m) =>
      new LocalGateway({
        functions: runtime.functions,
        functionName: m.functionName,
        alias: (m.aliases ?? env.aliases).live,
      }),
  );
  const loads: LoadGenerator[] = [];
  try {
    await runtime.reconcileLeftovers();
    print(
      `Switchyard fleet rehearsal: ${env.name}, ${members.length} members in ${env.fleet?.waves.length} waves, time ×${options.speedup}`,
    );
    const base = await runtime.registry.build(env.repositoryName, { commit: 'rehearsal-base' });
    await runtime.bootstrap(env.name, base);
    print(`• Deployed the first version of every member from ${base.digest.slice(0, 19)}… (live, blue, green)`);

    const rate = Math.max(MEMBER_MIN_RATE, Math.ceil(options.ratePerSecond / members.length));
    for (const gateway of gateways) {
      const baseUrl = await gateway.start();
      const load = new LoadGenerator({
        baseUrl,
        signer: runtime.loadSigner,
        ratePerSecond: rate,
        maxDurationMs: 5 * 60_000,
        maxRequests: rate * 5 * 60,
      });
      load.start();
      loads.push(load);
    }
    print(`• A gateway and signed load at ${rate} req/s for each member (${rate * members.length} req/s in all)`);

    const fault: FaultOptions = { ...(options.fault ?? DEFAULT_FAULT), onlyFunction: faulty?.functionName ?? '' };
    const candidate = await runtime.registry.build(env.repositoryName, {
      commit: `rehearsal-${Date.now().toString(36)}`,
      fault,
    });
    print(
      `• Pushed ${env.repositoryName}@${candidate.digest.slice(0, 19)}… (${candidate.tag}); only member ${faulty?.name} misbehaves: ${JSON.stringify(options.fault ?? DEFAULT_FAULT)}`,
    );
    const release = runtime.startRelease({
      trigger: 'api',
      environment: env.name,
      imageDigest: candidate.digest,
      requestedBy: 'rehearsal',
      ...(options.strategy ? { strategy: options.strategy } : {}),
    });
    print(`• Started fleet release ${release.releaseId} through the release API input`);
    const result = await release.result;
    const reports: LoadReport[] = await Promise.all(loads.map((l) => l.stop()));
    const record = await runtime.store.getRelease(release.releaseId);
    const memberLives = await Promise.all(
      members.map(async (m) => {
        const live = await runtime.functions.getAlias(m.functionName, (m.aliases ?? env.aliases).live);
        const state = record?.targets.members.find((s) => s.name === m.name);
        return {
          name: m.name,
          wave: state?.wave ?? 0,
          phase: state?.phase ?? 'pending',
          live: live ? { version: live.version, ...(live.routing ? { routing: live.routing } : {}) } : undefined,
          blueVersion: state?.blueVersion ?? null,
        };
      }),
    );
    // Every member's live traffic counts (their green stages' smoke calls do not).
    const summary = summarizeRehearsal(result, events, runtime.metrics.all(), (p) => p.resource !== 'green');
    return {
      releaseId: release.releaseId,
      environment: env.name,
      outcome: summary.outcome,
      result,
      blueVersion: memberLives[0]?.blueVersion ?? null,
      candidateDigest: candidate.digest,
      live: undefined,
      lastCheck: summary.lastCheck,
      reason: record?.reason ?? result.cause,
      traffic: summary.traffic,
      candidateMaxShare: 0,
      firstStepShare: 0,
      stateTransitions: summary.stateTransitions,
      errorToRestoreSeconds: null,
      load: {
        sent: reports.reduce((n, r) => n + r.sent, 0),
        byStatus: reports.reduce<Record<string, number>>((all, r) => {
          for (const [status, n] of Object.entries(r.byStatus)) all[status] = (all[status] ?? 0) + n;
          return all;
        }, {}),
        latenciesMs: [],
        durationMs: Math.max(0, ...reports.map((r) => r.durationMs)),
      },
      wallMs: performance.now() - started,
      fleet: {
        members: memberLives,
        ...(record?.targets.trippedBy ? { trippedBy: record.targets.trippedBy } : {}),
        faultyMember: faulty?.name ?? '',
      },
    };
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
    await Promise.all(gateways.map((g) => g.stop()));
    await runtime.close();
  }
}
