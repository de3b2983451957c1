import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { afterAll, describe, expect, it } from 'vitest';
import { environments } from '../../config/environments.ts';
import { ENVIRONMENT_OVERRIDES_VARIABLE, environmentsFromVariables } from '../../config/overrides.ts';
import { ENVIRONMENT_OVERRIDES_CONTEXT, environmentOverridesFromContext } from '../../infra/environment-overrides.ts';
import { SwitchyardStack } from '../../infra/switchyard-stack.ts';
import { synthesizeTemplate } from '../../state-machine/synthesize.ts';
import { awsReleaseDependencies } from '../../wiring/aws.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-overrides-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function overridesFile(content: unknown, name = 'environments.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const source = () =>
  codebuild.Source.gitHub({ owner: 'acme', repo: 'switchyard', branchOrRef: 'main', webhook: false });

/** The stack as infra/app.ts builds it: the overrides come from the `-c switchyard:environmentOverrides=<file>` context. */
function synthesizeWithContext(file: string): { stack: SwitchyardStack; template: Template } {
  return synthesizeTemplate((app) => {
    app.node.setContext(ENVIRONMENT_OVERRIDES_CONTEXT, file);
    const environmentOverrides = environmentOverridesFromContext(app);
    return new SwitchyardStack(app, 'Switchyard', {
      source: source(),
      releaseSource: source(),
      ...(environmentOverrides ? { environmentOverrides } : {}),
    });
  });
}

const OVERRIDES = {
  dev: { functionName: 'orders-api-dev', repositoryName: 'orders' },
  staging: { functionName: 'orders-api-staging', repositoryName: 'orders', alarms: ['orders-staging-5xx'] },
  prod: {
    functionName: 'orders-api',
    repositoryName: 'orders',
    aliases: { live: 'current', green: 'candidate', blue: 'previous' },
    greenStageUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/green',
    alarms: ['orders-prod-5xx'],
    scanAndProvision: false,
  },
};

function resourcesOf(template: Template, type: string, logicalIdPrefix: string): Record<string, unknown>[] {
  return Object.entries(template.findResources(type))
    .filter(([id]) => id.startsWith(logicalIdPrefix))
    .map(([, resource]) => resource as Record<string, unknown>);
}

describe('bring your own function: names from CDK context', () => {
  const { template } = synthesizeWithContext(overridesFile(OVERRIDES));

  it("grants the handlers the overridden functions, and no longer the shipped application's", () => {
    const policies = JSON.stringify(resourcesOf(template, 'AWS::IAM::Policy', 'HandlersDeployGreen'));
    expect(policies).toContain(':function:orders-api"');
    expect(policies).toContain(':function:orders-api:*"');
    expect(policies).toContain(':function:orders-api-dev"');
    expect(policies).not.toContain('switchyard-api-prod');
    // Verify green reads the overridden function's client-keys secret.
    const verify = JSON.stringify(resourcesOf(template, 'AWS::IAM::Policy', 'HandlersVerifyGreen'));
    expect(verify).toContain(':secret:orders-api/client-keys-');
  });

  it('creates and grants the overridden repository, and the push rule filters on it', () => {
    template.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: 'orders' });
    const [rule, ...others] = resourcesOf(template, 'AWS::Events::Rule', 'ReleaseOnPushdev');
    expect(others).toHaveLength(0);
    expect(rule).toMatchObject({
      Properties: { EventPattern: { detail: { 'repository-name': ['orders'] } } },
    });
  });

  it("scopes the release stage's Terraform to the overridden functions, roles and alarms", () => {
    const policies = JSON.stringify(resourcesOf(template, 'AWS::IAM::ManagedPolicy', 'ReleaseStage'));
    expect(policies).toContain(':function:orders-api"');
    expect(policies).toContain(':role/orders-api-function"');
    expect(policies).toContain(':alarm:orders-prod-5xx"');
    expect(policies).not.toContain('switchyard-api-prod');
  });

  it('hands every handler the same overrides, which its wiring applies at cold start', () => {
    const functions = Object.entries(template.findResources('AWS::Lambda::Function')).filter(
      ([id]) => id.startsWith('Handlers') || id.startsWith('ReleaseApiFunction'),
    );
    expect(functions.length).toBeGreaterThanOrEqual(11);
    for (const [id, fn] of functions) {
      const value = fn.Properties.Environment?.Variables?.[ENVIRONMENT_OVERRIDES_VARIABLE] as unknown;
      expect(typeof value, id).toBe('string');
      const deps = awsReleaseDependencies({ [ENVIRONMENT_OVERRIDES_VARIABLE]: value as string }, {});
      expect(deps.environments.prod).toMatchObject({
        functionName: 'orders-api',
        repositoryName: 'orders',
        aliases: { live: 'current', green: 'candidate', blue: 'previous' },
        verification: { greenStageUrl: OVERRIDES.prod.greenStageUrl },
        health: { alarms: ['orders-prod-5xx'] },
        scanAndProvision: false,
      });
      // What is not overridden keeps the shipped config.
      expect(deps.environments.prod?.strategy).toEqual(environments.prod.strategy);
    }
  });

  it('leaves the handlers on the shipped config when no overrides are given', () => {
    expect(awsReleaseDependencies({}, {}).environments).toBe(environments);
  });
});

describe('bad overrides fail synth with the field named', () => {
  const refusal = (content: unknown) => () => synthesizeWithContext(overridesFile(content, 'bad.json'));

  it.each([
    [{ qa: { functionName: 'x' } }, 'unknown environment "qa"; expected one of: dev, staging, prod'],
    [{ prod: { functionName: '' } }, 'prod.functionName: must not be empty'],
    [{ prod: { functionName: 'orders api' } }, 'prod.functionName:'],
    [{ prod: { aliases: { live: '42' } } }, 'prod.aliases.live: must not be all digits'],
    [{ prod: { aliases: { green: 'green.v2' } } }, 'prod.aliases.green: may hold only letters, digits'],
    [{ prod: { aliases: { blue: 'x'.repeat(129) } } }, 'prod.aliases.blue: must be at most 128 characters'],
    [{ prod: { aliases: { live: 'green' } } }, 'prod.aliases: alias names must differ'],
    [{ prod: { colour: 'blue' } }, 'prod: Unrecognized key: "colour"'],
    [
      { prod: { greenStageUrl: 'http://insecure.example' } },
      'prod.verification.greenStageUrl: must be an https:// URL',
    ],
    [{ prod: { repositoryName: 'orders' } }, 'repositoryName: every environment must use the same repository'],
    [{ prod: { scanAndProvision: 'no' } }, 'prod.scanAndProvision:'],
    [
      { prod: { alarms: Array.from({ length: 40 }, (_, i) => `orders-api-prod-alarm-${i}-${'x'.repeat(40)}`) } },
      "more than the 2048 a handler's environment variable may hold",
    ],
    [{ prod: { alarms: ['switchyard-api-prod-?????'] } }, 'prod.alarms.0: must not hold "*" or "?"'],
    [{ staging: { alarms: ['ok', 'switchyard-*'] } }, 'staging.alarms.1: must not hold "*" or "?"'],
    [{ prod: { alarms: ['a'.repeat(256)] } }, 'prod.alarms.0: must be at most 255 characters'],
    [{ prod: { alarms: ['orders\n5xx'] } }, 'prod.alarms.0: must not hold ASCII control characters'],
    [{ prod: { alarms: [''] } }, 'prod.alarms.0: must not be empty'],
    ['{ not json', 'not JSON'],
  ])('%j', (content, message) => {
    expect(refusal(content)).toThrow(message);
  });

  it('a name of 255 characters is a CloudWatch alarm name and passes', () => {
    const name = 'a'.repeat(255);
    expect(() => synthesizeWithContext(overridesFile({ dev: { alarms: [name] } }, 'long.json'))).not.toThrow();
  });

  it('`cdk synth` of a bad file prints exactly one line naming the field, no stack trace, and exits 1', () => {
    const bad = overridesFile({ prod: { alarms: ['switchyard-api-prod-?????'] } }, 'wildcard.json');
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../infra/app.ts')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ [ENVIRONMENT_OVERRIDES_CONTEXT]: bad }),
        CDK_OUTDIR: join(dir, 'cdk.out'),
      },
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `invalid environment overrides in ${bad}: prod.alarms.0: must not hold "*" or "?": IAM reads them as wildcards in the alarm ARN\n`,
    );
  });

  it('a file that does not exist', () => {
    expect(() => synthesizeWithContext(join(dir, 'missing.json'))).toThrow(
      `context ${ENVIRONMENT_OVERRIDES_CONTEXT}: cannot read`,
    );
  });

  it('a handler variable that was tampered with fails the same way', () => {
    expect(() =>
      environmentsFromVariables({ [ENVIRONMENT_OVERRIDES_VARIABLE]: '{"prod":{"functionName":""}}' }),
    ).toThrow(`environment variable ${ENVIRONMENT_OVERRIDES_VARIABLE}: prod.functionName: must not be empty`);
  });
});
