import * as codebuild from 'aws-cdk-lib/aws-codebuild';

/** The CodeBuild sources of the two projects, both checking out the same GitHub repository. */
export interface SourceRepository {
  /** The build stage: a push to the branch builds and pushes an image (webhook). */
  readonly build: codebuild.ISource;
  /**
   * The release stage: started only by the state machine, never by a push. A webhook here would start a build on
   * every push that fails its input check and posts a failed commit status.
   */
  readonly release: codebuild.ISource;
}

/** Both sources of "owner/repo" on `branch`. */
export function githubSources(
  repository: string,
  branch: string,
  contextKey = 'switchyard:sourceRepository',
): SourceRepository {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(repository);
  if (!match?.[1] || !match[2]) throw new Error(`${contextKey} must be "owner/repo", got "${repository}"`);
  const repo = { owner: match[1], repo: match[2], branchOrRef: branch };
  return {
    build: codebuild.Source.gitHub({
      ...repo,
      webhook: true,
      webhookFilters: [codebuild.FilterGroup.inEventOf(codebuild.EventAction.PUSH).andBranchIs(branch)],
    }),
    release: codebuild.Source.gitHub({ ...repo, webhook: false }),
  };
}
