import { join } from 'node:path';
import { convertFiles } from '@cdktf/hcl2json';
import { TERRAFORM_ROOT } from '../../scripts/generate-tfvars.ts';

/** One HCL body as `@cdktf/hcl2json` renders it: blocks are arrays of bodies, expressions are `${...}` strings. */
export type Body = Record<string, unknown>;

export const MODULE_DIR = join(TERRAFORM_ROOT, 'modules', 'app-environment');

/** The one Terraform root every environment is planned from (its state key and tfvars chosen at init and plan). */
export const ROOT_DIR = join(TERRAFORM_ROOT, 'root');

/** Every `.tf` file of one Terraform module directory, merged. */
export async function loadModule(dir: string): Promise<Body> {
  return (await convertFiles(dir)) as Body;
}

function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A nested map by key path, e.g. `field(config, 'resource', 'aws_lambda_function')`. */
export function field(body: Body, ...path: string[]): Body {
  let current: unknown = body;
  for (const key of path) {
    current = isBody(current) ? current[key] : undefined;
  }
  if (!isBody(current)) {
    throw new Error(`no map at ${path.join('.')}`);
  }
  return current;
}

/** The bodies of the blocks named `key` in `body` (none when absent). */
export function blocks(body: Body, key: string): Body[] {
  const value = body[key];
  if (value === undefined) {
    return [];
  }
  if (!Array.isArray(value) || !value.every(isBody)) {
    throw new Error(`"${key}" is not a block`);
  }
  return value;
}

/** The single block named `key`; fails when there are none or several. */
export function block(body: Body, key: string): Body {
  const found = blocks(body, key);
  const [first] = found;
  if (found.length !== 1 || !first) {
    throw new Error(`expected exactly one "${key}" block, found ${found.length}`);
  }
  return first;
}

export function resource(config: Body, type: string, name: string): Body {
  return block(field(config, 'resource', type), name);
}

/** All `locals` blocks of a module, merged. */
export function locals(config: Body): Body {
  return Object.assign({}, ...blocks(config, 'locals'));
}

/** `dynamic "<name>"` blocks of a body (hcl2json keys them by name under `dynamic`). */
export function dynamicBlocks(body: Body, name: string): Body[] {
  const dynamic = body.dynamic;
  if (dynamic === undefined) {
    return [];
  }
  if (!isBody(dynamic)) {
    throw new Error('"dynamic" is not a map of blocks');
  }
  return blocks(dynamic, name);
}
