import { isTransientAwsError } from '../../adapters/aws/transient-errors.ts';
import { ManualClock } from '../../adapters/memory/clocks.ts';
import { MemoryAlarms } from '../../adapters/memory/memory-alarms.ts';
import { MemoryFrontDoor } from '../../adapters/memory/memory-front-door.ts';
import { MemoryFunctionVersions } from '../../adapters/memory/memory-functions.ts';
import { MemoryInsightStore } from '../../adapters/memory/memory-insight-store.ts';
import { MemoryVersionMetrics } from '../../adapters/memory/memory-metrics.ts';
import { MemoryNotifier } from '../../adapters/memory/memory-notifier.ts';
import { MemoryImageRegistry } from '../../adapters/memory/memory-registry.ts';
import { MemoryReleaseStore } from '../../adapters/memory/memory-release-store.ts';
import { StaticSmokeSigners } from '../../adapters/memory/static-smoke-signers.ts';
import type { EnvironmentName, Environments } from '../../config/schema.ts';
import type { ChangeSet } from '../../core/insight/change-set.ts';
import { singleTarget } from '../../core/model/target-set.ts';
import type { FrontDoor, InvokeResult, SmokeSigners, TargetSet, TargetState } from '../../core/ports/ports.ts';
import type { ReleaseDependencies } from '../../handlers/release-dependencies.ts';
import type { TaskHandler } from '../../handlers/task-handler.ts';
import { synthesizeServiceDefinition } from '../../infra/service-definition.ts';
import type { LocalApprovalGate } from '../../local/approval-gate.ts';
import { type ExecutionResult, startExecution } from '../../local/engine.ts';
import type { ReleaseStageRequest } from '../../local/release-stage.ts';
import { logger as handlerLogger } from '../../logging/logger.ts';
import { STATES } from '../../state-machine/state-names.ts';
import type { AslDefinition } from '../../state-machine/synthesize.ts';
import { type LocalReleaseWorld, localReleaseWorld } from '../../wiring/local.ts';
import {
  environmentsWith,
  ONE_MINUTE_BAKE as ONE_MINUTE_BAKE_PATCH,
  oneMinuteEnvironments,
} from '../support/environments.ts';

export const DIGEST_BLUE = `sha256:${'b'.repeat(64)}`;
export const DIGEST_GREEN = `sha256:${'9'.repeat(64)}`;
export const REGISTRY_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

let cachedDefinition: AslDefinition | undefined;
/** The service stack's definition, synthesized once per test file (synthesis is the slow part). */
export function definition(): AslDefinition {
  cachedDefinition ??= synthesizeServiceDefinition();
  return cachedDefinition;
}

/** How a version of the fake workload answers, by the digest it was built from. */
export interface WorkloadBehaviour {
  readonly healthStatus?: number;
  /** The version the health route reports; defaults to the version really invoked. */
  readonly reportVersion?: string;
  readonly statusFor?: Record<string, number>;
}

/** Traffic that reaches the green version during one bake wait. */
export interface TrafficSample {
  readonly invocations: number;
  readonly errors: number;
  readonly durationMs?: number;
  /** The errors crash the function (Lambda function errors): the application publishes no metric for them. */
  readonly crashes?: boolean;
}

export interface WorldOptions {
  readonly environments?: Environments;
  readonly environment?: EnvironmentName;
  readonly behaviour?: Record<string, WorkloadBehaviour>;
  /** Green's traffic per health check (0-based), given the step's percentage. */
  readonly traffic?: (check: number, percent: number) => TrafficSample;
  /** Who answers "Await approval". @default auto */
  readonly approvals?: 'auto' | 'manual';
  /** The smoke-test signers. @default one stand-in signer for every environment */
  readonly smokeSigners?: SmokeSigners;
  /** The green stage. @default the green alias reached in memory (the stage's mapping, no WAF) */
  readonly frontDoor?: (world: ReleaseWorld) => FrontDoor;
  /** Seconds after its minute ends that a data point becomes readable, as on CloudWatch. @default 0 */
  readonly metricPublishDelaySeconds?: number;
  /** The same for the application's high-resolution data points, after their 10-second period. @default 0 */
  readonly highResolutionPublishDelaySeconds?: number;
}

function json(statusCode: number, body: unknown): InvokeResult {
  return { statusCode: 200, payload: { statusCode, headers: {}, body: JSON.stringify(body) } };
}

/** The memory store, also telling which lock keys it holds (any key, not only the one a test expects). */
export class ObservedReleaseStore extends MemoryReleaseStore {
  heldLockKeys(): string[] {
    return [...this.locks.keys()];
  }
}

/**
 * A whole release world in memory: one function with version 1 (DIGEST_BLUE) live, an image registry holding
 * both digests, and the real handlers bound to the synthesized state machine.
 */
export class ReleaseWorld {
  readonly clock = new ManualClock();
  readonly metrics: MemoryVersionMetrics;
  readonly alarms = new MemoryAlarms();
  readonly store = new ObservedReleaseStore();
  readonly notifier = new MemoryNotifier();
  readonly registry = new MemoryImageRegistry();
  /** Change sets of both digests, and of a build between them (seed), and the releases' kept diffs. */
  readonly insight = new MemoryInsightStore();
  readonly functions: MemoryFunctionVersions;
  readonly environments: Environments;
  readonly env: EnvironmentName;
  readonly deps: ReleaseDependencies;
  /** Percent of traffic on green at each health check, in order. */
  readonly checkedAt: number[] = [];
  readonly approvals: LocalApprovalGate;
  /** The release-stage builds "Scan & provision" asked CodeBuild for, by release id. */
  readonly provisionRequests: Map<string, ReleaseStageRequest>;
  private readonly world: LocalReleaseWorld;
  private checks = 0;

  constructor(protected readonly options: WorldOptions = {}) {
    // The handlers' Logger writes each state's INFO line to stdout itself, past vitest's silent mode: thousands of
    // lines a run. Warnings and errors still show; the app's own logger (test/app) is left at its level.
    handlerLogger.setLogLevel('WARN');
    // Most workflow tests pin the 1-minute path's cadence; test/workflow/high-resolution.test.ts runs the real config.
    this.environments = options.environments ?? oneMinuteEnvironments();
    this.env = options.environment ?? 'prod';
    // Every watched alarm exists, as Terraform creates them: a release refuses to watch one that does not.
    for (const env of Object.values(this.environments)) {
      for (const name of env.health.alarms) this.alarms.set(name, 'OK', new Date(this.clock.now().getTime() - 60_000));
    }
    this.metrics = new MemoryVersionMetrics({
      clock: this.clock,
      publishDelaySeconds: options.metricPublishDelaySeconds ?? 0,
      highResolutionPublishDelaySeconds: options.highResolutionPublishDelaySeconds ?? 0,
    });
    this.functions = new MemoryFunctionVersions(async ({ version, imageUri, payload }) => {
      const digest = imageUri.split('@')[1] ?? '';
      const behaviour = options.behaviour?.[digest] ?? {};
      const event = payload as { path: string; httpMethod: string; headers: Record<string, string> };
      if (event.path === '/health') {
        return json(behaviour.healthStatus ?? 200, { status: 'ok', version: behaviour.reportVersion ?? version });
      }
      const override = behaviour.statusFor?.[`${event.httpMethod} ${event.path}`];
      if (override) return json(override, {});
      if (event.path === '/orders' && !event.headers['x-signature']) return json(401, { message: 'unsigned' });
      return json(200, { ok: true });
    });
    this.world = localReleaseWorld(
      {
        environments: this.environments,
        functions: this.functions,
        metrics: this.metrics,
        alarms: this.alarms,
        store: this.store,
        notifier: this.notifier,
        registry: this.registry,
        clock: this.clock,
        registryHost: REGISTRY_HOST,
        insight: this.insight,
        smokeSigners:
          options.smokeSigners ??
          new StaticSmokeSigners({ all: { sign: async () => ({ 'x-api-key': 'smoke', 'x-signature': 'v1=test' }) } }),
        frontDoor: options.frontDoor?.(this) ?? new MemoryFrontDoor(this.functions, this.environments),
        isTransient: isTransientAwsError,
      },
      { approvals: options.approvals ?? 'auto' },
    );
    this.deps = this.world.deps;
    this.approvals = this.world.approvals;
    this.provisionRequests = this.world.provisionRequests;
  }

  get functionName(): string {
    const env = this.environments[this.env];
    if (!env) throw new Error(`no environment ${this.env}`);
    return env.functionName;
  }

  /** The function of the target the scenario's traffic (and fault) reaches: the one function here. */
  get faultyFunction(): string {
    return this.functionName;
  }

  /** The release's targets, by function name. */
  get targetFunctions(): string[] {
    return [this.functionName];
  }

  /**
   * Version 1 from DIGEST_BLUE behind live, blue and green, as Terraform leaves it; with `verified` (the default)
   * also the record of the first release that verified it, so version 1 is blue for the next release.
   */
  async seed(options: { verified?: boolean } = {}): Promise<this> {
    const fn = this.functionName;
    this.registry.push('switchyard-api', DIGEST_BLUE, 'git-1');
    this.registry.push('switchyard-api', DIGEST_GREEN, 'git-2');
    // Blue built from commit 1, green from commit 3, a build of commit 2 between them: the diff follows it.
    const build = (digest: string, n: number): ChangeSet => ({
      digest,
      commit: String(n).repeat(40),
      ...(n > 1 ? { previousCommit: String(n - 1).repeat(40) } : {}),
      commits: [{ sha: String(n).repeat(40), subject: `change ${n}`, author: 'Ada', time: '2026-11-26T09:00:00Z' }],
      commitsOmitted: 0,
      packages: [{ name: 'zod', version: `4.${n}.0` }],
      vulnerabilities: [],
      sbomKey: `sboms/${digest}.cdx.json`,
      recordedAt: '2026-11-26T09:00:00Z',
    });
    await this.insight.putChangeSet(build(DIGEST_BLUE, 1));
    await this.insight.putChangeSet(build(`sha256:${'2'.repeat(64)}`, 2));
    await this.insight.putChangeSet(build(DIGEST_GREEN, 3));
    const v1 = await this.createOnBlue(fn);
    if (options.verified ?? true) {
      await this.recordVerified(
        'release-0',
        singleTarget({ functionName: fn, blueVersion: null, greenVersion: v1 }),
        3_600_000,
      );
    }
    return this;
  }

  /** Creates `fn` as Terraform leaves it: version 1 from DIGEST_BLUE behind live, blue and green. */
  async createOnBlue(fn: string): Promise<string> {
    this.functions.createFunction(fn);
    const { codeSha256 } = await this.functions.updateCodeAndWait(fn, `${REGISTRY_HOST}/switchyard-api@${DIGEST_BLUE}`);
    const v1 = await this.functions.publishVersion(fn, 'initial', codeSha256);
    for (const alias of ['live', 'blue', 'green']) await this.functions.ensureAlias(fn, alias, v1.version);
    return v1.version;
  }

  /** The record of an earlier release, `agoMs` ago, that verified DIGEST_BLUE on `targets`. */
  protected async recordVerified(releaseId: string, targets: TargetSet, agoMs: number): Promise<void> {
    const at = new Date(this.clock.now().getTime() - agoMs).toISOString();
    await this.store.createRelease({
      releaseId,
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:release:${releaseId}`,
      environment: this.env,
      targets,
      imageUri: `${REGISTRY_HOST}/switchyard-api@${DIGEST_BLUE}`,
      digest: DIGEST_BLUE,
      status: 'released',
      startedAt: at,
      endedAt: at,
      trigger: 'api:test',
      events: [],
    });
  }

  /** The real handlers, with Check health seeing the traffic that arrived (and the time that passed) during Bake. */
  handlers(deps: ReleaseDependencies = this.deps): Record<string, TaskHandler> {
    const handlers = this.world.taskHandlers(deps);
    const check = handlers[STATES.check];
    if (!check) throw new Error('no Check health handler');
    handlers[STATES.check] = async (input) => {
      const traffic = (input as { traffic: { waitSeconds: number; percent: number } }).traffic;
      const green = (input as { greens: { version: string }[] }).greens[0]?.version ?? '';
      await this.arrive(green, traffic.waitSeconds, traffic.percent);
      this.checkedAt.push(traffic.percent);
      return check(input);
    };
    return handlers;
  }

  /** The traffic of one bake wait, recorded; then the clock moves on by the wait. */
  protected async arrive(version: string, seconds: number, percent: number): Promise<void> {
    this.recordSample(this.functionName, version, seconds, this.nextSample(percent));
    this.clock.advance(seconds);
  }

  /** The scenario's traffic for the faulty target's next check with green at `percent`. */
  protected nextSample(percent: number): TrafficSample {
    return this.options.traffic?.(this.checks++, percent) ?? { invocations: Math.round(percent * 2), errors: 0 };
  }

  protected recordSample(functionName: string, version: string, seconds: number, sample: TrafficSample): void {
    const start = this.clock.now().getTime();
    for (let i = 0; i < sample.invocations; i++) {
      this.metrics.record({
        functionName,
        resource: 'live',
        version,
        at: new Date(start + ((i + 1) / (sample.invocations + 1)) * seconds * 1000),
        durationMs: sample.durationMs ?? 40,
        error: i < sample.errors,
        throttled: false,
        ...(sample.crashes && i < sample.errors ? { functionError: true } : {}),
      });
    }
  }

  apiRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      trigger: 'api',
      environment: this.env,
      imageDigest: DIGEST_GREEN,
      requestedBy: 'test',
      ...overrides,
    };
  }

  run(
    input: unknown,
    options: { name?: string; handlers?: Record<string, TaskHandler>; bakeMs?: number } = {},
  ): Promise<ExecutionResult> {
    return startExecution({
      definition: definition(),
      handlers: options.handlers ?? this.handlers(),
      input,
      executionName: options.name ?? 'release-1',
      waitMs: () => options.bakeMs ?? 0,
      retryMs: 0,
    }).result;
  }

  /** The faulty target's live alias (the one function's, for one target). */
  async live() {
    return this.functions.getAlias(this.faultyFunction, 'live');
  }

  async alias(name: string) {
    return this.functions.getAlias(this.faultyFunction, name);
  }

  /** Every target's alias `name`, by function name. */
  async aliases(name: string) {
    const all: Record<string, unknown> = {};
    for (const fn of this.targetFunctions) all[fn] = await this.functions.getAlias(fn, name);
    return all;
  }

  async lock() {
    return this.store.getLock(`${this.functionName}#${this.env}`);
  }

  /** The traffic shares `live` was set to, in order, read from the release record. */
  async shifts(releaseId = 'release-1'): Promise<unknown[]> {
    const record = await this.store.getRelease(releaseId);
    return (record?.events ?? []).filter((e) => e.kind === 'traffic-shifted').map((e) => e.evidence?.percent);
  }
}

/** An AWS-style throttling error, as the SDK raises it. */
export function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'TooManyRequestsException',
    $metadata: { httpStatusCode: 429 },
  });
}

/** Wraps one method of a port so that its first `times` calls fail with `error()`. */
export function failFirst<T extends object>(port: T, method: keyof T & string, error: () => Error, times = 1): T {
  let remaining = times;
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== method || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (...args: unknown[]) => {
        if (remaining > 0) {
          remaining--;
          throw error();
        }
        return value.apply(target, args);
      };
    },
  });
}

type EnvironmentPatch = Parameters<typeof environmentsWith>[1];

export const FLEET_MEMBERS = ['m1', 'm2', 'm3', 'm4', 'm5'] as const;
/** A member's function, under the environment's fleet prefix (config/schema.ts). */
export const memberFunction = (name: string) => `switchyard-api-prod-${name}`;

/** Prod as a fleet in 3 waves: the first member alone, then up to 60% of them, then all (5 members: m1; m2, m3; m4, m5). */
export function fleetEnvironments(
  members: readonly string[] = FLEET_MEMBERS,
  patch: EnvironmentPatch = {},
): Environments {
  return environmentsWith('prod', {
    ...patch,
    lockTtlMinutes: 6 * 60,
    fleet: {
      deployConcurrency: 2,
      waves: [{ members: 1 }, { percent: 60 }, { percent: 100 }],
      members: members.map((name) => ({ name, functionName: memberFunction(name) })),
    },
  });
}

export interface MemberTraffic {
  /** Share of the member's green invocations that fail, per member name; from `fromCheck` on. */
  readonly errorRate?: Record<string, number>;
  /** The first check (0-based, across the whole release) at which the errors start. */
  readonly fromCheck?: number;
  /** Invocations of each member's live alias per check. @default 200 */
  readonly perCheck?: number;
}

export interface FleetWorldOptions extends Omit<WorldOptions, 'environments'> {
  readonly patch?: EnvironmentPatch;
  /**
   * The member whose green traffic is `traffic(check, percent)` (its checks counted from the first that sends it
   * green traffic); every other member's live traffic is healthy. Without it `traffic` is not used.
   */
  readonly faulty?: string;
}

/**
 * The workflow harness with a fleet: every member function at version 1 (DIGEST_BLUE) behind live, blue and green,
 * verified by an earlier fleet release, and Check health seeing each member's live traffic split by its live alias.
 */
export class FleetWorld extends ReleaseWorld {
  private memberChecks = 0;
  private readonly faulty: string | undefined;

  constructor(
    private readonly traffic: MemberTraffic = {},
    readonly members: readonly string[] = FLEET_MEMBERS,
    options: FleetWorldOptions = {},
  ) {
    const { patch, faulty, ...rest } = options;
    super({ ...rest, environments: fleetEnvironments(members, patch) });
    this.faulty = faulty;
  }

  override get faultyFunction(): string {
    return this.faulty ? memberFunction(this.faulty) : this.functionName;
  }

  override get targetFunctions(): string[] {
    return this.members.map(memberFunction);
  }

  /** Every member at version 1; with `verified` (the default) also the fleet release that verified it. */
  override async seed(options: { verified?: boolean } = {}): Promise<this> {
    await super.seed(options);
    const states: TargetState[] = [];
    for (const [index, name] of this.members.entries()) {
      const fn = memberFunction(name);
      const v1 = await this.createOnBlue(fn);
      states.push({
        name,
        functionName: fn,
        blueVersion: null,
        greenVersion: v1,
        wave: index,
        phase: 'live',
        percent: 100,
      });
    }
    if (options.verified ?? true) {
      await this.recordVerified('fleet-release-0', { waveCount: 1, currentWave: null, members: states }, 1_800_000);
    }
    return this;
  }

  /** Every member's live traffic for the wait, split as its live alias routes it; the faulty one's green as scripted. */
  protected override async arrive(_version: string, seconds: number, percent: number): Promise<void> {
    const failing = (this.memberChecks++ >= (this.traffic.fromCheck ?? 0) && this.traffic.errorRate) || {};
    const perCheck = this.traffic.perCheck ?? 200;
    for (const name of this.members) {
      const fn = memberFunction(name);
      const live = await this.functions.getAlias(fn, 'live');
      if (!live) continue;
      const shares: [string, number][] = live.routing
        ? [
            [live.version, 1 - live.routing.weight],
            [live.routing.version, live.routing.weight],
          ]
        : [[live.version, 1]];
      for (const [version, share] of shares) {
        if (name === this.faulty && version !== '1' && share > 0) {
          this.recordSample(fn, version, seconds, this.nextSample(percent));
          continue;
        }
        const invocations = Math.round(perCheck * share);
        const errors = version === '1' ? 0 : Math.round(invocations * (failing[name] ?? 0));
        this.recordSample(fn, version, seconds, { invocations, errors });
      }
    }
    this.clock.advance(seconds);
  }

  async memberLive(name: string) {
    return this.functions.getAlias(memberFunction(name), 'live');
  }

  async memberAlias(name: string, alias: string) {
    return this.functions.getAlias(memberFunction(name), alias);
  }
}

/** The two shapes every workflow scenario runs in: one target, and a fleet of three with the fault in one member. */
export const SHAPES = [
  { shape: 'one target', targets: 1 },
  { shape: 'a fleet of three', targets: 3 },
] as const;

/** The fleet of three: m1 (wave 1), m2 (wave 2, the faulty one), m3 (wave 3). */
export const FLEET_OF_THREE = ['m1', 'm2', 'm3'] as const;
export const FAULTY_MEMBER = 'm2';

/**
 * A seeded-later world of `targets` targets on prod's 1-minute path, `patch` applied to prod: one function, or a fleet
 * whose member FAULTY_MEMBER gets the scenario's `traffic` while the others get healthy traffic.
 */
export function worldOf(
  targets: number,
  options: Omit<WorldOptions, 'environments' | 'environment'> & { patch?: EnvironmentPatch } = {},
): ReleaseWorld {
  const { patch = {}, ...rest } = options;
  const oneMinute = { ...patch, bake: { ...ONE_MINUTE_BAKE_PATCH, ...patch.bake } };
  if (targets === 1) return new ReleaseWorld({ ...rest, environments: environmentsWith('prod', oneMinute) });
  if (targets !== FLEET_OF_THREE.length) throw new Error(`worldOf builds 1 or ${FLEET_OF_THREE.length} targets`);
  return new FleetWorld({}, FLEET_OF_THREE, { ...rest, patch: oneMinute, faulty: FAULTY_MEMBER });
}

export const enteredStates = (result: ExecutionResult) =>
  result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
