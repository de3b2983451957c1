import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpFrontDoor } from '../adapters/http/http-front-door.ts';
import { ScaledClock } from '../adapters/memory/clocks.ts';
import { MemoryAlarms } from '../adapters/memory/memory-alarms.ts';
import { MemoryFunctionVersions } from '../adapters/memory/memory-functions.ts';
import { MemoryVersionMetrics } from '../adapters/memory/memory-metrics.ts';
import { MemoryNotifier } from '../adapters/memory/memory-notifier.ts';
import { MemoryImageRegistry } from '../adapters/memory/memory-registry.ts';
import { StaticSmokeSigners } from '../adapters/memory/static-smoke-signers.ts';
import { HmacRequestSigner } from '../app/signing-client.ts';
import { environments as configuredEnvironments, environmentNamed, pushTargets } from '../config/environments.ts';
import type { Environments } from '../config/schema.ts';
import type { Notification } from '../core/ports.ts';
import { reconcileStoppedExecution } from '../core/reconcile.ts';
import { newReleaseId } from '../core/release-id.ts';
import { ecrEventToRequest } from '../core/release-request.ts';
import { verifiedLive } from '../core/validate-release.ts';
import { logger } from '../handlers/powertools.ts';
import type { ReleaseDependencies } from '../handlers/release-dependencies.ts';
import type { TaskHandler } from '../handlers/task-handler.ts';
import { synthesizeServiceDefinition } from '../infra/service-definition.ts';
import type { AslDefinition } from '../state-machine/synthesize.ts';
import { LocalApprovalGate } from './approval-gate.ts';
import { type ExecutionEvent, type ExecutionResult, type RunningExecution, startExecution } from './engine.ts';
import { GREEN_STAGE, LocalGateway } from './gateway.ts';
import { DEFAULT_SPEEDUP, dataDirFrom } from './local-defaults.ts';
import { LocalLambda } from './local-lambda.ts';
import { LOCAL_REGISTRY_HOST, type LocalImage, LocalRegistry } from './local-registry.ts';
import { localTaskHandlers } from './local-task-handlers.ts';
import type { ReleaseStageRequest } from './release-stage.ts';
import { SqliteReleaseStore } from './sqlite-release-store.ts';

export interface LocalRuntimeOptions {
  /** Release history, images and keys live here. @default `.data` in the repository, or $SWITCHYARD_DATA_DIR */
  readonly dataDir?: string;
  /** Virtual seconds per real second: 60 rehearses a 10-minute bake in 10 s. @default 60 */
  readonly speedup?: number;
  readonly environments?: Environments;
  /** The ASL to run. @default the service stack's state machine, exactly as `cdk deploy` would deploy it */
  readonly definition?: AslDefinition;
  readonly onEvent?: (releaseId: string, event: ExecutionEvent) => void;
  readonly onNotification?: (notification: Notification) => void;
  /** Task states bound to something other than the release handlers. */
  readonly extraHandlers?: Record<string, TaskHandler>;
  /**
   * Who answers "Await approval": `auto` approves at once (rehearsals, recorded as such); `manual` waits for
   * approve()/reject() from the local API, CLI or console. @default manual
   */
  readonly approvals?: 'auto' | 'manual';
  /**
   * Carry on where the last run on this data directory stopped: its functions' versions and aliases (`local serve`).
   * @default false: every run starts from a first version (rehearsals)
   */
  readonly resume?: boolean;
  /** Seconds after its minute ends that a data point becomes readable. @default LOCAL_METRIC_PUBLISH_DELAY_SECONDS */
  readonly metricPublishDelaySeconds?: number;
}

/** The local CloudWatch's publication delay: within the configured metric delay, as it must be on AWS too. */
export const LOCAL_METRIC_PUBLISH_DELAY_SECONDS = 90;

export interface StartedRelease {
  readonly releaseId: string;
  readonly executionArn: string;
  readonly result: Promise<ExecutionResult>;
}

const SMOKE_CLIENT = { apiKey: 'smoke-tests-key', clientId: 'smoke-tests' };
const LOAD_CLIENT = { apiKey: 'rehearsal-load-key', clientId: 'rehearsal-load' };

/**
 * Switchyard on one machine: the synthesized state machine on aws-local-stepfunctions, the real handlers, and local
 * stand-ins for Lambda (worker per version), ECR (content-addressed builds), CloudWatch (per-version metrics),
 * DynamoDB (SQLite) and SNS (printed notifications).
 */
export class LocalRuntime {
  readonly dataDir: string;
  readonly clock: ScaledClock;
  readonly environments: Environments;
  readonly metrics: MemoryVersionMetrics;
  readonly alarms = new MemoryAlarms();
  readonly imageIndex = new MemoryImageRegistry();
  readonly notifier: MemoryNotifier;
  readonly store: SqliteReleaseStore;
  readonly registry: LocalRegistry;
  readonly lambda: LocalLambda;
  readonly functions: MemoryFunctionVersions;
  readonly deps: ReleaseDependencies;
  /** Each environment's green stage on its local gateway (`<gateway>/green`). */
  private readonly greenStageUrls = new Map<string, Promise<string>>();
  /** Gateways the runtime started itself, for an environment nobody opened one for. */
  private readonly ownGateways: LocalGateway[] = [];
  readonly definition: AslDefinition;
  readonly executions = new Map<string, RunningExecution>();
  /** The CodeBuild release-stage requests "Scan & provision" made, by release id (nothing is scanned locally). */
  readonly provisionRequests = new Map<string, ReleaseStageRequest>();
  readonly approvals: LocalApprovalGate;
  readonly smokeSigner: HmacRequestSigner;
  readonly loadSigner: HmacRequestSigner;

  constructor(private readonly options: LocalRuntimeOptions = {}) {
    this.dataDir = dataDirFrom(options.dataDir, process.env);
    // The console view is the progress display here; handlers' per-state INFO lines would drown it.
    if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');
    mkdirSync(this.dataDir, { recursive: true });
    this.environments = options.environments ?? configuredEnvironments;
    this.store = new SqliteReleaseStore(join(this.dataDir, 'releases.sqlite'));
    // Virtual time never runs backwards across restarts, so the history stays in order.
    const resumeAt = Number(this.store.getMeta('virtualNow') ?? 0);
    this.clock = new ScaledClock(options.speedup ?? DEFAULT_SPEEDUP, Math.max(Date.now(), resumeAt));
    this.clock = new ScaledClock(options.speedup ?? 60, Math.max(Date.now(), resumeAt));
    // Data points appear late, as on CloudWatch, so the bake's complete-data rule is exercised locally.
    this.metrics = new MemoryVersionMetrics({
      clock: this.clock,
      publishDelaySeconds: options.metricPublishDelaySeconds ?? LOCAL_METRIC_PUBLISH_DELAY_SECONDS,
    });
    this.notifier = new MemoryNotifier(options.onNotification);
    this.registry = new LocalRegistry(this.dataDir, this.imageIndex);

    const keys = this.writeClientKeys();
    this.smokeSigner = new HmacRequestSigner({ apiKey: SMOKE_CLIENT.apiKey, secret: keys.smoke });
    this.loadSigner = new HmacRequestSigner({ apiKey: LOAD_CLIENT.apiKey, secret: keys.load });
    this.lambda = new LocalLambda({
      imageFor: (uri) => this.registry.imageFor(uri),
      metrics: this.metrics,
      clock: this.clock,
      environment: {
        SWITCHYARD_CLIENT_KEYS_FILE: join(this.dataDir, 'client-keys.json'),
        POWERTOOLS_SERVICE_NAME: 'switchyard-app',
        POWERTOOLS_METRICS_NAMESPACE: 'Switchyard/App',
      },
      logFile: join(this.dataDir, 'lambda.log'),
    });
    this.functions = new MemoryFunctionVersions(this.lambda.invoker());
    // Versions and aliases as an earlier process left them, so reconciling it sees what it really did to live.
    const functions = options.resume ? this.store.getMeta('functions') : undefined;
    if (functions) this.functions.restore(functions);
    this.deps = {
      environments: this.environments,
      functions: this.functions,
      metrics: this.metrics,
      alarms: this.alarms,
      store: this.store,
      notifier: this.notifier,
      registry: this.imageIndex,
      clock: this.clock,
      registryHost: LOCAL_REGISTRY_HOST,
      smokeSigners: new StaticSmokeSigners({ all: this.smokeSigner }),
      frontDoor: new HttpFrontDoor({
        greenStageUrl: (environment) => this.greenStageUrl(environment),
        whereToConfigure: 'the environment is not configured locally',
      }),
    };
    this.definition = options.definition ?? synthesizeServiceDefinition();
    this.approvals = new LocalApprovalGate(
      { store: this.store, clock: this.clock },
      options.approvals ?? 'manual',
      this.clock.speedup,
    );
  }

  /** Fresh per data directory: the local Secrets Manager stand-in (a keys file, never logged). */
  private writeClientKeys(): { smoke: string; load: string } {
    const smoke = randomBytes(32).toString('hex');
    const load = randomBytes(32).toString('hex');
    const document = {
      clients: {
        [SMOKE_CLIENT.apiKey]: { clientId: SMOKE_CLIENT.clientId, secrets: [smoke] },
        [LOAD_CLIENT.apiKey]: { clientId: LOAD_CLIENT.clientId, secrets: [load] },
      },
    };
    writeFileSync(join(this.dataDir, 'client-keys.json'), JSON.stringify(document, null, 2), { mode: 0o600 });
    return { smoke, load };
  }

  /**
   * What Terraform's first apply leaves: the function created from `image`, its version 1 behind live, blue and
   * green, and no release that ever verified it. The environment's first release starts from here.
   */
  /**
   * The environment's API as Terraform shapes it: the default stage on `live` at the root, the `green` stage on
   * the green alias under `/green`. Once it runs, `openGreenStage` points Verify green's front-door checks at it.
   */
  gatewayFor(environment: string): LocalGateway {
    const env = environmentNamed(environment, this.environments);
    return new LocalGateway({
      functions: this.functions,
      functionName: env.functionName,
      alias: env.aliases.live,
      stages: { [GREEN_STAGE]: env.aliases.green },
    });
  }

  /** Verify green sends its front-door checks to `<gatewayUrl>/green`. */
  openGreenStage(environment: string, gatewayUrl: string): void {
    this.greenStageUrls.set(environment, Promise.resolve(`${gatewayUrl}/${GREEN_STAGE}`));
  }

  /** The environment's green stage; without a gateway of the caller's, the runtime starts one of its own. */
  private greenStageUrl(environment: string): Promise<string | undefined> {
    const open = this.greenStageUrls.get(environment);
    if (open) return open;
    if (!Object.values(this.environments).some((e) => e.name === environment)) return Promise.resolve(undefined);
    const gateway = this.gatewayFor(environment);
    this.ownGateways.push(gateway);
    const url = gateway.start().then((base) => `${base}/${GREEN_STAGE}`);
    this.greenStageUrls.set(environment, url);
    return url;
  }

  async provisionEnvironment(environment: string, image: LocalImage): Promise<string> {
    const env = environmentNamed(environment, this.environments);
    // A function an earlier run set up (resumed) keeps its releases: only a missing one gets the first version.
    const live = this.functions.hasFunction(env.functionName)
      ? await this.functions.getAlias(env.functionName, env.aliases.live)
      : undefined;
    if (live && !live.routing) return live.version;
    this.functions.createFunction(env.functionName);
    const uri = `${LOCAL_REGISTRY_HOST}/${image.repositoryName}@${image.digest}`;
    const { codeSha256 } = await this.functions.updateCodeAndWait(env.functionName, uri);
    const published = await this.functions.publishVersion(env.functionName, 'bootstrap', codeSha256);
    for (const alias of Object.values(env.aliases)) {
      await this.functions.ensureAlias(env.functionName, alias, published.version);
    }
    return published.version;
  }

  /** Version 1 of `image` behind live, blue and green, verified: what Terraform and a first release leave in place. */
  async bootstrap(environment: string, image: LocalImage): Promise<string> {
    const env = environmentNamed(environment, this.environments);
    const version = await this.provisionEnvironment(environment, image);
    // A resumed environment already has the record that made its live version verified.
    const liveDigest = await this.functions.versionImageDigest(env.functionName, version);
    if (await verifiedLive(this.store, env, version, liveDigest)) return version;
    const at = this.clock.now().toISOString();
    await this.store.createRelease({
      releaseId: newReleaseId(env.name),
      executionArn: `local:first-release:${env.name}`,
      environment: env.name,
      functionName: env.functionName,
      imageUri: `${LOCAL_REGISTRY_HOST}/${image.repositoryName}@${image.digest}`,
      digest: image.digest,
      blueVersion: null,
      greenVersion: version,
      status: 'released',
      startedAt: at,
      endedAt: at,
      trigger: 'rehearsal:first-release',
      events: [
        { at, kind: 'released', summary: `rehearsal set-up: version ${version} stands for a verified first release` },
      ],
    });
    return version;
  }

  private handlers(): Record<string, TaskHandler> {
    return { ...localTaskHandlers(this.deps, this), ...this.options.extraHandlers };
  }

  /** Starts an execution named by the release id, as StartExecution does. */
  startRelease(input: unknown, releaseId?: string): StartedRelease {
    const envName =
      input && typeof input === 'object' && typeof Reflect.get(input, 'environment') === 'string'
        ? String(Reflect.get(input, 'environment'))
        : 'unknown';
    const name = releaseId ?? newReleaseId(envName);
    if (this.executions.has(name)) throw new Error(`execution ${name} already exists`);
    const interval = this.environments[envName as keyof Environments]?.bake.checkIntervalSeconds ?? 60;
    const execution = startExecution({
      definition: this.definition,
      handlers: this.handlers(),
      input,
      executionName: name,
      waitMs: () => (interval * 1000) / this.clock.speedup,
      retryMs: 2000 / this.clock.speedup,
      onEvent: (event) => {
        const now = this.clock.now().getTime();
        this.store.setMeta('virtualNow', String(now));
        this.store.setMeta('functions', this.functions.snapshot());
        // The engine stamps events in real time; the timeline is on the scaled clock, like every release event.
        this.options.onEvent?.(name, { ...event, at: now });
      },
    });
    this.executions.set(name, execution);
    const result = execution.result.then(async (outcome) => {
      if (outcome.status !== 'SUCCEEDED') {
        // What the execution-status-change rule does in the cloud: reconcile whatever stopped.
        await reconcileStoppedExecution(
          {
            name,
            executionArn: outcome.executionArn,
            status: outcome.status === 'ABORTED' ? 'ABORTED' : 'FAILED',
            input,
          },
          this.deps,
        );
      }
      return outcome;
    });
    return { releaseId: name, executionArn: execution.executionArn, result };
  }

  /**
   * The EventBridge rule for ECR pushes: a successful push starts a release in each environment that releases on
   * push, with the input built by the same field mapping as the cloud's input transformer.
   */
  onImageEvent(event: Record<string, unknown>): StartedRelease[] {
    const detail = event.detail as Record<string, unknown> | undefined;
    if (event.source !== 'aws.ecr' || detail?.['action-type'] !== 'PUSH' || detail?.result !== 'SUCCESS') return [];
    return (
      pushTargets(this.environments)
        // Only environments set up on this machine have a function to release into.
        .filter(
          (env) => env.repositoryName === detail?.['repository-name'] && this.functions.hasFunction(env.functionName),
        )
        .map((env) => this.startRelease(ecrEventToRequest(event, env.name)))
    );
  }

  /** The release API's approve: answers the waiting "Await approval" state. */
  approve(releaseId: string, by: string, comment?: string) {
    return this.approvals.decide(releaseId, { approved: true, by, ...(comment ? { comment } : {}) });
  }

  reject(releaseId: string, by: string, comment?: string) {
    return this.approvals.decide(releaseId, { approved: false, by, ...(comment ? { comment } : {}) });
  }

  /** StopExecution, then the reconcile the status-change rule triggers. */
  async abort(releaseId: string): Promise<ExecutionResult | undefined> {
    const execution = this.executions.get(releaseId);
    if (!execution) return undefined;
    execution.abort();
    return execution.result;
  }

  /** Releases a stopped process left running: reconciled as aborted, their locks freed. */
  async reconcileLeftovers(): Promise<string[]> {
    const reconciled: string[] = [];
    for (const { holder } of this.store.heldLocks()) {
      if (this.executions.has(holder.releaseId)) continue;
      await reconcileStoppedExecution(
        { name: holder.releaseId, executionArn: holder.executionArn, status: 'ABORTED' },
        this.deps,
      );
      reconciled.push(holder.releaseId);
    }
    return reconciled;
  }

  async close(): Promise<void> {
    await Promise.all(this.ownGateways.splice(0).map((g) => g.stop()));
    this.store.setMeta('virtualNow', String(this.clock.now().getTime()));
    this.store.setMeta('functions', this.functions.snapshot());
    await this.lambda.close();
    this.store.close();
  }
}
