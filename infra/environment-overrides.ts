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

/**
 * Runs the synth, turning an invalid configuration (a bad overrides file, say) into the one line docs/deploy.md
 * promises, on stderr with exit status 1, instead of a stack trace. Anything else is a bug and keeps its stack.
 */
export function synthOrOneLine(
  synth: () => void,
  fail: (line: string) => never = (line) => {
    process.stderr.write(`${line}\n`);
    process.exit(1);
  },
): void {
  try {
    synth();
  } catch (error) {
    if (error instanceof InvalidConfig) fail(error.message.replace(/\s*\n\s*/g, ' '));
    throw error;
  }
}
