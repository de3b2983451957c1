import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { Environments } from '../config/schema.ts';
import { longestReleaseMinutes } from '../config/traffic-plan.ts';
import { ReleaseWorkflow } from '../state-machine/release-workflow.ts';
import { type HandlerTask, STATES } from '../state-machine/state-names.ts';

/** Where "Scan & provision" keeps the build's outcome; only these fields, so the state stays small. */
export const PROVISION_RESULT_PATH = '$.provision';

export interface ReleaseStateMachineProps {
  readonly handlers: Record<HandlerTask, lambda.IFunction>;
  /** The release-stage CodeBuild project "Scan & provision" runs (`startBuild.sync`). */
  readonly releaseProject: codebuild.IProject;
  /** The configured environments; the longest lock lifetime among them bounds an execution. */
  readonly environments: Environments;
  /** Encrypts the execution log group. */
  readonly key: kms.IKey;
  /**
   * Retention of the execution history in CloudWatch Logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Whether executions are traced with X-Ray.
   * @default true
   */
  readonly tracing?: boolean;
}

/**
 * StartBuild at the image's own commit: `SourceVersion` is "the version of the build input to be built, for this
 * build only. If not specified, the latest version is used … For GitHub: the commit ID, pull request ID, branch
 * name, or tag name" (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html). CDK's
 * CodeBuildStartBuild has no such property, so this adds the parameter to what it renders; the `.sync` integration
 * passes StartBuild's parameters through. Validate release sets `$.release.sourceCommit` from the image's
 * `git-<commit>` tag wherever this state runs.
 */
class StartBuildAtImageCommit extends tasks.CodeBuildStartBuild {
  protected override _renderTask(topLevelQueryLanguage?: sfn.QueryLanguage): Record<string, unknown> {
    const rendered = super._renderTask(topLevelQueryLanguage) as { Parameters?: Record<string, unknown> };
    return {
      ...rendered,
      Parameters: { ...rendered.Parameters, 'SourceVersion.$': SOURCE_VERSION_PATH },
    };
  }
}

/** Where "Scan & provision" reads the commit to check out. */
export const SOURCE_VERSION_PATH = '$.release.sourceCommit';

/**
 * The release workflow as a Standard state machine: the definition from `state-machine/` with the release stage
 * as its "Scan & provision" step, every event logged to an encrypted log group, X-Ray tracing,
 * and an execution timeout equal to the longest release (lock lifetime plus the longest pause), after which reconcile
 * cleans up.
 */
export class ReleaseStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReleaseStateMachineProps) {
    super(scope, id);
    // The longest release: its lock's lifetime plus the longest pause it may be held for (the lock is renewed then).
    const ttls = Object.values(props.environments).map(longestReleaseMinutes);
    if (ttls.length === 0) throw new Error('ReleaseStateMachine needs at least one environment');

    const scan = new StartBuildAtImageCommit(this, 'ScanAndProvision', {
      stateName: STATES.scan,
      comment: 'Scans the image by digest (Trivy) and applies Terraform for the environment, in CodeBuild.',
      project: props.releaseProject,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      environmentVariablesOverride: {
        IMAGE_DIGEST: { value: sfn.JsonPath.stringAt('$.release.digest') },
        IMAGE_URI: { value: sfn.JsonPath.stringAt('$.release.imageUri') },
        SWITCHYARD_ENVIRONMENT: { value: sfn.JsonPath.stringAt('$.release.environment') },
        RELEASE_ID: { value: sfn.JsonPath.stringAt('$.release.releaseId') },
        SWITCHYARD_STAGE: { value: 'release' },
      },
      resultSelector: {
        'buildId.$': '$.Build.Id',
        'buildStatus.$': '$.Build.BuildStatus',
      },
      resultPath: PROVISION_RESULT_PATH,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(60)),
    });

    const workflow = new ReleaseWorkflow(this, 'Workflow', { handlers: props.handlers, scanAndProvision: scan });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The vendedlogs prefix keeps the log group out of CloudWatch Logs' resource policy size limit.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200 })}`,
      encryptionKey: props.key,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment:
        'Switchyard release: validate, scan & provision, deploy green, verify, shift, bake, finalize or roll back',
      definitionBody: sfn.DefinitionBody.fromChainable(workflow.startState),
      timeout: Duration.minutes(Math.max(...ttls)),
      tracingEnabled: props.tracing ?? true,
      // Every event, without its data: an approval step's task token is a secret and would be in the parameters.
      // Inputs and outputs stay in the execution history, where IAM guards them.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }
}
