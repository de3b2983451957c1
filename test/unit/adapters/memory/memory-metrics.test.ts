import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../adapters/memory/clocks.ts';
import { MemoryVersionMetrics } from '../../../../adapters/memory/memory-metrics.ts';

const window = {
  functionName: 'fn',
  alias: 'live',
  version: '2',
  start: new Date('2026-11-26T10:00:00.000Z'),
  end: new Date('2026-11-26T10:05:00.000Z'),
};

describe('the local CloudWatch metrics', () => {
  it('publishes a data point only once its minute has ended and the publication delay has passed', async () => {
    const clock = new ManualClock('2026-11-26T10:00:00.000Z');
    const metrics = new MemoryVersionMetrics({ clock, publishDelaySeconds: 90 });
    metrics.record({
      functionName: 'fn',
      resource: 'live',
      version: '2',
      at: new Date('2026-11-26T10:00:20.000Z'),
      durationMs: 30,
      error: true,
      throttled: false,
    });
    clock.advance(149); // 10:02:29: the minute ended at 10:01, published at 10:02:30
    expect(await metrics.sample(window)).toMatchObject({ invocations: 0, errors: 0 });
    clock.advance(1);
    expect(await metrics.sample(window)).toMatchObject({ invocations: 1, errors: 1 });
  });

  it('reads a window as [start, end): a point at the end belongs to the next window', async () => {
    const metrics = new MemoryVersionMetrics();
    metrics.record({
      functionName: 'fn',
      resource: 'live',
      version: '2',
      at: window.end,
      durationMs: 1,
      error: false,
      throttled: false,
    });
    expect((await metrics.sample(window)).invocations).toBe(0);
  });
});

describe('the local CloudWatch per resolution', () => {
  const point = (at: string, extra: { resource?: string; functionError?: boolean; error?: boolean } = {}) => ({
    functionName: 'fn',
    resource: extra.resource ?? 'live',
    version: '2',
    at: new Date(at),
    durationMs: 30,
    error: extra.error ?? false,
    throttled: false,
    ...(extra.functionError !== undefined ? { functionError: extra.functionError } : {}),
  });
  const highResolution = {
    ...window,
    start: new Date('2026-11-26T10:00:10.000Z'),
    end: new Date('2026-11-26T10:00:30.000Z'),
    source: 'high-resolution' as const,
    periodSeconds: 10,
  };

  it('publishes a high-resolution point once its 10-second period has ended and its own delay has passed', async () => {
    const clock = new ManualClock('2026-11-26T10:00:00.000Z');
    const metrics = new MemoryVersionMetrics({ clock, publishDelaySeconds: 90, highResolutionPublishDelaySeconds: 10 });
    metrics.record(point('2026-11-26T10:00:12.000Z', { error: true }));
    clock.advance(29); // 10:00:29: the period ended at 10:00:20, published at 10:00:30
    expect(await metrics.sample(highResolution)).toMatchObject({ invocations: 0 });
    clock.advance(1);
    expect(await metrics.sample(highResolution)).toMatchObject({ invocations: 1, errors: 1 });
    // Lambda's 1-minute source still has nothing: its minute publishes at 10:02:30.
    expect(await metrics.sample({ ...window, end: new Date('2026-11-26T10:01:00.000Z') })).toMatchObject({
      invocations: 0,
    });
  });

  it("reads the application's metrics by version whatever the alias, and without the requests that crashed", async () => {
    const metrics = new MemoryVersionMetrics();
    metrics.record(point('2026-11-26T10:00:12.000Z'));
    metrics.record(point('2026-11-26T10:00:13.000Z', { resource: 'green' }));
    metrics.record(point('2026-11-26T10:00:14.000Z', { functionError: true, error: true }));
    // Before the window's first period, and in the period at its end: not counted.
    metrics.record(point('2026-11-26T10:00:09.000Z'));
    metrics.record(point('2026-11-26T10:00:30.000Z'));

    expect(await metrics.sample(highResolution)).toMatchObject({ invocations: 2, errors: 0 });
    expect(
      await metrics.sample({
        ...window,
        start: new Date('2026-11-26T10:00:00.000Z'),
        end: new Date('2026-11-26T10:01:00.000Z'),
      }),
    ).toMatchObject({ invocations: 4, errors: 1 });
  });

  it('samples many windows at once, in order', async () => {
    const metrics = new MemoryVersionMetrics();
    metrics.record(point('2026-11-26T10:00:12.000Z'));
    const samples = await metrics.sampleAll([highResolution, { ...highResolution, version: '3' }, window]);
    expect(samples.map((s) => s.invocations)).toEqual([1, 0, 1]);
  });
});
