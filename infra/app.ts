import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ENVIRONMENT_OVERRIDES_CONTEXT,
  environmentOverridesFromContext,
  synthOrOneLine,
} from './environment-overrides.ts';
import { githubSources } from './source-repository.ts';
import { SwitchyardStack } from './switchyard-stack.ts';

/** Context keys a user sets (cdk.json or `-c key=value`); see docs/deploy.md. */
export const CONTEXT = {
  sourceRepository: 'switchyard:sourceRepository',
  sourceBranch: 'switchyard:sourceBranch',
  stackName: 'switchyard:stackName',
  /** A JSON file of per-environment names (function, repository, aliases, green stage URL, alarms). */
  environmentOverrides: ENVIRONMENT_OVERRIDES_CONTEXT,
} as const;

function contextString(app: App, key: string, fallback: string): string {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) throw new Error(`context ${key} must be a non-empty string`);
  return value;
}

// A bad overrides file (or any invalid config) stops the synth with one line naming the field (docs/deploy.md).
synthOrOneLine(() => {
  const app = new App();
  const environmentOverrides = environmentOverridesFromContext(app);
  const branch = contextString(app, CONTEXT.sourceBranch, 'main');
  const sources = githubSources(
    contextString(app, CONTEXT.sourceRepository, 'your-github-org/switchyard'),
    branch,
    CONTEXT.sourceRepository,
  );
  new SwitchyardStack(app, contextString(app, CONTEXT.stackName, 'Switchyard'), {
    description: 'Switchyard: blue/green releases of a container-image Lambda API with Step Functions',
    // Environment-agnostic unless the CLI knows the target, so `cdk synth` works offline with no credentials.
    ...(process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
      : {}),
    source: sources.build,
    releaseSource: sources.release,
    ...(environmentOverrides ? { environmentOverrides } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
});
