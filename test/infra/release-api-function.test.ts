import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RELEASE_API_STATE_MACHINE_ACTIONS, RELEASE_ROUTES } from '../../infra/release-api.ts';
import { resourceOf, service } from './service-stack.ts';

interface PolicyStatement {
  Sid: string;
  Action: string | string[];
  Resource: unknown;
}

function releaseApiStatements(): PolicyStatement[] {
  const policy = resourceOf(service().template, 'AWS::IAM::Policy', 'ReleaseApiFunctionHandlerRole') as {
    Properties: { PolicyDocument: { Statement: PolicyStatement[] } };
  };
  return policy.Properties.PolicyDocument.Statement;
}

const actions = (s: PolicyStatement | undefined) => (s ? [s.Action].flat().sort() : []);

describe('the release API function', () => {
  it('publishes the release API URL as the stack output ReleaseApiUrl, the URL the CLI takes', () => {
    const outputs = service().template.findOutputs('ReleaseApiUrl');
    expect(Object.keys(outputs)).toEqual(['ReleaseApiUrl']);
    const url = JSON.stringify(outputs.ReleaseApiUrl?.Value);
    const [restApi] = Object.keys(
      service().template.findResources('AWS::ApiGateway::RestApi', {
        Properties: { Description: 'Switchyard release API (IAM authorization)' },
      }),
    );
    expect(restApi).toBeDefined();
    expect(url).toContain(`{"Ref":"${restApi}"},".execute-api."`);
  });

  it('runs entries/release-api.ts with the state machine ARN, table, topic and registry host', () => {
    service().template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Release API'),
      Environment: {
        Variables: Match.objectLike({
          STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^ReleaseStateMachine') },
          RELEASE_TABLE_NAME: { Ref: Match.stringLikeRegexp('^ReleasesTable') },
          ALERTS_TOPIC_ARN: { Ref: Match.stringLikeRegexp('^AlertsTopic') },
          REGISTRY_HOST: Match.anyValue(),
        }),
      },
    });
  });

  it('may start and answer executions of the one state machine, and read and stop only its executions', () => {
    const statements = releaseApiStatements();
    const start = statements.find((s) => s.Sid === 'ReleaseExecutions');
    expect(actions(start)).toEqual([...RELEASE_API_STATE_MACHINE_ACTIONS.stateMachine].sort());
    expect(start?.Resource).toEqual({ Ref: expect.stringMatching(/^ReleaseStateMachine/) });
    const answer = statements.find((s) => s.Sid === 'AnswerApprovalTasks');
    expect(actions(answer)).toEqual(['states:SendTaskFailure', 'states:SendTaskSuccess']);
    expect(answer?.Resource).toBe('*');
    const executions = statements.find((s) => s.Sid === 'ReadAndStopExecutions');
    expect(actions(executions)).toEqual([...RELEASE_API_STATE_MACHINE_ACTIONS.executions].sort());
    expect(JSON.stringify(executions?.Resource)).toContain(':execution:');
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.includes('*'))).toEqual([]);
  });

  it('queries only the two release indexes and reads only the application repository', () => {
    const statements = releaseApiStatements();
    expect(actions(statements.find((s) => s.Sid === 'ReleaseTableIndexes'))).toEqual(['dynamodb:Query']);
    expect(JSON.stringify(statements.find((s) => s.Sid === 'ReleaseTableIndexes')?.Resource)).not.toContain('index/*');
    expect(actions(statements.find((s) => s.Sid === 'ReadImages'))).toEqual(['ecr:DescribeImages']);
  });

  it('backs every release route with a proxy integration behind IAM authorization', () => {
    const { template } = service();
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Array<{
      Properties: { HttpMethod: string; AuthorizationType: string; Integration: { Type: string } };
    }>;
    const expected = RELEASE_ROUTES.reduce((n, r) => n + r.methods.length, 0);
    const proxied = methods.filter((m) => m.Properties.Integration.Type === 'AWS_PROXY');
    expect(proxied).toHaveLength(expected);
    for (const method of proxied) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });
});
