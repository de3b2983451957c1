import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { environments as configured, environmentNamed } from '../config/environments.ts';
import { fleetReleaseMinutes, waveSizes } from '../config/fleet.ts';
import { type EnvironmentConfig, type Environments, parseEnvironments, type Strategy } from '../config/schema.ts';
import { type Green, isFleet, type ReleaseContext, type TargetContext } from '../core/model/release-context.ts';
import { environmentTargets } from '../core/model/target-set.ts';
import type { HealthCheck, TrafficState } from '../core/model/traffic.ts';
import { waveStep } from '../core/steps/shift-traffic.ts';
import { STATES } from '../state-machine/state-names.ts';
import type { AslDefinition } from '../state-machine/synthesize.ts';
import type { ExecutionEvent, ExecutionResult } from './engine.ts';
import { MAX_REHEARSAL_FLEET } from './fleet-limits.ts';
import { LocalGateway } from './gateway.ts';
import { LoadGenerator, type LoadReport } from './load-generator.ts';
import type { FaultOptions, LocalImage } from './local-registry.ts';
import type { OpenLocalRuntime } from './runtime.ts';

export interface RehearsalOptions {
  readonly environment: string;
  readonly strategy?: Strategy;
  readonly fault?: FaultOptions;
  /** Virtual seconds per real second. */
  readonly speedup: number;
  /** Load generator requests per real second. */
  readonly ratePerSecond: number;
  readonly dataDir?: string;
  readonly definition?: AslDefinition;
  /** @default the configured environments */
  readonly environments?: Environments;
  /**
   * Rehearse the environment's first release: its functions exist only as Terraform's first apply left them (version
   * 1 of the release's own image, never verified), so the release has no blue and goes straight to 100%.
   */
  readonly firstRelease?: boolean;
  /**
   * A downstream dependency of both versions fails `failRate` of requests for `minutes` virtual minutes from the
   * first traffic shift: blue and green err alike, so the verdict names the environment, not the release.
   */
  readonly downstreamOutage?: { readonly failRate: number; readonly minutes: number };
  /** Progress lines go here; nothing is printed when absent. */
  readonly print?: (line: string) => void;
  /**
   * Rehearse the environment as a fleet of this many member functions (docs/fleet.md) with the fault (by default half
   * its requests failing) in one member of the second wave. Only the number of targets changes.
   */
  readonly fleet?: { readonly members: number };
}

type LiveAlias = { version: string; routing?: { version: string; weight: number } };

/** One target of a rehearsal as it ended: the single function, or one fleet member. */
export interface RehearsalTarget {
  readonly name: string;
  readonly wave: number;
  readonly phase: string;
  readonly live: LiveAlias | undefined;
  readonly blueVersion: string | null;
}

export interface VersionShare {
  readonly version: string;
  readonly invocations: number;
  readonly errors: number;
}

export interface RehearsalReport {
  readonly releaseId: string;
  readonly environment: string;
  readonly outcome: 'released' | 'rolled-back' | 'failed' | 'aborted';
  readonly result: ExecutionResult;
  /** The verified version live was on at the start (the first target's); null on a first release. */
  readonly blueVersion: string | null;
  readonly candidateDigest: string;
  /** The single function's live as the rehearsal ended; undefined for a fleet (each member's is in `targets`). */
  readonly live: LiveAlias | undefined;
  /** Every target as it ended, in the environment's order. */
  readonly targets: readonly RehearsalTarget[];
  /** The fleet member that tripped the release, if one did. */
  readonly trippedBy?: string;
  /** The fleet member the fault was built into; a single function's fault is its own. */
  readonly faultyTarget?: string;
  readonly lastCheck: HealthCheck | undefined;
  readonly reason: string | undefined;
  /** Traffic the targets' `live` actually served per version during the rehearsal (the local CloudWatch). */
  readonly traffic: VersionShare[];
  /** Highest share of live traffic the candidate served in any one virtual minute (routing is random per request). */
  readonly candidateMaxShare: number;
  /** The candidate's share of live traffic over the whole first traffic step. */
  readonly firstStepShare: number;
  readonly stateTransitions: number;
  /** Virtual seconds from the first error the candidate served to `live` back on blue (rollbacks only). */
  readonly errorToRestoreSeconds: number | null;
  /** Every target's load, added up. */
  readonly load: LoadReport;
  readonly wallMs: number;
}

/**
 * Requests per real second each fleet member gets at least: enough that a 10% canary sees a judgeable share at ×60
 * (30 a virtual minute, 3 on green), with the members' low-traffic thresholds below.
 */
const MEMBER_MIN_RATE = 30;
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
const DEFAULT_FLEET_FAULT: FaultOptions = { failRate: 0.5, failAfterRequests: 5 };

const memberName = (index: number) => `m${String(index + 1).padStart(2, '0')}`;

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

/**
 * A state's input or output, as far as the progress lines read it: the whole payload (`release`, `traffic`, …), a
 * Map iteration's `{release, target}` (Deploy green adds `green`), or Verify green's output, the green itself.
 */
interface StatePayload {
  readonly release?: ReleaseContext;
  readonly target?: TargetContext | Green['target'];
  readonly green?: Green;
  readonly version?: string;
  readonly traffic?: TrafficState;
  readonly rollback?: {
    live: { version: string | null };
    reason: string;
    evidence?: { restored?: { member: string; version: string }[] };
  };
  readonly outcome?: { outcome: string; live: { version: string } };
}

function bakeLine(traffic: TrafficState): string | undefined {
  const check = traffic.lastCheck;
  if (!check) return undefined;
  const done = Math.min(traffic.bakedSeconds, traffic.bakeSeconds);
  const width = 20;
  const filled = traffic.bakeSeconds > 0 ? Math.round((done / traffic.bakeSeconds) * width) : width;
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const rate = check.sample.errorRatePercent === null ? 'n/a' : `${check.sample.errorRatePercent}%`;
  const source = check.sources?.find((s) => s.source === check.source);
  // Which metrics the verdict used: the application's high-resolution periods or Lambda's 1-minute data.
  const from = source
    ? source.source === 'high-resolution'
      ? ` (high-resolution ${source.periodSeconds} s)`
      : ' (1-minute Lambda)'
    : '';
  const window = `window ${check.window.start.slice(11, 19)}–${check.window.end.slice(11, 19)}${from}`;
  const settling = traffic.next === 'bake' && traffic.bakeEndedAt ? ", waiting for the last periods' data" : '';
  return `${bar} ${Number((done / 60).toFixed(2))}/${traffic.bakeSeconds / 60} min at ${traffic.percent}%: ${check.verdict}, ${window}: ${check.sample.invocations} calls, error rate ${rate} → ${traffic.next}${settling}`;
}

function planLine(plan: readonly { percent: number; bakeSeconds: number }[]): string {
  return plan.map((s) => `${s.percent}% for ${s.bakeSeconds / 60} min`).join(' → ');
}

/** The names of the release's targets in `wave`. */
function waveNames(release: ReleaseContext, wave: number): string {
  return release.targets
    .filter((t) => t.wave === wave)
    .map((t) => t.name)
    .join(', ');
}

/** What a state did, for its ✓ line; `label` names the fleet member a Map iteration acted on. */
function describeExit(state: string, out: StatePayload, fleet: boolean, label: string): string | undefined {
  const release = out.release;
  switch (state) {
    case STATES.validate: {
      if (!release) return undefined;
      // Outside its window in `wait` mode (core/policy/release-gate.ts): what it waits for, and until when.
      if (release.awaitingWindow) return release.awaitingWindow.summary;
      if (!fleet)
        return `blue is version ${release.targets[0]?.blueVersion ?? 'none'}; plan: ${planLine(release.plan)}`;
      const waves = Array.from({ length: release.waves }, (_, w) => `wave ${w + 1} ${waveNames(release, w)}`);
      return `fleet of ${release.targets.length}: ${waves.join('; ')}; plan per wave: ${planLine(release.plan)}`;
    }
    case STATES.scan:
      return 'release stage requested with the digest and environment (trivy and terraform do not run locally)';
    case STATES.deploy:
      return out.green ? `${label}green → version ${out.green.version}` : undefined;
    case STATES.verify:
      return out.version ? `${label}version ${out.version} verified` : undefined;
    case STATES.shift: {
      const traffic = out.traffic;
      if (!traffic || !release) return undefined;
      const step = `(step ${traffic.stepIndex + 1}/${traffic.stepCount})`;
      if (!fleet) return `live sends ${traffic.percent}% to green ${step}`;
      const { wave } = waveStep(release, traffic.stepIndex);
      const earlier = wave === 0 ? '' : wave === 1 ? ', wave 1 at 100%' : `, waves 1–${wave} at 100%`;
      return `wave ${wave + 1}/${release.waves}: ${waveNames(release, wave)} at ${traffic.percent}%${earlier} ${step}`;
    }
    case STATES.check:
      return out.traffic ? bakeLine(out.traffic) : undefined;
    case STATES.rollBack: {
      const rollback = out.rollback;
      if (!rollback) return undefined;
      if (!fleet) return `live back on version ${rollback.live.version}: ${rollback.reason}`;
      const restored = (rollback.evidence?.restored ?? []).map((r) => `${r.member} → ${r.version}`);
      return `back on blue: ${restored.join(', ') || 'no member had moved'}; ${rollback.reason}`;
    }
    case STATES.finalize:
      if (!out.outcome) return undefined;
      return `${out.outcome.outcome}: ${fleet ? 'every member live on its green' : `live on version ${out.outcome.live.version}`}`;
    default:
      return undefined;
  }
}

/**
 * Prints the console's view of an execution as it runs: each state entered and left, retries and catches. A fleet's
 * Deploy green and Verify green lines name the member their Map iteration is for.
 */
function progressPrinter(print: (line: string) => void): (event: ExecutionEvent) => void {
  const entered = new Map<string, number>();
  let fleet = false;
  return (event) => {
    if (!event.state) return;
    const payload = ((event.type === 'StateEntered' ? event.input : event.output) ?? {}) as StatePayload;
    if (payload.release) fleet = isFleet(payload.release);
    const target = typeof payload.target === 'string' ? payload.target : payload.target?.name;
    const label = fleet && target ? `${target}: ` : '';
    const key = `${event.state}#${target ?? ''}`;
    if (event.type === 'StateEntered') {
      entered.set(key, event.at);
      if (event.stateType === 'Task') print(`  ▶ ${event.state}${label ? ` (${target})` : ''}`);
    } else if (event.type === 'StateExited') {
      const ms = event.at - (entered.get(key) ?? event.at);
      const detail = describeExit(event.state, payload, fleet, label);
      if (event.stateType === 'Task' || event.stateType === 'Succeed') {
        print(`  ✓ ${event.state} (${ms} ms)${detail ? `  ${detail}` : ''}`);
      }
    } else if (event.type === 'StateRetried') {
      print(`  ↻ ${event.state} retried after a transient failure`);
    } else if (event.type === 'StateCaught') {
      print(`  ✗ ${event.state} failed: ${String(event.error ?? '')}; caught`);
    } else if (event.type === 'StateFailed' && event.stateType === 'Fail') {
      print(`  ■ ${event.state}`);
    }
  };
}

function outcomeOf(result: ExecutionResult): RehearsalReport['outcome'] {
  if (result.status === 'SUCCEEDED') return 'released';
  if (result.status === 'ABORTED') return 'aborted';
  return result.error === 'ReleaseRolledBack' ? 'rolled-back' : 'failed';
}

/** Every target's load report added up. */
function totalLoad(reports: readonly LoadReport[]): LoadReport {
  const byStatus: Record<string, number> = {};
  for (const r of reports)
    for (const [status, n] of Object.entries(r.byStatus)) byStatus[status] = (byStatus[status] ?? 0) + n;
  return {
    sent: reports.reduce((n, r) => n + r.sent, 0),
    byStatus,
    latenciesMs: reports.flatMap((r) => r.latenciesMs),
    durationMs: Math.max(0, ...reports.map((r) => r.durationMs)),
  };
}

/**
 * A whole release on one machine: set up a first version of every target, send signed traffic through a gateway per
 * target, push a new build, and let the synthesized state machine take it to Released, Rolled back or Release failed.
 * A single function is one target; `--fleet N` makes N, with the fault in one of them.
 */
export async function rehearse(options: RehearsalOptions, openRuntime: OpenLocalRuntime): Promise<RehearsalReport> {
  const started = performance.now();
  const print = options.print ?? (() => undefined);
  const environments = options.fleet
    ? fleetRehearsalEnvironments(options.environment, options.fleet.members, options.environments)
    : options.environments;
  const env = environmentNamed(options.environment, environments);
  const targets = environmentTargets(env);
  const fleet = targets.length > 1;
  // A fleet's fault is in the first member of its second wave, so the first wave has released cleanly by then.
  const faulty = options.fleet ? targets[Math.min(1, targets.length - 1)] : undefined;
  const events: ExecutionEvent[] = [];
  const onProgress = progressPrinter(print);
  const runtime = openRuntime({
    speedup: options.speedup,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.definition ? { definition: options.definition } : {}),
    ...(environments ? { environments } : {}),
    onEvent: (_id, event) => {
      events.push(event);
      if (event.type === 'StateEntered' && event.state === STATES.shift) startOutage();
      onProgress(event);
    },
    onNotification: (n) => print(`  ✉ ${n.subject}`),
    approvals: 'auto',
  });
  // The shared outage's switch: a file both versions' rehearsal builds look for (app/fault-injection.ts).
  const outage = options.downstreamOutage;
  const outageFlag = outage ? join(runtime.dataDir, 'downstream-outage') : undefined;
  if (outageFlag) rmSync(outageFlag, { force: true });
  const sharedFault =
    outage && outageFlag ? { downstreamOutage: { flagPath: outageFlag, failRate: outage.failRate } } : undefined;
  let outageTimer: NodeJS.Timeout | undefined;
  function startOutage(): void {
    if (!outage || !outageFlag || outageTimer) return;
    writeFileSync(outageFlag, '');
    print(
      `• Downstream outage: both versions fail ${outage.failRate * 100}% of requests for ${outage.minutes} virtual minutes`,
    );
    outageTimer = setTimeout(() => rmSync(outageFlag, { force: true }), (outage.minutes * 60_000) / options.speedup);
  }
  // The candidate's faults: a fleet's in its faulty member only (the members share one image).
  const fault = faulty
    ? { ...(options.fault ?? DEFAULT_FLEET_FAULT), onlyFunction: faulty.functionName }
    : options.fault;
  const buildCandidate = () =>
    runtime.registry.build(env.repositoryName, {
      commit: `rehearsal-${Date.now().toString(36)}`,
      ...(fault || sharedFault ? { fault: { ...fault, ...sharedFault } } : {}),
    });
  // The target the environment's API fronts gets its gateway with the green stage; a fleet member is called directly.
  const served = targets.map((target) => ({
    target,
    gateway: target.frontDoor
      ? runtime.gatewayFor(env.name)
      : new LocalGateway({
          functions: runtime.functions,
          functionName: target.functionName,
          alias: target.aliases.live,
        }),
  }));
  const loads: LoadGenerator[] = [];
  try {
    const leftovers = await runtime.reconcileLeftovers();
    if (leftovers.length > 0) print(`Reconciled releases a stopped run left behind: ${leftovers.join(', ')}`);
    print(
      fleet
        ? `Switchyard fleet rehearsal: ${env.name}, ${targets.length} members in ${env.fleet?.waves.length} waves, time ×${options.speedup}`
        : `Switchyard rehearsal: ${env.name} (${env.functionName}), time ×${options.speedup}`,
    );
    // Every target set up from one image: where its versions stand.
    const placed = (versions: Record<string, string>) =>
      fleet
        ? `${targets.length} members on version ${[...new Set(Object.values(versions))].join(', ')}`
        : `${env.functionName}:${versions[env.functionName]}`;
    let blueVersion: string | null = null;
    let firstImage: LocalImage | undefined;
    if (options.firstRelease) {
      // Terraform creates the functions from the image being released: a fresh build, so no history verified it.
      firstImage = await buildCandidate();
      const versions = await runtime.provisionEnvironment(env.name, firstImage);
      print(
        `• Terraform's first apply: ${placed(versions)} from ${firstImage.digest.slice(0, 19)}… behind live, blue and green, never verified`,
      );
    } else {
      const base = await runtime.registry.build(env.repositoryName, {
        // A base carrying the outage switch is another image: its own tag, so the immutable base tag stays put.
        ...(sharedFault ? { commit: 'rehearsal-base-downstream', fault: sharedFault } : { commit: 'rehearsal-base' }),
      });
      const versions = await runtime.bootstrap(env.name, base);
      blueVersion = versions[targets[0]?.name ?? ''] ?? null;
      print(`• Deployed the first version: ${placed(versions)} from ${base.digest.slice(0, 19)}… (live, blue, green)`);
    }

    const rate = fleet
      ? Math.max(MEMBER_MIN_RATE, Math.ceil(options.ratePerSecond / targets.length))
      : options.ratePerSecond;
    const urls: string[] = [];
    for (const { target, gateway } of served) {
      const baseUrl = await gateway.start();
      if (target.frontDoor) runtime.openGreenStage(env.name, baseUrl);
      const load = new LoadGenerator({
        baseUrl,
        signer: runtime.loadSigner,
        ratePerSecond: rate,
        maxDurationMs: 5 * 60_000,
        maxRequests: rate * 5 * 60,
      });
      load.start();
      loads.push(load);
      urls.push(baseUrl);
    }
    print(
      fleet
        ? `• A gateway and signed load at ${rate} req/s for each member (${rate * targets.length} req/s in all)`
        : `• Gateway on ${urls[0]} → ${env.aliases.live}; signed load at ${rate} req/s`,
    );

    const candidate = firstImage ?? (await buildCandidate());
    const faults = faulty
      ? `; only member ${faulty.name} misbehaves: ${JSON.stringify(options.fault ?? DEFAULT_FLEET_FAULT)}`
      : options.fault
        ? ` with rehearsal faults ${JSON.stringify(options.fault)}`
        : '';
    print(`• Pushed ${env.repositoryName}@${candidate.digest.slice(0, 19)}… (${candidate.tag})${faults}`);

    const event = runtime.registry.pushEvent(candidate, runtime.clock.now());
    const fromPush = runtime.onImageEvent(event).find((r) => r.releaseId.startsWith(`rel-${env.name}-`));
    const release =
      fromPush ??
      runtime.startRelease({
        trigger: 'api',
        environment: env.name,
        imageDigest: candidate.digest,
        requestedBy: 'rehearsal',
        ...(options.strategy ? { strategy: options.strategy } : {}),
      });
    print(
      fromPush
        ? `• The push event started release ${release.releaseId} (EventBridge rule → state machine)`
        : `• ${env.name} does not release on push; started ${release.releaseId} through the release API input`,
    );
    const result = await release.result;
    const load = totalLoad(await Promise.all(loads.map((l) => l.stop())));
    const record = await runtime.store.getRelease(release.releaseId);
    const ended = await Promise.all(
      targets.map(async (t): Promise<RehearsalTarget> => {
        const live = await runtime.functions.getAlias(t.functionName, t.aliases.live);
        const state = record?.targets.members.find((m) => m.name === t.name);
        return {
          name: t.name,
          wave: state?.wave ?? t.wave,
          phase: state?.phase ?? 'pending',
          live: live ? { version: live.version, ...(live.routing ? { routing: live.routing } : {}) } : undefined,
          blueVersion: state?.blueVersion ?? null,
        };
      }),
    );

    // What the targets' live aliases served (not the green stage's or Verify green's direct calls).
    const liveAlias = new Map(targets.map((t) => [t.functionName, t.aliases.live]));
    const greens = new Map(record?.targets.members.map((m) => [m.functionName, m.greenVersion]));
    const points = runtime.metrics.all().filter((p) => liveAlias.get(p.functionName) === p.resource);
    const onGreen = (p: (typeof points)[number]) => p.version === greens.get(p.functionName);
    const byVersion = new Map<string, VersionShare>();
    const minutes = new Map<number, { all: number; green: number }>();
    for (const p of points) {
      const s = byVersion.get(p.version) ?? { version: p.version, invocations: 0, errors: 0 };
      byVersion.set(p.version, { ...s, invocations: s.invocations + 1, errors: s.errors + (p.error ? 1 : 0) });
      const m = Math.floor(p.at.getTime() / 60_000);
      const bucket = minutes.get(m) ?? { all: 0, green: 0 };
      minutes.set(m, { all: bucket.all + 1, green: bucket.green + (onGreen(p) ? 1 : 0) });
    }
    const candidateMaxShare = Math.max(
      0,
      ...[...minutes.values()].filter((b) => b.all >= 10).map((b) => b.green / b.all),
    );
    // Live's traffic while the first step ran: from the first shift to the next shift or the rollback.
    const stepEvents = (record?.events ?? []).filter((e) => e.kind === 'traffic-shifted' || e.kind === 'rolled-back');
    const firstStepStart = stepEvents[0] ? Date.parse(stepEvents[0].at) : Number.POSITIVE_INFINITY;
    const firstStepEnd = stepEvents[1] ? Date.parse(stepEvents[1].at) : Number.POSITIVE_INFINITY;
    const inFirstStep = points.filter((p) => p.at.getTime() >= firstStepStart && p.at.getTime() <= firstStepEnd);
    const firstStepShare = inFirstStep.length > 0 ? inFirstStep.filter(onGreen).length / inFirstStep.length : 0;
    const firstGreenError = points.find((p) => onGreen(p) && p.error)?.at.getTime();
    const restoredAt = record?.events.find((e) => e.kind === 'rolled-back')?.at;
    const checks = events
      .filter((e) => e.type === 'StateExited' && e.state === STATES.check)
      .map((e) => (e.output as { traffic: TrafficState }).traffic.lastCheck);

    return {
      releaseId: release.releaseId,
      environment: env.name,
      outcome: outcomeOf(result),
      result,
      blueVersion,
      candidateDigest: candidate.digest,
      live: fleet ? undefined : ended[0]?.live,
      targets: ended,
      ...(record?.targets.trippedBy ? { trippedBy: record.targets.trippedBy } : {}),
      ...(faulty ? { faultyTarget: faulty.name } : {}),
      lastCheck: checks.filter((c) => c !== undefined).at(-1),
      reason: record?.reason ?? result.cause,
      traffic: [...byVersion.values()],
      candidateMaxShare,
      firstStepShare,
      stateTransitions: events.filter((e) => e.type === 'StateEntered').length,
      errorToRestoreSeconds:
        firstGreenError !== undefined && restoredAt ? (Date.parse(restoredAt) - firstGreenError) / 1000 : null,
      load,
      wallMs: performance.now() - started,
    };
  } finally {
    clearTimeout(outageTimer);
    if (outageFlag) rmSync(outageFlag, { force: true });
    await Promise.all(loads.map((l) => l.stop()));
    await Promise.all(served.map((s) => s.gateway.stop()));
    await runtime.close();
  }
}
