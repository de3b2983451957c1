import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { RELEASE_TABLE } from '../contract/release-table.ts';

export interface ReleaseTableProps {
  /**
   * What happens to the release records when the stack is deleted.
   * @default RemovalPolicy.RETAIN — the records are the release history
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The release locks and records, with the key schema the DynamoDB adapter writes (`RELEASE_TABLE`): an expired
 * lock is removed through the TTL attribute, and the two indexes list releases per environment or across all
 * (their keys and status only).
 */
export class ReleaseTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ReleaseTableProps = {}) {
    super(scope, id);
    const key = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: key(RELEASE_TABLE.partitionKey),
      sortKey: key(RELEASE_TABLE.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: RELEASE_TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const index of [RELEASE_TABLE.byEnvironmentIndex, RELEASE_TABLE.byStartedAtIndex]) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: key(index.partitionKey),
        sortKey: key(index.sortKey),
        // Keys and status only: a check or a fleet member's write changes no projected attribute, so it writes
        // nothing to either index (adapters/aws/dynamodb-release-store.ts reads the records from the table).
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...RELEASE_TABLE.listingAttributes],
      });
    }
  }
}
