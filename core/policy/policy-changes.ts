import { ReleaseConflict } from '../model/errors.ts';
import type { Clock, ReleaseStore } from '../ports/ports.ts';
import { type PolicyAction, type PolicyEntry, type PolicyKind, policyKey } from './policy-entry.ts';

export type PolicyChangeDeps = {
  readonly store: Pick<ReleaseStore, 'getPolicyEntry' | 'putPolicyEntry'>;
  readonly clock: Clock;
};

/** Conditional writes tried before a change gives up: each retry follows a concurrent change it then builds on. */
const ATTEMPTS = 5;

const ACTIVE: Record<PolicyAction, boolean> = { abandoned: true, held: true, restored: false, cleared: false };

/**
 * Appends one change to a policy entry's history (creating the entry at its first change) with a conditional write
 * on the version read, so two operators' changes are both recorded. A change that would not change the state (a
 * second abandonment, clearing a hold that is not there) is refused as a conflict, naming who made it so.
 */
export async function changePolicy(
  kind: PolicyKind,
  subject: string,
  change: { readonly action: PolicyAction; readonly by: string; readonly reason: string; readonly cause?: string },
  deps: PolicyChangeDeps,
): Promise<PolicyEntry> {
  const key = policyKey(kind, subject);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const current = await deps.store.getPolicyEntry(key);
    const active = ACTIVE[change.action];
    if ((current?.active ?? false) === active) {
      const last = current?.history.at(-1);
      throw new ReleaseConflict(
        last
          ? `${subject} is already ${last.action} (by ${last.by} at ${last.at}: ${last.reason})`
          : `${subject} is not ${kind === 'image' ? 'abandoned' : 'held'}`,
      );
    }
    const next: PolicyEntry = {
      key,
      kind,
      subject,
      active,
      version: (current?.version ?? 0) + 1,
      history: [
        ...(current?.history ?? []),
        { at: deps.clock.now().toISOString(), ...change, ...(change.cause ? { cause: change.cause } : {}) },
      ],
    };
    if (await deps.store.putPolicyEntry(next)) return next;
  }
  throw new ReleaseConflict(`${subject} changed ${ATTEMPTS} times while this change was being recorded; try again`);
}

/** Abandons an image: no release of the digest starts again, in any environment, until it is restored. */
export function abandonImage(digest: string, by: string, reason: string, deps: PolicyChangeDeps) {
  return changePolicy('image', digest, { action: 'abandoned', by, reason }, deps);
}

/** Lifts an abandonment (recorded beside it). */
export function restoreImage(digest: string, by: string, reason: string, deps: PolicyChangeDeps) {
  return changePolicy('image', digest, { action: 'restored', by, reason }, deps);
}

/**
 * Holds an environment after an operator's rollback: pushes are refused, API releases pass only with `passHold`.
 * A hold already in place stays as it is (a second rollback does not need a second hold).
 */
export async function holdAfterRollback(
  environment: string,
  by: string,
  reason: string,
  rollback: string,
  deps: PolicyChangeDeps,
): Promise<PolicyEntry> {
  const current = await deps.store.getPolicyEntry(policyKey('hold', environment));
  if (current?.active) return current;
  return changePolicy(
    'hold',
    environment,
    { action: 'held', by, reason: `held after the environment rollback ${rollback}: ${reason}`, cause: rollback },
    deps,
  );
}

/** Clears an environment's hold (recorded beside it). */
export function clearHold(environment: string, by: string, reason: string, deps: PolicyChangeDeps) {
  return changePolicy('hold', environment, { action: 'cleared', by, reason }, deps);
}
