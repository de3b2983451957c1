/**
 * The release table's layout: the single table's key schema, shared by the CDK stack that creates it
 * (infra/release-table.ts) and the DynamoDB adapter that reads and writes it (adapters/aws/dynamodb-release-store.ts):
 * - lock: `pk = LOCK#<function>#<environment>`, `sk = LOCK`, expiring through the TTL attribute;
 * - release: `pk = RELEASE#<release id>`, `sk = RELEASE`, listed newest first per environment (`byEnvironment`)
 *   or across all environments (`byStartedAt`); it holds the summary, the event count and the latest event;
 * - its history: one item per event, `pk = RELEASE#<release id>`, `sk = EVENT#<8-digit sequence>`, so a release
 *   item never grows with its bake (DynamoDB refuses any item over 400 KB) and a 24-hour bake is 2,880 small items.
 * - delivery: `pk = DELIVERY#<key>`, `sk = DELIVERY`: which release an event started and its duplicate copies,
 *   expiring through the TTL attribute once no copy can arrive any more.
 * - release policy: `pk = POLICY`, `sk = <kind>#<subject>` (`image#sha256:…`, `hold#prod`): abandoned images and
 *   environment holds with their history, one small partition read by one Query per kind.
 *
 * Both indexes project the keys and `status` only (`listingAttributes`): what a listing query reads to order, page
 * and filter. The records themselves are then read from the table (BatchGetItem). An index entry is rewritten only
 * when a projected attribute changes, so a check's event (every 10 s in prod) or a fleet member's write (a 100-member
 * fleet's item is about 75 KB) costs the indexes nothing; only a release's creation and its status changes write to
 * them, a few hundred bytes each (docs/architecture.md, "The release table").
 */
export const RELEASE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAtEpoch',
  byEnvironmentIndex: { indexName: 'byEnvironment', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  byStartedAtIndex: { indexName: 'byStartedAt', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** The non-key attributes both indexes project: the status filter of a listing. */
  listingAttributes: ['status'],
} as const;
