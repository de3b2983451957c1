/** Powertools, configured once for the whole app; everything else imports these instances. */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricResolution, Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'switchyard-app';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'Switchyard/App',
});
/** Off outside Lambda (Powertools detects it), so tests and local runs need no X-Ray daemon. */
export const tracer = new Tracer({ serviceName });

/** Per-version request metrics: alarms and dashboards split canary from stable by the FunctionVersion dimension. */
export function useFunctionVersionDimension(version: string): void {
  metrics.setDefaultDimensions({ FunctionVersion: version });
}

export interface RequestMeasurement {
  readonly statusCode: number;
  readonly latencyMs: number;
  readonly usedPreviousSecret: boolean;
}

export function recordRequest(measurement: RequestMeasurement): void {
  // High resolution (EMF StorageResolution 1): Check health reads these in 10-second periods (docs/verdicts.md).
  metrics.addMetric('Requests', MetricUnit.Count, 1, MetricResolution.High);
  metrics.addMetric('Errors', MetricUnit.Count, measurement.statusCode >= 500 ? 1 : 0, MetricResolution.High);
  metrics.addMetric(
    'ClientErrors',
    MetricUnit.Count,
    measurement.statusCode >= 400 && measurement.statusCode < 500 ? 1 : 0,
  );
  metrics.addMetric('Latency', MetricUnit.Milliseconds, measurement.latencyMs, MetricResolution.High);
  // Tells an operator when every client has moved to the current secret and the previous one can go.
  if (measurement.usedPreviousSecret) metrics.addMetric('PreviousSecretUsed', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}
