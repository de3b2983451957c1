import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface ImageRepositoryProps {
  /** The repository name, from the environment config (the one `repositoryName` every environment shares). */
  readonly repositoryName: string;
  /**
   * The application functions (unqualified ARNs and `:*`) whose images Lambda pulls from this repository. Lambda pulls
   * with its service principal, so the repository policy must allow it: "Amazon ECR repository permissions must allow
   * the ecr:BatchGetImage and ecr:GetDownloadUrlForLayer API actions to the Lambda service"
   * (https://www.repost.aws/knowledge-center/lambda-ecr-image). AWS scopes that statement with `aws:sourceARN` on the
   * function ARNs; this one also pins `aws:SourceAccount` to this account.
   */
  readonly pullingFunctionArns: readonly string[];
  /**
   * How many images to keep; older ones expire. Releases deploy by digest, so this bounds how far back a rollback
   * or a promotion can reach.
   * @default 200
   */
  readonly keepImages?: number;
  /**
   * What happens to the repository (and its images) when the stack is deleted.
   * @default RemovalPolicy.RETAIN — deployed function versions still reference these digests
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The application's image repository: immutable tags, scan on push, encrypted, bounded by a lifecycle rule. */
export class ImageRepository extends Construct {
  readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    const keepImages = props.keepImages ?? 200;
    if (!Number.isInteger(keepImages) || keepImages < 1) {
      throw new Error(`keepImages must be a positive integer, got ${keepImages}`);
    }
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: props.repositoryName,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      // AES256, not KMS: Lambda pulls the image with its service principal, and a customer key would need
      // a grant per function outside this stack (Terraform's).
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          rulePriority: 1,
          description: `Keep the ${keepImages} most recent images`,
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: keepImages,
        },
      ],
    });
    // CDK leaves AES256 implicit; state it, so the template says how the images are encrypted.
    (this.repository.node.defaultChild as ecr.CfnRepository).addPropertyOverride('EncryptionConfiguration', {
      EncryptionType: 'AES256',
    });
    this.repository.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'LambdaPullsApplicationImages',
        principals: [new iam.ServicePrincipal('lambda.amazonaws.com')],
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': [...props.pullingFunctionArns] },
        },
      }),
    );
  }
}
