import type { Template } from 'aws-cdk-lib/assertions';
import { service } from '../infra/service-stack.ts';

/** The account and region the synthesized (environment-agnostic) template is resolved into. */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

type Json = unknown;
interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}

/** The physical name CloudFormation would give a resource: its own name property, or one derived from its id. */
function physicalName(id: string, resource: CfnResource): string {
  const props = resource.Properties ?? {};
  for (const key of [
    'FunctionName',
    'RepositoryName',
    'TableName',
    'RoleName',
    'StateMachineName',
    'StageName',
    'AlarmName',
    'Name',
  ]) {
    const value = props[key];
    if (typeof value === 'string') return value;
  }
  return `switchyard-${id.toLowerCase()}`;
}

/** A fixed key id per KMS key logical id, shaped as KMS assigns them. */
const keyId = (id: string) => `1234abcd-12ab-34cd-56ef-${id.slice(-12).toLowerCase().padStart(12, '0')}`;

function arnOf(id: string, resource: CfnResource): string {
  const name = physicalName(id, resource);
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
      return arn('lambda', `function:${name}`);
    case 'AWS::DynamoDB::Table':
      return arn('dynamodb', `table/${name}`);
    case 'AWS::SNS::Topic':
      return arn('sns', name);
    case 'AWS::SQS::Queue':
      return arn('sqs', name);
    case 'AWS::KMS::Key':
      return arn('kms', `key/${keyId(id)}`);
    case 'AWS::ECR::Repository':
      return arn('ecr', `repository/${name}`);
    case 'AWS::StepFunctions::StateMachine':
      return arn('states', `stateMachine:${name}`);
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${name}`;
    case 'AWS::Logs::LogGroup':
      return arn('logs', `log-group:${name}:*`);
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${ACCOUNT}:role/${name}`;
    case 'AWS::CodeBuild::Project':
      return arn('codebuild', `project/${name}`);
    case 'AWS::Events::Rule':
      return arn('events', `rule/${name}`);
    case 'AWS::CloudWatch::Alarm':
      return arn('cloudwatch', `alarm:${name}`);
    default:
      throw new Error(`no ARN model for ${resource.Type} (${id})`);
  }
}

/** What `Ref` returns for a resource, as CloudFormation documents it per type. */
function refOf(id: string, resource: CfnResource): string {
  switch (resource.Type) {
    case 'AWS::SNS::Topic':
    case 'AWS::StepFunctions::StateMachine':
      return arnOf(id, resource);
    case 'AWS::KMS::Key':
      return keyId(id);
    case 'AWS::SQS::Queue':
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physicalName(id, resource)}`;
    case 'AWS::ApiGateway::RestApi':
      return `api${id.slice(-6).toLowerCase()}`;
    default:
      return physicalName(id, resource);
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Switchyard',
};

/** Resolves the intrinsic functions CDK writes into policies (Ref, GetAtt, Join, Select, Split) to plain values. */
export function resolve(node: Json, resources: Record<string, CfnResource>): Json {
  if (Array.isArray(node)) return node.map((n) => resolve(n, resources));
  if (!node || typeof node !== 'object') return node;
  const entries = Object.entries(node as Record<string, Json>);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [fn, arg] = first;
    if (fn === 'Ref') {
      const name = String(arg);
      const pseudo = PSEUDO[name];
      if (pseudo !== undefined) return pseudo;
      const resource = resources[name];
      if (!resource) throw new Error(`Ref to unknown ${name}`);
      return refOf(name, resource);
    }
    if (fn === 'Fn::GetAtt') {
      const [id, attribute] = arg as [string, string];
      const resource = resources[id];
      if (!resource) throw new Error(`GetAtt of unknown ${id}`);
      if (attribute === 'Arn') return arnOf(id, resource);
      if (attribute === 'QueueName') return physicalName(id, resource);
      if (attribute === 'RootResourceId') return 'root123';
      throw new Error(`no model for ${id}.${attribute}`);
    }
    if (fn === 'Fn::Join') {
      const [sep, parts] = arg as [string, Json[]];
      return parts.map((p) => String(resolve(p, resources))).join(sep);
    }
    if (fn === 'Fn::Split') {
      const [sep, text] = arg as [string, Json];
      return String(resolve(text, resources)).split(sep);
    }
    if (fn === 'Fn::Select') {
      const [index, list] = arg as [number, Json];
      return (resolve(list, resources) as Json[])[Number(index)];
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, resources)]));
}

export interface DeployedTemplate {
  readonly resources: Record<string, CfnResource>;
  /** The identity policy documents of each role, by the role's logical id (inline, attached and managed). */
  readonly rolePolicies: Record<string, Json[]>;
  /** Every policy document in the template, identity and resource policies alike, with where it is. */
  readonly documents: { readonly where: string; readonly kind: 'identity' | 'resource'; readonly document: Json }[];
  arn(logicalId: string): string;
  name(logicalId: string): string;
  /** The one resource of a type whose logical id starts with `prefix`. */
  id(type: string, prefix: string): string;
}

let cached: DeployedTemplate | undefined;

/**
 * The service stack's template as CloudFormation would deploy it into ACCOUNT/REGION: the real config's, or the one
 * given (a stack synthesized from another config).
 */
export function deployedTemplate(template?: Template): DeployedTemplate {
  if (cached && !template) return cached;
  const raw = (template ?? service().template).toJSON() as { Resources: Record<string, CfnResource> };
  const resources = raw.Resources;
  const rolePolicies: Record<string, Json[]> = {};
  const documents: { where: string; kind: 'identity' | 'resource'; document: Json }[] = [];
  const refsOf = (roles: Json) => ((roles as { Ref?: string }[] | undefined) ?? []).map((r) => r.Ref ?? '');

  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    const add = (where: string, document: Json, roles: string[], kind: 'identity' | 'resource' = 'resource') => {
      const resolved = resolve(document, resources);
      documents.push({ where, kind, document: resolved });
      for (const role of roles) rolePolicies[role] = [...(rolePolicies[role] ?? []), resolved];
    };
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        rolePolicies[id] = rolePolicies[id] ?? [];
        for (const policy of (props.Policies as { PolicyDocument: Json }[] | undefined) ?? []) {
          add(`${id} inline`, policy.PolicyDocument, [id], 'identity');
        }
        add(`${id} trust`, props.AssumeRolePolicyDocument, []);
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        add(id, props.PolicyDocument, refsOf(props.Roles), 'identity');
        break;
      case 'AWS::ECR::Repository':
        if (props.RepositoryPolicyText) add(`${id} repository policy`, props.RepositoryPolicyText, []);
        break;
      case 'AWS::KMS::Key':
        add(`${id} key policy`, props.KeyPolicy, []);
        break;
      case 'AWS::SNS::TopicPolicy':
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::S3::BucketPolicy':
        add(id, props.PolicyDocument, []);
        break;
    }
  }

  const model: DeployedTemplate = {
    resources,
    rolePolicies,
    documents,
    arn: (id) => {
      const resource = resources[id];
      if (!resource) throw new Error(`no resource ${id}`);
      return arnOf(id, resource);
    },
    name: (id) => {
      const resource = resources[id];
      if (!resource) throw new Error(`no resource ${id}`);
      return refOf(id, resource);
    },
    id: (type, prefix) => {
      const found = Object.keys(resources).filter((id) => id.startsWith(prefix) && resources[id]?.Type === type);
      const [only] = found;
      if (!only || found.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${found}`);
      return only;
    },
  };
  if (!template) cached = model;
  return model;
}
