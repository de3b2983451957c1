import { App, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SwitchyardStack } from './switchyard-stack.ts';

/** Context keys a user sets (cdk.json or `-c key=value`); see docs/deploy.md. */
export const CONTEXT = {
  sourceRepository: 'switchyard:sourceRepository',
  sourceBranch: 'switchyard:sourceBranch',
  stackName: 'switchyard:stackName',
} as const;

function contextString(app: App, key: string, fallback: string): string {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) throw new Error(`context ${key} must be a non-empty string`);
  return value;
}

/** The GitHub repository the CodeBuild projects check out ("owner/repo"), built on each push to its branch. */
export function githubSource(repository: string, branch: string): codebuild.ISource {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(repository);
  if (!match?.[1] || !match[2])
    throw new Error(`${CONTEXT.sourceRepository} must be "owner/repo", got "${repository}"`);
  return codebuild.Source.gitHub({
    owner: match[1],
    repo: match[2],
    branchOrRef: branch,
    webhook: true,
    webhookFilters: [codebuild.FilterGroup.inEventOf(codebuild.EventAction.PUSH).andBranchIs(branch)],
  });
}

const app = new App();
const branch = contextString(app, CONTEXT.sourceBranch, 'main');
new SwitchyardStack(app, contextString(app, CONTEXT.stackName, 'Switchyard'), {
  description: 'Switchyard: blue/green releases of a container-image Lambda API with Step Functions',
  // Environment-agnostic unless the CLI knows the target, so `cdk synth` works offline with no credentials.
  ...(process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
    ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
    : {}),
  source: githubSource(contextString(app, CONTEXT.sourceRepository, 'your-github-org/switchyard'), branch),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
