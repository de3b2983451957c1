import { describe, expect, it } from 'vitest';
import { environments } from '../../config/environments.ts';
import type { HealthCheck, TrafficState } from '../../core/model/traffic.ts';
import type { MetricWindow, VersionMetrics } from '../../core/ports/ports.ts';
import type { ExecutionResult } from '../../local/engine.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { ReleaseWorld } from './harness.ts';

// Prod as configured: 10-second checks on the application's 10-second periods (15 s delay), Lambda's 1-minute
// metrics (120 s delay) as the second source. The local CloudWatch publishes each resolution within its delay.
const DELAYS = { metricPublishDelaySeconds: 90, highResolutionPublishDelaySeconds: 10 } as const;

function checks(result: ExecutionResult): TrafficState[] {
  return result.events
    .filter((e) => e.type === 'StateExited' && e.state === STATES.check)
    .map((e) => (e.output as { traffic: TrafficState }).traffic);
}

function lastCheck(result: ExecutionResult): HealthCheck | undefined {
  return checks(result).at(-1)?.lastCheck;
}

const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

describe('Check health on the high-resolution path (prod as configured)', () => {
  it('prod checks every 10 s on 10-second periods, with the 1-minute source beside them', () => {
    expect(environments.prod.bake).toMatchObject({
      checkIntervalSeconds: 10,
      metricDelaySeconds: 120,
      highResolution: { periodSeconds: 10, metricDelaySeconds: 15 },
    });
  });

  it('rolls a step regression back within 30 s of its onset, on the high-resolution source', async () => {
    let onset: string | undefined;
    const world: ReleaseWorld = await new ReleaseWorld({
      environments,
      ...DELAYS,
      traffic: (check) => {
        if (check === 12) onset = world.clock.now().toISOString();
        return { invocations: 100, errors: check >= 12 ? 30 : 0 };
      },
    }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));

    expect(result.error).toBe('ReleaseRolledBack');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    const check = lastCheck(result);
    expect(check?.verdict).toBe('unhealthy');
    expect(check?.source).toBe('high-resolution');
    if (!onset || !check) throw new Error('no onset or no check');
    // The onset's 10-second period ends 10 s in, is complete 15 s later, and the next 10-second check judges it.
    expect(seconds(onset, check.at)).toBeLessThanOrEqual(30);
    expect(seconds(check.window.start, check.window.end)).toBe(10);
    expect(result.cause).toContain('high-resolution 10 s metrics, window');
    expect(result.cause).toContain('error rate 30.00% exceeds 1%');
    // Lambda's 1-minute data of the onset minute is not complete yet: that source has not seen the fault.
    const lambda = check.sources?.find((s) => s.source === 'lambda');
    expect(lambda?.verdict).not.toBe('unhealthy');
    expect(Date.parse(lambda?.window.end ?? '')).toBeLessThanOrEqual(Date.parse(onset));
  });

  it('counts errors whose high-resolution data arrives after the configured delay: the periods are judged again', async () => {
    // The application's data lands 30 s after its period, twice the 15 s prod judges it at: the burst's periods are
    // empty when first judged. One check's worth of errors, then none.
    let burst: string | undefined;
    const world: ReleaseWorld = await new ReleaseWorld({
      environments,
      metricPublishDelaySeconds: 90,
      highResolutionPublishDelaySeconds: 30,
      traffic: (check) => {
        if (check === 12) burst = world.clock.now().toISOString();
        return { invocations: 100, errors: check === 12 ? 30 : 0 };
      },
    }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));

    expect(result.error).toBe('ReleaseRolledBack');
    const check = lastCheck(result);
    if (!burst || !check) throw new Error('no burst or no check');
    // Judged on the high-resolution source, from the periods read again, before Lambda's minute could say it.
    expect(check.source).toBe('high-resolution');
    expect(result.cause).toContain('late data');
    expect(seconds(burst, check.at)).toBeLessThanOrEqual(60);
  });

  it("rolls back on Lambda's 1-minute source a crash the application never reports", async () => {
    const world = await new ReleaseWorld({
      environments,
      ...DELAYS,
      traffic: (check) => ({ invocations: 100, errors: check >= 12 ? 30 : 0, crashes: true }),
    }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));

    expect(result.error).toBe('ReleaseRolledBack');
    const check = lastCheck(result);
    expect(check?.source).toBe('lambda');
    expect(result.cause).toContain('1-minute Lambda metrics, window');
    // The application's own metrics saw no error: crashed requests publish nothing.
    const highResolution = check?.sources?.find((s) => s.source === 'high-resolution');
    expect(highResolution?.step.errors).toBe(0);
    expect(highResolution?.verdict).not.toBe('unhealthy');
  });

  it('reads every window of a check (both sources, green and blue, window and step) in one sampleAll call', async () => {
    const world = await new ReleaseWorld({ environments, ...DELAYS }).seed();
    const reads: MetricWindow[][] = [];
    let singleReads = 0;
    const metrics: VersionMetrics = {
      sample: (window) => {
        singleReads++;
        return world.metrics.sample(window);
      },
      sampleAll: (windows) => {
        reads.push([...windows]);
        return world.metrics.sampleAll(windows);
      },
    };
    const result = await world.run(world.apiRequest(), { handlers: world.handlers({ ...world.deps, metrics }) });

    expect(result.status).toBe('SUCCEEDED');
    expect(singleReads).toBe(0);
    // At most one read per check: only a step's first checks, before any period of it is complete, read nothing.
    const steps = 2;
    expect(reads.length).toBeLessThanOrEqual(checks(result).length);
    expect(reads.length).toBeGreaterThanOrEqual(checks(result).length - 2 * steps);
    // High resolution reads its last minute again for late data (green and blue), then the window and the step.
    const full = reads.find((windows) => windows.length === 10);
    expect(full?.map((w) => [w.source ?? 'lambda', w.version])).toEqual([
      ['high-resolution', '2'],
      ['high-resolution', '1'],
      ['high-resolution', '2'],
      ['high-resolution', '2'],
      ['high-resolution', '1'],
      ['high-resolution', '1'],
      ['lambda', '2'],
      ['lambda', '2'],
      ['lambda', '1'],
      ['lambda', '1'],
    ]);
    expect(full?.filter((w) => w.source === 'high-resolution').every((w) => w.periodSeconds === 10)).toBe(true);
  });

  it("ends a step only once both sources' data up to its bake's end is complete", async () => {
    const world = await new ReleaseWorld({ environments, ...DELAYS }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));

    expect(result.status).toBe('SUCCEEDED');
    const traffic = checks(result);
    const final = traffic.at(-1);
    expect(final?.next).toBe('finalize');
    const bakeEnd = Date.parse(final?.bakeEndedAt ?? '');
    for (const source of final?.lastCheck?.sources ?? []) {
      expect(Date.parse(source.window.end)).toBeGreaterThanOrEqual(bakeEnd);
    }
    expect(final?.lastCheck?.sources?.map((s) => s.source)).toEqual(['high-resolution', 'lambda']);
    // The check before waited for Lambda's last minute while the high-resolution source was already complete.
    const before = traffic.at(-2)?.lastCheck?.sources ?? [];
    expect(Date.parse(before.find((s) => s.source === 'high-resolution')?.window.end ?? '')).toBeGreaterThanOrEqual(
      bakeEnd,
    );
    expect(Date.parse(before.find((s) => s.source === 'lambda')?.window.end ?? '')).toBeLessThan(bakeEnd);
  });

  it('judges a release validated before the high-resolution source on 1-minute metrics alone', async () => {
    const world = await new ReleaseWorld({ environments, ...DELAYS }).seed();
    const reads: MetricWindow[][] = [];
    const metrics: VersionMetrics = {
      sample: (window) => world.metrics.sample(window),
      sampleAll: (windows) => {
        reads.push([...windows]);
        return world.metrics.sampleAll(windows);
      },
    };
    const handlers = world.handlers({ ...world.deps, metrics });
    const check = handlers[STATES.check];
    // The in-flight release context as an older Validate release wrote it: no `highResolution`.
    handlers[STATES.check] = async (input) => {
      const { release, ...rest } = input as { release: Record<string, unknown> };
      const { highResolution: _absent, ...older } = release;
      return check?.({ ...rest, release: older });
    };
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), { handlers });

    expect(result.status).toBe('SUCCEEDED');
    expect(reads.flat().every((w) => w.source === undefined)).toBe(true);
    const last = lastCheck(result);
    expect(last?.source).toBe('lambda');
    expect(last?.sources).toBeUndefined();
    expect(last?.reasons.join('; ')).not.toContain('high-resolution');
  });
});
