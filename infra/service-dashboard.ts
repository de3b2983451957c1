import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { Environments } from '../config/schema.ts';
import { ServiceMetrics } from './service-metrics.ts';

export interface ServiceDashboardProps {
  readonly metrics: ServiceMetrics;
  /** The application's environments: one per-version error-rate graph each. */
  readonly environments: Environments;
  /** @default - CloudFormation names it */
  readonly dashboardName?: string;
}

/** Releases started, succeeded, rolled back and failed; their duration; each application version's error rate. */
export class ServiceDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    const m = props.metrics;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Releases',
        width: 12,
        left: [m.releasesStarted(), m.releasesSucceeded(), m.releasesRolledBack(), m.releasesFailed()],
        stacked: false,
      }),
      new cloudwatch.GraphWidget({
        title: 'Release duration',
        width: 12,
        left: [m.releaseDuration('p50'), m.releaseDuration('p90'), m.releaseDuration('Maximum')],
      }),
    );
    this.dashboard.addWidgets(
      ...Object.values(props.environments).map(
        (env) =>
          new cloudwatch.GraphWidget({
            title: `${env.name}: error rate per version behind ${env.aliases.live} (%)`,
            width: 8,
            left: [ServiceMetrics.versionErrorRate(env)],
            leftYAxis: { min: 0, max: 100, showUnits: false },
          }),
      ),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Stopped executions and reconcile',
        width: 24,
        left: [m.releasesTimedOut(), m.releasesAborted(), m.reconcileInvocations(), m.reconcileErrors()],
      }),
    );
  }
}
