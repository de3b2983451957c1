/**
 * Rehearsal faults. Only a bundle built with `buildApp({ fault })` reaches this module: the production build defines
 * __SWITCHYARD_FAULT__ as false, the call site folds away, and this code is not in the bundle at all.
 */
import { existsSync } from 'node:fs';
import { HttpError } from './errors.ts';

export interface FaultConfig {
  /** Share (0 to 1) of non-health requests answered with a 500. */
  readonly failRate?: number;
  /** /health answers 503. */
  readonly failHealth?: boolean;
  /** Added to every routed request. */
  readonly latencyMs?: number;
  /**
   * Non-health requests this instance serves normally before failRate applies: the error onset, so a build can
   * pass verification and then misbehave under live traffic, as real regressions often do.
   */
  readonly failAfterRequests?: number;
  /**
   * Milliseconds after the instance's first non-health request before failRate applies: an onset in time, so a
   * rehearsal can start a fault late in the bake (`npm start -- --fail-at-minute`).
   */
  readonly failAfterMs?: number;
  /**
   * A downstream dependency every version calls is down while `flagPath` exists: `failRate` of non-health requests
   * fail, whichever version serves them. Built into blue and green alike, so the fault lies in the environment.
   */
  readonly downstreamOutage?: { readonly flagPath: string; readonly failRate: number };
  /**
   * Only the function of this name (Lambda's AWS_LAMBDA_FUNCTION_NAME) misbehaves: a fleet shares one image, and a
   * rehearsal faults one member of it.
   */
  readonly onlyFunction?: string;
}

/** Non-health requests each instance (one set of deps) has seen, for the error onset. */
const seenBy = new WeakMap<FaultDeps, number>();
/** When each instance served its first non-health request (seconds), for the timed onset. */
const firstSeenBy = new WeakMap<FaultDeps, number>();

/** A 500 or 503 produced on purpose by a rehearsal build. */
export class InjectedFault extends HttpError {
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }

  override get clientMessage(): string {
    return this.message;
  }
}

export interface FaultDeps {
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly nowSeconds: () => number;
}

export async function injectFault(fault: FaultConfig, routeName: string, deps: FaultDeps): Promise<void> {
  if (fault.onlyFunction && process.env.AWS_LAMBDA_FUNCTION_NAME !== fault.onlyFunction) return;
  if (fault.latencyMs && fault.latencyMs > 0) await deps.sleep(fault.latencyMs);
  const isHealth = routeName === 'GET /health';
  if (isHealth && fault.failHealth)
    throw new InjectedFault(503, 'Injected fault: health check failing (rehearsal build).');
  if (isHealth) return;
  const outage = fault.downstreamOutage;
  if (outage && existsSync(outage.flagPath) && deps.random() < outage.failRate) {
    throw new InjectedFault(500, 'Injected fault: downstream dependency unavailable (rehearsal build).');
  }
  const seen = (seenBy.get(deps) ?? 0) + 1;
  seenBy.set(deps, seen);
  if (seen <= (fault.failAfterRequests ?? 0)) return;
  const firstSeen = firstSeenBy.get(deps) ?? deps.nowSeconds();
  firstSeenBy.set(deps, firstSeen);
  if ((deps.nowSeconds() - firstSeen) * 1000 < (fault.failAfterMs ?? 0)) return;
  if (fault.failRate && deps.random() < fault.failRate) {
    throw new InjectedFault(500, 'Injected fault: request failed on purpose (rehearsal build).');
  }
}
