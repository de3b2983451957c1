import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { RELEASE_TABLE } from '../../../contract/release-table.ts';

type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

function attributeName(token: string, names: Names): string {
  if (!token.startsWith('#')) return token;
  const name = names?.[token];
  if (!name) throw new Error(`fake table: ${token} is not in ExpressionAttributeNames`);
  return name;
}

/** A document path `#a.#b.#c` as its attribute names. */
function pathNames(token: string, names: Names): string[] {
  return token.split('.').map((part) => attributeName(part, names));
}

function readPath(item: Item | undefined, path: readonly string[]): unknown {
  let current: unknown = item;
  for (const part of path) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Item)[part];
  }
  return current;
}

/** Sets a nested attribute; as in DynamoDB, every map on the way must exist already. */
function writePath(item: Item, path: readonly string[], value: unknown): void {
  const parents = path.slice(0, -1);
  const parent = readPath(item, parents);
  if (!parent || typeof parent !== 'object') {
    throw new Error('ValidationException: The document path provided in the update expression is invalid for update');
  }
  (parent as Item)[path.at(-1) ?? ''] = value;
}

function attributeValue(token: string, values: Values): unknown {
  if (!values || !(token in values)) throw new Error(`fake table: ${token} is not in ExpressionAttributeValues`);
  return values[token];
}

/**
 * Evaluates the condition and filter forms the release store writes: `attribute_(not_)exists(a)`, `a = :v`,
 * `a < :v`, `NOT contains(list, :v)`, joined by AND and OR (AND binding tighter). Anything else throws, so a new
 * expression in the adapter needs a deliberate fake update.
 */
function matches(expression: string | undefined, item: Item | undefined, names: Names, values: Values): boolean {
  if (!expression) return true;
  return expression
    .split(' OR ')
    .some((alternative) => alternative.split(' AND ').every((term) => matchesTerm(term, item, names, values)));
}

function matchesTerm(term: string, item: Item | undefined, names: Names, values: Values): boolean {
  const exists = /^attribute_(not_)?exists\(([#\w.]+)\)$/.exec(term.trim());
  if (exists) {
    const present = readPath(item, pathNames(exists[2] ?? '', names)) !== undefined;
    return exists[1] ? !present : present;
  }
  const notContains = /^NOT contains\(([#\w]+), (:\w+)\)$/.exec(term.trim());
  if (notContains) {
    const list = item?.[attributeName(notContains[1] ?? '', names)];
    return !(Array.isArray(list) && list.includes(attributeValue(notContains[2] ?? '', values)));
  }
  const comparison = /^([#\w]+) (=|<) (:\w+)$/.exec(term.trim());
  if (!comparison) throw new Error(`fake table: cannot evaluate "${term}"`);
  const actual = item?.[attributeName(comparison[1] ?? '', names)];
  const expected = attributeValue(comparison[3] ?? '', values);
  if (actual === undefined) return false;
  return comparison[2] === '=' ? actual === expected : (actual as number) < (expected as number);
}

/**
 * Applies `SET #a = :a, #o = if_not_exists(#o, :o), #l = list_append(if_not_exists(#l, :empty), :more)`, then
 * `REMOVE #r, #s`, then `ADD #n :v`.
 */
function applyUpdate(item: Item, expression: string, names: Names, values: Values): Item {
  if (!expression.startsWith('SET ')) throw new Error(`fake table: cannot apply "${expression}"`);
  const [setAndRemove = '', addPart] = expression.split(' ADD ');
  const [setPart = '', removePart] = setAndRemove.split(' REMOVE ');
  const next = applySet(item, setPart, names, values);
  for (const token of removePart?.split(', ') ?? []) {
    if (!/^#\w+$/.test(token.trim())) throw new Error(`fake table: cannot apply "REMOVE ${removePart}"`);
    delete next[attributeName(token.trim(), names)];
  }
  for (const term of addPart?.split(', ') ?? []) {
    const add = /^(#\w+) (:\w+)$/.exec(term.trim());
    if (!add) throw new Error(`fake table: cannot apply "ADD ${addPart}"`);
    const target = attributeName(add[1] ?? '', names);
    next[target] = Number(next[target] ?? 0) + Number(attributeValue(add[2] ?? '', values));
  }
  return next;
}

function applySet(item: Item, expression: string, names: Names, values: Values): Item {
  const next = structuredClone(item);
  const assignment =
    /(#[\w.#]+) = (?:list_append\(if_not_exists\((#\w+), (:\w+)\), (:\w+)\)|if_not_exists\((#\w+), (:\w+)\)|(:\w+))/g;
  for (const match of expression.slice(4).matchAll(assignment)) {
    const targetPath = pathNames(match[1] ?? '', names);
    const target = targetPath[0] ?? '';
    if (match[7]) {
      writePath(next, targetPath, structuredClone(attributeValue(match[7], values)));
    } else if (match[6]) {
      next[target] = next[attributeName(match[5] ?? '', names)] ?? structuredClone(attributeValue(match[6], values));
    } else {
      const existing = next[attributeName(match[2] ?? '', names)] ?? attributeValue(match[3] ?? '', values);
      next[target] = [
        ...(existing as unknown[]),
        ...structuredClone(attributeValue(match[4] ?? '', values) as unknown[]),
      ];
    }
  }
  return next;
}

/**
 * A stateful stand-in for the release table behind a DynamoDBDocumentClient: items in a Map, the store's condition
 * expressions enforced, and both listing indexes queried with Limit, ExclusiveStartKey and LastEvaluatedKey as
 * DynamoDB pages them (Limit counts items read before the filter).
 */
export function fakeDynamoDbTable(client: DynamoDBDocumentClient, tableName: string): Map<string, Item> {
  const items = new Map<string, Item>();
  const keyOf = (key: Item | undefined) => `${String(key?.pk)}|${String(key?.sk)}`;
  const checkTable = (name: string | undefined) => {
    if (name !== tableName) throw new Error(`fake table: no table named ${name}`);
  };
  const indexes = [RELEASE_TABLE.byEnvironmentIndex, RELEASE_TABLE.byStartedAtIndex];

  const mock = mockClient(client);
  mock.on(PutCommand).callsFake((input: PutCommand['input']) => {
    checkTable(input.TableName);
    const current = items.get(keyOf(input.Item));
    if (!matches(input.ConditionExpression, current, input.ExpressionAttributeNames, input.ExpressionAttributeValues)) {
      throw conditionFailed();
    }
    items.set(keyOf(input.Item), structuredClone(input.Item ?? {}));
    return {};
  });
  mock.on(GetCommand).callsFake((input: GetCommand['input']) => {
    checkTable(input.TableName);
    const item = items.get(keyOf(input.Key));
    return item ? { Item: structuredClone(item) } : {};
  });
  mock.on(DeleteCommand).callsFake((input: DeleteCommand['input']) => {
    checkTable(input.TableName);
    const current = items.get(keyOf(input.Key));
    if (!matches(input.ConditionExpression, current, input.ExpressionAttributeNames, input.ExpressionAttributeValues)) {
      throw conditionFailed();
    }
    items.delete(keyOf(input.Key));
    return input.ReturnValues === 'ALL_OLD' && current ? { Attributes: structuredClone(current) } : {};
  });
  mock.on(UpdateCommand).callsFake((input: UpdateCommand['input']) => {
    checkTable(input.TableName);
    const current = items.get(keyOf(input.Key));
    if (!matches(input.ConditionExpression, current, input.ExpressionAttributeNames, input.ExpressionAttributeValues)) {
      throw conditionFailed();
    }
    const base = current ?? { ...input.Key };
    const updated = applyUpdate(
      base,
      input.UpdateExpression ?? '',
      input.ExpressionAttributeNames,
      input.ExpressionAttributeValues,
    );
    items.set(keyOf(input.Key), updated);
    return input.ReturnValues === 'UPDATED_NEW' ? { Attributes: structuredClone(updated) } : {};
  });
  mock.on(QueryCommand).callsFake((input: QueryCommand['input']) => {
    checkTable(input.TableName);
    if (!input.IndexName) {
      // The history of one release: `#pk = :pk AND begins_with(#sk, :prefix)`, in sort-key order.
      const history = /^(#\w+) = (:\w+) AND begins_with\((#\w+), (:\w+)\)$/.exec(input.KeyConditionExpression ?? '');
      if (!history) throw new Error(`fake table: cannot query "${input.KeyConditionExpression}"`);
      const pk = attributeValue(history[2] ?? '', input.ExpressionAttributeValues);
      const prefix = String(attributeValue(history[4] ?? '', input.ExpressionAttributeValues));
      const found = [...items.values()]
        .filter((item) => item.pk === pk && String(item.sk).startsWith(prefix))
        .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
      return { Items: found.map((item) => structuredClone(item)) };
    }
    const index = indexes.find((i) => i.indexName === input.IndexName);
    if (!index) throw new Error(`fake table: no index named ${input.IndexName}`);
    const keyCondition = /^(#\w+) = (:\w+)$/.exec(input.KeyConditionExpression ?? '');
    if (!keyCondition || attributeName(keyCondition[1] ?? '', input.ExpressionAttributeNames) !== index.partitionKey) {
      throw new Error(`fake table: cannot query "${input.KeyConditionExpression}"`);
    }
    const partition = attributeValue(keyCondition[2] ?? '', input.ExpressionAttributeValues);
    const sortValue = (item: Item) => String(item[index.sortKey]);
    const ordered = [...items.values()]
      .filter((item) => item[index.partitionKey] === partition)
      .sort((a, b) => sortValue(a).localeCompare(sortValue(b)) * (input.ScanIndexForward === false ? -1 : 1));
    const start = input.ExclusiveStartKey
      ? ordered.findIndex((item) => keyOf(item) === keyOf(input.ExclusiveStartKey)) + 1
      : 0;
    const read = ordered.slice(start, start + (input.Limit ?? ordered.length));
    const last = read.at(-1);
    const limited = input.Limit !== undefined && read.length === input.Limit;
    // An index holds the table's and its own keys and the attributes it projects, nothing else.
    const projected = [RELEASE_TABLE.partitionKey, RELEASE_TABLE.sortKey, index.partitionKey, index.sortKey];
    const entry = (item: Item) =>
      Object.fromEntries(
        [...projected, ...RELEASE_TABLE.listingAttributes].filter((a) => a in item).map((a) => [a, item[a]]),
      );
    return {
      Items: read
        .filter((item) =>
          matches(input.FilterExpression, item, input.ExpressionAttributeNames, input.ExpressionAttributeValues),
        )
        .map((item) => structuredClone(entry(item))),
      ...(limited && last
        ? {
            LastEvaluatedKey: {
              pk: last.pk,
              sk: last.sk,
              [index.partitionKey]: last[index.partitionKey],
              [index.sortKey]: last[index.sortKey],
            },
          }
        : {}),
    };
  });
  mock.on(BatchGetCommand).callsFake((input: BatchGetCommand['input']) => {
    const [tableName, request] = Object.entries(input.RequestItems ?? {})[0] ?? [];
    checkTable(tableName);
    const found = (request?.Keys ?? []).flatMap((key) => {
      const item = items.get(keyOf(key));
      return item ? [structuredClone(item)] : [];
    });
    return { Responses: { [tableName ?? '']: found } };
  });
  return items;
}
