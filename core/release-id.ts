import { createHash, randomBytes } from 'node:crypto';

/**
 * A new release id, which is also its execution's name (at most 80 of `[A-Za-z0-9_-]`): readable in the console,
 * sortable by time, and unique.
 */
export function newReleaseId(environment: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `rel-${environment}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The release an idempotency key stands for: the same key in the same environment is the same release. */
export function idempotentReleaseId(environment: string, key: string): string {
  const hash = createHash('sha256').update(`${environment}\n${key}`).digest('hex').slice(0, 20);
  return `rel-${environment}-idem-${hash}`;
}

/** The release that retries `sourceId`: retrying twice is one release (retry the retry to go again). */
export function retryReleaseId(sourceId: string): string {
  const readable = `${sourceId}-retry`;
  if (readable.length <= 80) return readable;
  return `rel-retry-${createHash('sha256').update(sourceId).digest('hex').slice(0, 20)}`;
}

/** The release that promotes `sourceId`'s digest into `environment`: promoting twice is one release. */
export function promotionReleaseId(environment: string, sourceId: string): string {
  const readable = `${sourceId}-to-${environment}`;
  if (readable.length <= 80 && /^[A-Za-z0-9_-]+$/.test(readable)) return readable;
  return `rel-${environment}-promo-${createHash('sha256').update(sourceId).digest('hex').slice(0, 20)}`;
}
