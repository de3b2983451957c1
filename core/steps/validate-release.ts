import {
  environmentNamed,
  lockKey,
  strategyRefusal,
  trafficPlan,
  UnknownEnvironment,
} from '../../config/environments.ts';
import type { EnvironmentConfig, Environments } from '../../config/schema.ts';
import type { InsightStore } from '../insight/insight-store.ts';
import { recordReleaseChanges } from '../insight/record-release-changes.ts';
import { DuplicateDelivery, InvalidRelease, ReleaseLocked, ReleaseNotRunning } from '../model/errors.ts';
import type { ReleaseContext, TargetContext } from '../model/release-context.ts';
import { type EcrPushRequest, parseReleaseRequest, type ReleaseRequest } from '../model/release-request.ts';
import { environmentTargets, pendingTargets } from '../model/target-set.ts';
import { type GateOutcome, gateRelease } from '../policy/release-gate.ts';
import type {
  AlarmState,
  Alarms,
  Clock,
  FunctionVersions,
  ImageRegistry,
  LockHolder,
  ReleaseStore,
} from '../ports/ports.ts';
import { forEachBounded, TARGET_CALL_CONCURRENCY } from '../traffic/router.ts';

export interface ValidateReleaseDeps {
  readonly environments: Environments;
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly alarms: Alarms;
  readonly registry: ImageRegistry;
  readonly clock: Clock;
  /** `<account>.dkr.ecr.<region>.amazonaws.com` in the cloud; the local registry's host locally. */
  readonly registryHost: string;
  /** Where change sets are read and the release's diff is kept (docs/insight.md); without it, no diff is made. */
  readonly insight?: InsightStore | undefined;
}

export interface ExecutionRef {
  /** The execution name: the release id. */
  readonly name: string;
  readonly arn: string;
}

/**
 * Throws ReleaseLocked, naming the running release, when another release holds the environment's unexpired lock.
 * A read, for an early answer (Validate release, the release API's 409); only acquireLock's conditional write
 * actually takes the lock.
 */
export async function refuseIfBusy(
  store: ReleaseStore,
  env: EnvironmentConfig,
  releaseId: string,
  now: Date,
): Promise<void> {
  const holder = await store.getLock(lockKey(env));
  if (holder && holder.releaseId !== releaseId && Date.parse(holder.expiresAt) >= now.getTime()) {
    throw lockedError(env.name, holder);
  }
}

/** The refusal for a busy environment, naming the release that holds its lock and that release's execution. */
export function lockedError(environment: string, holder: LockHolder): ReleaseLocked {
  return new ReleaseLocked(
    `${environment} is busy: release ${holder.releaseId} (${holder.executionArn}) holds the lock until ${holder.expiresAt}`,
    { runningRelease: holder.releaseId, executionArn: holder.executionArn },
  );
}

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** One ECR event in one environment: the EventBridge event id that the rule's input transformer passes as `eventId`. */
export function deliveryKey(environment: string, eventId: string): string {
  return `ecr-push#${environment}#${eventId}`;
}

/**
 * EventBridge delivers at least once, and each copy starts its own execution (with its own generated name). The
 * first copy to record the event id owns it; any other copy is recorded on the first release and refused as
 * DuplicateDelivery, which the state machine ends as a no-op: no alert, no lock, nothing deployed.
 */
async function refuseDuplicateDelivery(request: EcrPushRequest, execution: ExecutionRef, deps: ValidateReleaseDeps) {
  const at = deps.clock.now().toISOString();
  const delivery = await deps.store.recordDelivery(
    deliveryKey(request.environment, request.eventId),
    execution.name,
    at,
  );
  if (delivery.releaseId === execution.name) return;
  const first = await deps.store.getRelease(delivery.releaseId);
  const noted = first?.notedDuplicates?.includes(execution.name) ?? false;
  if (first && !noted) {
    await deps.store.update(
      delivery.releaseId,
      {},
      {
        at,
        kind: 'duplicate-delivery',
        summary: `duplicate delivery of ECR event ${request.eventId} (execution ${execution.name}) ignored`,
        evidence: { eventId: request.eventId, execution: execution.name },
      },
    );
  }
  throw new DuplicateDelivery(
    `ECR event ${request.eventId} already started release ${delivery.releaseId}; this copy (${execution.name}) does nothing`,
    { releaseId: delivery.releaseId, eventId: request.eventId, duplicates: delivery.duplicates },
  );
}

/**
 * The versions releases of this environment made live after verifying them, per function
 * (`function#version#digest`: a recreated function numbers its versions from 1 again). Terraform creates each function
 * and points its aliases at the version it publishes; that bootstrap version was never verified, so it is no blue to
 * return to, and releasing its digest is the target's first release, not a no-op.
 */
export async function verifiedVersions(store: ReleaseStore, environment: string): Promise<Set<string>> {
  const verified = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.listReleases({
      environment,
      status: 'released',
      limit: 50,
      ...(cursor ? { cursor } : {}),
    });
    for (const release of page.releases) {
      for (const target of release.targets.members) {
        if (target.greenVersion) verified.add(verifiedKey(target.functionName, target.greenVersion, release.digest));
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return verified;
}

export function verifiedKey(functionName: string, version: string, digest: string | undefined): string {
  return `${functionName}#${version}#${digest}`;
}

/** The targets with their blues, and those whose live no release verified (a first release: no blue). */
export interface CheckedTargets {
  readonly targets: readonly TargetContext[];
  readonly unverified: readonly { readonly name: string; readonly version: string }[];
}

/**
 * Reads every target's `live` (bounded): refuses the release when any target's live still splits traffic, or when
 * every target's live is a verified version already running the digest. A target whose live no release verified has
 * no blue (its first release).
 */
export async function checkTargets(
  env: EnvironmentConfig,
  digest: string,
  deps: { readonly functions: FunctionVersions; readonly store: ReleaseStore },
): Promise<CheckedTargets> {
  const lives = await forEachBounded(environmentTargets(env), TARGET_CALL_CONCURRENCY, async (target) => {
    const live = await deps.functions.getAlias(target.functionName, target.aliases.live);
    const liveDigest = live ? await deps.functions.versionImageDigest(target.functionName, live.version) : undefined;
    return { target, live, liveDigest };
  });
  const splitting = lives.filter((l) => l.live?.routing);
  if (splitting.length > 0) {
    const names = splitting.map(
      (l) =>
        `alias ${l.target.aliases.live} of ${l.target.functionName} still splits traffic with version ${l.live?.routing?.version}`,
    );
    throw new InvalidRelease(`${names.join('; ')}; finish or roll back that release first`, { field: 'environment' });
  }
  const verified = await verifiedVersions(deps.store, env.name);
  const unverified: { name: string; version: string }[] = [];
  const targets = lives.map(({ target, live, liveDigest }): TargetContext => {
    const isVerified = live !== undefined && verified.has(verifiedKey(target.functionName, live.version, liveDigest));
    if (live && !isVerified) unverified.push({ name: target.name, version: live.version });
    return { ...target, blueVersion: live && isVerified ? live.version : null };
  });
  const alreadyLive = targets.every((t, i) => t.blueVersion !== null && lives[i]?.liveDigest === digest);
  if (alreadyLive) {
    const only = targets.length === 1 ? targets[0] : undefined;
    throw new InvalidRelease(
      only
        ? `${digest} is already live in ${env.name} as version ${only.blueVersion}`
        : `${digest} is already live on every member of the ${env.name} fleet`,
      { field: 'imageDigest' },
    );
  }
  return { targets, unverified };
}

function resolveEnvironment(request: ReleaseRequest, deps: { environments: Environments }) {
  try {
    return environmentNamed(request.environment, deps.environments);
  } catch (error) {
    if (error instanceof UnknownEnvironment) throw new InvalidRelease(error.message, { field: 'environment' });
    throw error;
  }
}

/** What a check of a release request needs: no alarms, no writes. */
export type CheckReleaseDeps = Pick<ValidateReleaseDeps, 'environments' | 'functions' | 'store' | 'registry' | 'clock'>;

export interface CheckedRelease {
  readonly request: ReleaseRequest;
  readonly env: EnvironmentConfig;
  readonly repositoryName: string;
  /** The commit the image was built from (its `git-<commit>` tag); set where "Scan & provision" runs. */
  readonly sourceCommit: string | null;
  /** The functions the release moves, each with its blue. */
  readonly checked: CheckedTargets;
  /** The release policy's answer: start (with any override to record), or wait for a window. */
  readonly gate: GateOutcome;
}

/**
 * Everything that can refuse a release, without writing anything: the request, the environment and repository, the
 * digest, a strategy override, a busy environment, `live`'s state and the digest already being live. Validate release
 * and the release API's start ask this one function, so the API answers 400 (or 409) for exactly what Validate
 * release would refuse.
 */
export async function checkRelease(
  rawRequest: unknown,
  releaseId: string,
  deps: CheckReleaseDeps,
): Promise<CheckedRelease> {
  const request = parseReleaseRequest(rawRequest);
  if (!EXECUTION_NAME.test(releaseId)) {
    throw new InvalidRelease(`execution name "${releaseId}" is not a usable release id`);
  }
  const env = resolveEnvironment(request, deps);
  const repositoryName = request.repositoryName ?? env.repositoryName;
  if (repositoryName !== env.repositoryName) {
    throw new InvalidRelease(
      `repository "${repositoryName}" is not configured for ${env.name}; expected "${env.repositoryName}"`,
      { field: 'repositoryName' },
    );
  }
  if (request.trigger === 'ecr-push' && !env.releaseOnPush) {
    throw new InvalidRelease(`${env.name} does not release on image push; start it through the release API`);
  }
  if (!(await deps.registry.digestExists(repositoryName, request.imageDigest))) {
    throw new InvalidRelease(`image ${repositoryName}@${request.imageDigest} does not exist in the registry`, {
      field: 'imageDigest',
    });
  }
  // "Scan & provision" applies the Terraform of the commit the image was built from, never the branch tip.
  const sourceCommit = env.scanAndProvision
    ? await deps.registry.sourceCommit(repositoryName, request.imageDigest)
    : undefined;
  if (env.scanAndProvision && !sourceCommit) {
    throw new InvalidRelease(
      `image ${repositoryName}@${request.imageDigest} has no git-<commit> tag, so "Scan & provision" cannot apply ` +
        `the commit it was built from; ${env.name} releases only images the build stage pushed`,
      { field: 'imageDigest' },
    );
  }

  const requested = request.trigger === 'api' ? request.strategy : undefined;
  const refusal = requested ? strategyRefusal(env, requested) : undefined;
  if (refusal) {
    const message =
      refusal.field === 'strategy'
        ? refusal.message
        : `it needs a ${refusal.neededMinutes}-minute release window (bakes, approval and margin), longer than ` +
          `the ${env.lockTtlMinutes}-minute lock`;
    throw new InvalidRelease(`the requested strategy cannot run in ${env.name}: ${message}`, { field: 'strategy' });
  }

  // The release policy (abandoned image, hold, freeze, window) before the lock: a release that waits for its
  // window holds nothing while it waits.
  const gate = await gateRelease(env, request, deps.clock.now(), deps.store);
  // A busy environment is the most useful answer, so it comes before the checks of live's state.
  if (gate.kind === 'start') await refuseIfBusy(deps.store, env, releaseId, deps.clock.now());

  const checked = await checkTargets(env, request.imageDigest, deps);
  return { request, env, repositoryName, sourceCommit: sourceCommit ?? null, checked, gate };
}

/**
 * DescribeAlarms leaves out the names it does not know, so a watched alarm that does not exist (a typo, one never
 * created) would be silently dropped and the release would watch less than the config says: refused instead.
 */
function refuseMissingAlarms(env: EnvironmentConfig, states: readonly AlarmState[]): void {
  const found = new Set(states.map((a) => a.name));
  const missing = env.health.alarms.filter((name) => !found.has(name));
  if (missing.length > 0) {
    throw new InvalidRelease(
      `${env.name} watches CloudWatch alarms that do not exist: ${missing.join(', ')} (health.alarms): create them or remove them from the config`,
      { field: 'health.alarms' },
    );
  }
}

/**
 * Turns a request into a release: checks it, reads blue from `live`, takes the lock and records the start.
 * Everything that can refuse the release runs before the lock, so a refusal leaves nothing behind.
 */
export async function validateRelease(
  rawRequest: unknown,
  execution: ExecutionRef,
  deps: ValidateReleaseDeps,
): Promise<ReleaseContext> {
  const parsed = parseReleaseRequest(rawRequest);
  if (parsed.trigger === 'ecr-push' && EXECUTION_NAME.test(execution.name)) {
    await refuseDuplicateDelivery(parsed, execution, deps);
  }
  const { request, env, repositoryName, sourceCommit, checked, gate } = await checkRelease(
    rawRequest,
    execution.name,
    deps,
  );
  // Described before the lock, so an alarm that does not exist refuses the release with nothing left behind.
  const alarmStates = env.health.alarms.length > 0 ? await deps.alarms.describe(env.health.alarms) : [];
  refuseMissingAlarms(env, alarmStates);
  const now = deps.clock.now();
  const key = lockKey(env);

  const preexistingAlarms = alarmStates.filter((a) => a.state === 'ALARM').map((a) => a.name);
  // Without a previous version there is nothing to split traffic with: a first release goes straight to 100%.
  const { targets, unverified } = checked;
  const plan = targets.some((t) => t.blueVersion !== null)
    ? trafficPlan(env, request.trigger === 'api' ? request.strategy : undefined)
    : [{ percent: 100, bakeSeconds: Math.round(env.bake.minutes * 60) }];
  const imageUri = `${deps.registryHost}/${repositoryName}@${request.imageDigest}`;
  const context: ReleaseContext = {
    releaseId: execution.name,
    executionArn: execution.arn,
    environment: env.name,
    lockKey: key,
    repositoryName,
    digest: request.imageDigest,
    imageUri,
    plan,
    checkIntervalSeconds: env.bake.checkIntervalSeconds,
    metricDelaySeconds: env.bake.metricDelaySeconds,
    ...(env.bake.highResolution ? { highResolution: { ...env.bake.highResolution } } : {}),
    health: { ...env.health, alarms: [...env.health.alarms] },
    onUnhealthy: env.onUnhealthy,
    onInsufficientData: env.onInsufficientData,
    judge: { ...env.judge },
    verification: { ...env.verification, smoke: env.verification.smoke.map((s) => ({ ...s })) },
    approvalRequired: env.approvalRequired,
    approvalTimeoutSeconds: env.approvalTimeoutMinutes * 60,
    scanAndProvision: env.scanAndProvision,
    ...(sourceCommit ? { sourceCommit } : {}),
    preexistingAlarms,
    startedAt: now.toISOString(),
    trigger: request.trigger,
    promotesTo: env.promotesTo ?? null,
    maxPauseSeconds: (env.maxPauseMinutes ?? 0) * 60,
    lockTtlMinutes: env.lockTtlMinutes,
    targets: targets.map((t) => ({ ...t })),
    waves: env.fleet?.waves.length ?? 1,
    deployConcurrency: env.fleet?.deployConcurrency ?? 1,
  };
  // Outside its windows in `wait` mode: the workflow waits ("Await release window") and asks again at the opening.
  if (gate.kind === 'wait') {
    return { ...context, awaitingWindow: { window: gate.window, opensAt: gate.opensAt, summary: gate.summary } };
  }
  const lock = await deps.store.acquireLock(
    key,
    {
      releaseId: execution.name,
      executionArn: execution.arn,
      acquiredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + env.lockTtlMinutes * 60_000).toISOString(),
    },
    now,
  );
  if (!lock.acquired) {
    throw lockedError(env.name, lock.holder);
  }
  const fleet = targets.length > 1;
  const single = targets[0];
  const firstOf = unverified[0];

  await deps.store.createRelease({
    releaseId: context.releaseId,
    executionArn: context.executionArn,
    environment: env.name,
    imageUri,
    digest: request.imageDigest,
    status: 'running',
    startedAt: context.startedAt,
    trigger: request.trigger === 'api' ? `api:${request.requestedBy}` : `ecr-push:${request.eventId}`,
    targets: pendingTargets(targets, context.waves),
    events: [
      {
        at: context.startedAt,
        kind: 'validated',
        summary: `${
          fleet
            ? `fleet release of ${request.imageDigest} into ${env.name}: ${targets.length} members in ${context.waves} waves${unverified.length > 0 ? `; no blue (first release) for ${unverified.map((u) => u.name).join(', ')}` : ''}`
            : firstOf && single
              ? `first release of ${request.imageDigest} into ${env.name}: ${single.aliases.live} is on version ` +
                `${firstOf.version}, which no release verified (the bootstrap version), so there is no blue`
              : `release of ${request.imageDigest} into ${env.name}; blue is ${single?.blueVersion ?? 'none'}`
        }${request.trigger === 'api' && request.retryOf ? `; retry of ${request.retryOf}` : ''}`,
        evidence: {
          plan,
          preexistingAlarms,
          unverifiedLiveVersion: fleet ? null : (firstOf?.version ?? null),
          // Why it was asked for, and the release it follows on from (a retry or a promotion).
          ...(request.trigger === 'api' && request.reason ? { requestReason: request.reason } : {}),
          ...(request.trigger === 'api' && request.retryOf ? { retryOf: request.retryOf } : {}),
          ...(request.trigger === 'api' && request.promotedFrom ? { promotedFrom: request.promotedFrom } : {}),
        },
      },
      // Who overrode a window or a freeze, or passed a hold, why, and which (core/policy/release-gate.ts).
      ...gate.overrides,
    ],
  });
  // An execution stopped while this ran was reconciled already: its record is closed, and this one (a no-op write)
  // must not start anything. Give back the lock just taken and stop.
  const recorded = await deps.store.getRelease(context.releaseId);
  if (recorded && recorded.status !== 'running') {
    await deps.store.releaseLock(key, context.releaseId);
    throw new ReleaseNotRunning(
      `release ${context.releaseId} was ${recorded.status} while Validate release ran; nothing was started`,
    );
  }
  // The diff, blue against green, computed once as the release starts (a fleet's members have no one blue).
  const only = targets.length === 1 ? targets[0] : undefined;
  if (deps.insight && only) {
    await recordReleaseChanges(
      {
        releaseId: context.releaseId,
        functionName: only.functionName,
        blueVersion: only.blueVersion,
        greenDigest: request.imageDigest,
      },
      { insight: deps.insight, functions: deps.functions, clock: deps.clock },
    );
  }
  return context;
}
