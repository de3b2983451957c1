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
