import type { ReleaseEvent, ReleaseState } from '../model/release-events.ts';
import type { HealthVerdict } from '../model/traffic.ts';
import type { PolicyEntry, PolicyKind } from '../policy/policy-entry.ts';

/**
 * The narrow ports the release logic needs. AWS adapters (`adapters/aws`) and in-memory adapters
 * (`adapters/memory`, used by the local runtime and the tests) implement them and pass one contract suite.
 */

export interface AliasRouting {
  /** The second version that receives `weight` (0..1) of the alias's traffic. */
  readonly version: string;
  readonly weight: number;
}

export interface AliasState {
  readonly name: string;
  readonly version: string;
  readonly routing?: AliasRouting;
  /** The alias's revision as read (Lambda's RevisionId), where the backend has one: an update given it refuses a change made since. */
  readonly revisionId?: string;
}

export interface PublishedVersion {
  readonly version: string;
  readonly description: string;
  readonly codeSha256: string;
}

export interface InvokeResult {
  readonly statusCode: number;
  /** Set when the function itself failed (Unhandled / Handled), as Lambda reports it. */
  readonly functionError?: string;
  readonly payload: unknown;
}

/** Lambda function versions and aliases. */
export interface FunctionVersions {
  getAlias(functionName: string, alias: string): Promise<AliasState | undefined>;
  /** The image digest (`sha256:…`) a published version runs. */
  versionImageDigest(functionName: string, version: string): Promise<string | undefined>;
  /**
   * One published version's description and code hash, or undefined when it does not exist: Deploy green checks
   * that the version its record names is the one it published (its description is the release id), so a retry
   * publishes nothing twice without listing every version.
   */
  publishedVersion(functionName: string, version: string): Promise<PublishedVersion | undefined>;
  /** Points `$LATEST` at the image and returns once Lambda reports the update Successful. */
  updateCodeAndWait(functionName: string, imageUri: string): Promise<{ codeSha256: string }>;
  publishVersion(functionName: string, description: string, codeSha256: string): Promise<PublishedVersion>;
  /**
   * Points an alias at `version`; `routing` sends part of its traffic to a second version, none clears it. Refuses
   * (AliasConflict) when the alias changed since it was read: since `expected`, the caller's own read, when given
   * (no second read), else since the adapter reads it.
   */
  updateAlias(
    functionName: string,
    alias: string,
    version: string,
    routing?: AliasRouting,
    expected?: AliasState,
  ): Promise<void>;
  /** Points an alias at `version` with no routing, creating it when it does not exist yet. */
  ensureAlias(functionName: string, alias: string, version: string): Promise<void>;
  invoke(functionName: string, qualifier: string, payload: unknown, timeoutMs: number): Promise<InvokeResult>;
}

/**
 * Where a window's numbers come from. `lambda`: Lambda's own 1-minute per-version metrics (FunctionName + Resource +
 * ExecutedVersion) plus the application's 5xx count. `high-resolution`: the application's own `Requests`, `Errors`
 * and `Latency` by `FunctionVersion`, stored at 1-second resolution and read in short periods.
 */
export type MetricSource = 'lambda' | 'high-resolution';

export interface MetricWindow {
  readonly functionName: string;
  readonly alias: string;
  readonly version: string;
  readonly start: Date;
  readonly end: Date;
  /** @default 'lambda' */
  readonly source?: MetricSource;
  /** The period of a high-resolution read, one of HIGH_RESOLUTION_PERIODS. @default 10 */
  readonly periodSeconds?: number;
}

export interface VersionMetricsSample {
  readonly invocations: number;
  /**
   * Failed invocations: function errors (Lambda `Errors`) plus the 5xx responses the application reports (its own
   * `Errors` metric), so a version that answers 500 without throwing still counts as failing.
   */
  readonly errors: number;
  readonly throttles: number;
  /** p99 duration over the window, or null when no data point exists. */
  readonly p99DurationMs: number | null;
}

/** CloudWatch per-version metrics (Lambda's FunctionName + Resource + ExecutedVersion, the app's FunctionVersion). */
export interface VersionMetrics {
  sample(window: MetricWindow): Promise<VersionMetricsSample>;
  /**
   * Every window's sample, in the windows' order, read in as few requests as the backend allows (CloudWatch: one
   * GetMetricData call per 500 distinct metrics). Check health reads all its windows this way; a fleet reads every
   * member's.
   */
  sampleAll(windows: readonly MetricWindow[]): Promise<VersionMetricsSample[]>;
}

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmState {
  readonly name: string;
  readonly state: AlarmStateValue;
  readonly updatedAt: string;
}

export interface Alarms {
  describe(names: readonly string[]): Promise<AlarmState[]>;
}

export interface LockHolder {
  readonly releaseId: string;
  readonly executionArn: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export type LockResult = { readonly acquired: true } | { readonly acquired: false; readonly holder: LockHolder };

export type ReleaseStatus = 'running' | 'released' | 'rolled-back' | 'failed' | 'aborted';

/** Whether this call ended the release, and the record's status after it. */
export interface CloseResult {
  readonly closed: boolean;
  readonly status: ReleaseStatus;
}

/** How a running release ends (ReleaseStore.closeRelease). */
export interface ReleaseClose {
  readonly status: Exclude<ReleaseStatus, 'running'>;
  readonly endedAt: string;
  readonly reason?: string;
}

export type { ReleaseEvent, ReleaseState } from '../model/release-events.ts';

/**
 * A release's summary, its history (`events`, for people) and the typed state later decisions read
 * (`ReleaseState`), which the store sets in the same write as the event that causes it.
 */
export interface ReleaseRecord extends ReleaseState {
  readonly releaseId: string;
  readonly executionArn: string;
  readonly environment: string;
  readonly imageUri: string;
  readonly digest: string;
  readonly status: ReleaseStatus;
  readonly reason?: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly trigger: string;
  readonly events: readonly ReleaseEvent[];
  /**
   * The functions the release moves (docs/architecture.md, "One release model"): a single function is one target in
   * one wave; a fleet has one target a member. Each target is set in the same store write as its event.
   */
  readonly targets: TargetSet;
}

export type TargetPhase =
  | 'pending'
  | 'deployed'
  | 'verified'
  | 'shifting'
  | 'baking'
  | 'live'
  | 'rolled-back'
  | 'failed';

/** A target's last verdict: what it was judged, why, and when. */
export interface TargetVerdict {
  readonly verdict: HealthVerdict;
  readonly reason: string;
  readonly at: string;
}

export interface TargetState {
  /** The member's name in a fleet; the function's name for a single function. */
  readonly name: string;
  readonly functionName: string;
  /** 0-based. */
  readonly wave: number;
  readonly blueVersion: string | null;
  readonly greenVersion?: string;
  readonly phase: TargetPhase;
  /** Share of this target's live traffic on green now (0..100). */
  readonly percent: number;
  /** The target's last verdict with its evidence summary. */
  readonly verdict?: TargetVerdict;
}

export interface TargetSet {
  readonly waveCount: number;
  /** The wave whose traffic is moving; null before the first shift and after the release ends. */
  readonly currentWave: number | null;
  readonly members: readonly TargetState[];
  /** The target whose verdict halted the release. */
  readonly trippedBy?: string;
}

/** What one write changes of one target (its name, function and wave never change). */
export type TargetChange = Partial<Pick<TargetState, 'greenVersion' | 'phase' | 'percent' | 'verdict'>>;

/**
 * What one store write changes (ReleaseStore.update): the record's end, the wave, the target that tripped, and any
 * number of targets, each change applied to its own target only.
 */
export interface ReleaseChange {
  readonly status?: ReleaseStatus;
  readonly reason?: string;
  readonly endedAt?: string;
  readonly currentWave?: number | null;
  readonly trippedBy?: string;
  readonly targets?: Readonly<Record<string, TargetChange>>;
}

export interface ReleaseFilter {
  readonly environment?: string;
  readonly status?: ReleaseStatus;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface ReleasePage {
  readonly releases: ReleaseRecord[];
  readonly nextCursor?: string;
}

/** A release waiting at "Await approval": the Step Functions task token that resumes it, never shown or logged. */
export interface ApprovalRequest {
  readonly taskToken: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
}

/** Who a delivered event (an ECR push, by its EventBridge event id) started, and the later copies of it. */
export interface DeliveryRecord {
  /** The release the first copy started. */
  readonly releaseId: string;
  readonly firstAt: string;
  /** The executions later copies started, each counted once however often it retries. */
  readonly duplicates: readonly string[];
}

/** The per-function-and-environment lock and the release records (DynamoDB in the cloud). */
export interface ReleaseStore {
  /** Conditional write: succeeds when free, expired, or already held by the same release (a retry). */
  acquireLock(key: string, holder: LockHolder, now: Date): Promise<LockResult>;
  /** Releases the lock only if `releaseId` holds it; returns whether it did. */
  releaseLock(key: string, releaseId: string): Promise<boolean>;
  getLock(key: string): Promise<LockHolder | undefined>;
  /**
   * Conditional update: moves the lock's expiry to `expiresAt` only if `releaseId` holds it, keeping the holder;
   * returns whether it did. A paused bake renews its lock at each check so the lock outlasts the pause.
   */
  renewLock(key: string, releaseId: string, expiresAt: string): Promise<boolean>;
  /** Creates the record; a retry with the same release id leaves the first one in place. */
  createRelease(record: ReleaseRecord): Promise<void>;
  getRelease(releaseId: string): Promise<ReleaseRecord | undefined>;
  /**
   * Changes the record and appends its event in one write: its status, end and reason, the wave, the target that
   * tripped, and any number of targets, each change applied to its own target and every other target left as it is,
   * so the Map's concurrent iterations each write their own target and never lose each other's. Throws when the
   * release or a named target does not exist.
   */
  update(releaseId: string, change: ReleaseChange, event?: ReleaseEvent): Promise<void>;
  /**
   * Ends a running release: the status it ends with, its end, its reason and event in one write, made only while the
   * record still says `running`. Writes nothing when something else ended it first (Finalize and a stop's reconcile
   * race for it: whichever ends the record decides what `live` is left on), and answers with the status it found.
   * Throws when there is no record.
   */
  closeRelease(releaseId: string, close: ReleaseClose, event?: ReleaseEvent): Promise<CloseResult>;
  /** Newest first; each record's `events` holds at least its latest event (getRelease reads the whole history). */
  listReleases(filter: ReleaseFilter): Promise<ReleasePage>;
  saveApprovalRequest(releaseId: string, request: ApprovalRequest): Promise<void>;
  /** Removes and returns the pending request: a task token answers once, so two approvals cannot race. */
  takeApprovalRequest(releaseId: string): Promise<ApprovalRequest | undefined>;
  /**
   * Conditional write: the first release to record delivery `key` owns it; a retry of that release gets the same
   * answer; any other release is added to `duplicates` (once). Returns the record after the write.
   */
  recordDelivery(key: string, releaseId: string, at: string): Promise<DeliveryRecord>;
  /** The release policy's entry (an abandoned image, an environment's hold), or undefined (core/policy/). */
  getPolicyEntry(key: string): Promise<PolicyEntry | undefined>;
  /**
   * Conditional write: stores `entry` only while the stored one has version `entry.version - 1` (none for 1);
   * returns whether it did, so a concurrent change is read again rather than lost.
   */
  putPolicyEntry(entry: PolicyEntry): Promise<boolean>;
  /** Every entry of a kind, in key order. */
  listPolicyEntries(kind: PolicyKind): Promise<PolicyEntry[]>;
}

export interface Notification {
  readonly subject: string;
  readonly releaseId: string;
  readonly environment: string;
  readonly outcome: string;
  readonly detail: Record<string, unknown>;
}

export interface Notifier {
  notify(notification: Notification): Promise<void>;
}

/** The release workflow's executions, each named by its release id (Step Functions in the cloud, the local engine). */
export interface ReleaseExecutions {
  /** The ARN of the execution named `releaseId` (whether or not it exists). */
  executionArnFor(releaseId: string): string;
  /** StartExecution named by the release id; throws `ExecutionNameTaken` when the name is already used. */
  startExecution(releaseId: string, input: Record<string, unknown>): Promise<{ executionArn: string }>;
  /** The execution's status, or undefined when no execution has this name. */
  describeExecution(releaseId: string): Promise<{ readonly executionArn: string; readonly status: string } | undefined>;
  /** StopExecution; the reconcile rule then restores `live` and frees the lock. */
  stopExecution(releaseId: string, cause: string): Promise<void>;
}

/** Answers a `.waitForTaskToken` state (Step Functions SendTaskSuccess / SendTaskFailure). */
export interface TaskTokens {
  succeed(taskToken: string, output: unknown): Promise<void>;
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/** Headers that authenticate a smoke request as the smoke-test client. */
export interface RequestSigner {
  sign(request: {
    method: string;
    path: string;
    query: Record<string, string>;
    body: string;
  }): Promise<Record<string, string>>;
}

/** The smoke-test client's signer for each environment (its client-keys secret in the cloud). */
export interface SmokeSigners {
  /**
   * The signer of the environment's `smoke-tests` client, or undefined when the environment has none configured.
   * Throws when the keys cannot be read or are malformed; the error never carries a key.
   */
  signerFor(environment: string): Promise<RequestSigner | undefined>;
}

/** A request as a client sends it to the application's public API. */
export interface FrontDoorRequest {
  readonly method: string;
  /** The resource path (`/orders`), without the stage. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface FrontDoorResponse {
  readonly statusCode: number;
  readonly body: string;
  /** Where the request went, for the evidence. */
  readonly url: string;
}

/**
 * The application's front door for the green version: API Gateway's `green` stage, its integration bound to the
 * `green` alias and the environment's WAF web ACL associated, so a request meets what live traffic meets.
 */
export interface FrontDoor {
  /** Sends the request to the environment's green stage; throws when the environment has none configured. */
  sendToGreen(environment: string, request: FrontDoorRequest, timeoutMs: number): Promise<FrontDoorResponse>;
}

/** ECR: does the digest exist, and which digest does a tag name. */
export interface ImageRegistry {
  digestExists(repositoryName: string, digest: string): Promise<boolean>;
  resolveTag(repositoryName: string, tag: string): Promise<string | undefined>;
  /**
   * The source commit the image was built from: the build stage pushes every image with the immutable tag
   * `git-<commit>`. Undefined when the digest carries no such tag (or does not exist).
   */
  sourceCommit(repositoryName: string, digest: string): Promise<string | undefined>;
}
