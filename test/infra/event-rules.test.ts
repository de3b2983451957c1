import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { environments, parseEnvironments, pushTargets } from '../../config/environments.ts';
import { ECR_PUSH_INPUT_PATHS, parseReleaseRequest } from '../../core/model/release-request.ts';
import { matchesPattern, transformInput } from './event-patterns.ts';
import { service, synthesizeService } from './service-stack.ts';

const sample = JSON.parse(readFileSync(new URL('../fixtures/ecr-image-push.json', import.meta.url), 'utf8')) as {
  detail: Record<string, string>;
} & Record<string, unknown>;

interface RuleResource {
  Properties: {
    EventPattern: Record<string, unknown>;
    Targets: Array<{
      Arn: unknown;
      InputTransformer?: { InputPathsMap: Record<string, string>; InputTemplate: string };
      RetryPolicy?: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
      DeadLetterConfig?: { Arn: unknown };
    }>;
  };
}

function ecrRules(template = service().template): RuleResource[] {
  return Object.values(
    template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.ecr'] } } }),
  ) as RuleResource[];
}

function onlyEcrRule(template = service().template): RuleResource {
  const rules = ecrRules(template);
  const [rule] = rules;
  if (!rule || rules.length !== 1) throw new Error(`expected one ECR rule, found ${rules.length}`);
  return rule;
}

function withRepository(name: string) {
  return { ...sample, detail: { ...sample.detail, 'repository-name': name } };
}

describe('the release-on-push rule', () => {
  it('exists once per environment that releases on push, for the configured repository', () => {
    const targets = pushTargets();
    expect(targets.map((e) => e.name)).toEqual(['dev']);
    const rule = onlyEcrRule();
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: {
        'action-type': ['PUSH'],
        result: ['SUCCESS'],
        'repository-name': [environments.dev.repositoryName],
      },
    });
  });

  it('matches the real ECR push sample once it names this service repository, and nothing else', () => {
    const pattern = onlyEcrRule().Properties.EventPattern;
    expect(matchesPattern(pattern, withRepository(environments.dev.repositoryName))).toBe(true);
    expect(matchesPattern(pattern, sample)).toBe(false);
    const failedPush = {
      ...withRepository(environments.dev.repositoryName),
      detail: { ...sample.detail, result: 'FAILURE' },
    };
    expect(matchesPattern(pattern, failedPush)).toBe(false);
    const deletion = {
      ...sample,
      detail: { ...sample.detail, 'repository-name': environments.dev.repositoryName, 'action-type': 'DELETE' },
    };
    expect(matchesPattern(pattern, deletion)).toBe(false);
  });

  it('matches the unmodified sample when the config names the sample repository', () => {
    const raw = JSON.parse(JSON.stringify(environments)) as Record<string, Record<string, unknown>>;
    for (const env of Object.values(raw)) env.repositoryName = sample.detail['repository-name'];
    const { template } = synthesizeService(parseEnvironments(raw));
    expect(matchesPattern(onlyEcrRule(template).Properties.EventPattern, sample)).toBe(true);
  });

  it('turns the real sample into a release request that Validate release accepts', () => {
    const target = onlyEcrRule().Properties.Targets[0];
    if (!target?.InputTransformer) throw new Error('the rule has no input transformer');
    const input = transformInput(target.InputTransformer, withRepository(environments.dev.repositoryName));

    expect(input).toEqual({
      trigger: 'ecr-push',
      environment: 'dev',
      eventId: sample.id,
      eventTime: sample.time,
      repositoryName: environments.dev.repositoryName,
      imageDigest: sample.detail['image-digest'],
      imageTag: sample.detail['image-tag'],
      actionType: 'PUSH',
      result: 'SUCCESS',
    });
    expect(parseReleaseRequest(input)).toMatchObject({ trigger: 'ecr-push', environment: 'dev' });
  });

  it('reads every field from the paths core/model/release-request.ts declares', () => {
    const transformer = onlyEcrRule().Properties.Targets[0]?.InputTransformer;
    expect(Object.values(transformer?.InputPathsMap ?? {}).sort()).toEqual(Object.values(ECR_PUSH_INPUT_PATHS).sort());
  });

  it('starts the state machine with retries and an encrypted, TLS-only dead-letter queue', () => {
    const { template } = service();
    const target = onlyEcrRule().Properties.Targets[0];
    expect(target?.Arn).toEqual({ Ref: expect.stringMatching(/^ReleaseStateMachine/) });
    expect(target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 });
    expect(target?.DeadLetterConfig?.Arn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ReleaseOnPushdevDeadLetters/), 'Arn'],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServiceKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('the reconcile rule', () => {
  it('sends aborted, timed-out and failed executions of this state machine to the reconcile handler', () => {
    const { template } = service();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^ReleaseStateMachine') }],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HandlersReconcileFunction'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReconcileStoppedDeadLetters'), 'Arn'] } },
        }),
      ],
    });
  });

  it('matches a stopped execution event of this state machine only', () => {
    const rule = Object.values(
      service().template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { source: ['aws.states'] } },
      }),
    )[0] as RuleResource | undefined;
    const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:release';
    // The ARN is a Ref in the template; CloudFormation resolves it before EventBridge matches.
    const pattern = JSON.parse(
      JSON.stringify(rule?.Properties.EventPattern).replace(
        /\{"Ref":"ReleaseStateMachine[A-Z0-9]+"\}/,
        JSON.stringify(arn),
      ),
    );
    const event = (status: string, stateMachineArn = arn) => ({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { status, stateMachineArn, name: 'release-1' },
    });
    expect(matchesPattern(pattern, event('TIMED_OUT'))).toBe(true);
    expect(matchesPattern(pattern, event('ABORTED'))).toBe(true);
    expect(matchesPattern(pattern, event('SUCCEEDED'))).toBe(false);
    expect(matchesPattern(pattern, event('FAILED', `${arn}-other`))).toBe(false);
  });
});
