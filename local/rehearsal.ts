import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InvocationPoint } from '../adapters/memory/memory-metrics.ts';
import { environmentNamed } from '../config/environments.ts';
import type { Environments, Strategy } from '../config/schema.ts';
import type { HealthCheck, TrafficState } from '../core/traffic.ts';
import { STATES } from '../state-machine/state-names.ts';
import type { AslDefinition } from '../state-machine/synthesize.ts';
import type { ExecutionEvent, ExecutionResult } from './engine.ts';
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
   * Rehearse the environment's first release: the function exists only as Terraform's first apply left it (version
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
   * its requests failing) in one member of the second wave.
   */
  readonly fleet?: { readonly members: number };
}

/** A fleet rehearsal's members as it ended. */
export interface FleetRehearsalMember {
  readonly name: string;
  readonly wave: number;
  readonly phase: string;
  readonly live: { version: string; routing?: { version: string; weight: number } } | undefined;
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
  /** The verified version live was on at the start; null on a first release. */
  readonly blueVersion: string | null;
  readonly candidateDigest: string;
  readonly live: { version: string; routing?: { version: string; weight: number } } | undefined;
  readonly lastCheck: HealthCheck | undefined;
  readonly reason: string | undefined;
  /** Traffic `live` actually served per version during the rehearsal (the local CloudWatch). */
  readonly traffic: VersionShare[];
  /** Highest share of live traffic the candidate served in any one virtual minute (routing is random per request). */
  readonly candidateMaxShare: number;
  /** The candidate's share of live traffic over the whole first traffic step. */
  readonly firstStepShare: number;
  readonly stateTransitions: number;
  /** Virtual seconds from the first error the candidate served to `live` back on blue (rollbacks only). */
  readonly errorToRestoreSeconds: number | null;
  readonly load: LoadReport;
  readonly wallMs: number;
  /** A fleet rehearsal's members, the one that tripped the fleet and the one the fault was in. */
  readonly fleet?: {
    readonly members: readonly FleetRehearsalMember[];
    readonly trippedBy?: string;
    readonly faultyMember: string;
  };
}

interface StateOutput {
  readonly release?: { blueVersion: string | null; plan: { percent: number; bakeSeconds: number }[] };
  readonly green?: { version: string };
  readonly verification?: { checks: { name: string; observed: string }[] };
  readonly traffic?: TrafficState;
  readonly rollback?: { live: { version: string | null }; reason: string };
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

function describeExit(event: ExecutionEvent): string | undefined {
  const out = (event.output ?? {}) as StateOutput;
  switch (event.state) {
    case STATES.validate:
      // Outside its window in `wait` mode (core/policy/release-gate.ts): what it waits for, and until when.
      if (out.release && 'awaitingWindow' in out.release)
        return String((out.release.awaitingWindow as { summary: string }).summary);
      if (out.release && 'fleet' in out.release) return `plan per wave: ${planLine(out.release.plan)}`;
      return out.release
        ? `blue is version ${out.release.blueVersion ?? 'none'}; plan: ${planLine(out.release.plan)}`
        : undefined;
    case STATES.scan:
      return 'release stage requested with the digest and environment (trivy and terraform do not run locally)';
    case STATES.deploy:
      return out.green ? `green → version ${out.green.version}` : undefined;
    case STATES.verify:
      return out.verification?.checks.map((c) => `${c.name}: ${c.observed}`).join(', ');
    case STATES.shift:
      return out.traffic
        ? `live sends ${out.traffic.percent}% to green (step ${out.traffic.stepIndex + 1}/${out.traffic.stepCount})`
        : undefined;
    case STATES.check:
      return out.traffic ? bakeLine(out.traffic) : undefined;
    case STATES.rollBack:
      if (out.release && 'fleet' in out.release) return out.rollback?.reason;
      return out.rollback ? `live back on version ${out.rollback.live.version}: ${out.rollback.reason}` : undefined;
    case STATES.finalize:
      if (out.release && 'fleet' in out.release)
        return out.outcome ? `${out.outcome.outcome}: every member live on its green` : undefined;
      return out.outcome ? `${out.outcome.outcome}: live on version ${out.outcome.live.version}` : undefined;
    default:
      return undefined;
  }
}

/** What a finished rehearsal reports from its execution and traffic, single function or fleet alike. */
export interface RehearsalSummary {
  readonly outcome: RehearsalReport['outcome'];
  /** The last health check a Check health state made. */
  readonly lastCheck: HealthCheck | undefined;
  readonly stateTransitions: number;
  /** Calls and errors per version, in the order each version first served. */
  readonly traffic: VersionShare[];
}

/**
 * The outcome, last check, states entered and traffic of a finished rehearsal. `traffic` names every version the
 * points name, its calls counted from the points `counted` keeps (a version with none of those reports zero calls).
 */
export function summarizeRehearsal(
  result: ExecutionResult,
  events: readonly ExecutionEvent[],
  points: readonly InvocationPoint[],
  counted: (point: InvocationPoint) => boolean = () => true,
): RehearsalSummary {
  const checks = events
    .filter((e) => e.type === 'StateExited' && e.state === STATES.check)
    .map((e) => (e.output as { traffic: TrafficState }).traffic.lastCheck)
    .filter((c): c is HealthCheck => c !== undefined);
  const outcome =
    result.status === 'SUCCEEDED'
      ? 'released'
      : result.status === 'ABORTED'
        ? 'aborted'
        : result.error === 'ReleaseRolledBack'
          ? 'rolled-back'
          : 'failed';
  const byVersion = new Map<string, VersionShare>();
  for (const p of points) {
    const s = byVersion.get(p.version) ?? { version: p.version, invocations: 0, errors: 0 };
    byVersion.set(
      p.version,
      counted(p) ? { ...s, invocations: s.invocations + 1, errors: s.errors + (p.error ? 1 : 0) } : s,
    );
  }
  return {
    outcome,
    lastCheck: checks.at(-1),
    stateTransitions: events.filter((e) => e.type === 'StateEntered').length,
    traffic: [...byVersion.values()],
  };
}

/** Prints the console's view of an execution as it runs: each state entered and left, retries and catches. */
export function progressPrinter(print: (line: string) => void): (event: ExecutionEvent) => void {
  const entered = new Map<string, number>();
  return (event) => {
    if (!event.state) return;
    if (event.type === 'StateEntered') {
      entered.set(event.state, event.at);
      if (event.stateType === 'Task') print(`  ▶ ${event.state}`);
    } else if (event.type === 'StateExited') {
      const ms = event.at - (entered.get(event.state) ?? event.at);
      const detail = describeExit(event);
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

/**
 * A whole release on one machine: deploy a first version, send signed traffic through the local gateway, push a new
 * build, and let the synthesized state machine take it to Released, Rolled back or Release failed.
 */
export async function rehearse(options: RehearsalOptions, openRuntime: OpenLocalRuntime): Promise<RehearsalReport> {
  if (options.fleet) {
    const { rehearseFleet } = await import('./fleet-rehearsal.ts');
    return rehearseFleet({ ...options, fleet: options.fleet }, openRuntime);
  }
  const started = performance.now();
  const print = options.print ?? (() => undefined);
  const env = environmentNamed(options.environment, options.environments);
  const events: ExecutionEvent[] = [];
  const onProgress = progressPrinter(print);
  const runtime = openRuntime({
    speedup: options.speedup,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.definition ? { definition: options.definition } : {}),
    ...(options.environments ? { environments: options.environments } : {}),
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
  const gateway = runtime.gatewayFor(env.name);
  let load: LoadGenerator | undefined;
  try {
    const leftovers = await runtime.reconcileLeftovers();
    if (leftovers.length > 0) print(`Reconciled releases a stopped run left behind: ${leftovers.join(', ')}`);

    print(`Switchyard rehearsal: ${env.name} (${env.functionName}), time ×${options.speedup}`);
    let blueVersion: string | null;
    let firstImage: LocalImage | undefined;
    if (options.firstRelease) {
      // Terraform creates the function from the image being released: a fresh build, so no history verified it.
      firstImage = await runtime.registry.build(env.repositoryName, {
        commit: `rehearsal-${Date.now().toString(36)}`,
        ...(options.fault || sharedFault ? { fault: { ...options.fault, ...sharedFault } } : {}),
      });
      const bootstrap = await runtime.provisionEnvironment(env.name, firstImage);
      blueVersion = null;
      print(
        `• Terraform's first apply: ${env.functionName}:${bootstrap} from ${firstImage.digest.slice(0, 19)}… behind live, blue and green, never verified`,
      );
    } else {
      const base = await runtime.registry.build(env.repositoryName, {
        // A base carrying the outage switch is another image: its own tag, so the immutable base tag stays put.
        ...(sharedFault ? { commit: 'rehearsal-base-downstream', fault: sharedFault } : { commit: 'rehearsal-base' }),
      });
      blueVersion = await runtime.bootstrap(env.name, base);
      print(
        `• Deployed the first version: ${env.functionName}:${blueVersion} from ${base.digest.slice(0, 19)}… (live, blue, green)`,
      );
    }

    const baseUrl = await gateway.start();
    runtime.openGreenStage(env.name, baseUrl);
    load = new LoadGenerator({
      baseUrl,
      signer: runtime.loadSigner,
      ratePerSecond: options.ratePerSecond,
      maxDurationMs: 5 * 60_000,
      maxRequests: options.ratePerSecond * 5 * 60,
    });
    load.start();
    print(`• Gateway on ${baseUrl} → ${env.aliases.live}; signed load at ${options.ratePerSecond} req/s`);

    const candidate =
      firstImage ??
      (await runtime.registry.build(env.repositoryName, {
        commit: `rehearsal-${Date.now().toString(36)}`,
        ...(options.fault || sharedFault ? { fault: { ...options.fault, ...sharedFault } } : {}),
      }));
    const faults = options.fault ? ` with rehearsal faults ${JSON.stringify(options.fault)}` : '';
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
    const loadReport = await load.stop();
    const record = await runtime.store.getRelease(release.releaseId);
    const live = await runtime.functions.getAlias(env.functionName, env.aliases.live);
    const points = runtime.metrics
      .all()
      .filter((p) => p.functionName === env.functionName && p.resource === env.aliases.live);
    const summary = summarizeRehearsal(result, events, points);
    const greenVersion = record?.greenVersion;
    const minutes = new Map<number, { all: number; green: number }>();
    for (const p of points) {
      const m = Math.floor(p.at.getTime() / 60_000);
      const bucket = minutes.get(m) ?? { all: 0, green: 0 };
      minutes.set(m, { all: bucket.all + 1, green: bucket.green + (p.version === greenVersion ? 1 : 0) });
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
    const firstStepShare =
      inFirstStep.length > 0 ? inFirstStep.filter((p) => p.version === greenVersion).length / inFirstStep.length : 0;
    const firstGreenError = points.find((p) => p.version === greenVersion && p.error)?.at.getTime();
    const restoredAt = record?.events.find((e) => e.kind === 'rolled-back')?.at;
    const errorToRestoreSeconds =
      firstGreenError !== undefined && restoredAt ? (Date.parse(restoredAt) - firstGreenError) / 1000 : null;

    return {
      releaseId: release.releaseId,
      environment: env.name,
      outcome: summary.outcome,
      result,
      blueVersion,
      candidateDigest: candidate.digest,
      live: live ? { version: live.version, ...(live.routing ? { routing: live.routing } : {}) } : undefined,
      lastCheck: summary.lastCheck,
      reason: record?.reason ?? result.cause,
      traffic: summary.traffic,
      candidateMaxShare,
      firstStepShare,
      stateTransitions: summary.stateTransitions,
      errorToRestoreSeconds,
      load: loadReport,
      wallMs: performance.now() - started,
    };
  } finally {
    clearTimeout(outageTimer);
    if (outageFlag) rmSync(outageFlag, { force: true });
    await load?.stop();
    await gateway.stop();
    await runtime.close();
  }
}
