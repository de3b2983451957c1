import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { SwitchyardProject } from './switchyard-project.ts';

export interface ImageBuildProjectProps {
  /** The repository, built on every push to its branch. */
  readonly source: codebuild.ISource;
  readonly repository: ecr.IRepository;
  readonly key: kms.IKey;
}

/**
 * The build stage: lint, tests, scans, `docker build` and a push of the immutable `git-<sha>` tag. Its role may push
 * to this one repository and read its images, nothing else (ecr:GetAuthorizationToken takes no resource).
 */
export class ImageBuildProject extends Construct {
  readonly project: codebuild.Project;

  constructor(scope: Construct, id: string, props: ImageBuildProjectProps) {
    super(scope, id);
    const built = new SwitchyardProject(this, 'Build', {
      stage: 'build',
      description: 'Switchyard build stage: source to a scanned image in ECR (buildspec.yml, SWITCHYARD_STAGE=build)',
      source: props.source,
      key: props.key,
      privileged: true,
      environment: { ECR_REPOSITORY_URI: props.repository.repositoryUri },
    });
    this.project = built.project;
    props.repository.grantPullPush(this.project);
    this.project.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FindPushedDigest',
        actions: ['ecr:DescribeImages'],
        resources: [props.repository.repositoryArn],
      }),
    );
  }
}
