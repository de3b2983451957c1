import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES, type EnvironmentName, environments, loggingSettings } from '../../config/environments.ts';
import {
  driftedTfvarsFiles,
  renderTfvars,
  TERRAFORM_ROOT,
  type TerraformVariables,
  terraformVariables,
  tfvarsPath,
  UnmappedAlarm,
} from '../../scripts/generate-tfvars.ts';
import { environmentsWith } from '../support/environments.ts';
import { type Body, block, field, loadModule, MODULE_DIR, ROOT_DIR } from './terraform-config.ts';

function env(name: EnvironmentName) {
  const found = environments[name];
  if (!found) throw new Error(`no ${name} environment in config`);
  return found;
}

async function committedTfvars(name: EnvironmentName): Promise<TerraformVariables> {
  return JSON.parse(await readFile(tfvarsPath(name), 'utf8')) as TerraformVariables;
}

/** Variables the release stage passes with -var on every plan, on top of the generated file. */
const PASSED_AT_PLAN = ['alerts_topic_arn', 'image_uri'];

describe('the generated terraform.tfvars.json files', () => {
  it.each(ENVIRONMENT_NAMES)('%s matches what config/environments.ts generates, byte for byte', async (name) => {
    expect(await readFile(tfvarsPath(name), 'utf8')).toBe(renderTfvars(env(name)));
  });

  it('are reported as drifted as soon as the config changes', async () => {
    const changed = environmentsWith('staging', { memoryMb: 1024 });
    expect(await driftedTfvarsFiles(changed)).toEqual([tfvarsPath('staging')]);
    expect(await driftedTfvarsFiles()).toEqual([]);
  });

  it('carry the seed matrix: memory 256/512/1024, WAF count/count/block, logs basic/full/full', async () => {
    const matrix = await Promise.all(
      ENVIRONMENT_NAMES.map(async (name) => {
        const vars = await committedTfvars(name);
        return [vars.memory_mb, vars.waf_mode, vars.log_retention_days];
      }),
    );
    expect(matrix).toEqual([
      [256, 'count', loggingSettings(env('dev')).retentionDays],
      [512, 'count', loggingSettings(env('staging')).retentionDays],
      [1024, 'block', loggingSettings(env('prod')).retentionDays],
    ]);
    expect(matrix.map(([, , retention]) => retention)).toEqual([14, 90, 90]);
  });

  it.each(ENVIRONMENT_NAMES)('%s names the function and aliases from config', async (name) => {
    const vars = await committedTfvars(name);
    expect(vars.function_name).toBe(env(name).functionName);
    expect(vars.aliases).toEqual({ live: 'live', blue: 'blue', green: 'green' });
  });

  it.each(ENVIRONMENT_NAMES)('%s creates exactly the alarms its Check health step watches', async (name) => {
    const vars = await committedTfvars(name);
    expect(Object.keys(vars.alarms)).toEqual(env(name).health.alarms);
  });

  it('derives alarm thresholds from the health thresholds', async () => {
    const prod = await committedTfvars('prod');
    expect(prod.alarms['switchyard-api-prod-5xx']).toMatchObject({ metric: '5xx', threshold: 0.01 });
    expect(prod.alarms['switchyard-api-prod-errors']).toMatchObject({ metric: 'errors', threshold: 10 });
    expect(prod.alarms['switchyard-api-prod-latency']).toMatchObject({ metric: 'latency', threshold: 2000 });
    expect(Object.keys((await committedTfvars('staging')).alarms)).toEqual([
      'switchyard-api-staging-5xx',
      'switchyard-api-staging-errors',
    ]);
  });

  it('refuses an alarm name that says no metric, rather than inventing one', () => {
    const config = environmentsWith('staging', { health: { alarms: ['switchyard-api-staging-throttles'] } });
    const staging = config.staging;
    if (!staging) throw new Error('no staging');
    expect(() => terraformVariables(staging)).toThrow(UnmappedAlarm);
  });

  it('refuses a latency alarm without a p99 threshold', () => {
    const config = environmentsWith('dev', { health: { alarms: ['switchyard-api-dev-latency'] } });
    const dev = config.dev;
    if (!dev) throw new Error('no dev');
    expect(() => terraformVariables(dev)).toThrow(/maxP99DurationMs/);
  });
});

describe('the one Terraform root', () => {
  let root: Body;

  beforeAll(async () => {
    root = await loadModule(ROOT_DIR);
  });

  it('keeps state in S3, encrypted and locked, with the key, bucket and table all given at init', () => {
    const backend = block(field(block(root, 'terraform'), 'backend'), 's3');
    expect(backend).toEqual({ encrypt: true, use_lockfile: true });
    // The state key per environment and the bucket and table from the CDK stack come from -backend-config at init
    // (see buildspec.test.ts), so one root serves every environment and nothing names one of them here.
    expect(block(root, 'terraform').required_version).toBe('>= 1.11.0');
  });

  it.each(ENVIRONMENT_NAMES)(
    'declares exactly the variables generated for %s plus those passed at plan time',
    async (name) => {
      const declared = Object.keys(field(root, 'variable')).sort();
      const generated = Object.keys(await committedTfvars(name));
      expect(declared).toEqual([...generated, ...PASSED_AT_PLAN].sort());
    },
  );

  it('re-exports every output of the app-environment module (Verify green needs green_stage_url)', async () => {
    const moduleOutputs = Object.keys(field(await loadModule(MODULE_DIR), 'output')).sort();
    const rootOutputs = field(root, 'output');
    expect(Object.keys(rootOutputs).sort()).toEqual(moduleOutputs);
    for (const name of moduleOutputs) expect(block(rootOutputs, name).value, name).toBe(`\${module.app.${name}}`);
  });

  it('passes every variable to the app-environment module unchanged', async () => {
    const call = block(field(root, 'module'), 'app');
    expect(call.source).toBe('../modules/app-environment');
    const moduleVariables = Object.keys(field(await loadModule(MODULE_DIR), 'variable'));
    for (const variable of Object.keys(field(root, 'variable'))) {
      expect(moduleVariables).toContain(variable);
      expect(call[variable], variable).toBe(`\${var.${variable}}`);
    }
  });

  it('is the only root: the environments directory holds one generated tfvars file per environment and no Terraform', async () => {
    const files = (await readdir(join(TERRAFORM_ROOT, 'environments'), { recursive: true })).sort();
    expect(files).toEqual(ENVIRONMENT_NAMES.map((name) => `${name}.tfvars.json`).sort());
    const tf = (await readdir(TERRAFORM_ROOT, { recursive: true })).filter((f) => f.endsWith('.tf'));
    expect(tf.every((f) => f.startsWith('root/') || f.startsWith('modules/'))).toBe(true);
  });
});
