import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { type AslDefinition, definitionFromTemplate, synthesizeTemplate } from '../state-machine/synthesize.ts';
import { SwitchyardStack } from './switchyard-stack.ts';

/** A source for synthesis only: the definition does not depend on where CodeBuild checks out from. */
const SYNTH_SOURCE = (): codebuild.ISource =>
  codebuild.Source.gitHub({ owner: 'switchyard', repo: 'switchyard', webhook: false });

/**
 * The ASL of the state machine exactly as the service stack deploys it (Scan & provision included), synthesized
 * with bundling skipped: the local runtime and the workflow tests run what AWS runs.
 */
export function synthesizeServiceDefinition(): AslDefinition {
  const { template } = synthesizeTemplate(
    (app) =>
      new SwitchyardStack(app, 'SwitchyardDefinition', {
        env: { account: '123456789012', region: 'us-east-1' },
        source: SYNTH_SOURCE(),
        releaseSource: SYNTH_SOURCE(),
      }),
  );
  return definitionFromTemplate(template);
}
