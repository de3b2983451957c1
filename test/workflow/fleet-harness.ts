import type { Environments } from '../../config/schema.ts';
import type { TargetState } from '../../core/ports.ts';
import type { ReleaseDependencies } from '../../handlers/release-dependencies.ts';
import type { TaskHandler } from '../../handlers/task-handler.ts';
import type { ExecutionResult } from '../../local/engine.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { environmentsWith } from '../support/environments.ts';
import { DIGEST_BLUE, REGISTRY_HOST, ReleaseWorld, type WorldOptions } from './harness.ts';

export const FLEET_MEMBERS = ['m1', 'm2', 'm3', 'm4', 'm5'] as const;
/** A member's function, under the environment's fleet prefix (config/schema.ts). */
export const memberFunction = (name: string) => `switchyard-api-prod-${name}`;

/** Prod with a 5-member fleet in 3 waves: m1 alone, then m2 and m3 (60%), then m4 and m5. */
export function fleetEnvironments(
  members: readonly string[] = FLEET_MEMBERS,
  patch: Parameters<typeof environmentsWith>[1] = {},
): Environments {
  return environmentsWith('prod', {
    ...patch,
    lockTtlMinutes: 6 * 60,
    fleet: {
      deployConcurrency: 2,
      waves: [{ members: 1 }, { percent: 60 }, { percent: 100 }],
      members: members.map((name) => ({ name, functionName: memberFunction(name) })),
    },
  });
}

export interface MemberTraffic {
  /** Share of the member's green invocations that fail, per member name; from `fromCheck` on. */
  readonly errorRate?: Record<string, number>;
  /** The first check (0-based, across the whole release) at which the errors start. */
  readonly fromCheck?: number;
  /** Invocations of each member's live alias per check. @default 200 */
  readonly perCheck?: number;
}

/**
 * The workflow harness with a fleet: every member function at version 1 (DIGEST_BLUE) behind live, blue and green,
 * verified by an earlier fleet release, and Check health seeing each moved member's traffic split by its live alias.
 */
export class FleetWorld extends ReleaseWorld {
  private memberChecks = 0;

  constructor(
    private readonly traffic: MemberTraffic = {},
    readonly members: readonly string[] = FLEET_MEMBERS,
    options: Omit<WorldOptions, 'environments' | 'traffic'> & { patch?: Parameters<typeof environmentsWith>[1] } = {},
  ) {
    const { patch, ...rest } = options;
    super({ ...rest, environments: fleetEnvironments(members, patch) });
  }

  override async seed(): Promise<this> {
    await super.seed();
    const states: TargetState[] = [];
    for (const [index, name] of this.members.entries()) {
      const fn = memberFunction(name);
      this.functions.createFunction(fn);
      const { codeSha256 } = await this.functions.updateCodeAndWait(
        fn,
        `${REGISTRY_HOST}/switchyard-api@${DIGEST_BLUE}`,
      );
      const v1 = await this.functions.publishVersion(fn, 'initial', codeSha256);
      for (const alias of ['live', 'blue', 'green']) await this.functions.ensureAlias(fn, alias, v1.version);
      states.push({
        name,
        functionName: fn,
        blueVersion: null,
        greenVersion: v1.version,
        wave: index,
        phase: 'live',
        percent: 100,
      });
    }
    const at = new Date(this.clock.now().getTime() - 1_800_000).toISOString();
    await this.store.createRelease({
      releaseId: 'fleet-release-0',
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:release:fleet-release-0',
      environment: this.env,
      imageUri: `${REGISTRY_HOST}/switchyard-api@${DIGEST_BLUE}`,
      digest: DIGEST_BLUE,
      status: 'released',
      startedAt: at,
      endedAt: at,
      trigger: 'api:test',
      events: [],
      targets: { waveCount: 1, currentWave: null, members: states },
    });
    return this;
  }

  /** Before each Check health, every member's live traffic for the wait arrives, split as its live alias routes it. */
  override handlers(deps: ReleaseDependencies = this.deps): Record<string, TaskHandler> {
    const handlers = super.handlers(deps);
    const check = handlers[STATES.check];
    if (!check) throw new Error('no Check health handler');
    handlers[STATES.check] = async (input) => {
      const seconds = (input as { traffic: { waitSeconds: number } }).traffic.waitSeconds;
      const failing = (this.memberChecks++ >= (this.traffic.fromCheck ?? 0) && this.traffic.errorRate) || {};
      const start = this.clock.now().getTime();
      for (const name of this.members) {
        const fn = memberFunction(name);
        const live = await this.functions.getAlias(fn, 'live');
        if (!live) continue;
        const shares: [string, number][] = live.routing
          ? [
              [live.version, 1 - live.routing.weight],
              [live.routing.version, live.routing.weight],
            ]
          : [[live.version, 1]];
        for (const [version, share] of shares) {
          const invocations = Math.round((this.traffic.perCheck ?? 200) * share);
          const errors = version === '1' ? 0 : Math.round(invocations * (failing[name] ?? 0));
          for (let i = 0; i < invocations; i++) {
            this.metrics.record({
              functionName: fn,
              resource: 'live',
              version,
              at: new Date(start + ((i + 1) / (invocations + 1)) * seconds * 1000),
              durationMs: 40,
              error: i < errors,
              throttled: false,
            });
          }
        }
      }
      return check(input);
    };
    return handlers;
  }

  async memberLive(name: string) {
    return this.functions.getAlias(memberFunction(name), 'live');
  }

  async memberAlias(name: string, alias: string) {
    return this.functions.getAlias(memberFunction(name), alias);
  }
}

export const enteredStates = (result: ExecutionResult) =>
  result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
