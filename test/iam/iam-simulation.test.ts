import { afterAll, describe, expect, it } from 'vitest';
import {
  FUNCTION_GRANTS,
  type PortGrants,
  RECONCILE,
  RELEASE_API_GRANTS,
  type ServiceFunction,
} from '../../contract/service-functions.ts';
import { ADAPTER_ACTIONS, allActionsFor } from '../../infra/handler-permissions.ts';
import { RELEASE_API_STATE_MACHINE_ACTIONS } from '../../infra/release-api.ts';
import { FUNCTION_IDS } from '../../infra/service-functions.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { synthesizeService } from '../infra/service-stack.ts';
import { environmentsWith } from '../support/environments.ts';
import { adapterResources, ENVIRONMENTS, foreignResources } from './adapter-requests.ts';
import { ACCOUNT, deployedTemplate, REGION } from './deployed-template.ts';
import { decide, tally } from './simulator.ts';
import { PROVIDER_CALLS, type Target } from './terraform-provider-calls.ts';

const t = deployedTemplate();
const roleId = (prefix: string) => t.id('AWS::IAM::Role', prefix);
const fnRole = (fn: ServiceFunction) => roleId(`Handlers${FUNCTION_IDS[fn]}Role`);

/** Who may send what: each service function's grants, the release API's, and a role with none (the image build). */
const SERVICE_FUNCTIONS = Object.keys(FUNCTION_GRANTS) as ServiceFunction[];
const CALLERS = [
  ...SERVICE_FUNCTIONS.map((fn) => ({ name: fn, role: fnRole(fn), grants: FUNCTION_GRANTS[fn] })),
  { name: 'Release API', role: roleId('ReleaseApiFunctionHandlerRole'), grants: RELEASE_API_GRANTS },
];

const ask = (
  role: string,
  action: string,
  resource: string,
  context?: Record<string, string | string[]>,
  resourcePolicy?: unknown,
) =>
  decide({
    principal: t.arn(role),
    action,
    resource,
    identityPolicies: t.rolePolicies[role] ?? [],
    ...(context ? { context } : {}),
    ...(resourcePolicy ? { resourcePolicy } : {}),
  });

const svc = {
  table: t.arn(t.id('AWS::DynamoDB::Table', 'ReleasesTable')),
  topic: t.arn(t.id('AWS::SNS::Topic', 'AlertsTopic')),
  repository: t.arn(t.id('AWS::ECR::Repository', 'ImagesRepository')),
  ownFunction: t.arn(t.id('AWS::Lambda::Function', 'HandlersValidateReleaseFunction')),
  lockTable: t.arn(t.id('AWS::DynamoDB::Table', 'TerraformStateLockTable')),
  stateBucket: t.name(t.id('AWS::S3::Bucket', 'TerraformStateBucket')),
};
const ADAPTER_COMMANDS = [
  ...new Set(Object.values(ADAPTER_ACTIONS).flatMap((methods) => Object.values(methods).flat() as string[])),
].sort();

/** The figures, printed past the runner's console capture so `npm test` shows them. */
const report = (line: string) => process.stdout.write(`${line}\n`);

afterAll(() => {
  report(`IAM simulation: ${tally.run} checks run, ${tally.allowed} allowed, ${tally.denied} denied`);
});

/** Every (port method, SDK command, resource) an adapter sends, for every environment. */
const ADAPTER_REQUESTS = (Object.entries(ADAPTER_ACTIONS) as [string, Record<string, readonly string[]>][]).flatMap(
  ([port, methods]) =>
    Object.entries(methods).flatMap(([method, actions]) =>
      actions.flatMap((action) =>
        ENVIRONMENTS.flatMap((env) =>
          adapterResources(method, action, env, svc).map((resource) => ({ port, method, action, resource })),
        ),
      ),
    ),
);

/** The (command, resource) pairs a set of grants sends. */
function grantedRequests(grants: PortGrants): Set<string> {
  const methods = Object.entries(grants).flatMap(([port, list]) => (list as string[]).map((m) => `${port}.${m}`));
  return new Set(
    ADAPTER_REQUESTS.filter((r) => methods.includes(`${r.port}.${r.method}`)).map((r) => `${r.action} ${r.resource}`),
  );
}

describe('every adapter command, for every role, on the resource AWS authorizes it on', () => {
  it.each(ADAPTER_COMMANDS)(
    '%s is allowed exactly for the roles whose grants send it, where they send it',
    async (action) => {
      const wrong: string[] = [];
      const requests = [...new Set(ADAPTER_REQUESTS.filter((r) => r.action === action).map((r) => r.resource))];
      for (const caller of CALLERS) {
        const granted = grantedRequests(caller.grants);
        for (const resource of requests) {
          const expected = granted.has(`${action} ${resource}`) ? 'Allowed' : 'ImplicitlyDenied';
          const decision = await ask(caller.role, action, resource);
          if (decision !== expected) wrong.push(`${caller.name}: ${action} on ${resource} → ${decision}`);
        }
        for (const resource of foreignResources(action, svc)) {
          const decision = await ask(caller.role, action, resource);
          if (decision !== 'ImplicitlyDenied')
            wrong.push(`${caller.name}: ${action} on foreign ${resource} → ${decision}`);
        }
      }
      expect(wrong).toEqual([]);
    },
  );

  it('covers every command an adapter sends, each granted to some role', () => {
    const granted = new Set(CALLERS.flatMap((c) => allActionsFor(c.grants)));
    expect(ADAPTER_COMMANDS.filter((a) => !granted.has(a))).toEqual([]);
    expect(new Set(ADAPTER_REQUESTS.map((r) => r.action))).toEqual(new Set(ADAPTER_COMMANDS));
  });
});

describe('a paused bake renews its lock from Check health', () => {
  const role = fnRole(STATES.check);

  it('may send the renewal (UpdateItem on the release table), which its grants list', async () => {
    expect(FUNCTION_GRANTS[STATES.check].store).toContain('renewLock');
    expect(ADAPTER_ACTIONS.store.renewLock).toEqual(['dynamodb:UpdateItem']);
    expect(await ask(role, 'dynamodb:UpdateItem', svc.table)).toBe('Allowed');
  });

  it('may not take or free a lock, nor touch the Terraform state lock table', async () => {
    expect(await ask(role, 'dynamodb:DeleteItem', svc.table)).toBe('ImplicitlyDenied');
    expect(await ask(role, 'dynamodb:UpdateItem', svc.lockTable)).toBe('ImplicitlyDenied');
    expect(await ask(role, 'dynamodb:GetItem', svc.lockTable)).toBe('ImplicitlyDenied');
  });
});

describe("the release API's Step Functions calls", () => {
  const stateMachine = t.arn(t.id('AWS::StepFunctions::StateMachine', 'ReleaseStateMachine'));
  const execution = stateMachine.replace(':stateMachine:', ':execution:').concat(':rel-prod-1');
  /** Task-token calls name no resource: SendTaskSuccess/SendTaskFailure have no resource type. */
  const resourceOf = (action: string) =>
    /^states:(Describe|GetExecution|Stop)/.test(action)
      ? execution
      : action === 'states:StartExecution'
        ? stateMachine
        : '*';
  const actions = Object.values(RELEASE_API_STATE_MACHINE_ACTIONS).flat() as string[];

  it.each(actions)('%s is allowed for the release API and no other role', async (action) => {
    const decisions = await Promise.all(
      CALLERS.map(async (c) => [c.name, await ask(c.role, action, resourceOf(action))] as const),
    );
    expect(Object.fromEntries(decisions)).toEqual(
      Object.fromEntries(CALLERS.map((c) => [c.name, c.name === 'Release API' ? 'Allowed' : 'ImplicitlyDenied'])),
    );
  });

  it('approve and reject answer a task token (SendTaskSuccess / SendTaskFailure on "*")', async () => {
    const api = roleId('ReleaseApiFunctionHandlerRole');
    expect(await ask(api, 'states:SendTaskSuccess', '*')).toBe('Allowed');
    expect(await ask(api, 'states:SendTaskFailure', '*')).toBe('Allowed');
  });
});

describe('a fleet: its member functions enter the Lambda grants, and only they', () => {
  // The real config with a 3-member fleet on prod; the same stack code, synthesized once here.
  const envs = environmentsWith('prod', {
    lockTtlMinutes: 6 * 60,
    fleet: {
      deployConcurrency: 2,
      waves: [{ members: 1 }, { percent: 100 }],
      members: ['orders', 'payments', 'search'].map((name) => ({ name, functionName: `switchyard-api-prod-${name}` })),
    },
  });
  const fleet = deployedTemplate(synthesizeService(envs).template);
  const fleetRole = (fn: ServiceFunction) => fleet.id('AWS::IAM::Role', `Handlers${FUNCTION_IDS[fn]}Role`);
  const askFleet = (role: string, action: string, resource: string) =>
    decide({ principal: fleet.arn(role), action, resource, identityPolicies: fleet.rolePolicies[role] ?? [] });
  const member = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:switchyard-api-prod-payments`;

  it('lets each state act on a member function as on the environment function, qualified or not', async () => {
    const cases: [ServiceFunction, string, string][] = [
      [STATES.validate, 'lambda:GetAlias', `${member}:live`],
      [STATES.validate, 'lambda:GetFunction', `${member}:7`],
      [STATES.deploy, 'lambda:UpdateFunctionCode', member],
      [STATES.deploy, 'lambda:PublishVersion', member],
      [STATES.deploy, 'lambda:UpdateAlias', `${member}:green`],
      [STATES.verify, 'lambda:InvokeFunction', `${member}:8`],
      [STATES.shift, 'lambda:UpdateAlias', `${member}:live`],
      [STATES.rollBack, 'lambda:UpdateAlias', `${member}:live`],
      [STATES.finalize, 'lambda:CreateAlias', `${member}:blue`],
    ];
    for (const [fn, action, resource] of cases) {
      expect(await askFleet(fleetRole(fn), action, resource), `${fn}: ${action} on ${resource}`).toBe('Allowed');
    }
  });

  it('grants nothing new to a state that never acts on functions, nor on a function outside the fleet', async () => {
    expect(await askFleet(fleetRole(STATES.check), 'lambda:UpdateAlias', `${member}:live`)).toBe('ImplicitlyDenied');
    expect(await askFleet(fleetRole(STATES.deploy), 'lambda:InvokeFunction', `${member}:8`)).toBe('ImplicitlyDenied');
    const outsider = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:shop-other-prod`;
    expect(await askFleet(fleetRole(STATES.shift), 'lambda:UpdateAlias', `${outsider}:live`)).toBe('ImplicitlyDenied');
    // The real config has no fleet: there, the member's function is out of reach.
    expect(await ask(fnRole(STATES.shift), 'lambda:UpdateAlias', `${member}:live`)).toBe('ImplicitlyDenied');
  });
  it("lets Terraform's release stage create, read, change and delete each member's function, log group and aliases", async () => {
    const role = fleet.id('AWS::IAM::Role', 'ReleaseStageReleaseProjectRole');
    const prod = envs.prod;
    if (!prod) throw new Error('no prod');
    const target: Target = {
      functionName: 'switchyard-api-prod-payments',
      roleName: `${prod.functionName}-function`,
      logGroups: ['/aws/lambda/switchyard-api-prod-payments'],
      alarms: [],
      apiId: 'unused',
      keyId: 'unused',
      newKeyId: 'unused',
      keyAlias: 'unused',
      secretName: 'unused',
      webAclName: 'unused',
      resourceTags: { ManagedBy: 'terraform', Environment: 'prod' },
      stateBucket: 'unused',
      environment: 'prod',
    };
    const memberTypes = ['aws_lambda_function', 'aws_lambda_alias', 'aws_cloudwatch_log_group'];
    const calls = PROVIDER_CALLS.filter((c) => memberTypes.includes(c.resourceType) && !c.notSimulated);
    expect(new Set(calls.map((c) => c.resourceType))).toEqual(new Set(memberTypes));
    const refused: string[] = [];
    for (const call of calls) {
      for (const resource of call.resources(target)) {
        const decision = await decide({
          principal: fleet.arn(role),
          action: call.action,
          resource,
          identityPolicies: fleet.rolePolicies[role] ?? [],
          context: {
            ...(call.sendsTags ? { 'aws:RequestTag/ManagedBy': 'terraform', 'aws:TagKeys': ['ManagedBy'] } : {}),
            ...(call.context ?? {}),
          },
        });
        if (decision !== 'Allowed') refused.push(`${call.action} on ${resource}: ${decision}`);
      }
    }
    expect(refused).toEqual([]);
    // Not a function outside the fleet's prefix.
    const outsider = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:other-api-prod-payments`;
    expect(
      await decide({
        principal: fleet.arn(role),
        action: 'lambda:UpdateFunctionConfiguration',
        resource: outsider,
        identityPolicies: fleet.rolePolicies[role] ?? [],
      }),
    ).toBe('ImplicitlyDenied');
  });
});

describe("the state machine's role", () => {
  const role = roleId('ReleaseStateMachineRole');
  it('invokes every Task handler function, qualified or not, and no application function', async () => {
    for (const fn of SERVICE_FUNCTIONS.filter((f) => f !== RECONCILE)) {
      const arn = t.arn(t.id('AWS::Lambda::Function', `Handlers${FUNCTION_IDS[fn]}Function`));
      expect(await ask(role, 'lambda:InvokeFunction', arn), fn).toBe('Allowed');
      expect(await ask(role, 'lambda:InvokeFunction', `${arn}:$LATEST`), fn).toBe('Allowed');
    }
    for (const env of ENVIRONMENTS) {
      const app = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${env.functionName}`;
      expect(await ask(role, 'lambda:InvokeFunction', `${app}:live`)).toBe('ImplicitlyDenied');
    }
  });

  it('starts the release stage build and no other project', async () => {
    const project = t.arn(t.id('AWS::CodeBuild::Project', 'ReleaseStageReleaseProject'));
    const imageBuild = t.arn(t.id('AWS::CodeBuild::Project', 'ImageBuildProject'));
    expect(await ask(role, 'codebuild:StartBuild', project)).toBe('Allowed');
    expect(await ask(role, 'codebuild:StartBuild', imageBuild)).toBe('ImplicitlyDenied');
  });
});

describe("the release stage's Terraform role", () => {
  const role = roleId('ReleaseStageReleaseProjectRole');
  const bucket = t.name(t.id('AWS::S3::Bucket', 'TerraformStateBucket'));
  const appTarget = (env: (typeof ENVIRONMENTS)[number]): Target => ({
    functionName: env.functionName,
    roleName: `${env.functionName}-function`,
    logGroups: [`/aws/lambda/${env.functionName}`, `/aws/apigateway/${env.functionName}/access`],
    alarms: env.health.alarms,
    apiId: `app${env.name}01`,
    keyId: `0000abcd-${env.name.padEnd(4, '0').slice(0, 4)}-4000-8000-000000000001`,
    newKeyId: '0000abcd-0000-4000-8000-000000000002',
    keyAlias: `${env.functionName}-secrets`,
    secretName: `${env.functionName}/client-keys`,
    webAclName: `${env.functionName}-api`,
    resourceTags: { ManagedBy: 'terraform', Environment: env.name },
    stateBucket: bucket,
    environment: env.name,
  });
  const ownFunction = t.name(t.id('AWS::Lambda::Function', 'HandlersValidateReleaseFunction'));
  const serviceKey = t.name(t.id('AWS::KMS::Key', 'ServiceKey'));
  /** Switchyard's own resources, under the same calls: each must be refused. */
  const own: Target = {
    functionName: ownFunction,
    roleName: t.name(roleId('HandlersValidateReleaseRole')),
    logGroups: [`/aws/lambda/${ownFunction}`, t.name(t.id('AWS::Logs::LogGroup', 'ReleaseApiAccessLogs'))],
    alarms: Object.keys(t.resources)
      .filter((id) => t.resources[id]?.Type === 'AWS::CloudWatch::Alarm')
      .map((id) => t.name(id)),
    apiId: t.name(t.id('AWS::ApiGateway::RestApi', 'ReleaseApi')),
    keyId: serviceKey,
    newKeyId: serviceKey,
    keyAlias: 'switchyard-service',
    secretName: 'switchyard/signing',
    webAclName: 'switchyard-release-api',
    resourceTags: {},
    stateBucket: t.name(t.id('AWS::S3::Bucket', 'TerraformStateAccessLogs')),
    environment: 'dev',
  };
  /**
   * A key Terraform creates gets KMS's default key policy, which lets the account's IAM policies decide
   * (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html); the service key has its own.
   */
  const defaultKeyPolicy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
    ],
  };
  const serviceKeyPolicy = t.documents.find((d) => d.where.startsWith(t.id('AWS::KMS::Key', 'ServiceKey')))?.document;
  const keyPolicyFor = (target: Target, action: string, resource: string) =>
    action.startsWith('kms:') && resource !== '*' && !resource.includes(':alias/')
      ? resource.endsWith(serviceKey) || target === own
        ? serviceKeyPolicy
        : defaultKeyPolicy
      : undefined;
  const check = (target: Target, call: (typeof PROVIDER_CALLS)[number], resource: string) =>
    ask(
      role,
      call.action,
      resource,
      {
        ...contextFor(call.untagged ? { ...target, resourceTags: {} } : target, call.sendsTags),
        ...(call.context ?? {}),
      },
      keyPolicyFor(target, call.action, resource),
    );
  const contextFor = (target: Target, sendsTags: boolean | undefined): Record<string, string | string[]> => ({
    ...Object.fromEntries(Object.entries(target.resourceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
    ...(sendsTags
      ? {
          'aws:RequestTag/ManagedBy': 'terraform',
          'aws:RequestTag/Environment': target.environment,
          'aws:TagKeys': ['Application', 'Environment', 'ManagedBy', 'Repository'],
        }
      : {}),
  });
  const simulated = PROVIDER_CALLS.filter((call) => !call.notSimulated);
  const rows = simulated.map((call) => [`${call.resourceType} ${call.phase}: ${call.action}`, call] as const);

  it.each(rows)("%s is allowed on each environment's resources", async (_, call) => {
    for (const env of ENVIRONMENTS) {
      const target = appTarget(env);
      for (const resource of call.resources(target)) {
        expect(await check(target, call, resource), resource).toBe('Allowed');
      }
    }
  });

  it.each(rows)("%s is refused on Switchyard's own resources", async (_, call) => {
    const app = ENVIRONMENTS.flatMap((env) => call.resources(appTarget(env)));
    const ownResources = call.resources(own).filter((r) => !app.includes(r));
    for (const resource of ownResources) {
      expect(await check(own, call, resource), resource).not.toBe('Allowed');
    }
  });

  it('lists every resource type the application module manages', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const dir = new URL('../../infra/terraform/modules/app-environment/', import.meta.url);
    const managed = new Set(
      readdirSync(dir)
        .filter((f) => f.endsWith('.tf'))
        .flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/^resource "(\w+)"/gm)].map((m) => m[1])),
    );
    expect([...managed].sort()).toEqual(
      [...new Set(PROVIDER_CALLS.map((c) => c.resourceType))].filter((r) => r.startsWith('aws_')).sort(),
    );
    report(
      `Terraform provider calls: ${PROVIDER_CALLS.length} listed, ${PROVIDER_CALLS.length - simulated.length} not simulated (${PROVIDER_CALLS.filter(
        (c) => c.notSimulated,
      )
        .map((c) => `${c.resourceType} ${c.action}`)
        .join(', ')})`,
    );
  });

  it("cannot tag Switchyard's own API or key into Terraform's reach", async () => {
    const ownApi = `arn:aws:apigateway:${REGION}::/restapis/${own.apiId}`;
    const tagging = { 'aws:RequestTag/ManagedBy': 'terraform', 'aws:TagKeys': ['ManagedBy'] };
    expect(
      await ask(role, 'apigateway:PUT', `arn:aws:apigateway:${REGION}::/tags/${encodeURIComponent(ownApi)}`, tagging),
    ).not.toBe('Allowed');
    expect(
      await ask(
        role,
        'kms:TagResource',
        `arn:aws:kms:${REGION}:${ACCOUNT}:key/${serviceKey}`,
        tagging,
        serviceKeyPolicy,
      ),
    ).not.toBe('Allowed');
  });
});

describe('image scan records, by digest, in the state bucket', () => {
  const bucket = t.name(t.id('AWS::S3::Bucket', 'TerraformStateBucket'));
  const record = `arn:aws:s3:::${bucket}/image-scans/sha256:${'ab'.repeat(32)}.json`;
  const state = `arn:aws:s3:::${bucket}/switchyard/prod/terraform.tfstate`;
  const build = roleId('ImageBuildProjectRole');
  const release = roleId('ReleaseStageReleaseProjectRole');

  it('the build stage writes a record and can neither read one nor touch Terraform state', async () => {
    expect(await ask(build, 's3:PutObject', record)).toBe('Allowed');
    expect(await ask(build, 's3:GetObject', record)).toBe('ImplicitlyDenied');
    expect(await ask(build, 's3:DeleteObject', record)).toBe('ImplicitlyDenied');
    expect(await ask(build, 's3:PutObject', state)).toBe('ImplicitlyDenied');
    expect(await ask(build, 's3:GetObject', state)).toBe('ImplicitlyDenied');
  });

  it('the release stage reads a record and records its own scan, but deletes none', async () => {
    expect(await ask(release, 's3:GetObject', record)).toBe('Allowed');
    expect(await ask(release, 's3:PutObject', record)).toBe('Allowed');
    expect(await ask(release, 's3:DeleteObject', record)).toBe('ImplicitlyDenied');
  });

  it('no service function can read or write a record', async () => {
    for (const caller of CALLERS) {
      expect(await ask(caller.role, 's3:GetObject', record), caller.name).toBe('ImplicitlyDenied');
      expect(await ask(caller.role, 's3:PutObject', record), caller.name).toBe('ImplicitlyDenied');
    }
  });
});

describe('change sets and SBOMs, by digest, in the state bucket (docs/insight.md)', () => {
  const bucket = t.name(t.id('AWS::S3::Bucket', 'TerraformStateBucket'));
  const changeSet = `arn:aws:s3:::${bucket}/change-sets/sha256:${'ab'.repeat(32)}.json`;
  const pointer = `arn:aws:s3:::${bucket}/change-sets/commits/${'c'.repeat(40)}.json`;
  const sbom = `arn:aws:s3:::${bucket}/sboms/sha256:${'ab'.repeat(32)}.cdx.json`;
  const build = roleId('ImageBuildProjectRole');

  it('the build stage writes a change set, its commit pointer and its SBOM, and reads none', async () => {
    for (const object of [changeSet, pointer, sbom]) {
      expect(await ask(build, 's3:PutObject', object)).toBe('Allowed');
      expect(await ask(build, 's3:GetObject', object)).toBe('ImplicitlyDenied');
      expect(await ask(build, 's3:DeleteObject', object)).toBe('ImplicitlyDenied');
    }
  });

  it('Validate release alone reads change sets; no function writes one or reads an SBOM', async () => {
    for (const caller of CALLERS) {
      const reads = caller.name === STATES.validate ? 'Allowed' : 'ImplicitlyDenied';
      expect(await ask(caller.role, 's3:GetObject', changeSet), caller.name).toBe(reads);
      expect(await ask(caller.role, 's3:GetObject', pointer), caller.name).toBe(reads);
      expect(await ask(caller.role, 's3:GetObject', sbom), caller.name).toBe('ImplicitlyDenied');
      expect(await ask(caller.role, 's3:PutObject', changeSet), caller.name).toBe('ImplicitlyDenied');
    }
  });
});
