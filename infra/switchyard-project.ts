import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The stages of the one `buildspec.yml`; `SWITCHYARD_STAGE` picks which steps run. */
export type SwitchyardStage = 'build' | 'release';

export interface SwitchyardProjectProps {
  readonly stage: SwitchyardStage;
  readonly description: string;
  /** Where `buildspec.yml` and the code come from (the repository's source connection). */
  readonly source: codebuild.ISource;
  /** Encrypts the build's artifacts and logs at rest. */
  readonly key: kms.IKey;
  /**
   * Plain-text variables besides `SWITCHYARD_STAGE` (names and ARNs only: never secrets).
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Docker-in-Docker, for the image build.
   * @default false
   */
  readonly privileged?: boolean;
  /** @default Duration.minutes(30) */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A CodeBuild project running one stage of `buildspec.yml` on arm64 (the image's architecture), with its own
 * encrypted log group and a role that starts out with nothing beyond its logs and reports; callers grant the rest.
 */
export class SwitchyardProject extends Construct {
  readonly project: codebuild.Project;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SwitchyardProjectProps) {
    super(scope, id);
    for (const name of Object.keys(props.environment ?? {})) {
      if (name === 'SWITCHYARD_STAGE') throw new Error('SWITCHYARD_STAGE is set from the stage prop');
    }
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const variables: Record<string, codebuild.BuildEnvironmentVariable> = {
      SWITCHYARD_STAGE: { value: props.stage },
    };
    for (const [name, value] of Object.entries(props.environment ?? {})) variables[name] = { value };
    this.project = new codebuild.Project(this, 'Project', {
      description: props.description,
      source: props.source,
      buildSpec: codebuild.BuildSpec.fromSourceFilename('buildspec.yml'),
      encryptionKey: props.key,
      environment: {
        buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
        computeType: codebuild.ComputeType.LARGE,
        privileged: props.privileged ?? false,
      },
      environmentVariables: variables,
      timeout: props.timeout ?? Duration.minutes(30),
      queuedTimeout: Duration.minutes(30),
      // The buildspec's `cache.paths` (npm, the Trivy binary and database, Terraform providers) survive between
      // builds. "LOCAL: The build project stores a cache locally on a build host that is only available to that
      // build host"; "CUSTOM: Caches directories you specify in the buildspec file"
      // (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_codebuild.LocalCacheMode.html): best effort,
      // no bucket and no permission needed, and a miss only costs the downloads.
      cache: codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
      logging: { cloudWatch: { logGroup: this.logGroup } },
    });
  }
}
