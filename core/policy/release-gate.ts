import { outsideWindowMode, windowStateAt } from '../../config/release-windows.ts';
import type { EnvironmentConfig } from '../../config/schema.ts';
import { ReleaseRefused } from '../model/errors.ts';
import type { PolicyOverriddenEvent } from '../model/release-events.ts';
import type { ReleaseRequest } from '../model/release-request.ts';
import type { ReleaseStore } from '../ports/ports.ts';
import { currentChange, policyKey } from './policy-entry.ts';

/** What the release policy says of a new release now. */
export type GateOutcome =
  /** Start, recording each override or passed hold. */
  | { readonly kind: 'start'; readonly overrides: readonly PolicyOverriddenEvent[] }
  /** Outside every window in `wait` mode: wait in the workflow until `opensAt`, then ask again. */
  | { readonly kind: 'wait'; readonly window: string | null; readonly opensAt: string; readonly summary: string };

interface Override {
  readonly overrode: 'freeze' | 'window' | 'hold';
  readonly name: string;
  readonly detail: string;
  readonly summary: string;
}

/**
 * The release policy's decision on a new release, in order: an abandoned image is refused whatever started it; an
 * environment held after a manual rollback refuses pushes and lets an API release pass with `passHold`; a freeze
 * refuses, and a closed window refuses or waits (the environment's `outsideWindow` per trigger), unless the API's
 * override route started the release. Only new releases ask: rollbacks, aborts, environment rollbacks and a release
 * already past Validate release never do, so a policy never blocks getting back to safety.
 */
export async function gateRelease(
  env: EnvironmentConfig,
  request: ReleaseRequest,
  now: Date,
  store: Pick<ReleaseStore, 'getPolicyEntry'>,
): Promise<GateOutcome> {
  const [image, hold] = await Promise.all([
    store.getPolicyEntry(policyKey('image', request.imageDigest)),
    store.getPolicyEntry(policyKey('hold', env.name)),
  ]);
  const abandoned = image?.active ? currentChange(image) : undefined;
  if (abandoned) {
    throw new ReleaseRefused(
      `image ${request.imageDigest} is abandoned (by ${abandoned.by} at ${abandoned.at}: ${abandoned.reason}); ` +
        'no release of it starts in any environment until it is restored',
      { policy: 'abandoned', digest: request.imageDigest, by: abandoned.by, reason: abandoned.reason },
    );
  }
  const api = request.trigger === 'api' ? request : undefined;
  const passed: Override[] = [];
  const held = hold?.active ? currentChange(hold) : undefined;
  if (held) {
    const detail = `${env.name} is held (by ${held.by} at ${held.at}: ${held.reason})`;
    if (!api?.passHold) {
      throw new ReleaseRefused(
        `${detail}; clear the hold (switchyard env clear-hold ${env.name}) or start the release through the API with passHold`,
        { policy: 'hold', environment: env.name, by: held.by, reason: held.reason },
      );
    }
    passed.push({ overrode: 'hold', name: env.name, detail, summary: `passed the hold on ${env.name}` });
  }

  const window = windowStateAt(env.policy, now);
  if (window.state === 'frozen') {
    const detail = `${env.name} is frozen by "${window.freeze}" until ${window.until}: ${window.reason}`;
    if (!api?.override) {
      throw new ReleaseRefused(detail, {
        policy: 'freeze',
        freeze: window.freeze,
        until: window.until,
        reason: window.reason,
      });
    }
    passed.push({ overrode: 'freeze', name: window.freeze, detail, summary: `overrode the freeze "${window.freeze}"` });
  } else if (window.state === 'closed') {
    const opens = window.opensAt ? `window "${window.window}" opens at ${window.opensAt}` : 'no window opens again';
    const detail = `${env.name} is outside its release windows; ${opens}`;
    if (api?.override) {
      passed.push({
        overrode: 'window',
        name: window.window ?? 'none',
        detail,
        summary: 'overrode the release windows',
      });
    } else if (outsideWindowMode(env.policy, request.trigger) === 'wait' && window.opensAt) {
      return {
        kind: 'wait',
        window: window.window,
        opensAt: window.opensAt,
        summary: `waiting for window "${window.window}" (opens at ${window.opensAt})`,
      };
    } else {
      throw new ReleaseRefused(detail, { policy: 'window', window: window.window, opensAt: window.opensAt });
    }
  }

  const by = api?.requestedBy ?? 'unknown';
  const at = now.toISOString();
  return {
    kind: 'start',
    overrides: passed.map(({ summary, ...evidence }) => ({
      at,
      kind: 'policy-overridden',
      summary: `${by} ${summary}: ${(evidence.overrode === 'hold' ? api?.reason : api?.override?.reason) ?? 'no reason given'}`,
      evidence: {
        by,
        reason: (evidence.overrode === 'hold' ? api?.reason : api?.override?.reason) ?? '',
        ...evidence,
      },
    })),
  };
}
