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
import type { FrontDoor, InvokeResult, SmokeSigners } from '../../core/ports.ts';
import { logger as handlerLogger } from '../../handlers/powertools.ts';
import type { ReleaseDependencies } from '../../handlers/release-dependencies.ts';
import type { TaskHandler } from '../../handlers/task-handler.ts';
import { synthesizeServiceDefinition } from '../../infra/service-definition.ts';
import type { LocalApprovalGate } from '../../local/approval-gate.ts';
import { type ExecutionResult, startExecution } from '../../local/engine.ts';
import type { ReleaseStageRequest } from '../../local/release-stage.ts';
import { STATES } from '../../state-machine/state-names.ts';
import type { AslDefinition } from '../../state-machine/synthesize.ts';
import { type LocalReleaseWorld, localReleaseWorld } from '../../wiring/local.ts';
import { oneMinuteEnvironments } from '../support/environments.ts';

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

/**
 * A whole release world in memory: one function with version 1 (DIGEST_BLUE) live, an image registry holding
 * both digests, and the real handlers bound to the synthesized state machine.
 */
export class ReleaseWorld {
  readonly clock = new ManualClock();
  readonly metrics: MemoryVersionMetrics;
  readonly alarms = new MemoryAlarms();
  readonly store = new MemoryReleaseStore();
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

  constructor(private readonly options: WorldOptions = {}) {
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
    this.functions.createFunction(fn);
    const { codeSha256 } = await this.functions.updateCodeAndWait(fn, `${REGISTRY_HOST}/switchyard-api@${DIGEST_BLUE}`);
    const v1 = await this.functions.publishVersion(fn, 'initial', codeSha256);
    for (const alias of ['live', 'blue', 'green']) await this.functions.ensureAlias(fn, alias, v1.version);
    if (options.verified ?? true) {
      const at = new Date(this.clock.now().getTime() - 3_600_000).toISOString();
      await this.store.createRelease({
        releaseId: 'release-0',
        executionArn: 'arn:aws:states:us-east-1:123456789012:execution:release:release-0',
        environment: this.env,
        functionName: fn,
        imageUri: `${REGISTRY_HOST}/switchyard-api@${DIGEST_BLUE}`,
        digest: DIGEST_BLUE,
        blueVersion: null,
        greenVersion: v1.version,
        status: 'released',
        startedAt: at,
        endedAt: at,
        trigger: 'api:test',
        events: [],
      });
    }
    return this;
  }

  /** The real handlers, with Check health seeing the traffic that arrived (and the time that passed) during Bake. */
  handlers(deps: ReleaseDependencies = this.deps): Record<string, TaskHandler> {
    const handlers = this.world.taskHandlers(deps);
    const check = handlers[STATES.check];
    if (!check) throw new Error('no Check health handler');
    handlers[STATES.check] = async (input) => {
      const traffic = (input as { traffic: { waitSeconds: number; percent: number } }).traffic;
      const green = (input as { green: { version: string } }).green.version;
      this.arrive(green, traffic.waitSeconds, traffic.percent);
      this.checkedAt.push(traffic.percent);
      return check(input);
    };
    return handlers;
  }

  private arrive(version: string, seconds: number, percent: number): void {
    const sample = this.options.traffic?.(this.checks++, percent) ?? {
      invocations: Math.round(percent * 2),
      errors: 0,
    };
    const start = this.clock.now().getTime();
    for (let i = 0; i < sample.invocations; i++) {
      this.metrics.record({
        functionName: this.functionName,
        resource: 'live',
        version,
        at: new Date(start + ((i + 1) / (sample.invocations + 1)) * seconds * 1000),
        durationMs: sample.durationMs ?? 40,
        error: i < sample.errors,
        throttled: false,
        ...(sample.crashes && i < sample.errors ? { functionError: true } : {}),
      });
    }
    this.clock.advance(seconds);
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

  async live() {
    return this.functions.getAlias(this.functionName, 'live');
  }

  async alias(name: string) {
    return this.functions.getAlias(this.functionName, name);
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
