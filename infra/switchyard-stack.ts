import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { environments as configuredEnvironments, loggingSettings, pushTargets } from '../config/environments.ts';
import {
  applyEnvironmentOverrides,
  ENVIRONMENT_OVERRIDES_VARIABLE,
  type EnvironmentOverrides,
  sharedRepositoryName,
} from '../config/overrides.ts';
import { type Environments, InvalidConfig, refuseWindowOverlaps } from '../config/schema.ts';
import { RECONCILE } from '../contract/service-functions.ts';
import { STATES } from '../state-machine/state-names.ts';
import { AlertsTopic } from './alerts-topic.ts';
import { applicationAlarmArns, applicationFunctionArns } from './handler-permissions.ts';
import { ImageBuildProject } from './image-build-project.ts';
import { ImageRepository } from './image-repository.ts';
import { acknowledgeFindings, acknowledgeWildcards, handlerWildcards } from './nag-acknowledgements.ts';
import { PushReleaseRule } from './push-release-rule.ts';
import { ReconcileRule } from './reconcile-rule.ts';
import { ReleaseApi, ReleaseApiFunction } from './release-api.ts';
import { ReleaseStageProject } from './release-stage-project.ts';
import { ReleaseStateMachine } from './release-state-machine.ts';
import { ReleaseTable } from './release-table.ts';
import { ServiceAlarms } from './service-alarms.ts';
import { ServiceDashboard } from './service-dashboard.ts';
import { ServiceFunctions } from './service-functions.ts';
import { ServiceKey } from './service-key.ts';
import { ServiceMetrics } from './service-metrics.ts';
import { TerraformState } from './terraform-state.ts';

export interface SwitchyardStackProps extends StackProps {
  /** Where the build and release stages check out the repository (and `buildspec.yml`). */
  readonly source: codebuild.ISource;
  /** The release stage's checkout of the same repository, without a webhook (`githubSources`). */
  readonly releaseSource: codebuild.ISource;
  /**
   * The environments the service releases into.
   * @default the validated config in config/environments.ts
   */
  readonly environments?: Environments;
  /**
   * Names of existing functions, repository and aliases merged over config/environments.ts ("bring your own
   * function"); every handler gets them too (`SWITCHYARD_ENVIRONMENT_OVERRIDES`). Not with `environments`.
   */
  readonly environmentOverrides?: EnvironmentOverrides;
}

/** The overrides ride in one handler environment variable; Lambda allows 4 KB for all of a function's variables. */
const MAX_OVERRIDES_CHARACTERS = 2048;

/** The handlers log at the most detailed level and keep logs as long as the most demanding environment asks. */
function serviceLogging(envs: Environments): { logLevel: string; retention: logs.RetentionDays } {
  const settings = Object.values(envs).map(loggingSettings);
  const logLevel = settings.some((s) => s.logLevel === 'INFO') ? 'INFO' : 'WARN';
  const days = Math.max(...settings.map((s) => s.retentionDays));
  const retention = days >= 90 ? logs.RetentionDays.THREE_MONTHS : logs.RetentionDays.TWO_WEEKS;
  return { logLevel, retention };
}

/**
 * The Switchyard release service: one stack for every environment (the environment is part of each execution's
 * input). Terraform, run by the release stage, owns the application environments themselves.
 */
export class SwitchyardStack extends Stack {
  readonly repository: ImageRepository;
  readonly table: ReleaseTable;
  readonly alerts: AlertsTopic;
  readonly functions: ServiceFunctions;
  readonly stateMachine: ReleaseStateMachine;
  readonly terraformState: TerraformState;
  readonly releaseApi: ReleaseApi;
  readonly releaseApiFunction: ReleaseApiFunction;
  readonly buildProject: ImageBuildProject;
  readonly releaseProject: ReleaseStageProject;
  readonly pushRules: PushReleaseRule[];
  readonly reconcileRule: ReconcileRule;

  constructor(scope: Construct, id: string, props: SwitchyardStackProps) {
    super(scope, id, props);
    if (props.environments && props.environmentOverrides) {
      throw new Error('SwitchyardStack takes environments or environmentOverrides, not both');
    }
    const envs = props.environmentOverrides
      ? applyEnvironmentOverrides(configuredEnvironments, props.environmentOverrides)
      : (props.environments ?? configuredEnvironments);
    // Release windows whose occurrences overlap are refused here, at synth (too costly for a handler's cold start).
    refuseWindowOverlaps(envs);
    const logging = serviceLogging(envs);
    const key = new ServiceKey(this, 'ServiceKey').key;

    this.repository = new ImageRepository(this, 'Images', {
      repositoryName: sharedRepositoryName(envs),
      pullingFunctionArns: applicationFunctionArns(this, Object.values(envs)),
    });
    this.table = new ReleaseTable(this, 'Releases');
    this.alerts = new AlertsTopic(this, 'Alerts', { key });
    this.terraformState = new TerraformState(this, 'TerraformState');

    this.functions = new ServiceFunctions(this, 'Handlers', {
      environments: envs,
      table: this.table.table,
      topic: this.alerts.topic,
      topicKey: key,
      repository: this.repository.repository,
      stateBucket: this.terraformState.bucket,
      logLevel: logging.logLevel,
      logRetention: logging.retention,
    });

    this.buildProject = new ImageBuildProject(this, 'ImageBuild', {
      source: props.source,
      repository: this.repository.repository,
      key,
      scanRecords: this.terraformState.bucket,
    });
    this.releaseProject = new ReleaseStageProject(this, 'ReleaseStage', {
      source: props.releaseSource,
      environments: envs,
      repository: this.repository.repository,
      topic: this.alerts.topic,
      stateBucket: this.terraformState.bucket,
      lockTable: this.terraformState.lockTable,
      key,
    });

    this.stateMachine = new ReleaseStateMachine(this, 'Release', {
      handlers: this.functions.taskFunctions,
      releaseProject: this.releaseProject.project,
      environments: envs,
      key,
    });

    this.pushRules = pushTargets(envs).map(
      (env) =>
        new PushReleaseRule(this, `ReleaseOnPush-${env.name}`, {
          environment: env,
          repository: this.repository.repository,
          stateMachine: this.stateMachine.stateMachine,
          key,
        }),
    );
    this.reconcileRule = new ReconcileRule(this, 'ReconcileStopped', {
      stateMachine: this.stateMachine.stateMachine,
      handler: this.functions.functions[RECONCILE].function,
      key,
    });

    this.releaseApiFunction = new ReleaseApiFunction(this, 'ReleaseApiFunction', {
      environments: envs,
      stateMachine: this.stateMachine.stateMachine,
      table: this.table.table,
      topic: this.alerts.topic,
      topicKey: key,
      repository: this.repository.repository,
      stateBucket: this.terraformState.bucket,
      logLevel: logging.logLevel,
      logRetention: logging.retention,
    });
    if (props.environmentOverrides) {
      // The handlers read config/environments.ts at run time: the same overrides reach them, applied at cold start.
      const overrides = JSON.stringify(props.environmentOverrides);
      // Lambda caps a function's environment variables at 4 KB in aggregate (Lambda quotas,
      // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); half is left to the others.
      if (overrides.length > MAX_OVERRIDES_CHARACTERS) {
        throw new InvalidConfig(
          `invalid environment overrides: ${overrides.length} characters of JSON, more than the ${MAX_OVERRIDES_CHARACTERS} a handler's environment variable may hold`,
        );
      }
      for (const fn of [...Object.values(this.functions.functions), this.releaseApiFunction.handler]) {
        fn.function.addEnvironment(ENVIRONMENT_OVERRIDES_VARIABLE, overrides);
      }
    }
    this.releaseApi = new ReleaseApi(this, 'ReleaseApi', { handler: this.releaseApiFunction.handler.function });
    this.releaseProject.keepOffApi(this.releaseApi.api);
    // What `switchyard --api` (or SWITCHYARD_API_URL) takes: `cdk deploy` prints it, CloudFormation keeps it.
    new CfnOutput(this, 'ReleaseApiUrl', {
      value: this.releaseApi.api.url,
      description: 'The release API base URL: export SWITCHYARD_API_URL=<this> for the switchyard CLI',
    });
    acknowledgeWildcards(this.releaseApiFunction, [
      {
        finding: /^Resource::\*$/,
        reason:
          'states:SendTaskSuccess/SendTaskFailure (approve, reject) have no resource type in the service authorization reference and are authorized on * only; X-Ray accepts no resource ARN',
      },
      ...handlerWildcards(envs),
      {
        finding: /^Resource::arn:(?:<[^>]+>|[^:<]*):states:(?:<[^>]+>|[^:<]*):(?:<[^>]+>|[^:<]*):execution:.+:\*$/,
        reason:
          "Describe, read the history of and stop this state machine's executions: execution ARNs end in the release id, which is chosen per release",
      },
    ]);

    const metrics = new ServiceMetrics(
      this.stateMachine.stateMachine,
      this.functions.functions[STATES.rollBack].function,
      this.functions.functions[RECONCILE].function,
    );
    new ServiceDashboard(this, 'Dashboard', { metrics, environments: envs });
    const serviceAlarms = new ServiceAlarms(this, 'Alarms', {
      metrics,
      topic: this.alerts.topic,
      deadLetterQueues: {
        ...Object.fromEntries(this.pushRules.map((r, i) => [`ReleaseOnPush${i}`, r.deadLetterQueue])),
        Reconcile: this.reconcileRule.deadLetterQueue,
      },
    });
    // The service's alarms and the environments' (Terraform's alarms notify the same topic, ALERTS_TOPIC_ARN).
    this.alerts.letAlarmsPublish([...serviceAlarms.alarmArns, ...applicationAlarmArns(this, Object.values(envs))]);

    acknowledgeFindings({
      stack: this,
      environments: envs,
      handlers: this.functions,
      stateMachine: this.stateMachine,
      buildProject: this.buildProject,
      releaseProject: this.releaseProject,
      rules: [
        ...[...this.pushRules.map((r) => r.deadLetterQueue), this.reconcileRule.deadLetterQueue].map((queue) => ({
          scope: queue,
          id: 'AwsSolutions-SQS3',
          reason:
            'This queue is itself the dead-letter queue of an EventBridge target; a DLQ of a DLQ would only hide events',
        })),
        {
          scope: this.releaseApi.api,
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
          reason:
            "API Gateway's account-level logging role: AWS's service-role policy is the documented way to let API Gateway write access and execution logs",
        },
        {
          scope: this.releaseApi.api,
          id: 'AwsSolutions-COG4',
          reason:
            'The release API is for operators and CI with AWS credentials: every method requires SigV4 (IAM) authorization instead of a Cognito pool',
        },
        {
          scope: this.releaseApi.api,
          id: 'AwsSolutions-APIG3',
          reason:
            'Every method requires SigV4 (IAM) authorization, so there is no anonymous surface for a web ACL to filter; the application API has its WAF (Terraform)',
        },
      ],
    });
  }
}
