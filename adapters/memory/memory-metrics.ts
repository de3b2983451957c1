import type { Clock, MetricWindow, VersionMetrics, VersionMetricsSample } from '../../core/ports.ts';

export interface InvocationPoint {
  readonly functionName: string;
  /** The alias the request came through (CloudWatch's Resource dimension), or the version for a direct call. */
  readonly resource: string;
  readonly version: string;
  readonly at: Date;
  readonly durationMs: number;
  readonly error: boolean;
  readonly throttled: boolean;
}

export interface MemoryVersionMetricsOptions {
  /** Reads see only the data points published by now; without a clock every point is visible at once. */
  readonly clock?: Clock;
  /**
   * Seconds after its minute ends that a data point becomes visible, as CloudWatch publishes Lambda's metrics in
   * 1-minute intervals, some time after the invocation they are stamped with. @default 0
   */
  readonly publishDelaySeconds?: number;
}

const MINUTE_MS = 60_000;

/** Lambda's per-version metrics: one data point per invocation, read back in CloudWatch's 1-minute buckets. */
export class MemoryVersionMetrics implements VersionMetrics {
  private readonly points: InvocationPoint[] = [];

  constructor(private readonly options: MemoryVersionMetricsOptions = {}) {}

  record(point: InvocationPoint): void {
    this.points.push(point);
  }

  all(): readonly InvocationPoint[] {
    return this.points;
  }

  async sample(window: MetricWindow): Promise<VersionMetricsSample> {
    // CloudWatch timestamps a data point at the start of its minute, and GetMetricData returns whole periods.
    const start = Math.floor(window.start.getTime() / MINUTE_MS) * MINUTE_MS;
    const end = window.end.getTime();
    const now = this.options.clock?.now().getTime();
    const delayMs = (this.options.publishDelaySeconds ?? 0) * 1000;
    const published = (p: InvocationPoint) =>
      now === undefined || (Math.floor(p.at.getTime() / MINUTE_MS) + 1) * MINUTE_MS + delayMs <= now;
    const matching = this.points.filter(
      (p) =>
        p.functionName === window.functionName &&
        p.resource === window.alias &&
        p.version === window.version &&
        p.at.getTime() >= start &&
        p.at.getTime() < end &&
        published(p),
    );
    const invoked = matching.filter((p) => !p.throttled);
    const durations = invoked.map((p) => p.durationMs).sort((a, b) => a - b);
    const p99 =
      durations.length > 0
        ? (durations[Math.min(durations.length - 1, Math.ceil(durations.length * 0.99) - 1)] ?? null)
        : null;
    return {
      invocations: invoked.length,
      errors: invoked.filter((p) => p.error).length,
      throttles: matching.length - invoked.length,
      p99DurationMs: p99,
    };
  }
}
