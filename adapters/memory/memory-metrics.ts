import { metricPeriodSeconds } from '../../core/model/metric-period.ts';
import type { Clock, MetricWindow, VersionMetrics, VersionMetricsSample } from '../../core/ports/ports.ts';

export interface InvocationPoint {
  readonly functionName: string;
  /** The alias the request came through (CloudWatch's Resource dimension), or the version for a direct call. */
  readonly resource: string;
  readonly version: string;
  readonly at: Date;
  readonly durationMs: number;
  readonly error: boolean;
  readonly throttled: boolean;
  /**
   * The function itself failed (threw, timed out): the application published no metric for the request, so only
   * Lambda's source counts it. @default false
   */
  readonly functionError?: boolean;
}

export interface MemoryVersionMetricsOptions {
  /** Reads see only the data points published by now; without a clock every point is visible at once. */
  readonly clock?: Clock;
  /**
   * Seconds after its minute ends that a data point becomes visible, as CloudWatch publishes Lambda's metrics in
   * 1-minute intervals, some time after the invocation they are stamped with. @default 0
   */
  readonly publishDelaySeconds?: number;
  /**
   * Seconds after its period ends that a high-resolution data point (the application's EMF metrics) becomes
   * visible. @default 0
   */
  readonly highResolutionPublishDelaySeconds?: number;
}

/**
 * Per-version metrics: one data point per invocation, read back in CloudWatch's buckets, 1-minute ones for Lambda's
 * source and the window's own period (10 s by default) for the application's high-resolution source, each published
 * after its own delay.
 */
export class MemoryVersionMetrics implements VersionMetrics {
  private readonly points: InvocationPoint[] = [];
  /** The points of each function version: a read scans one version's points, not a whole fleet's. */
  private readonly byVersion = new Map<string, InvocationPoint[]>();

  constructor(private readonly options: MemoryVersionMetricsOptions = {}) {}

  record(point: InvocationPoint): void {
    this.points.push(point);
    const key = versionKey(point.functionName, point.version);
    const points = this.byVersion.get(key);
    if (points) points.push(point);
    else this.byVersion.set(key, [point]);
  }

  all(): readonly InvocationPoint[] {
    return this.points;
  }

  async sampleAll(windows: readonly MetricWindow[]): Promise<VersionMetricsSample[]> {
    return Promise.all(windows.map((window) => this.sample(window)));
  }

  async sample(window: MetricWindow): Promise<VersionMetricsSample> {
    // CloudWatch timestamps a data point at the start of its period, and GetMetricData returns whole periods.
    const highResolution = window.source === 'high-resolution';
    const periodMs = metricPeriodSeconds(window) * 1000;
    const start = Math.floor(window.start.getTime() / periodMs) * periodMs;
    const end = window.end.getTime();
    const now = this.options.clock?.now().getTime();
    const delayMs =
      ((highResolution ? this.options.highResolutionPublishDelaySeconds : this.options.publishDelaySeconds) ?? 0) *
      1000;
    const published = (p: InvocationPoint) =>
      now === undefined || (Math.floor(p.at.getTime() / periodMs) + 1) * periodMs + delayMs <= now;
    const matching = (this.byVersion.get(versionKey(window.functionName, window.version)) ?? []).filter(
      (p) =>
        // The application's metrics carry the version, not the alias it was called through.
        (highResolution ? !p.functionError && !p.throttled : p.resource === window.alias) &&
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

function versionKey(functionName: string, version: string): string {
  return `${functionName}\n${version}`;
}
