import { afterAll, describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from './adapter-requests.ts';
import { ACCOUNT, deployedTemplate, REGION, resolve } from './deployed-template.ts';
import { type Decision, decide, type IamRequest } from './simulator.ts';

/**
 * What AWS services do on Switchyard's behalf, simulated against the synthesized resource and trust policies: a
 * service principal's request carries `aws:SourceArn` (the alarm, rule, API or function acting) and
 * `aws:SourceAccount`, and only the resource's own policy can allow it.
 */
const t = deployedTemplate();
const OTHER_ACCOUNT = '210987654321';
const arn = (service: string, rest: string, account = ACCOUNT) => `arn:aws:${service}:${REGION}:${account}:${rest}`;

const counts = { onBehalf: 0, allowed: 0, foreign: 0, refused: 0 };
const report = (line: string) => process.stdout.write(`${line}\n`);
afterAll(() => {
  report(
    `IAM simulation, service principals: ${counts.onBehalf} requests AWS services make for Switchyard, ${counts.allowed} allowed, ${counts.onBehalf - counts.allowed} denied; ${counts.foreign} foreign requests, ${counts.refused} refused`,
  );
});

/** A request AWS makes for one of Switchyard's own alarms, rules, APIs or functions: it must be allowed. */
async function forSwitchyard(request: IamRequest): Promise<Decision> {
  counts.onBehalf++;
  const decision = await decide(request);
  if (decision === 'Allowed') counts.allowed++;
  return decision;
}

/** The same request for someone else's alarm, rule, API or function (or account): it must be refused. */
async function foreign(request: IamRequest): Promise<Decision> {
  counts.foreign++;
  const decision = await decide(request);
  if (decision !== 'Allowed') counts.refused++;
  return decision;
}

const raw = t.resources;
const idsOf = (type: string) => Object.keys(raw).filter((id) => raw[id]?.Type === type);
const props = (id: string) => (raw[id]?.Properties ?? {}) as Record<string, unknown>;
const refId = (node: unknown): string => {
  const ref = node as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return ref.Ref ?? ref['Fn::GetAtt']?.[0] ?? '';
};
const documentAt = (where: string) => {
  const found = t.documents.find((d) => d.where === where);
  if (!found) throw new Error(`no policy document at ${where}`);
  return found.document;
};
const context = (sourceArn: string, sourceAccount = ACCOUNT) => ({
  'aws:SourceArn': sourceArn,
  'aws:SourceAccount': sourceAccount,
  'aws:SecureTransport': 'true',
});

/**
 * A function's resource-based policy as Lambda builds it from its permissions (AddPermission): one Allow per
 * permission, for its principal, conditioned on its source ARN and account
 * (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html).
 */
function functionPolicy(functionArn: string): unknown {
  const statements = idsOf('AWS::Lambda::Permission')
    .map((id) => props(id))
    .filter((p) => resolve(p.FunctionName, raw) === functionArn)
    .map((p) => {
      // A service principal by name, or a role by ARN (the release API's permission to invoke itself).
      const principal = String(resolve(p.Principal, raw));
      return {
        Effect: 'Allow',
        Principal: principal.startsWith('arn:') ? { AWS: principal } : { Service: principal },
        Action: p.Action,
        Resource: functionArn,
        ...(p.SourceArn
          ? {
              Condition: {
                ArnLike: { 'aws:SourceArn': resolve(p.SourceArn, raw) },
                ...(p.SourceAccount ? { StringEquals: { 'aws:SourceAccount': resolve(p.SourceAccount, raw) } } : {}),
              },
            }
          : {}),
      };
    });
  return { Version: '2012-10-17', Statement: statements };
}

const topicId = t.id('AWS::SNS::Topic', 'AlertsTopic');
const topic = t.arn(topicId);
const keyId = t.id('AWS::KMS::Key', 'ServiceKey');
const key = t.arn(keyId);
const keyPolicy = documentAt(`${keyId} key policy`);
const topicPolicies = idsOf('AWS::SNS::TopicPolicy').filter((id) =>
  (props(id).Topics as unknown[]).some((ref) => refId(ref) === topicId),
);

describe('CloudWatch alarms publish to the alerts topic and use its key', () => {
  const topicPolicy = topicPolicies.length === 1 ? documentAt(topicPolicies[0] as string) : undefined;
  /** The service stack's own alarms that notify the topic, and the Terraform module's (the environments' health.alarms). */
  const serviceAlarms = idsOf('AWS::CloudWatch::Alarm')
    .filter((id) => ((props(id).AlarmActions as unknown[] | undefined) ?? []).some((a) => refId(a) === topicId))
    .map((id) => t.arn(id));
  const terraformAlarms = ENVIRONMENTS.flatMap((env) => env.health.alarms).map((name) =>
    arn('cloudwatch', `alarm:${name}`),
  );
  const alarm = (sourceArn: string, action: string, resource: string, sourceAccount = ACCOUNT): IamRequest => ({
    principal: 'cloudwatch.amazonaws.com',
    action,
    resource,
    identityPolicies: [],
    resourcePolicy: resource === topic ? topicPolicy : keyPolicy,
    context: context(sourceArn, sourceAccount),
  });

  it('the topic has one policy, and alarms of both kinds notify it', () => {
    expect(topicPolicies).toHaveLength(1);
    expect(serviceAlarms.map((a) => a.split(':alarm:')[1])).toEqual(
      expect.arrayContaining([expect.stringMatching(/ReconcileErrors/), expect.stringMatching(/ExecutionsFailed/)]),
    );
    expect(terraformAlarms.length).toBeGreaterThan(0);
  });

  it.each([...serviceAlarms, ...terraformAlarms])('%s may publish, and encrypt with the key', async (alarmArn) => {
    expect(await forSwitchyard(alarm(alarmArn, 'sns:Publish', topic))).toBe('Allowed');
    expect(await forSwitchyard(alarm(alarmArn, 'kms:GenerateDataKey', key))).toBe('Allowed');
    expect(await forSwitchyard(alarm(alarmArn, 'kms:Decrypt', key))).toBe('Allowed');
  });

  it('refuses another alarm of this account, and an alarm of another account, on the topic and the key', async () => {
    const outsiders = [
      [arn('cloudwatch', 'alarm:someone-elses-alarm'), ACCOUNT],
      [arn('cloudwatch', `alarm:${ENVIRONMENTS[2]?.health.alarms[0]}`, OTHER_ACCOUNT), OTHER_ACCOUNT],
    ] as const;
    for (const [sourceArn, account] of outsiders) {
      for (const [action, resource] of [
        ['sns:Publish', topic],
        ['kms:GenerateDataKey', key],
        ['kms:Decrypt', key],
      ] as const) {
        expect(await foreign(alarm(sourceArn, action, resource, account)), `${action} for ${sourceArn}`).not.toBe(
          'Allowed',
        );
      }
    }
  });

  it('refuses a publish without TLS, even from an alarm of this stack', async () => {
    const [first] = serviceAlarms;
    const request = alarm(first ?? '', 'sns:Publish', topic);
    expect(await foreign({ ...request, context: { ...request.context, 'aws:SecureTransport': 'false' } })).not.toBe(
      'Allowed',
    );
  });
});

describe('EventBridge delivers each rule to its target, or to its dead-letter queue', () => {
  interface Target {
    readonly Arn: unknown;
    readonly RoleArn?: unknown;
    readonly DeadLetterConfig?: { readonly Arn: unknown };
  }
  const rules = idsOf('AWS::Events::Rule').flatMap((ruleId) =>
    ((props(ruleId).Targets as Target[] | undefined) ?? []).map((target) => ({ ruleId, target })),
  );
  const events = (action: string, resource: string, resourcePolicy: unknown, sourceArn: string): IamRequest => ({
    principal: 'events.amazonaws.com',
    action,
    resource,
    identityPolicies: [],
    resourcePolicy,
    context: context(sourceArn),
  });

  it('covers the push rules and the reconcile rule', () => {
    expect(rules.map((r) => r.ruleId)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ReleaseOnPush/), expect.stringMatching(/^ReconcileStopped/)]),
    );
  });

  it.each(rules.map((r) => [r.ruleId, r] as const))('%s', async (_, { ruleId, target }) => {
    const rule = t.arn(ruleId);
    const targetArn = String(resolve(target.Arn, raw));
    if (target.RoleArn) {
      // The rule's role: EventBridge assumes it (its trust policy), then the role starts the state machine.
      const roleId = refId(target.RoleArn);
      const trust = documentAt(`${roleId} trust`);
      expect(await forSwitchyard(events('sts:AssumeRole', t.arn(roleId), trust, rule))).toBe('Allowed');
      expect(targetArn).toMatch(/:states:.*:stateMachine:/);
      expect(
        await forSwitchyard({
          principal: t.arn(roleId),
          action: 'states:StartExecution',
          resource: targetArn,
          identityPolicies: t.rolePolicies[roleId] ?? [],
        }),
      ).toBe('Allowed');
      expect(
        await foreign(events('sts:AssumeRole', t.arn(roleId), trust, rule.replace(ACCOUNT, OTHER_ACCOUNT))),
      ).not.toBe('Allowed');
    } else {
      // A function target: its resource policy lets this rule, and no other, invoke it.
      const policy = functionPolicy(targetArn);
      expect(await forSwitchyard(events('lambda:InvokeFunction', targetArn, policy, rule))).toBe('Allowed');
      expect(await foreign(events('lambda:InvokeFunction', targetArn, policy, arn('events', 'rule/other')))).not.toBe(
        'Allowed',
      );
    }
    if (target.DeadLetterConfig) {
      const queueId = refId(target.DeadLetterConfig.Arn);
      const queue = t.arn(queueId);
      const queuePolicyId = idsOf('AWS::SQS::QueuePolicy').find((id) =>
        (props(id).Queues as unknown[]).some((q) => refId(q) === queueId),
      );
      const queuePolicy = documentAt(queuePolicyId ?? '');
      expect(await forSwitchyard(events('sqs:SendMessage', queue, queuePolicy, rule))).toBe('Allowed');
      expect(refId(props(queueId).KmsMasterKeyId)).toBe(keyId);
      expect(await forSwitchyard(events('kms:GenerateDataKey', key, keyPolicy, rule))).toBe('Allowed');
      expect(await forSwitchyard(events('kms:Decrypt', key, keyPolicy, rule))).toBe('Allowed');
      expect(await foreign(events('sqs:SendMessage', queue, queuePolicy, arn('events', 'rule/other')))).not.toBe(
        'Allowed',
      );
    }
  });
});

describe('API Gateway invokes the release API function for each of its methods', () => {
  const apiId = t.id('AWS::ApiGateway::RestApi', 'ReleaseApi');
  const api = t.name(apiId);
  const stage = t.name(t.id('AWS::ApiGateway::Stage', 'ReleaseApiDeploymentStage'));
  const handler = t.arn(t.id('AWS::Lambda::Function', 'ReleaseApiFunctionHandler'));
  const policy = functionPolicy(handler);
  /** A method's path, from its resource up to the API's root, with a sample value in each path parameter. */
  const pathOf = (resource: unknown): string => {
    const id = refId(resource);
    if (id === apiId) return '';
    const { ParentId, PathPart } = props(id) as { ParentId: unknown; PathPart: string };
    const part = PathPart.startsWith('{') ? `sample-${PathPart.slice(1, -1)}` : PathPart;
    return `${pathOf(ParentId)}/${part}`;
  };
  const methods = idsOf('AWS::ApiGateway::Method')
    .map((id) => props(id) as { HttpMethod: string; ResourceId: unknown; Integration?: { Uri?: unknown } })
    .filter((m) => JSON.stringify(resolve(m.Integration?.Uri, raw) ?? '').includes(handler))
    .map((m) => `${m.HttpMethod} ${pathOf(m.ResourceId)}`);
  const invoke = (sourceArn: string): IamRequest => ({
    principal: 'apigateway.amazonaws.com',
    action: 'lambda:InvokeFunction',
    resource: handler,
    identityPolicies: [],
    resourcePolicy: policy,
    context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': ACCOUNT },
  });

  it('has methods integrated with the function', () => {
    expect(methods).toEqual(expect.arrayContaining(['GET /releases', 'GET /environments']));
    expect(methods.filter((m) => m.startsWith('POST ')).length).toBeGreaterThan(5);
  });

  it.each(methods)('%s', async (method) => {
    const [verb, path] = method.split(' ');
    expect(await forSwitchyard(invoke(arn('execute-api', `${api}/${stage}/${verb}${path}`)))).toBe('Allowed');
    expect(await foreign(invoke(arn('execute-api', `otherapi01/${stage}/${verb}${path}`)))).not.toBe('Allowed');
  });
});

describe('the Lambda service pulls application images from the repository', () => {
  const repositoryId = t.id('AWS::ECR::Repository', 'ImagesRepository');
  const repository = t.arn(repositoryId);
  const repositoryPolicy = documentAt(`${repositoryId} repository policy`);
  const pull = (ask: typeof forSwitchyard, functionArn: string, sourceAccount = ACCOUNT) =>
    Promise.all(
      ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'].map((action) =>
        ask({
          principal: 'lambda.amazonaws.com',
          action,
          resource: repository,
          identityPolicies: [],
          resourcePolicy: repositoryPolicy,
          context: context(functionArn, sourceAccount),
        }),
      ),
    );

  it.each(ENVIRONMENTS.map((e) => e.functionName))('for %s', async (name) => {
    expect(await pull(forSwitchyard, arn('lambda', `function:${name}`))).toEqual(['Allowed', 'Allowed']);
  });

  it('for no other function and no other account', async () => {
    for (const decision of [
      ...(await pull(foreign, arn('lambda', 'function:other-api'))),
      ...(await pull(foreign, arn('lambda', 'function:switchyard-api-prod', OTHER_ACCOUNT), OTHER_ACCOUNT)),
    ]) {
      expect(decision).not.toBe('Allowed');
    }
  });
});
