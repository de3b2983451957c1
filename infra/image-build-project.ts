import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CHANGE_SET_KEYS } from '../adapters/aws/s3-dynamodb-insight-store.ts';
import { SwitchyardProject } from './switchyard-project.ts';
import { SCAN_RECORDS_PREFIX } from './terraform-state.ts';

export interface ImageBuildProjectProps {
  /** The repository, built on every push to its branch. */
  readonly source: codebuild.ISource;
  readonly repository: ecr.IRepository;
  readonly key: kms.IKey;
  /** The bucket whose `image-scans/` the passing image scan is recorded in, by digest (buildspec.yml). */
  readonly scanRecords: s3.IBucket;
}

/**
 * The build stage: lint, tests, scans, `docker build` and a push of the immutable `git-<sha>` tag. Its role may push
 * to this one repository and read its images (ecr:GetAuthorizationToken takes no resource), and write scan records
 * under `image-scans/` of one bucket, nothing else.
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
      environment: {
        ECR_REPOSITORY_URI: props.repository.repositoryUri,
        SCAN_RECORDS_BUCKET: props.scanRecords.bucketName,
      },
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
    // Write only: the build stage never reads a record, and nothing outside image-scans/ (Terraform's state).
    this.project.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RecordImageScans',
        actions: ['s3:PutObject'],
        resources: [props.scanRecords.arnForObjects(`${SCAN_RECORDS_PREFIX}*`)],
      }),
    );
    // The pushed image's change set, its commit pointer and its SBOM (docs/insight.md), write only, by prefix.
    this.project.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RecordChangeSets',
        actions: ['s3:PutObject'],
        resources: [CHANGE_SET_KEYS.prefix, CHANGE_SET_KEYS.sbomPrefix].map((p) =>
          props.scanRecords.arnForObjects(`${p}*`),
        ),
      }),
    );
  }
}
