import { randomBytes } from 'node:crypto';

/**
 * A new release id, which is also its execution's name (at most 80 of `[A-Za-z0-9_-]`): readable in the console,
 * sortable by time, and unique.
 */
export function newReleaseId(environment: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `rel-${environment}-${stamp}-${randomBytes(3).toString('hex')}`;
}
