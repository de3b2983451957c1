import type { ScaledClock } from '../adapters/memory/clocks.ts';
import type { MemoryAlarms } from '../adapters/memory/memory-alarms.ts';
import type { MemoryFunctionVersions } from '../adapters/memory/memory-functions.ts';
import type { MemoryVersionMetrics } from '../adapters/memory/memory-metrics.ts';
import type { MemoryNotifier } from '../adapters/memory/memory-notifier.ts';
import type { MemoryImageRegistry } from '../adapters/memory/memory-registry.ts';
import type { HmacRequestSigner } from '../app/signing-client.ts';
import { environmentNamed, pushTargets } from '../config/environments.ts';
import type { Environments } from '../config/schema.ts';
import type { Notification } from '../core/ports.ts';
import { reconcileStoppedExecution } from '../core/reconcile.ts';
import { newReleaseId } from '../core/release-id.ts';
import { ecrEventToRequest } from '../core/release-request.ts';
import { environmentTargets } from '../core/target-set.ts';
import { verifiedKey, verifiedVersions } from '../core/validate-release.ts';
import type { ReleaseDependencies } from '../handlers/release-dependencies.ts';
import type { TaskHandler } from '../handlers/task-handler.ts';
import { executionArnOf } from '../state-machine/execution-arn.ts';
import type { AslDefinition } from '../state-machine/synthesize.ts';
import type { LocalApprovalGate } from './approval-gate.ts';
import type { DataDirLock } from './data-dir-owner.ts';
import {
  type ExecutionEvent,
  type ExecutionResult,
  LOCAL_STATE_MACHINE_ARN,
  type RunningExecution,
  startExecution,
} from './engine.ts';
import type { LocalGateway } from './gateway.ts';
import type { LocalGreenStages } from './green-stages.ts';
import type { LocalLambda } from './local-lambda.ts';
import { LOCAL_REGISTRY_HOST, type LocalImage, type LocalRegistry } from './local-registry.ts';
import type { ReleaseStageRequest } from './release-stage.ts';
import type { SqliteReleaseStore } from './sqlite-release-store.ts';

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
/** The same for the application's high-resolution metrics: after each 10-second period, within prod's 15 s. */
export const LOCAL_HIGH_RESOLUTION_PUBLISH_DELAY_SECONDS = 10;

export interface StartedRelease {
  readonly releaseId: string;
  readonly executionArn: string;
  readonly result: Promise<ExecutionResult>;
}

/** The parts of the runtime the local composition root builds (wiring/local.ts). */
type WorldPart =
  | 'dataDir'
  | 'ownerLock'
  | 'clock'
  | 'environments'
  | 'metrics'
  | 'alarms'
  | 'imageIndex'
  | 'notifier'
  | 'store'
  | 'registry'
  | 'lambda'
  | 'functions'
  | 'deps'
  | 'definition'
  | 'approvals'
  | 'provisionRequests'
  | 'smokeSigner'
  | 'loadSigner'
  | 'taskHandlers'
  | 'greenStages';

/**
 * What the local runtime runs on: the local stand-ins for Lambda (worker per version), ECR (content-addressed
 * builds), CloudWatch (per-version metrics), DynamoDB (SQLite) and SNS (printed notifications), the release
 * dependencies over them, and the synthesized definition.
 */
export type LocalWorld = Pick<LocalRuntime, WorldPart>;

/** Opens a local runtime on a data directory: the local composition root's `openLocalRuntime` (wiring/local.ts). */
export type OpenLocalRuntime = (options?: LocalRuntimeOptions) => LocalRuntime;

/**
 * Switchyard on one machine: the synthesized state machine on aws-local-stepfunctions, the real handlers, and the
 * local stand-ins of its world.
 */
/** A function the runtime sets up: an environment's own, or a fleet member. */
type LocalTarget = ReturnType<typeof environmentTargets>[number];

export class LocalRuntime {
  declare readonly dataDir: string;
  /** This process's exclusive hold on the data directory, for the runtime's life. */
  declare readonly ownerLock: DataDirLock;
  declare readonly clock: ScaledClock;
  declare readonly environments: Environments;
  declare readonly metrics: MemoryVersionMetrics;
  declare readonly alarms: MemoryAlarms;
  declare readonly imageIndex: MemoryImageRegistry;
  declare readonly notifier: MemoryNotifier;
  declare readonly store: SqliteReleaseStore;
  declare readonly registry: LocalRegistry;
  declare readonly lambda: LocalLambda;
  declare readonly functions: MemoryFunctionVersions;
  declare readonly deps: ReleaseDependencies;
  declare readonly definition: AslDefinition;
  declare readonly approvals: LocalApprovalGate;
  /** The CodeBuild release-stage requests "Scan & provision" made, by release id (nothing is scanned locally). */
  declare readonly provisionRequests: Map<string, ReleaseStageRequest>;
  declare readonly smokeSigner: HmacRequestSigner;
  declare readonly loadSigner: HmacRequestSigner;
  /** Every Task state of the definition bound to the release handlers and the local stand-ins. */
  declare readonly taskHandlers: () => Record<string, TaskHandler>;
  /** Each environment's green stage, where Verify green's front-door checks go. */
  declare readonly greenStages: LocalGreenStages;
  readonly executions = new Map<string, RunningExecution>();

  constructor(
    world: LocalWorld,
    private readonly options: LocalRuntimeOptions = {},
  ) {
    Object.assign(this, world);
    // Every version published and every alias moved is on disk before the call that made it returns, so nothing a
    // release, a rollback or a reconcile did to live is lost if the process is killed right after.
    this.functions.onChange = () => this.saveFunctions();
  }

  /** The environment's API gateway: `live` at the root and the `green` stage under `/green`. */
  gatewayFor(environment: string): LocalGateway {
    return this.greenStages.gatewayFor(environment);
  }

  /** Points Verify green's front-door checks at `<gatewayUrl>/green`, a gateway from gatewayFor() that is running. */
  openGreenStage(environment: string, gatewayUrl: string): void {
    this.greenStages.open(environment, gatewayUrl);
  }

  /**
   * Every target of the environment as Terraform leaves it: its function created from `image`, version 1 behind its
   * live, blue and green. A function an earlier run set up (resumed) keeps its versions and aliases: only a missing one
   * gets a first version. Never a fresh build over one that has a history: that would put unverified source live.
   * Answers each target's live version, by target name.
   */
  async provisionEnvironment(environment: string, image: LocalImage): Promise<Record<string, string>> {
    const env = environmentNamed(environment, this.environments);
    const versions: Record<string, string> = {};
    for (const target of environmentTargets(env)) {
      versions[target.name] = await this.provisionTarget(target, image);
    }
    return versions;
  }

  private async provisionTarget(target: LocalTarget, image: LocalImage): Promise<string> {
    const live = await this.resumedLive(target);
    if (live) return live.version;
    this.functions.createFunction(target.functionName);
    const uri = `${LOCAL_REGISTRY_HOST}/${image.repositoryName}@${image.digest}`;
    const { codeSha256 } = await this.functions.updateCodeAndWait(target.functionName, uri);
    const published = await this.functions.publishVersion(target.functionName, 'bootstrap', codeSha256);
    for (const alias of Object.values(target.aliases)) {
      await this.functions.ensureAlias(target.functionName, alias, published.version);
    }
    return published.version;
  }

  /**
   * Every target's version 1 of `image` behind its live, blue and green, verified: what Terraform and a first release
   * leave in place, recorded as one released release (a single function is one target, a fleet one a member).
   * A resumed target keeps a live a release verified (keepVerifiedLive). Answers each target's live version, by name.
   */
  async bootstrap(environment: string, image: LocalImage): Promise<Record<string, string>> {
    const env = environmentNamed(environment, this.environments);
    const verified = await verifiedVersions(this.store, env.name);
    const versions: Record<string, string> = {};
    const toRecord: { target: LocalTarget; version: string }[] = [];
    for (const target of environmentTargets(env)) {
      const resumed = await this.resumedLive(target);
      if (resumed) {
        versions[target.name] = await this.keepVerifiedLive(env.name, target, verified);
        continue;
      }
      const version = await this.provisionTarget(target, image);
      versions[target.name] = version;
      // A history from an earlier run may hold the record that verified this very version and digest.
      const digest = await this.functions.versionImageDigest(target.functionName, version);
      if (!verified.has(verifiedKey(target.functionName, version, digest))) toRecord.push({ target, version });
    }
    const [first] = toRecord;
    if (!first) return versions;
    const at = this.clock.now().toISOString();
    await this.store.createRelease({
      releaseId: newReleaseId(env.name),
      executionArn: `local:first-release:${env.name}`,
      environment: env.name,
      imageUri: `${LOCAL_REGISTRY_HOST}/${image.repositoryName}@${image.digest}`,
      digest: image.digest,
      status: 'released',
      startedAt: at,
      endedAt: at,
      trigger: 'rehearsal:first-release',
      events: [
        {
          at,
          kind: 'released',
          summary:
            toRecord.length === 1
              ? `rehearsal set-up: version ${first.version} stands for a verified first release`
              : `rehearsal set-up: ${toRecord.length} fleet members on version ${first.version}`,
        },
      ],
      targets: {
        waveCount: 1,
        currentWave: null,
        members: toRecord.map(({ target, version }) => ({
          name: target.name,
          functionName: target.functionName,
          wave: 0,
          blueVersion: null,
          greenVersion: version,
          phase: 'live' as const,
          percent: 100,
        })),
      },
    });
    return versions;
  }

  /** The live alias of a function an earlier run on this data directory left (resume), if there is one. */
  private async resumedLive(target: LocalTarget) {
    return this.functions.hasFunction(target.functionName)
      ? this.functions.getAlias(target.functionName, target.aliases.live)
      : undefined;
  }

  /**
   * A resumed target's live alias on a version a release verified. Reconciling leaves it there; should live still
   * route traffic or stand on a version no release verified, it goes back to the newest version a release verified
   * (saved before this returns). With none, it stays as it is, with no record claiming otherwise: the next release is
   * then a first release for it, with no blue (Validate release).
   */
  private async keepVerifiedLive(environment: string, target: LocalTarget, verified: Set<string>): Promise<string> {
    const live = await this.functions.getAlias(target.functionName, target.aliases.live);
    if (!live) throw new Error(`${target.functionName} has no ${target.aliases.live} alias`);
    const digest = await this.functions.versionImageDigest(target.functionName, live.version);
    if (!live.routing && verified.has(verifiedKey(target.functionName, live.version, digest))) return live.version;
    const newest = await this.newestVerifiedVersion(environment, target);
    if (newest === undefined) return live.version;
    await this.functions.updateAlias(target.functionName, target.aliases.live, newest);
    return newest;
  }

  /** The newest version of the target's function that a release verified and that still holds that build. */
  private async newestVerifiedVersion(environment: string, target: LocalTarget): Promise<string | undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.store.listReleases({
        environment,
        status: 'released',
        limit: 50,
        ...(cursor ? { cursor } : {}),
      });
      for (const release of page.releases) {
        const made = release.targets.members.find((m) => m.functionName === target.functionName)?.greenVersion;
        if (!made) continue;
        const digest = await this.functions.versionImageDigest(target.functionName, made).catch(() => undefined);
        if (digest === release.digest) return made;
      }
      cursor = page.nextCursor;
    } while (cursor);
    return undefined;
  }

  /** The functions' versions and aliases as last saved, so an event that changed none writes nothing. */
  private savedFunctions: string | undefined;

  /** Saves the functions' versions and aliases for a later process to resume and reconcile against (when changed). */
  private saveFunctions(): void {
    const snapshot = this.functions.snapshot();
    if (snapshot === this.savedFunctions) return;
    this.store.setMeta('functions', snapshot);
    this.savedFunctions = snapshot;
  }

  private handlers(): Record<string, TaskHandler> {
    return { ...this.taskHandlers(), ...this.options.extraHandlers };
  }

  /** Starts an execution named by the release id, as StartExecution does. */
  startRelease(input: unknown, releaseId?: string): StartedRelease {
    const envName =
      input && typeof input === 'object' && typeof Reflect.get(input, 'environment') === 'string'
        ? String(Reflect.get(input, 'environment'))
        : 'unknown';
    const name = releaseId ?? newReleaseId(envName);
    if (this.executions.has(name)) throw new Error(`execution ${name} already exists`);
    const executionArn = executionArnOf(LOCAL_STATE_MACHINE_ARN, name);
    this.store.recordExecution({ releaseId: name, executionArn, input, startedAt: this.clock.now().toISOString() });
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
      this.store.endExecution(
        name,
        outcome.status === 'SUCCEEDED' ? 'SUCCEEDED' : outcome.status === 'ABORTED' ? 'ABORTED' : 'FAILED',
      );
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
        // Only environments set up on this machine have functions to release into.
        .filter(
          (env) =>
            env.repositoryName === detail?.['repository-name'] &&
            environmentTargets(env).some((t) => this.functions.hasFunction(t.functionName)),
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

  /**
   * Releases a stopped process left running, reconciled as aborted from what it stored: every execution it started
   * and never ended (stored before its 202 went out), then any lock still held for a release that runs nowhere.
   * Runs only on this data directory's owner (the runtime holds its lock), and again after a kill mid-reconcile.
   */
  async reconcileLeftovers(): Promise<string[]> {
    const reconciled = new Set<string>();
    for (const execution of this.store.unfinishedExecutions()) {
      if (this.executions.has(execution.releaseId)) continue;
      await reconcileStoppedExecution(
        {
          name: execution.releaseId,
          executionArn: execution.executionArn,
          status: 'ABORTED',
          input: execution.input,
        },
        this.deps,
      );
      this.store.endExecution(execution.releaseId, 'ABORTED');
      reconciled.add(execution.releaseId);
    }
    for (const { key, holder } of this.store.heldLocks()) {
      if (this.executions.has(holder.releaseId)) continue;
      await reconcileStoppedExecution(
        { name: holder.releaseId, executionArn: holder.executionArn, status: 'ABORTED' },
        this.deps,
      );
      // Taken before an execution that never started: nothing names its environment but the lock itself.
      await this.store.releaseLock(key, holder.releaseId);
      reconciled.add(holder.releaseId);
    }
    return [...reconciled];
  }

  async close(): Promise<void> {
    await this.greenStages.close();
    this.store.setMeta('virtualNow', String(this.clock.now().getTime()));
    this.saveFunctions();
    this.approvals.close();
    await this.lambda.close();
    this.store.close();
    this.ownerLock.release();
  }
}
