/**
 * Errors the workflow reacts to. Each class name is the `Error` the state machine's Retry and Catch match,
 * so a rename here is a rename in `state-machine/`.
 */
abstract class ReleaseError extends Error {
  abstract override readonly name: string;
  /** Evidence for the console and the release record; never secrets. */
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.details = details;
  }
}

/** The release request cannot be run: malformed, unknown environment, missing digest, wrong repository. */
export class InvalidRelease extends ReleaseError {
  override readonly name = 'InvalidRelease';
}

/** Another release holds the function-and-environment lock. */
export class ReleaseLocked extends ReleaseError {
  override readonly name = 'ReleaseLocked';
}

/**
 * Another copy of the same ECR event already started a release: EventBridge delivers at least once. The state
 * machine ends such an execution as a no-op ("Duplicate delivery"), with no alert and no lock.
 */
export class DuplicateDelivery extends ReleaseError {
  override readonly name = 'DuplicateDelivery';
}

/** The green version did not pass its health check or a smoke request. */
export class VerificationFailed extends ReleaseError {
  override readonly name = 'VerificationFailed';
}

/** Lambda reported the code update as Failed, or the published version is not the requested image. */
export class DeploymentFailed extends ReleaseError {
  override readonly name = 'DeploymentFailed';
}

/** The aliases are not in a state the step can act on (e.g. `live` routes to a third version). */
export class AliasConflict extends ReleaseError {
  override readonly name = 'AliasConflict';
}

/** An operator rejected the release at "Await approval" (sent as the task failure's error name). */
export class ApprovalRejected extends ReleaseError {
  override readonly name = 'ApprovalRejected';
}

/** An approve or reject for a release that is not waiting for one. */
export class NoPendingApproval extends ReleaseError {
  override readonly name = 'NoPendingApproval';
}

/** No release has this id. */
export class ReleaseNotFound extends ReleaseError {
  override readonly name = 'ReleaseNotFound';
}

/** The operation needs a running release, and this one has ended. */
export class ReleaseNotRunning extends ReleaseError {
  override readonly name = 'ReleaseNotRunning';
}

/**
 * The release is in a state the operation does not allow: promoting a release that is not released (or went live
 * with warnings nobody accepted), promoting into an environment the config does not name, retrying a running one.
 */
export class ReleaseConflict extends ReleaseError {
  override readonly name = 'ReleaseConflict';
}

/** An execution with this name already exists (Step Functions keeps names for 90 days): a start is a replay. */
export class ExecutionNameTaken extends Error {
  override readonly name = 'ExecutionNameTaken';
}

/** A pagination cursor this store did not issue. */
export class InvalidCursor extends ReleaseError {
  override readonly name = 'InvalidCursor';
}

/** An AWS call was throttled or failed transiently; the state machine retries it with backoff. */
export class TransientFailure extends ReleaseError {
  override readonly name = 'TransientFailure';
}

/** Names the state machine retries with backoff (besides Lambda's own service errors). */
export const RETRYABLE_ERRORS = ['TransientFailure'] as const;

/** Names that end a release without retry. */
export const TERMINAL_ERRORS = [
  'InvalidRelease',
  'ReleaseLocked',
  'VerificationFailed',
  'DeploymentFailed',
  'AliasConflict',
  'ApprovalRejected',
] as const;

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The release policy refuses a new release (core/policy/release-gate.ts): a freeze, a closed window in `refuse` mode,
 * an abandoned image or an environment's hold. `details.policy` says which, with the window, freeze or hold named.
 */
export class ReleaseRefused extends ReleaseError {
  override readonly name = 'ReleaseRefused';
}
