import type { Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type { Environments } from '../../config/schema.ts';
import { SwitchyardStack } from '../../infra/switchyard-stack.ts';
import { synthesizeTemplate, type TemplateSynthesisOptions } from '../../state-machine/synthesize.ts';

export interface SynthesizedService {
  readonly stack: SwitchyardStack;
  readonly template: Template;
}

/** The service stack with bundling skipped (no esbuild), env-agnostic as `cdk synth` builds it without credentials. */
export function synthesizeService(
  environments?: Environments,
  options: TemplateSynthesisOptions = {},
): SynthesizedService {
  return synthesizeTemplate(
    (app) =>
      new SwitchyardStack(app, 'Switchyard', {
        source: codebuild.Source.gitHub({ owner: 'acme', repo: 'switchyard', branchOrRef: 'main', webhook: false }),
        releaseSource: codebuild.Source.gitHub({
          owner: 'acme',
          repo: 'switchyard',
          branchOrRef: 'main',
          webhook: false,
        }),
        ...(environments ? { environments } : {}),
      }),
    options,
  );
}

let cached: SynthesizedService | undefined;
/** The service stack from the real config, synthesized once per test file. */
export function service(): SynthesizedService {
  cached ??= synthesizeService();
  return cached;
}

/** The one resource of a type whose logical id starts with the construct path's id prefix. */
export function resourceOf(template: Template, type: string, logicalIdPrefix: string): Record<string, unknown> {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(logicalIdPrefix));
  const [entry] = found;
  if (!entry || found.length !== 1) {
    throw new Error(`expected one ${type} named ${logicalIdPrefix}*, found ${found.map(([id]) => id).join(', ')}`);
  }
  return entry[1] as Record<string, unknown>;
}
