import type { MetricWindow, VersionMetrics, VersionMetricsSample } from '../../core/ports.ts';

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

/** Lambda's per-version metrics: one data point per invocation, read back in CloudWatch's 1-minute buckets. */
export class MemoryVersionMetrics implements VersionMetrics {
  private readonly points: InvocationPoint[] = [];

  record(point: InvocationPoint): void {
    this.points.push(point);
  }

  all(): readonly InvocationPoint[] {
    return this.points;
  }

  async sample(window: MetricWindow): Promise<VersionMetricsSample> {
    // CloudWatch timestamps a data point at the start of its minute, and GetMetricData returns whole periods.
    const start = Math.floor(window.start.getTime() / 60_000) * 60_000;
    const end = window.end.getTime();
    const matching = this.points.filter(
      (p) =>
        p.functionName === window.functionName &&
        p.resource === window.alias &&
        p.version === window.version &&
        p.at.getTime() >= start &&
        p.at.getTime() <= end,
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
