import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * Where both CodeBuild stages record a passing image scan, by digest: `image-scans/<sha256:…>.json` in the state
 * bucket. The build stage writes it after the push; the release stage reads it and writes one when it scans again.
 */
export const SCAN_RECORDS_PREFIX = 'image-scans/';

/** Output names the buildspec's Terraform backend configuration reads (buildspec.yml, release stage). */
export const TERRAFORM_OUTPUTS = {
  bucket: 'TerraformStateBucketName',
  lockTable: 'TerraformLockTableName',
} as const;

export interface TerraformStateProps {
  /**
   * Days a superseded state version is kept.
   * @default 90
   */
  readonly noncurrentVersionDays?: number;
  /**
   * Days the server access logs are kept.
   * @default 365
   */
  readonly accessLogDays?: number;
}

/**
 * Terraform's S3 backend for the application environments: a versioned, encrypted, TLS-only, private bucket with
 * server access logs, and the DynamoDB lock table (`LockID`) the seed asks for. Both are retained on stack deletion:
 * losing Terraform state orphans the application's resources.
 */
export class TerraformState extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly lockTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TerraformStateProps = {}) {
    super(scope, id);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogDays ?? 365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'terraform-state/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.lockTable = new dynamodb.Table(this, 'LockTable', {
      partitionKey: { name: 'LockID', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new CfnOutput(this, 'BucketName', {
      key: TERRAFORM_OUTPUTS.bucket,
      description: 'S3 bucket of the Terraform state (terraform init -backend-config="bucket=...")',
      value: this.bucket.bucketName,
    });
    new CfnOutput(this, 'LockTableName', {
      key: TERRAFORM_OUTPUTS.lockTable,
      description: 'DynamoDB lock table of the Terraform state (terraform init -backend-config="dynamodb_table=...")',
      value: this.lockTable.tableName,
    });
  }
}
