import { describe, expect, it } from 'vitest';
import { githubSources } from '../../infra/source-repository.ts';
import { SwitchyardStack } from '../../infra/switchyard-stack.ts';
import { synthesizeTemplate } from '../../state-machine/synthesize.ts';

describe('the CodeBuild sources as `cdk deploy` builds them', () => {
  const sources = githubSources('acme/switchyard', 'main');
  const { template } = synthesizeTemplate(
    (app) => new SwitchyardStack(app, 'Switchyard', { source: sources.build, releaseSource: sources.release }),
  );
  const projects = template.findResources('AWS::CodeBuild::Project');
  const byStage = (stage: string) =>
    Object.values(projects).find((p) => JSON.stringify(p.Properties?.Description ?? '').includes(stage));

  it('builds images on a push to the branch', () => {
    expect(byStage('build stage')?.Properties?.Triggers).toMatchObject({
      Webhook: true,
      FilterGroups: [
        [
          { Type: 'EVENT', Pattern: 'PUSH' },
          { Type: 'HEAD_REF', Pattern: 'refs/heads/main' },
        ],
      ],
    });
  });

  it('gives the release stage no webhook: only the state machine starts it', () => {
    const release = byStage('release stage');
    expect(release).toBeDefined();
    expect(release?.Properties?.Triggers).toEqual({ Webhook: false });
    expect(release?.Properties?.Source).toMatchObject({
      Type: 'GITHUB',
      Location: 'https://github.com/acme/switchyard.git',
    });
  });

  it('refuses a repository that is not "owner/repo"', () => {
    expect(() => githubSources('switchyard', 'main')).toThrow(
      'switchyard:sourceRepository must be "owner/repo", got "switchyard"',
    );
  });
});
