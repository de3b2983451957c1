import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpFrontDoor } from '../adapters/http/http-front-door.ts';
import { ScaledClock } from '../adapters/memory/clocks.ts';
import { MemoryAlarms } from '../adapters/memory/memory-alarms.ts';
import { MemoryFunctionVersions } from '../adapters/memory/memory-functions.ts';
import { MemoryVersionMetrics } from '../adapters/memory/memory-metrics.ts';
import { MemoryNotifier } from '../adapters/memory/memory-notifier.ts';
import { MemoryImageRegistry } from '../adapters/memory/memory-registry.ts';
import { StaticSmokeSigners } from '../adapters/memory/static-smoke-signers.ts';
import { parseClientKeys } from '../app/client-keys.ts';
import { KeyStoreUnavailable } from '../app/errors.ts';
import { HmacRequestSigner } from '../app/signing-client.ts';
import { environments as configuredEnvironments } from '../config/environments.ts';
import type { ReleaseDependencies } from '../handlers/release-dependencies.ts';
import type { TaskHandler } from '../handlers/task-handler.ts';
import { LocalApprovalGate } from '../local/approval-gate.ts';
import { cachedServiceDefinition } from '../local/cached-service-definition.ts';
import { DataDirLock, restrictToOwner } from '../local/data-dir-owner.ts';
import { FileInsightStore } from '../local/file-insight-store.ts';
import { LocalGreenStages } from '../local/green-stages.ts';
import { DEFAULT_SPEEDUP, dataDirFrom } from '../local/local-defaults.ts';
import { LocalLambda } from '../local/local-lambda.ts';
import { LOCAL_REGISTRY_HOST, LocalRegistry } from '../local/local-registry.ts';
import { localTaskHandlers } from '../local/local-task-handlers.ts';
import type { ReleaseStageRequest } from '../local/release-stage.ts';
import {
  LOCAL_HIGH_RESOLUTION_PUBLISH_DELAY_SECONDS,
  LOCAL_METRIC_PUBLISH_DELAY_SECONDS,
  LocalRuntime,
  type LocalRuntimeOptions,
  type LocalWorld,
} from '../local/runtime.ts';
import { SqliteReleaseStore } from '../local/sqlite-release-store.ts';
import { logger } from '../logging/logger.ts';

/**
 * The local composition root: the release dependencies over local stand-ins, built once, for the local runtime
 * (`switchyard local serve`, rehearsals) and the workflow tests' in-memory world (test/workflow/harness.ts).
 */

/** The ports the release handlers run on, without the ones every local world shares. */
export type LocalPorts = Omit<ReleaseDependencies, 'isTransient'> & {
  readonly isTransient?: (error: unknown) => boolean;
};

export interface LocalReleaseWorld {
  readonly deps: ReleaseDependencies;
  /** Who answers "Await approval": approved at once (`auto`) or held for approve()/reject() (`manual`). */
  readonly approvals: LocalApprovalGate;
  /** The CodeBuild release-stage requests "Scan & provision" made, by release id (nothing is scanned locally). */
  readonly provisionRequests: Map<string, ReleaseStageRequest>;
  /** Every Task state bound: the release handlers on `deps` (or on narrower ones), approval gate, release stage. */
  readonly taskHandlers: (deps?: ReleaseDependencies) => Record<string, TaskHandler>;
}

/** The release dependencies, approval gate and Task handlers over the given stand-ins. */
export function localReleaseWorld(
  ports: LocalPorts,
  options: { readonly approvals: 'auto' | 'manual'; readonly speedup?: number },
): LocalReleaseWorld {
  const deps: ReleaseDependencies = { ...ports };
  const provisionRequests = new Map<string, ReleaseStageRequest>();
  const approvals = new LocalApprovalGate(
    { store: ports.store, clock: ports.clock },
    options.approvals,
    options.speedup,
  );
  return {
    deps,
    approvals,
    provisionRequests,
    taskHandlers: (bound = deps) => localTaskHandlers(bound, { approvals, provisionRequests }),
  };
}

const SMOKE_CLIENT = { apiKey: 'smoke-tests-key', clientId: 'smoke-tests' };
const LOAD_CLIENT = { apiKey: 'rehearsal-load-key', clientId: 'rehearsal-load' };

const CLIENT_KEYS_FILE = 'client-keys.json';

/** The two clients' current secrets in the keys file, or undefined when it is missing or unreadable as keys. */
function readClientKeys(path: string): { smoke: string; load: string } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const clients = parseClientKeys(text);
    const smoke = clients.get(SMOKE_CLIENT.apiKey)?.secrets[0];
    const load = clients.get(LOAD_CLIENT.apiKey)?.secrets[0];
    return smoke && load ? { smoke, load } : undefined;
  } catch (error) {
    if (error instanceof KeyStoreUnavailable) return undefined;
    throw error;
  }
}

/**
 * The local Secrets Manager stand-in (a keys file, never logged): created once per data directory, owner-only, and
 * kept across restarts, so versions still running and clients still signing keep working.
 */
function clientKeys(dataDir: string): { smoke: string; load: string } {
  const path = join(dataDir, CLIENT_KEYS_FILE);
  const existing = readClientKeys(path);
  if (existing) return existing;
  const smoke = randomBytes(32).toString('hex');
  const load = randomBytes(32).toString('hex');
  const document = {
    clients: {
      [SMOKE_CLIENT.apiKey]: { clientId: SMOKE_CLIENT.clientId, secrets: [smoke] },
      [LOAD_CLIENT.apiKey]: { clientId: LOAD_CLIENT.clientId, secrets: [load] },
    },
  };
  writeFileSync(path, JSON.stringify(document, null, 2), { mode: 0o600 });
  return { smoke, load };
}

/**
 * The local runtime's world on a data directory: SQLite history, a scaled clock that never runs backwards across
 * restarts, CloudWatch's late data points, a worker per Lambda version, content-addressed images and client keys.
 */
export function localWorld(options: LocalRuntimeOptions = {}): LocalWorld {
  const dataDir = dataDirFrom(options.dataDir, process.env);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // One owner per data directory, for the process's life: a second one is refused here, before it touches anything.
  const ownerLock = DataDirLock.acquire(dataDir);
  try {
    return worldOn(dataDir, ownerLock, options);
  } catch (error) {
    ownerLock.release();
    throw error;
  }
}

/** The repository local builds are made from: their change sets record its commits and lock file. */
const REPOSITORY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

function worldOn(dataDir: string, ownerLock: DataDirLock, options: LocalRuntimeOptions): LocalWorld {
  // The console view is the progress display here; handlers' per-state INFO lines would drown it.
  if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');
  const environments = options.environments ?? configuredEnvironments;
  const store = new SqliteReleaseStore(join(dataDir, 'releases.sqlite'));
  const keys = clientKeys(dataDir);
  restrictToOwner(dataDir);
  // Virtual time never runs backwards across restarts, so the history stays in order.
  const resumeAt = Number(store.getMeta('virtualNow') ?? 0);
  const clock = new ScaledClock(options.speedup ?? DEFAULT_SPEEDUP, Math.max(Date.now(), resumeAt));
  // Data points appear late, as on CloudWatch, so the bake's complete-data rule is exercised locally.
  const metrics = new MemoryVersionMetrics({
    clock,
    publishDelaySeconds: options.metricPublishDelaySeconds ?? LOCAL_METRIC_PUBLISH_DELAY_SECONDS,
    highResolutionPublishDelaySeconds: LOCAL_HIGH_RESOLUTION_PUBLISH_DELAY_SECONDS,
  });
  const alarms = new MemoryAlarms();
  // What Terraform's alarms.tf creates on AWS: every alarm the environments watch exists, quiet at first.
  for (const env of Object.values(environments)) {
    for (const name of env.health.alarms) alarms.set(name, 'OK', new Date(clock.now().getTime() - 60_000));
  }
  const imageIndex = new MemoryImageRegistry();
  const notifier = new MemoryNotifier(options.onNotification);
  const insight = new FileInsightStore(dataDir);
  const registry = new LocalRegistry(dataDir, imageIndex, undefined, { store: insight, sourceDir: REPOSITORY_DIR });
  const smokeSigner = new HmacRequestSigner({ apiKey: SMOKE_CLIENT.apiKey, secret: keys.smoke });
  const loadSigner = new HmacRequestSigner({ apiKey: LOAD_CLIENT.apiKey, secret: keys.load });
  const lambda = new LocalLambda({
    imageFor: (uri) => registry.imageFor(uri),
    metrics,
    clock,
    environment: {
      SWITCHYARD_CLIENT_KEYS_FILE: join(dataDir, CLIENT_KEYS_FILE),
      // One nonce store for every version and stage: a request replayed through /green/ is refused too.
      SWITCHYARD_NONCE_DIR: join(dataDir, 'nonces'),
      POWERTOOLS_SERVICE_NAME: 'switchyard-app',
      POWERTOOLS_METRICS_NAMESPACE: 'Switchyard/App',
    },
    logFile: join(dataDir, 'lambda.log'),
  });
  const functions = new MemoryFunctionVersions(lambda.invoker());
  const greenStages = new LocalGreenStages({ functions, environments });
  // Versions and aliases as an earlier process left them, so reconciling it sees what it really did to live.
  const saved = options.resume ? store.getMeta('functions') : undefined;
  if (saved) functions.restore(saved);
  const world = localReleaseWorld(
    {
      environments,
      functions,
      metrics,
      alarms,
      store,
      notifier,
      registry: imageIndex,
      clock,
      registryHost: LOCAL_REGISTRY_HOST,
      insight,
      smokeSigners: new StaticSmokeSigners({ all: smokeSigner }),
      frontDoor: new HttpFrontDoor({
        greenStageUrl: (environment) => greenStages.url(environment),
        whereToConfigure: 'the environment is not configured locally',
      }),
    },
    { approvals: options.approvals ?? 'manual', speedup: clock.speedup },
  );
  return {
    dataDir,
    ownerLock,
    clock,
    environments,
    metrics,
    alarms,
    imageIndex,
    notifier,
    store,
    registry,
    lambda,
    functions,
    deps: world.deps,
    definition: options.definition ?? cachedServiceDefinition(),
    approvals: world.approvals,
    provisionRequests: world.provisionRequests,
    smokeSigner,
    loadSigner,
    taskHandlers: () => world.taskHandlers(),
    greenStages,
  };
}

/** Switchyard on one machine, on a data directory (see `LocalRuntimeOptions`). */
export function openLocalRuntime(options: LocalRuntimeOptions = {}): LocalRuntime {
  return new LocalRuntime(localWorld(options), options);
}
