// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HCL expressions are "${...}" strings, not JS templates.
import type { TerraformVariables } from '../../scripts/generate-tfvars.ts';
import { type Body, block, blocks, dynamicBlocks, locals, resource } from './terraform-config.ts';

/** A web ACL rule as it will exist in one environment, after Terraform expands the dynamic blocks. */
export interface EffectiveRule {
  readonly name: string;
  readonly priority: number;
  /** `block`/`count` for a rule's own action; `none`/`count` for a managed group's override. */
  readonly action: string;
  readonly statement: Body;
}

export class UnknownExpression extends Error {
  override readonly name = 'UnknownExpression';
}

/**
 * The only `for_each` expressions waf.tf may use, evaluated against one environment's variables.
 * A new expression fails loudly here instead of being guessed at.
 */
function forEach(expression: unknown, vars: TerraformVariables, config: Body): unknown[] {
  const blocks = vars.waf_mode === 'block';
  switch (expression) {
    case '${local.waf_blocks ? [1] : []}':
      return blocks ? [1] : [];
    case '${local.waf_blocks ? [] : [1]}':
      return blocks ? [] : [1];
    case '${length(var.waf_blocked_countries) > 0 ? [var.waf_blocked_countries] : []}':
      return vars.waf_blocked_countries.length > 0 ? [vars.waf_blocked_countries] : [];
    case '${local.waf_managed_rule_groups}': {
      const groups = locals(config).waf_managed_rule_groups;
      if (!Array.isArray(groups)) throw new UnknownExpression('local.waf_managed_rule_groups is not a list');
      return groups;
    }
    default:
      throw new UnknownExpression(`for_each ${String(expression)} is not understood by this test`);
  }
}

/** Replaces `${rule.value}` and `${rule.value.<key>}` inside a dynamic block's content. */
function substitute(value: unknown, ruleValue: unknown): unknown {
  if (typeof value === 'string') {
    if (value === '${rule.value}') return ruleValue;
    const key = /^\$\{rule\.value\.(\w+)\}$/.exec(value)?.[1];
    if (key !== undefined && typeof ruleValue === 'object' && ruleValue !== null) {
      return (ruleValue as Record<string, unknown>)[key];
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, ruleValue));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, ruleValue)]));
  }
  return value;
}

/** Names of the action blocks (static or dynamic) that are present once `for_each` is evaluated. */
function activeActions(actionBody: Body, vars: TerraformVariables, config: Body): string[] {
  const names = ['block', 'count', 'allow', 'none'];
  return names.filter(
    (name) =>
      blocks(actionBody, name).length > 0 ||
      dynamicBlocks(actionBody, name).some((d) => forEach(d.for_each, vars, config).length > 0),
  );
}

function effectiveRule(rule: Body, vars: TerraformVariables, config: Body): EffectiveRule {
  const actionKey = rule.action !== undefined ? 'action' : 'override_action';
  const actions = activeActions(block(rule, actionKey), vars, config);
  const [action] = actions;
  if (actions.length !== 1 || action === undefined) {
    throw new Error(`rule ${String(rule.name)} has ${actions.length} active actions: ${actions.join(', ')}`);
  }
  if (typeof rule.name !== 'string' || typeof rule.priority !== 'number') {
    throw new Error(`rule ${String(rule.name)} has an unresolved name or priority`);
  }
  return { name: rule.name, priority: rule.priority, action, statement: block(rule, 'statement') };
}

export function effectiveRules(config: Body, vars: TerraformVariables): EffectiveRule[] {
  const acl = resource(config, 'aws_wafv2_web_acl', 'this');
  const staticRules = blocks(acl, 'rule');
  const dynamicRules = dynamicBlocks(acl, 'rule').flatMap((d) =>
    forEach(d.for_each, vars, config).map((value) => substitute(block(d, 'content'), value) as Body),
  );
  return [...staticRules, ...dynamicRules]
    .map((rule) => effectiveRule(rule, vars, config))
    .sort((a, b) => a.priority - b.priority);
}
