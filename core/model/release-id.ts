import { createHash, randomBytes } from 'node:crypto';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../config/schema.ts';

/*
 * Every release id the release API makes begins with `rel-<target environment>-`, promotions and retries included,
 * so that an IAM policy on the API's paths (`/environments/{env}/releases/{id}/…`) and a reader of the id agree on
 * where the release runs. Ids are also execution names: at most 80 of `[A-Za-z0-9_-]`.
 */

const MAX_ID_LENGTH = 80;
const digestOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 20);

/** A new release id: readable in the console, sortable by time, and unique. */
export function newReleaseId(environment: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `rel-${environment}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The release an idempotency key stands for: the same key in the same environment is the same release. */
export function idempotentReleaseId(environment: string, key: string): string {
  return `rel-${environment}-idem-${digestOf(`${environment}\n${key}`)}`;
}

/**
 * The release that retries `sourceId` in `environment` (the source's own): retrying twice is one release (retry the
 * retry to go again). `<id>-retry` while that fits and keeps the environment first, else `rel-<env>-retry-<hash>`.
 */
export function retryReleaseId(environment: string, sourceId: string): string {
  const readable = `${sourceId}-retry`;
  if (readable.length <= MAX_ID_LENGTH && readable.startsWith(`rel-${environment}-`)) return readable;
  return `rel-${environment}-retry-${digestOf(sourceId)}`;
}

/**
 * The release that promotes `sourceId`'s digest into `environment`: promoting twice is one release.
 * `rel-staging-…` promoted into prod is `rel-prod-from-staging-…` while that fits, else `rel-prod-promo-<hash>`.
 */
export function promotionReleaseId(environment: string, sourceId: string): string {
  const readable = `rel-${environment}-from-${sourceId.slice('rel-'.length)}`;
  if (sourceId.startsWith('rel-') && readable.length <= MAX_ID_LENGTH && /^[A-Za-z0-9_-]+$/.test(readable)) {
    return readable;
  }
  return `rel-${environment}-promo-${digestOf(sourceId)}`;
}

/**
 * The environment a release id begins with, or undefined for an id that names none (a release named by an
 * EventBridge rule, or made before ids always began with their environment).
 */
export function environmentOfReleaseId(releaseId: string): EnvironmentName | undefined {
  return ENVIRONMENT_NAMES.find((name) => releaseId.startsWith(`rel-${name}-`));
}
