/**
 * The release policy's own state, beside the releases: abandoned images (`image#<digest>`) and environments held
 * after an operator's rollback (`hold#<environment>`). Each entry keeps its whole history of changes, who made them
 * and why, and a version the store's conditional write checks, so two operators' changes never lose each other.
 */

export type PolicyKind = 'image' | 'hold';

export type PolicyAction = 'abandoned' | 'restored' | 'held' | 'cleared';

export interface PolicyChange {
  readonly at: string;
  readonly action: PolicyAction;
  /** The caller's identity (IAM ARN through the release API), or the operation that made the change. */
  readonly by: string;
  readonly reason: string;
  /** What caused it: the environment rollback that placed a hold. */
  readonly cause?: string;
}

export interface PolicyEntry {
  readonly key: string;
  readonly kind: PolicyKind;
  /** The digest or the environment. */
  readonly subject: string;
  /** Abandoned, or held, now. */
  readonly active: boolean;
  /** Starts at 1; each write adds one. */
  readonly version: number;
  /** Oldest first; the last change is the entry's current state. */
  readonly history: readonly PolicyChange[];
}

export function policyKey(kind: PolicyKind, subject: string): string {
  return `${kind}#${subject}`;
}

/** The change that made the entry what it is now. */
export function currentChange(entry: PolicyEntry): PolicyChange | undefined {
  return entry.history.at(-1);
}
