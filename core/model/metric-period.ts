import type { MetricWindow } from '../ports/ports.ts';

/** Periods CloudWatch allows below a minute for high-resolution metrics (MetricStat.Period). */
export const HIGH_RESOLUTION_PERIODS = [1, 5, 10, 20, 30] as const;

/** A window no metrics backend can read: an unknown source, or a period CloudWatch does not allow for it. */
export class InvalidMetricWindow extends Error {
  override readonly name = 'InvalidMetricWindow';
}

/** The period a window is read in: 60 s for Lambda's 1-minute metrics, the window's own for high resolution. */
export function metricPeriodSeconds(window: Pick<MetricWindow, 'source' | 'periodSeconds'>): number {
  const source = window.source ?? 'lambda';
  if (source === 'lambda') return 60;
  if (source !== 'high-resolution') throw new InvalidMetricWindow(`unknown metric source "${String(source)}"`);
  const period = window.periodSeconds ?? 10;
  if (!(HIGH_RESOLUTION_PERIODS as readonly number[]).includes(period)) {
    throw new InvalidMetricWindow(
      `a high-resolution period must be one of ${HIGH_RESOLUTION_PERIODS.join(', ')} seconds, not ${period}`,
    );
  }
  return period;
}
