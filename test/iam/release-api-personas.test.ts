import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { RELEASE_API_ROUTES, splitRoute } from '../../api/routes.ts';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../config/schema.ts';
import { promotionReleaseId } from '../../core/model/release-id.ts';
import { ACCOUNT, deployedTemplate, REGION } from './deployed-template.ts';
import { type Decision, decide } from './simulator.ts';

/*
 * The three personas of docs/operate.md ("Who may call the release API on AWS"), simulated as AWS evaluates
 * `execute-api:Invoke` on every route of the synthesized release API, in every environment.
 */

const t = deployedTemplate();
const apiLogicalId = t.id('AWS::ApiGateway::RestApi', 'ReleaseApi');
const API_ID = t.name(apiLogicalId);
const stage = Object.values(t.resources).find((r) => r.Type === 'AWS::ApiGateway::Stage');
const STAGE = String(stage?.Properties?.StageName);

/** Each method of the synthesized API as `METHOD /path/{param}`, rebuilt from its resource's parents. */
function synthesizedRoutes(): { route: string; authorization: unknown }[] {
  const pathOf = (ref: unknown): string => {
    if (ref && typeof ref === 'object' && 'Fn::GetAtt' in ref) return '';
    const id = (ref as { Ref: string }).Ref;
    const props = t.resources[id]?.Properties ?? {};
    return `${pathOf(props.ParentId)}/${String(props.PathPart)}`;
  };
  return Object.values(t.resources)
    .filter(
      (r) => r.Type === 'AWS::ApiGateway::Method' && JSON.stringify(r.Properties?.RestApiId).includes(apiLogicalId),
    )
    .map((r) => ({
      route: `${String(r.Properties?.HttpMethod)} ${pathOf(r.Properties?.ResourceId) || '/'}`,
      authorization: r.Properties?.AuthorizationType,
    }));
}

const DOCS = readFileSync(new URL('../../docs/operate.md', import.meta.url), 'utf8');

/** The policy document docs/operate.md gives a persona, its example API id replaced by the synthesized one's. */
function documentedPolicy(persona: string): unknown {
  const block = new RegExp(`<!-- iam-persona: ${persona} -->\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(DOCS)?.[1];
  if (!block) throw new Error(`docs/operate.md gives no policy for ${persona}`);
  return JSON.parse(block.replaceAll(':abc123/switchyard/', `:${API_ID}/${STAGE}/`));
}

const SOURCE: Record<EnvironmentName, string> = {
  dev: 'rel-dev-20261207090000-d1d1d1',
  staging: 'rel-staging-20261207100000-5a5a5a',
  prod: 'rel-prod-20261207110000-9f9f9f',
};
/** What a promotion into each environment promotes: the release of the environment before it. */
const PROMOTED_FROM: Record<EnvironmentName, string> = {
  dev: SOURCE.dev,
  staging: SOURCE.dev,
  prod: SOURCE.staging,
};

const IMAGE = `sha256:${'7'.repeat(64)}`;

interface Call {
  readonly route: string;
  readonly environment: EnvironmentName | undefined;
  readonly method: string;
  readonly path: string;
}

/** Every route, with its parameters filled in for each environment (a route of none is called once). */
const CALLS: readonly Call[] = RELEASE_API_ROUTES.flatMap((route) => {
  const { method, path } = splitRoute(route);
  const environments = path.includes('{environment}') ? ENVIRONMENT_NAMES : [undefined];
  return environments.map((environment) => {
    const releaseId = !environment
      ? SOURCE.prod
      : path.includes('/promotions/')
        ? PROMOTED_FROM[environment]
        : SOURCE[environment];
    const filled = path
      .replace('{environment}', environment ?? '')
      .replace('{releaseId}', releaseId)
      .replace('{digest}', IMAGE);
    return { route, environment, method, path: filled };
  });
});

const arnOf = (method: string, path: string) =>
  `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${STAGE}/${method}${path}`;

interface Persona {
  readonly name: string;
  readonly role: string;
  /** What the persona is meant to be allowed: the rows the simulation must find allowed, and no others. */
  readonly allowed: (call: Call) => boolean;
}

const actionOf = (call: Call) => call.route.split('/').at(-1);
const START = 'POST /environments/{environment}/releases';
const OVERRIDE = 'POST /environments/{environment}/overrides';
const PERSONAS: readonly Persona[] = [
  {
    name: 'developer',
    role: 'Developer',
    allowed: (c) => c.method === 'GET' || c.environment === 'dev' || c.environment === 'staging',
  },
  {
    name: 'release-manager',
    role: 'ReleaseManager',
    allowed: (c) =>
      c.method === 'GET' || (c.environment === 'prod' && ['approve', 'reject'].includes(actionOf(c) ?? '')),
  },
  {
    name: 'on-call',
    role: 'OnCall',
    allowed: (c) => c.method === 'GET' || ['abort', 'rollback'].includes(actionOf(c) ?? ''),
  },
  {
    // May start prod releases, and nothing else that changes anything: not the override route.
    name: 'prod-releaser',
    role: 'ProdReleaser',
    allowed: (c) => c.method === 'GET' || (c.environment === 'prod' && c.route === START),
  },
  {
    // May override windows and freezes, clear holds and abandon or restore images; not start a plain release.
    name: 'change-manager',
    role: 'ChangeManager',
    allowed: (c) =>
      c.method === 'GET' ||
      [
        OVERRIDE,
        'POST /environments/{environment}/clear-hold',
        'POST /images/{digest}/abandon',
        'POST /images/{digest}/restore',
      ].includes(c.route),
  },
];

const ask = (persona: Persona, method: string, path: string): Promise<Decision> =>
  decide({
    principal: `arn:aws:iam::${ACCOUNT}:role/${persona.role}`,
    action: 'execute-api:Invoke',
    resource: arnOf(method, path),
    identityPolicies: [documentedPolicy(persona.name)],
  });

const counts = new Map<string, { allowed: number; denied: number }>();
const report = (line: string) => process.stdout.write(`${line}\n`);

afterAll(() => {
  for (const [name, { allowed, denied }] of counts) {
    report(`release API persona ${name}: ${allowed + denied} calls, ${allowed} allowed, ${denied} denied`);
  }
  const total = [...counts.values()].reduce(
    (sum, c) => ({ allowed: sum.allowed + c.allowed, denied: sum.denied + c.denied }),
    { allowed: 0, denied: 0 },
  );
  report(
    `release API personas: ${total.allowed + total.denied} checks run, ${total.allowed} allowed, ${total.denied} denied`,
  );
});

describe('the synthesized release API is what the personas are simulated against', () => {
  it('has exactly the handler routes, each behind IAM authorization', () => {
    const routes = synthesizedRoutes();
    expect(routes.map((r) => r.route).sort()).toEqual([...RELEASE_API_ROUTES].sort());
    expect(new Set(routes.map((r) => r.authorization))).toEqual(new Set(['AWS_IAM']));
  });

  it('has an environment in the path of every route that changes something, but an image, which is every environment', () => {
    const posts = RELEASE_API_ROUTES.filter((r) => r.startsWith('POST '));
    expect(posts.filter((r) => !r.startsWith('POST /environments/{environment}/'))).toEqual([
      'POST /images/{digest}/abandon',
      'POST /images/{digest}/restore',
    ]);
  });
});

describe.each(PERSONAS)('the $name persona of docs/operate.md', (persona) => {
  it('is allowed exactly its calls, on every route in every environment', async () => {
    const wrong: string[] = [];
    const tally = { allowed: 0, denied: 0 };
    for (const call of CALLS) {
      const decision = await ask(persona, call.method, call.path);
      const expected: Decision = persona.allowed(call) ? 'Allowed' : 'ImplicitlyDenied';
      if (decision === 'Allowed') tally.allowed++;
      else tally.denied++;
      if (decision !== expected) wrong.push(`${call.method} ${call.path}: ${decision}, expected ${expected}`);
    }
    counts.set(persona.name, tally);
    expect(wrong).toEqual([]);
    expect(tally.allowed).toBeGreaterThan(0);
    expect(tally.denied).toBeGreaterThan(0);
  });
});

describe('a staging approver cannot approve a promotion into prod', () => {
  const developer = PERSONAS[0] as Persona;
  const promotion = promotionReleaseId('prod', SOURCE.staging);

  it('the promotion is a prod release by its id, and IAM denies its approval to the staging approver', async () => {
    expect(promotion).toBe('rel-prod-from-staging-20261207100000-5a5a5a');
    expect(await ask(developer, 'POST', `/environments/staging/releases/${SOURCE.staging}/approve`)).toBe('Allowed');
    expect(await ask(developer, 'POST', `/environments/prod/releases/${promotion}/approve`)).toBe('ImplicitlyDenied');
    expect(await ask(developer, 'POST', `/environments/prod/promotions/${SOURCE.staging}`)).toBe('ImplicitlyDenied');
  });

  it('the release manager may approve it; the on-call may abort it but not approve it', async () => {
    const [, manager, onCall] = PERSONAS as [Persona, Persona, Persona];
    expect(await ask(manager, 'POST', `/environments/prod/releases/${promotion}/approve`)).toBe('Allowed');
    expect(await ask(onCall, 'POST', `/environments/prod/releases/${promotion}/abort`)).toBe('Allowed');
    expect(await ask(onCall, 'POST', `/environments/prod/releases/${promotion}/approve`)).toBe('ImplicitlyDenied');
  });

  it('under the old id scheme the same path-based policy would have let them approve it', async () => {
    // What path-based IAM could do before: allow approving ids that begin `rel-staging-`. The old promotion id into
    // prod began that way, so the policy let a staging approver answer a prod approval.
    const oldScheme = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'execute-api:Invoke',
          Resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${STAGE}/POST/releases/rel-staging-*/approve`,
        },
      ],
    };
    const asStagingApprover = (id: string) =>
      decide({
        principal: `arn:aws:iam::${ACCOUNT}:role/StagingApprover`,
        action: 'execute-api:Invoke',
        resource: arnOf('POST', `/releases/${id}/approve`),
        identityPolicies: [oldScheme],
      });
    expect(await asStagingApprover(`${SOURCE.staging}-to-prod`)).toBe('Allowed');
    expect(await asStagingApprover(promotion)).toBe('ImplicitlyDenied');
  });
});

describe('the override permission is separate from the start permission', () => {
  const persona = (name: string) => PERSONAS.find((p) => p.name === name) as Persona;
  const digestBody = `/environments/prod`;

  it('a role that may start prod releases cannot override a window or freeze; the change manager can, and cannot start', async () => {
    const releaser = persona('prod-releaser');
    const manager = persona('change-manager');
    expect(await ask(releaser, 'POST', `${digestBody}/releases`)).toBe('Allowed');
    expect(await ask(releaser, 'POST', `${digestBody}/overrides`)).toBe('ImplicitlyDenied');
    expect(await ask(manager, 'POST', `${digestBody}/overrides`)).toBe('Allowed');
    expect(await ask(manager, 'POST', `${digestBody}/releases`)).toBe('ImplicitlyDenied');
  });

  it('a broad "everything in prod" grant with the documented Deny still cannot override', async () => {
    const broad = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arnOf('POST', '/environments/prod/*') },
        { Effect: 'Deny', Action: 'execute-api:Invoke', Resource: arnOf('POST', '/environments/*/overrides') },
      ],
    };
    const ask = (path: string) =>
      decide({
        principal: `arn:aws:iam::${ACCOUNT}:role/ProdOperator`,
        action: 'execute-api:Invoke',
        resource: arnOf('POST', path),
        identityPolicies: [broad],
      });
    expect(await ask('/environments/prod/releases')).toBe('Allowed');
    expect(await ask('/environments/prod/rollback')).toBe('Allowed');
    expect(await ask('/environments/prod/overrides')).toBe('ExplicitlyDenied');
  });
});
