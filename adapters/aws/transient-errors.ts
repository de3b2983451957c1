import { errorMessage, TransientFailure } from '../../core/model/errors.ts';
import { hasErrorName } from './error-names.ts';

/** Error names AWS services use for throttling, brief outages and conflicting in-flight updates. */
export const TRANSIENT_AWS_ERROR_NAMES = [
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  // Lambda: another update of the function (code, configuration or alias) is still in progress.
  'ResourceConflictException',
  'InternalServerError',
  'InternalServerErrorException',
  'InternalFailure',
  'InternalError',
  'ServiceException',
  'ServiceFailure',
  'EC2ThrottledException',
  'TransactionConflictException',
  // Socket and waiter timeouts: nothing was decided, trying again is safe.
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  // A Lambda invoke that gave up waiting (adapters/aws/lambda-function-versions.ts): a cold start is retried.
  'InvokeTimedOut',
] as const;

function httpStatusOf(error: object): number | undefined {
  const metadata: unknown = Reflect.get(error, '$metadata');
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const status: unknown = Reflect.get(metadata, 'httpStatusCode');
  return typeof status === 'number' ? status : undefined;
}

/**
 * Whether an AWS SDK error is worth retrying: throttling, a 5xx, a conflicting update in progress, or anything the
 * SDK itself marked `$retryable`. Handlers turn these into `TransientFailure` so the state machine retries them
 * with backoff instead of failing the release.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (hasErrorName(error, ...TRANSIENT_AWS_ERROR_NAMES)) return true;
  const status = httpStatusOf(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  const retryable: unknown = Reflect.get(error, '$retryable');
  return typeof retryable === 'object' && retryable !== null;
}

/** `TransientFailure` for a transient AWS error (keeping its name and status as evidence); anything else as is. */
export function asTransientFailure(error: unknown): unknown {
  if (error instanceof TransientFailure || !isTransientAwsError(error)) return error;
  const awsError = typeof error === 'object' && error !== null ? Reflect.get(error, 'name') : undefined;
  const httpStatusCode = typeof error === 'object' && error !== null ? httpStatusOf(error) : undefined;
  return new TransientFailure(errorMessage(error), {
    awsError: typeof awsError === 'string' ? awsError : 'unknown',
    ...(httpStatusCode !== undefined ? { httpStatusCode } : {}),
  });
}
