import { describe, expect, it } from 'vitest';
import type { MetricWindow } from '../../core/ports.ts';
import type { TrafficState } from '../../core/traffic.ts';
import type { ReleaseDependencies } from '../../handlers/release-dependencies.ts';
import type { TaskHandler } from '../../handlers/task-handler.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { FleetWorld, memberFunction } from './fleet-harness.ts';

// Prod's bake as configured (10-second checks, high-resolution 10-second periods beside Lambda's 1-minute metrics),
// with short bakes so the fleet reaches its second wave quickly; 600 calls a check per member, enough to judge a
// 10% canary on one 10-second period. Nothing here depends on the machine's speed: the clock is the harness's.
const FLEET = ['m1', 'm2', 'm3'] as const;
const SHORT_BAKES = { strategy: { kind: 'canary', percent: 10, bakeMinutes: 1 }, bake: { minutes: 2 } } as const;

/** The fleet world, counting the batched metric reads each Check health makes. */
class CountingWorld extends FleetWorld {
  readonly reads: MetricWindow[][] = [];
  /** Per Check health: the sampleAll calls it made and the state it returned. */
  readonly perCheck: { reads: number; traffic: TrafficState }[] = [];

  override handlers(deps: ReleaseDependencies = this.deps): Record<string, TaskHandler> {
    const handlers = super.handlers(deps);
    const check = handlers[STATES.check];
    if (!check) throw new Error('no Check health handler');
    handlers[STATES.check] = async (input) => {
      const before = this.reads.length;
      const output = await check(input);
      const traffic = output as TrafficState;
      this.perCheck.push({ reads: this.reads.length - before, traffic });
      return output;
    };
    return handlers;
  }
}

describe('the fleet check on the high-resolution path', () => {
  it("catches a member's regression on the high-resolution source, reading every member's windows in one sampleAll a check", async () => {
    const world = await new CountingWorld({ perCheck: 600, errorRate: { m2: 0.5 } }, FLEET, {
      approvals: 'auto',
      patch: SHORT_BAKES,
    }).seed();
    const reads = world.reads;
    const sampleAll = world.metrics.sampleAll.bind(world.metrics);
    world.metrics.sampleAll = async (windows) => {
      reads.push([...windows]);
      return sampleAll(windows);
    };
    const result = await world.run(world.apiRequest());

    expect(result.error).toBe('ReleaseRolledBack');
    const record = await world.store.getRelease('release-1');
    expect(record?.targets.trippedBy).toBe('m2');
    const halted = record?.events.find((e) => e.kind === 'health-check' && e.evidence?.next === 'roll-back');
    const check = halted?.kind === 'health-check' ? halted.evidence?.check : undefined;
    expect(check?.verdict).toBe('unhealthy');
    expect(check?.source).toBe('high-resolution');
    expect(check?.sources?.map((s) => s.source)).toEqual(['high-resolution', 'lambda']);
    expect(check?.reasons[0]).toMatch(/^m2 \(v2, 10%\): high-resolution 10 s metrics, window /);
    // Lambda's 1-minute data of the onset is not complete yet when the faster source catches it.
    expect(check?.sources?.find((s) => s.source === 'lambda')?.verdict).not.toBe('unhealthy');

    // One batched read per Check health, holding every moved member's windows of both sources.
    // At most one read a check; a check that reads nothing had no complete period on either source yet (right
    // after a shift), so it judged empty windows.
    expect(world.perCheck.filter((c) => c.reads === 1).length).toBeGreaterThan(10);
    for (const { reads: n, traffic } of world.perCheck) {
      expect(n).toBeLessThanOrEqual(1);
      if (n === 0) {
        for (const source of traffic.lastCheck?.sources ?? []) expect(source.window.start).toBe(source.window.end);
      }
    }
    // The halting check read both wave-2 members' windows and wave 1's m1 (at 100%) in the same call.
    const members = (read: MetricWindow[]) => new Set(read.map((w) => w.functionName));
    expect(members(reads.at(-1) ?? [])).toEqual(new Set(['m1', 'm2'].map(memberFunction)));
    // Once Lambda's 1-minute data is complete, the same call carries both sources' windows.
    expect(reads.some((read) => new Set(read.map((w) => w.source ?? 'lambda')).size === 2)).toBe(true);
  }, 300_000);
});
