import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { ResourceConflictException, ResourceNotFoundException, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { asTransientFailure, isTransientAwsError } from '../../../../adapters/aws/transient-errors.ts';
import { TransientFailure } from '../../../../core/model/errors.ts';

function named(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(name), { name, ...extra });
}

describe('isTransientAwsError', () => {
  it.each([
    'ThrottlingException',
    'TooManyRequestsException',
    'Throttling',
    'ProvisionedThroughputExceededException',
    'RequestLimitExceeded',
    'ServiceUnavailable',
    'ServiceUnavailableException',
    'ResourceConflictException',
    'InternalServerError',
    'ServiceException',
    'TimeoutError',
  ])('retries %s', (name) => {
    expect(isTransientAwsError(named(name))).toBe(true);
  });

  it('recognises the SDK exception classes', () => {
    expect(isTransientAwsError(new TooManyRequestsException({ message: 'slow', $metadata: {} }))).toBe(true);
    expect(isTransientAwsError(new ResourceConflictException({ message: 'in progress', $metadata: {} }))).toBe(true);
    expect(isTransientAwsError(new ProvisionedThroughputExceededException({ message: 'hot', $metadata: {} }))).toBe(
      true,
    );
  });

  it('retries any 5xx and 429 by status', () => {
    expect(isTransientAwsError(named('Weird', { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransientAwsError(named('Weird', { $metadata: { httpStatusCode: 429 } }))).toBe(true);
  });

  it('retries what the SDK marked retryable', () => {
    expect(isTransientAwsError(named('NetworkingError', { $retryable: { throttling: false } }))).toBe(true);
  });

  it('does not retry permanent errors', () => {
    expect(
      isTransientAwsError(new ResourceNotFoundException({ message: 'gone', $metadata: { httpStatusCode: 404 } })),
    ).toBe(false);
    expect(isTransientAwsError(named('AccessDeniedException', { $metadata: { httpStatusCode: 403 } }))).toBe(false);
    expect(isTransientAwsError(named('ConditionalCheckFailedException', { $metadata: {} }))).toBe(false);
    expect(isTransientAwsError('ThrottlingException')).toBe(false);
    expect(isTransientAwsError(undefined)).toBe(false);
  });
});

describe('asTransientFailure', () => {
  it('turns a transient AWS error into TransientFailure with its name and status as evidence', () => {
    const failure = asTransientFailure(named('ThrottlingException', { $metadata: { httpStatusCode: 400 } }));
    expect(failure).toBeInstanceOf(TransientFailure);
    expect(failure).toMatchObject({
      name: 'TransientFailure',
      message: 'ThrottlingException',
      details: { awsError: 'ThrottlingException', httpStatusCode: 400 },
    });
  });

  it('leaves other errors, and TransientFailure itself, as they are', () => {
    const permanent = named('AccessDeniedException');
    const already = new TransientFailure('again');
    expect(asTransientFailure(permanent)).toBe(permanent);
    expect(asTransientFailure(already)).toBe(already);
  });
});
