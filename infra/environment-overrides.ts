import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { type EnvironmentOverrides, environmentOverridesFromJson } from '../config/overrides.ts';
import { InvalidConfig } from '../config/schema.ts';

/** The context key naming a JSON file of per-environment overrides (config/overrides.ts); see docs/deploy.md. */
export const ENVIRONMENT_OVERRIDES_CONTEXT = 'switchyard:environmentOverrides';

/**
 * The overrides the deploy asked for: `-c switchyard:environmentOverrides=./my-environments.json` (a path relative to
 * the directory `cdk` runs in), validated here so a bad file fails synth with the field named.
 */
export function environmentOverridesFromContext(app: App): EnvironmentOverrides | undefined {
  const value: unknown = app.node.tryGetContext(ENVIRONMENT_OVERRIDES_CONTEXT);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidConfig(`context ${ENVIRONMENT_OVERRIDES_CONTEXT} must be the path of a JSON file`);
  }
  let text: string;
  try {
    text = readFileSync(resolve(value), 'utf8');
  } catch (error) {
    throw new InvalidConfig(
      `context ${ENVIRONMENT_OVERRIDES_CONTEXT}: cannot read ${value} (${(error as Error).message})`,
    );
  }
  return environmentOverridesFromJson(text, value);
}
