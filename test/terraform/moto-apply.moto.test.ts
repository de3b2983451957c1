import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APIGatewayClient, GetRestApisCommand, GetStagesCommand } from '@aws-sdk/client-api-gateway';
import { ECRClient } from '@aws-sdk/client-ecr';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionCommand, GetPolicyCommand, LambdaClient, ListAliasesCommand } from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetWebACLForResourceCommand, ListWebACLsCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environments } from '../../config/environments.ts';
import { TERRAFORM_ROOT, type TerraformVariables, terraformVariables } from '../../scripts/generate-tfvars.ts';
import { environmentsWith } from '../support/environments.ts';
import { MOTO_DEFAULT_ACCOUNT, motoClientConfig, requireMoto } from '../support/moto.ts';
import { type PushedImage, pushImage } from '../support/moto-ecr.ts';
import { writeMotoRecord } from '../support/moto-report.ts';
import {
  cliConfig,
  configuredProviderInstallation,
  findProviderMirror,
  requireTerraform,
  terraformOk,
} from '../support/terraform-cli.ts';

/**
 * The one Terraform root, applied against moto for every environment and for a fleet of three functions, as the
 * release stage applies it: init, apply with the generated tfvars and an image by digest from ECR; then what the
 * config says should exist is read back through the AWS SDK, a second plan must show no change but moto's
 * documented gaps (docs/terraform.md, "Applied against moto"), and destroy must leave nothing.
 *
 * The applies share moto's default account (the provider sends no account header) and run side by side; the fleet is
 * prod's config with a fleet of three under a function name of its own, so no name (IAM's are per account) collides.
 */

const REGION = 'eu-west-1';
const prodEnvironment = environments.prod;
if (!prodEnvironment) throw new Error('no prod environment in the config');
const FLEET_FUNCTION = `${prodEnvironment.functionName}-fleet`;
const fleetProd = environmentsWith('prod', {
  functionName: FLEET_FUNCTION,
  lockTtlMinutes: 6 * 60,
  health: {
    alarms: prodEnvironment.health.alarms.map((name) => name.replace(prodEnvironment.functionName, FLEET_FUNCTION)),
  },
  fleet: {
    deployConcurrency: 2,
    waves: [{ members: 1 }, { percent: 100 }],
    members: [
      { name: 'own', functionName: FLEET_FUNCTION },
      { name: 'eu', functionName: `${FLEET_FUNCTION}-eu`, memoryMb: 1024 },
      {
        name: 'us',
        functionName: `${FLEET_FUNCTION}-us`,
        aliases: { live: 'us-live', green: 'us-green', blue: 'us-blue' },
      },
    ],
  },
}).prod;
if (!fleetProd) throw new Error('no prod environment in the fleet config');

interface Target {
  /** What the summary line calls it. */
  readonly label: string;
  readonly region: string;
  readonly vars: TerraformVariables;
}

const TARGETS: readonly Target[] = [
  ...(['dev', 'staging', 'prod'] as const).map((name) => {
    const env = environments[name];
    if (!env) throw new Error(`no ${name} environment in the config`);
    return { label: name, region: REGION, vars: terraformVariables(env) };
  }),
  { label: 'fleet', region: REGION, vars: terraformVariables(fleetProd) },
];

/**
 * Where a second plan against moto differs from the applied configuration although nothing changed, because moto
 * does not store or return an attribute as Lambda does (each cited in docs/terraform.md): these attributes of these
 * resource types, and nothing else, may show in it.
 */
const MOTO_PLAN_GAPS: Readonly<Record<string, readonly string[]>> = {
  aws_lambda_function: [
    // moto's GetFunction never returns LoggingConfig (moto/awslambda/models.py, LambdaFunction.get_configuration).
    'logging_config',
    // moto returns an empty ImageConfigResponse for every image function, where Lambda returns none when no
    // ImageConfig was set (same method).
    'image_config',
    // publish = true: the update the two gaps above plan would publish a new version.
    'version',
    'qualified_arn',
    'qualified_invoke_arn',
  ],
};

interface PlanChange {
  readonly address: string;
  readonly type: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: Record<string, unknown> | null;
    readonly after?: Record<string, unknown> | null;
    readonly after_unknown?: Record<string, unknown>;
  };
}

/** The attributes a planned update changes: different before and after, or unknown until apply. */
function changedAttributes(change: PlanChange['change']): string[] {
  const before = change.before ?? {};
  const after = change.after ?? {};
  const unknown = change.after_unknown ?? {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(unknown)]);
  return [...keys]
    .filter((key) => unknown[key] === true || JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .sort();
}

/** Each change of a plan's JSON that is not a no-op or a read, as `<address>: <action> <attributes>`. */
function planChanges(planJson: string): { address: string; type: string; actions: string[]; attributes: string[] }[] {
  const plan = JSON.parse(planJson) as { resource_changes?: PlanChange[] };
  return (plan.resource_changes ?? [])
    .filter((c) => !c.change.actions.every((a) => a === 'no-op' || a === 'read'))
    .map((c) => ({
      address: c.address,
      type: c.type,
      actions: [...c.change.actions],
      attributes: c.change.actions.includes('update') ? changedAttributes(c.change) : [],
    }));
}

/** What an apply left, read back through the AWS SDK in the environment's terms. */
interface ReadBack {
  readonly function: { imageUri?: string; memory?: number; tracing?: string };
  readonly aliases: Record<string, string | undefined>;
  readonly stages: Record<string, { alias?: string; webAcl?: string }>;
  readonly permissions: Record<string, { principal?: unknown; sourceArn?: unknown }[]>;
  readonly apiExecutionArn: string;
  readonly webAclArn: string;
  readonly members: Record<string, { memory?: number; imageUri?: string; aliases: Record<string, string | undefined> }>;
}

interface PolicyStatement {
  readonly Sid?: string;
  readonly Resource?: string;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

interface Leftovers {
  readonly state: string[];
  readonly functions: string[];
  readonly restApis: string[];
  readonly webAcls: string[];
  readonly role: boolean;
  readonly secretDeleted: boolean;
}

interface Outcome {
  /** Seconds each phase took, for the run's figures. */
  readonly seconds: Record<string, number>;
  resources?: number;
  readBack?: ReadBack;
  replan?: { exitCode: number | null; changes: ReturnType<typeof planChanges> };
  leftovers?: Leftovers;
  error?: Error;
}

const outcomes = new Map<string, Outcome>();
let workDir: string;

function clients(region: string, endpoint: string) {
  const config = { ...motoClientConfig(endpoint), region };
  return {
    lambda: new LambdaClient(config),
    apigateway: new APIGatewayClient(config),
    wafv2: new WAFV2Client(config),
    iam: new IAMClient(config),
    secrets: new SecretsManagerClient(config),
  };
}

async function functionOf(lambda: LambdaClient, name: string) {
  const fn = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
  const aliases = await lambda.send(new ListAliasesCommand({ FunctionName: name }));
  return {
    imageUri: fn.Code?.ImageUri,
    memory: fn.Configuration?.MemorySize,
    tracing: fn.Configuration?.TracingConfig?.Mode,
    aliases: Object.fromEntries((aliases.Aliases ?? []).map((a) => [a.Name ?? '', a.FunctionVersion])),
  };
}

async function readBack(
  target: Target,
  endpoint: string,
  outputs: Record<string, { value: unknown }>,
): Promise<ReadBack> {
  const aws = clients(target.region, endpoint);
  const own = await functionOf(aws.lambda, target.vars.function_name);
  const apis = await aws.apigateway.send(new GetRestApisCommand({}));
  const api = apis.items?.find((a) => a.name === target.vars.function_name);
  if (!api?.id) throw new Error(`no REST API named ${target.vars.function_name}`);
  const stages = await aws.apigateway.send(new GetStagesCommand({ restApiId: api.id }));
  const stageArn = (name: string) => `arn:aws:apigateway:${target.region}::/restapis/${api.id}/stages/${name}`;
  const stageEntries = await Promise.all(
    (stages.item ?? []).map(async (s) => {
      const acl = await aws.wafv2.send(new GetWebACLForResourceCommand({ ResourceArn: stageArn(s.stageName ?? '') }));
      return [s.stageName ?? '', { alias: s.variables?.alias, webAcl: acl.WebACL?.ARN }] as const;
    }),
  );
  // Each alias's resource policy, by the alias its statements name. Lambda keeps one policy per alias (GetPolicy
  // with the alias as Qualifier, https://docs.aws.amazon.com/lambda/latest/api/API_GetPolicy.html); moto keeps it on
  // the version the alias points at (moto/awslambda/models.py, LambdaBackend.get_policy resolves the qualifier to the
  // version), so there every alias on one version answers every alias's statements. Grouping the statements by
  // their Resource reads the same per-alias grants from both.
  const statements = new Map<string, PolicyStatement>();
  for (const alias of Object.values(target.vars.aliases)) {
    const policy = await aws.lambda
      .send(new GetPolicyCommand({ FunctionName: target.vars.function_name, Qualifier: alias }))
      .catch(() => undefined);
    const parsed = policy?.Policy ? (JSON.parse(policy.Policy) as { Statement: PolicyStatement[] }).Statement : [];
    for (const statement of parsed) statements.set(statement.Sid ?? JSON.stringify(statement), statement);
  }
  const permissions: ReadBack['permissions'] = Object.fromEntries(
    Object.values(target.vars.aliases).map((alias) => [alias, [] as ReadBack['permissions'][string]]),
  );
  for (const statement of statements.values()) {
    const qualifier = String(statement.Resource ?? '').split(':')[7] ?? '';
    permissions[qualifier] = [
      ...(permissions[qualifier] ?? []),
      { principal: statement.Principal, sourceArn: statement.Condition?.ArnLike?.['AWS:SourceArn'] },
    ];
  }
  const members: ReadBack['members'] = {};
  for (const [name, member] of Object.entries(target.vars.fleet_members)) {
    members[name] = await functionOf(aws.lambda, member.function_name);
  }
  return {
    function: { imageUri: own.imageUri, memory: own.memory, tracing: own.tracing },
    aliases: own.aliases,
    stages: Object.fromEntries(stageEntries),
    permissions,
    apiExecutionArn: `arn:aws:execute-api:${target.region}:${MOTO_DEFAULT_ACCOUNT}:${api.id}`,
    webAclArn: String(outputs.web_acl_arn?.value ?? ''),
    members,
  };
}

async function leftovers(target: Target, endpoint: string, state: string): Promise<Leftovers> {
  const aws = clients(target.region, endpoint);
  const names = [target.vars.function_name, ...Object.values(target.vars.fleet_members).map((m) => m.function_name)];
  const functions: string[] = [];
  for (const name of names) {
    const found = await aws.lambda.send(new GetFunctionCommand({ FunctionName: name })).then(
      () => true,
      () => false,
    );
    if (found) functions.push(name);
  }
  const apis = await aws.apigateway.send(new GetRestApisCommand({}));
  const acls = await aws.wafv2.send(new ListWebACLsCommand({ Scope: 'REGIONAL' }));
  const role = await aws.iam.send(new GetRoleCommand({ RoleName: `${target.vars.function_name}-function` })).then(
    () => true,
    () => false,
  );
  // A secret is deleted after its recovery window (30 days here): what destroy leaves is one scheduled for deletion.
  const secret = await aws.secrets
    .send(new DescribeSecretCommand({ SecretId: `${target.vars.function_name}/client-keys` }))
    .then(
      (s) => s.DeletedDate !== undefined,
      () => true,
    );
  return {
    state: state.split('\n').filter((line) => line.trim() !== ''),
    functions,
    restApis: (apis.items ?? []).filter((a) => a.name === target.vars.function_name).map((a) => a.id ?? ''),
    webAcls: (acls.WebACLs ?? []).filter((a) => a.Name?.startsWith(target.vars.function_name)).map((a) => a.Name ?? ''),
    role,
    secretDeleted: secret,
  };
}

const managed = (stateList: string) =>
  stateList.split('\n').filter((line) => line.trim() !== '' && !/(^|\.)data\./.test(line)).length;

/** Why nothing could be applied (moto or Terraform missing): every test fails with it, none is skipped. */
let setupError: Error | undefined;

beforeAll(async () => {
  try {
    await applyEverything();
  } catch (error) {
    setupError = error as Error;
  }
}, 1_800_000);

async function applyEverything(): Promise<void> {
  const { endpoint } = requireMoto();
  const executable = requireTerraform();
  workDir = mkdtempSync(join(tmpdir(), 'switchyard-terraform-'));
  const cacheDir = join(workDir, 'plugin-cache');
  mkdirSync(cacheDir);
  const configured = configuredProviderInstallation();
  const cliFile = join(workDir, 'cli.tfrc');
  writeFileSync(cliFile, cliConfig(cacheDir, configured ? undefined : findProviderMirror()));
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...(configured ? { TF_PLUGIN_CACHE_DIR: cacheDir } : { TF_CLI_CONFIG_FILE: cliFile }),
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'moto',
    AWS_SECRET_ACCESS_KEY: 'moto',
    AWS_EC2_METADATA_DISABLED: 'true',
    TF_IN_AUTOMATION: 'true',
    TF_INPUT: '0',
  };
  delete baseEnv.AWS_PROFILE;
  delete baseEnv.AWS_SESSION_TOKEN;

  // The image each environment is created from, pushed to that region's ECR and named by digest; the alerts topic.
  const images = new Map<string, PushedImage>();
  const topics = new Map<string, string>();
  for (const region of new Set(TARGETS.map((t) => t.region))) {
    const config = { ...motoClientConfig(endpoint), region };
    images.set(region, await pushImage(new ECRClient(config), 'switchyard-api', 'release-1', 'git-0123456789ab'));
    const topic = await new SNSClient(config).send(new CreateTopicCommand({ Name: 'switchyard-alerts' }));
    topics.set(region, topic.TopicArn ?? '');
  }

  // A copy of the one root and module per target, its S3 backend replaced by a local one (an override file).
  const dirs = TARGETS.map((target) => {
    const dir = join(workDir, target.label);
    cpSync(join(TERRAFORM_ROOT, 'root'), join(dir, 'root'), { recursive: true });
    cpSync(join(TERRAFORM_ROOT, 'modules'), join(dir, 'modules'), { recursive: true });
    writeFileSync(join(dir, 'root', 'backend_override.tf'), 'terraform {\n  backend "local" {}\n}\n');
    writeFileSync(join(dir, 'root', 'target.tfvars.json'), JSON.stringify(target.vars, null, 2));
    return join(dir, 'root');
  });
  // One init at a time: they share the plugin cache, which Terraform does not lock.
  for (const dir of dirs) await terraformOk(executable, dir, ['init', '-no-color'], baseEnv);

  await Promise.all(
    TARGETS.map(async (target, index) => {
      const dir = dirs[index] ?? '';
      const outcome: Outcome = { seconds: {} };
      outcomes.set(target.label, outcome);
      const env = { ...baseEnv, AWS_REGION: target.region };
      const vars = [
        '-var-file=target.tfvars.json',
        `-var=image_uri=${images.get(target.region)?.uri}`,
        `-var=alerts_topic_arn=${topics.get(target.region)}`,
      ];
      const run = async (args: string[], accept?: number[]) => {
        const started = Date.now();
        const result = await terraformOk(executable, dir, args, env, accept);
        const phase = args[0] ?? '';
        outcome.seconds[phase] = (outcome.seconds[phase] ?? 0) + Math.round((Date.now() - started) / 1000);
        return result;
      };
      try {
        await run(['apply', '-auto-approve', '-no-color', ...vars]);
        outcome.resources = managed((await run(['state', 'list'])).stdout);
        const outputs = JSON.parse((await run(['output', '-json'])).stdout) as Record<string, { value: unknown }>;
        outcome.readBack = await readBack(target, endpoint, outputs);
        const plan = await run(['plan', '-detailed-exitcode', '-no-color', '-out=replan.tfplan', ...vars], [0, 2]);
        const shown = plan.code === 2 ? (await run(['show', '-json', 'replan.tfplan'])).stdout : '{}';
        outcome.replan = { exitCode: plan.code, changes: planChanges(shown) };
      } catch (error) {
        outcome.error = error as Error;
      } finally {
        try {
          await run(['destroy', '-auto-approve', '-no-color', '-refresh=false', ...vars]);
          outcome.leftovers = await leftovers(target, endpoint, (await run(['state', 'list'])).stdout);
        } catch (error) {
          outcome.error ??= error as Error;
        }
      }
    }),
  );
}

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  // The figures, printed past the runner's console capture so `npm test` shows them.
  const phases = TARGETS.map((t) => {
    const seconds = outcomes.get(t.label)?.seconds ?? {};
    return `${t.label} ${['apply', 'plan', 'destroy'].map((p) => `${p} ${seconds[p] ?? '-'}s`).join(' ')}`;
  });
  process.stdout.write(`Terraform on moto, seconds per phase: ${phases.join('; ')}\n`);
  const counts = Object.fromEntries(TARGETS.map((t) => [t.label, outcomes.get(t.label)?.resources ?? 0]));
  const clean = TARGETS.every((t) => {
    const o = outcomes.get(t.label);
    return o && !o.error && o.readBack && o.replan && o.leftovers;
  });
  if (clean && passedAll && !setupError) writeMotoRecord(requireMoto().reportDir, 'terraform', { terraform: counts });
});

let passedAll = true;
const outcomeOf = (label: string): Outcome => {
  if (setupError) throw setupError;
  const outcome = outcomes.get(label);
  if (!outcome) throw new Error(`${label} never ran`);
  if (outcome.error) throw outcome.error;
  return outcome;
};
const check = (fn: () => void) => () => {
  try {
    fn();
  } catch (error) {
    passedAll = false;
    throw error;
  }
};

describe.each(TARGETS)('the Terraform root for $label, applied against moto', (target) => {
  const { vars } = target;

  it(
    'creates the function from the image by digest, with the config’s memory and active tracing',
    check(() => {
      const { readBack } = outcomeOf(target.label);
      expect(outcomeOf(target.label).resources).toBeGreaterThan(0);
      expect(readBack?.function).toEqual({
        imageUri: expect.stringMatching(/@sha256:[0-9a-f]{64}$/),
        memory: vars.memory_mb,
        tracing: 'Active',
      });
    }),
  );

  it(
    'creates the live, blue and green aliases on one published version',
    check(() => {
      const aliases = outcomeOf(target.label).readBack?.aliases ?? {};
      expect(Object.keys(aliases).sort()).toEqual(Object.values(vars.aliases).sort());
      const versions = new Set(Object.values(aliases));
      expect(versions.size).toBe(1);
      expect([...versions][0]).toMatch(/^\d+$/);
    }),
  );

  it(
    'serves the environment’s stage from the live alias and the green stage from the green alias, both behind the web ACL',
    check(() => {
      const readBack = outcomeOf(target.label).readBack;
      expect(readBack?.stages).toEqual({
        [vars.environment]: { alias: vars.aliases.live, webAcl: readBack?.webAclArn },
        green: { alias: vars.aliases.green, webAcl: readBack?.webAclArn },
      });
      expect(readBack?.webAclArn).toMatch(/^arn:aws:wafv2:/);
    }),
  );

  it(
    'lets API Gateway invoke each stage’s alias from that stage only, and no other alias',
    check(() => {
      const readBack = outcomeOf(target.label).readBack;
      const from = (stage: string) => [
        { principal: { Service: 'apigateway.amazonaws.com' }, sourceArn: `${readBack?.apiExecutionArn}/${stage}/*/*` },
      ];
      expect(readBack?.permissions).toEqual({
        [vars.aliases.live]: from(vars.environment),
        [vars.aliases.green]: from('green'),
        [vars.aliases.blue]: [],
      });
    }),
  );

  it(
    'creates each fleet member’s function and aliases (none without a fleet)',
    check(() => {
      const members = outcomeOf(target.label).readBack?.members ?? {};
      expect(Object.keys(members).sort()).toEqual(Object.keys(vars.fleet_members).sort());
      for (const [name, member] of Object.entries(vars.fleet_members)) {
        const found = members[name];
        expect(found?.memory, name).toBe(member.memory_mb);
        expect(found?.imageUri, name).toMatch(/@sha256:[0-9a-f]{64}$/);
        expect(Object.keys(found?.aliases ?? {}).sort(), name).toEqual(Object.values(member.aliases).sort());
        expect(new Set(Object.values(found?.aliases ?? {})).size, name).toBe(1);
      }
    }),
  );

  it(
    'plans no change on a second plan but moto’s documented gaps',
    check(() => {
      const replan = outcomeOf(target.label).replan;
      const unexpected = (replan?.changes ?? []).filter(
        (c) =>
          !(c.actions.join() === 'update' && c.attributes.every((a) => MOTO_PLAN_GAPS[c.type]?.includes(a) ?? false)),
      );
      expect(unexpected).toEqual([]);
    }),
  );

  it(
    'destroys everything it created',
    check(() => {
      expect(outcomeOf(target.label).leftovers).toEqual({
        state: [],
        functions: [],
        restApis: [],
        webAcls: [],
        role: false,
        secretDeleted: true,
      });
    }),
  );
});
