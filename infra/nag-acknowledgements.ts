import { type CfnResource, type Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { fleetFunctionPrefix } from '../config/fleet.ts';
import type { Environments } from '../config/schema.ts';

/** One accepted wildcard: the cdk-nag IAM5 finding it covers, and why the wildcard cannot be narrowed. */
export interface WildcardAcknowledgement {
  readonly finding: RegExp;
  readonly reason: string;
}

/** A rule acknowledged on one construct (and everything under it). */
export interface RuleAcknowledgement {
  readonly scope: IConstruct;
  readonly id: string;
  readonly reason: string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** One ARN segment as cdk-nag prints it: a literal, or a token such as `<AWS::Region>` (which holds colons). */
const SEGMENT = '(?:<[^>]+>|[^:<]*)';
/** An ARN of `service` in this stack's partition, region and account, ending in `rest`. */
const arnOf = (service: string, rest: string) =>
  new RegExp(`^Resource::arn:${SEGMENT}:${service}:${SEGMENT}:${SEGMENT}:${rest}$`);

/**
 * The fleet prefixes of the environments with a fleet, as one alternation; one that matches nothing when no
 * environment has a fleet (an empty alternation would match every function).
 */
function fleetPrefixes(envs: Environments): string {
  const prefixes = Object.values(envs)
    .filter((e) => e.fleet)
    .map((e) => escapeRegExp(fleetFunctionPrefix(e)));
  return prefixes.length > 0 ? prefixes.join('|') : '(?!)';
}

/** The wildcards every service function's role may hold. */
export function handlerWildcards(envs: Environments): WildcardAcknowledgement[] {
  const names = Object.values(envs)
    .map((e) => escapeRegExp(e.functionName))
    .join('|');
  return [
    {
      finding: /^Resource::\*$/,
      reason:
        'xray:PutTraceSegments/PutTelemetryRecords (active tracing) and cloudwatch:GetMetricData (Check health) accept no resource ARN',
    },
    {
      finding: arnOf('lambda', `function:(${names}):\\*`),
      reason:
        "The release acts on the application's published versions and aliases (function:name:7, function:name:live), whose ARNs carry a qualifier; the function names are the configured environments'",
    },
    {
      finding: arnOf('lambda', `function:(${fleetPrefixes(envs)})\\*`),
      reason:
        "A fleet's member functions, their versions and aliases, by the environment's fleet prefix: config/schema.ts makes every member's name start with the environment's function name and a dash, and one pattern keeps the policies within IAM's size limits at 100 members",
    },
    {
      finding: arnOf('secretsmanager', `secret:(${names})/client-keys-\\*`),
      reason:
        "Verify green reads the configured environments' client-keys secrets by name; Secrets Manager appends six random characters to every secret ARN",
    },
    {
      finding: arnOf('kms', 'key/\\*'),
      reason:
        "kms:Decrypt on the client-keys secrets' key, which Terraform creates (its id is unknown to this stack); limited to Secrets Manager acting for the reader (kms:ViaService) on exactly those secrets (kms:EncryptionContext:SecretARN)",
    },
  ];
}

/** The wildcards of the state machine's role. */
export const STATE_MACHINE_WILDCARDS: readonly WildcardAcknowledgement[] = [
  {
    finding: /^Resource::\*$/,
    reason:
      'X-Ray tracing and CloudWatch Logs vended delivery (logs:CreateLogDelivery, logs:DescribeResourcePolicies, …) accept no resource ARN',
  },
  {
    finding: /^Resource::<[A-Za-z0-9]+\.Arn>:\*$/,
    reason:
      'lambda:InvokeFunction on the handler functions and their qualified ARNs, as the CDK LambdaInvoke task grants it',
  },
];

/** The wildcards CodeBuild's own plumbing needs in both projects' roles. */
export const CODEBUILD_WILDCARDS: readonly WildcardAcknowledgement[] = [
  {
    finding: /^Resource::\*$/,
    reason: 'ecr:GetAuthorizationToken accepts no resource ARN (the registry login before a pull or push)',
  },
  {
    finding: /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
    reason: "CodeBuild's grant on the service key for encrypting artifacts and logs; limited to that one key",
  },
  {
    finding: arnOf('logs', 'log-group:/aws/codebuild/<[A-Za-z0-9]+>:\\*'),
    reason: "CodeBuild's default log streams of this project (the log group is named after the project)",
  },
  {
    finding: arnOf('codebuild', 'report-group/<[A-Za-z0-9]+>-\\*'),
    reason: "The project's own test and coverage report groups, named after the project",
  },
];

/** Both CodeBuild stages record a passing image scan per digest; digests are not known when the stack is made. */
export const SCAN_RECORD_WILDCARDS: readonly WildcardAcknowledgement[] = [
  {
    finding: /^Resource::<[A-Za-z0-9]+\.Arn>\/image-scans\/\*$/,
    reason:
      'Image scan records, one object per image digest (image-scans/<sha256:...>.json) in the state bucket; the digest is known only after the push',
  },
];

/**
 * The build stage writes each image's change set, its commit pointer and its SBOM (docs/insight.md); Validate release
 * reads change sets. Keys name digests and commits, known only after a push.
 */
export const CHANGE_SET_WILDCARDS: readonly WildcardAcknowledgement[] = [
  {
    finding: /^Resource::<[A-Za-z0-9]+\.Arn>\/(change-sets|sboms)\/\*$/,
    reason:
      'Change sets and SBOMs, one object per image digest (change-sets/<sha256:...>.json, sboms/<sha256:...>.cdx.json) and one pointer per commit (change-sets/commits/<sha>.json) in the state bucket; digests and commits are known only after the push',
  },
];

/** The wildcards of Terraform's application-environment permissions (release stage). */
export function terraformWildcards(envs: Environments): WildcardAcknowledgement[] {
  const names = Object.values(envs)
    .map((e) => escapeRegExp(e.functionName))
    .join('|');
  return [
    {
      finding: /^Resource::<[A-Za-z0-9]+\.Arn>\/switchyard\/\*$/,
      reason:
        "Terraform's state and .tflock objects under the switchyard/ prefix of the state bucket, one key per environment",
    },
    {
      finding: arnOf('lambda', `function:(${names}):\\*`),
      reason: "Terraform manages the configured functions' aliases (function:name:alias ARNs)",
    },
    {
      finding: arnOf('lambda', `function:(${fleetPrefixes(envs)})\\*`),
      reason:
        "Terraform manages each fleet member's function and aliases; members are named under the environment's fleet prefix (config/schema.ts), one pattern instead of one ARN per member",
    },
    {
      finding: arnOf('logs', `log-group:/aws/lambda/(${fleetPrefixes(envs)})\\*`),
      reason: "Terraform manages each fleet member's log group, named after the member's function (fleet prefix)",
    },
    {
      finding: arnOf('logs', `log-group:/aws/(lambda/(${names})|apigateway/(${names})/access):\\*`),
      reason: "Terraform manages the application's own log groups; the :* suffix covers their streams and tags",
    },
    {
      finding: arnOf('apigateway', '/(restapis/\\*|tags/\\*|restapis/\\*/stages/\\*)'),
      reason:
        'API Gateway REST API ids are assigned at creation, so the application APIs (and their stages and tags) cannot be named in advance; every change is limited to APIs tagged ManagedBy=terraform (child resources inherit the tag), and the service API is denied',
    },
    {
      finding: arnOf('wafv2', `regional/webacl/(${names})-api/\\*`),
      reason: 'The web ACL of each environment, by its configured name; WAF appends an id assigned at creation',
    },
    {
      finding: arnOf('wafv2', 'regional/managedruleset/\\*/\\*'),
      reason: 'The AWS managed rule groups the web ACLs reference (owned by AWS, not this account)',
    },
    {
      finding: arnOf('secretsmanager', `secret:(${names})/client-keys-\\*`),
      reason: 'Secrets Manager appends six random characters to every secret ARN',
    },
    {
      finding: arnOf('kms', 'key/\\*'),
      reason:
        'Key ids are assigned at creation; tagging a new key is limited to requests carrying ManagedBy=terraform, the key management actions to keys tagged ManagedBy=terraform, and the service key is denied',
    },
    {
      finding: /^Resource::\*$/,
      reason:
        'kms:CreateKey (only with ManagedBy=terraform in its tags) and kms:ListAliases act before a key exists; logs:DescribeLogGroups and ecr:GetAuthorizationToken have no resource type in the service authorization reference',
    },
  ];
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (node && typeof node === 'object') {
    const join = Reflect.get(node, 'Fn::Join') as unknown;
    if (Array.isArray(join)) return (join[1] as unknown[]).map(flatten).join(String(join[0]));
    const getAtt = Reflect.get(node, 'Fn::GetAtt') as unknown;
    if (Array.isArray(getAtt)) return `<${flatten(getAtt[0])}.${flatten(getAtt[1])}>`;
    const ref = Reflect.get(node, 'Ref') as unknown;
    if (ref !== undefined) return `<${flatten(ref)}>`;
  }
  return JSON.stringify(node);
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** The IAM5 findings of a policy document, computed the way cdk-nag's AwsSolutions-IAM5 rule computes them. */
export function wildcardFindings(document: unknown): string[] {
  const findings = new Set<string>();
  const statements = (document as { Statement?: unknown[] } | undefined)?.Statement ?? [];
  for (const statement of statements as Array<Record<string, unknown>>) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of asArray(statement.Action)) {
      if (typeof action === 'string' && action.includes('*')) findings.add(`Action::${action}`);
    }
    for (const resource of asArray(statement.Resource).map(flatten)) {
      if (resource.includes('*')) findings.add(`Resource::${resource}`);
    }
  }
  return [...findings];
}

/**
 * Acknowledges, on each IAM policy under `scope`, exactly the IAM5 findings an entry of `accepted` covers, with that
 * entry's reason. A wildcard no entry covers stays a finding, so the cdk-nag test fails on a new one.
 */
export function acknowledgeWildcards(scope: IConstruct, accepted: readonly WildcardAcknowledgement[]): void {
  for (const node of scope.node.findAll()) {
    if (!(node instanceof iam.CfnPolicy) && !(node instanceof iam.CfnRole) && !(node instanceof iam.CfnManagedPolicy)) {
      continue;
    }
    const stack = (node as CfnResource).stack;
    const documents =
      node instanceof iam.CfnPolicy || node instanceof iam.CfnManagedPolicy
        ? [stack.resolve(node.policyDocument)]
        : asArray(stack.resolve(node.policies) ?? []).map((p) => (p as { PolicyDocument?: unknown }).PolicyDocument);
    for (const finding of documents.flatMap(wildcardFindings)) {
      const match = accepted.find((a) => a.finding.test(finding));
      if (match) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: match.reason });
    }
  }
}

export interface ServiceScopes {
  readonly stack: Stack;
  readonly environments: Environments;
  readonly handlers: IConstruct;
  readonly stateMachine: IConstruct;
  readonly buildProject: IConstruct;
  readonly releaseProject: IConstruct;
  readonly rules: readonly RuleAcknowledgement[];
}

/** The cdk-nag AwsSolutions findings the service accepts, each on the narrowest construct and with its reason. */
export function acknowledgeFindings(scopes: ServiceScopes): void {
  acknowledgeWildcards(scopes.handlers, [...handlerWildcards(scopes.environments), ...CHANGE_SET_WILDCARDS]);
  acknowledgeWildcards(scopes.stateMachine, STATE_MACHINE_WILDCARDS);
  acknowledgeWildcards(scopes.buildProject, [
    ...CODEBUILD_WILDCARDS,
    ...SCAN_RECORD_WILDCARDS,
    ...CHANGE_SET_WILDCARDS,
  ]);
  acknowledgeWildcards(scopes.releaseProject, [
    ...terraformWildcards(scopes.environments),
    ...CODEBUILD_WILDCARDS,
    ...SCAN_RECORD_WILDCARDS,
  ]);
  for (const rule of scopes.rules) Validations.of(rule.scope).acknowledge({ id: rule.id, reason: rule.reason });
}
