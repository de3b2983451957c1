import type { Environments } from '../config/schema.ts';
import type { InsightStore } from '../core/insight/insight-store.ts';
import type {
  Alarms,
  Clock,
  FrontDoor,
  FunctionVersions,
  ImageRegistry,
  Notifier,
  ReleaseStore,
  SmokeSigners,
  VersionMetrics,
} from '../core/ports/ports.ts';

/** Everything the release handlers take: AWS adapters in Lambda, in-memory adapters locally and in tests. */
export interface ReleaseDependencies {
  readonly environments: Environments;
  readonly functions: FunctionVersions;
  readonly metrics: VersionMetrics;
  readonly alarms: Alarms;
  readonly store: ReleaseStore;
  readonly notifier: Notifier;
  readonly registry: ImageRegistry;
  readonly clock: Clock;
  readonly registryHost: string;
  /** The smoke-test client's signer per environment, for Verify green's signed smoke requests. */
  readonly smokeSigners: SmokeSigners;
  /** The application API's green stage, for Verify green's requests through API Gateway and the WAF. */
  readonly frontDoor: FrontDoor;
  readonly isTransient?: (error: unknown) => boolean;
  /** Change sets and release diffs (docs/insight.md): Validate release keeps the diff, notifications summarise it. */
  readonly insight?: InsightStore;
}
