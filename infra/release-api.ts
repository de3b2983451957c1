import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RELEASE_API_ROUTES, splitRoute } from '../api/routes.ts';
import {
  ENV_VARS,
  RELEASE_API_ENTRY,
  RELEASE_API_GRANTS,
  RELEASE_API_SELF_INVOKE_ACTION,
} from '../contract/service-functions.ts';
import type { GrantResources } from './handler-permissions.ts';
import { SwitchyardFunction } from './switchyard-function.ts';

export interface ReleaseApiProps {
  /**
   * The release API's handler (start, list, describe, approve and abort releases). The operating-releases issue
   * provides it; until then the API answers 501 on its root, because API Gateway cannot deploy an API without a
   * method.
   * @default - no handler: a mock `GET /` that answers 501
   */
  readonly handler?: lambda.IFunction;
  /** @default 'switchyard' */
  readonly stageName?: string;
  /** @default logs.RetentionDays.ONE_YEAR — access logs are the audit trail of who released what */
  readonly accessLogRetention?: logs.RetentionDays;
}

/**
 * The REST resources and methods of the release API: exactly the handler's routes (`api/routes.ts`), each behind IAM
 * authorization and the request validator. Every route that acts on an environment has it in its path, so
 * `execute-api:Invoke` policies on `arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>` allow or
 * deny it per environment (docs/operate.md, "Who may call the release API on AWS").
 */
export const RELEASE_ROUTES: readonly { readonly path: string; readonly methods: readonly string[] }[] = [
  ...RELEASE_API_ROUTES.map(splitRoute)
    .reduce(
      (byPath, { method, path }) => byPath.set(path, [...(byPath.get(path) ?? []), method]),
      new Map<string, string[]>(),
    )
    .entries(),
].map(([path, methods]) => ({ path, methods }));

/**
 * The Step Functions actions of the release API, by the resource they act on. Approve and reject answer a task token:
 * SendTaskSuccess and SendTaskFailure have no resource type in the service authorization reference (Step Functions),
 * so they are authorized on `*` only. aws-cdk PR #8486 found the same with the IAM policy simulator: "This action does
 * not support resource-level permissions. Policies granting access must specify "*" in the resource element."
 * (https://github.com/aws/aws-cdk/pull/8486). test/iam checks it against AWS's own action data.
 */
export const RELEASE_API_STATE_MACHINE_ACTIONS = {
  stateMachine: ['states:StartExecution'],
  taskTokens: ['states:SendTaskFailure', 'states:SendTaskSuccess'],
  executions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
} as const;

export interface ReleaseApiFunctionProps extends GrantResources {
  readonly stateMachine: sfn.IStateMachine;
  readonly logLevel: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The release API's handler (`entries/release-api.ts`): its role may do what `RELEASE_API_GRANTS` needs on
 * the table, the repository, the application functions and the alerts topic, and start, read, stop and answer
 * executions of this one state machine.
 */
export class ReleaseApiFunction extends Construct {
  readonly handler: SwitchyardFunction;

  constructor(scope: Construct, id: string, props: ReleaseApiFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.handler = new SwitchyardFunction(this, 'Handler', {
      entry: RELEASE_API_ENTRY,
      description: 'Release API: start, list, show, approve, promote, abort releases; roll back environments',
      serviceName: 'switchyard',
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      access: { grants: RELEASE_API_GRANTS, resources: props },
      environment: { [ENV_VARS.stateMachineArn]: props.stateMachine.stateMachineArn },
    });
    const role = this.handler.role;
    const add = (sid: string, actions: readonly string[], resources: string[]) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: [...actions], resources }));
    const stateMachineName = stack.splitArn(
      props.stateMachine.stateMachineArn,
      ArnFormat.COLON_RESOURCE_NAME,
    ).resourceName;
    add('ReleaseExecutions', RELEASE_API_STATE_MACHINE_ACTIONS.stateMachine, [props.stateMachine.stateMachineArn]);
    add('AnswerApprovalTasks', RELEASE_API_STATE_MACHINE_ACTIONS.taskTokens, ['*']);
    // A fleet's environment rollback runs in an asynchronous invocation of this function (wiring/aws.ts).
    this.handler.function.addPermission('RunsItsOwnBackgroundWork', {
      principal: new iam.ArnPrincipal(role.roleArn),
      action: RELEASE_API_SELF_INVOKE_ACTION,
    });
    add('ReadAndStopExecutions', RELEASE_API_STATE_MACHINE_ACTIONS.executions, [
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ]);
  }
}

/**
 * The release API: a regional REST API where every method requires SigV4 (IAM) authorization, with JSON access
 * logs, X-Ray tracing, execution logging and a validator for bodies and parameters.
 */
export class ReleaseApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly accessLogs: logs.LogGroup;
  readonly validator: apigateway.RequestValidator;

  constructor(scope: Construct, id: string, props: ReleaseApiProps = {}) {
    super(scope, id);
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'Switchyard release API (IAM authorization)',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Access and execution logs need the account's API Gateway logging role; this sets it (once per region).
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName ?? 'switchyard',
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.INFO,
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
    });
    this.validator = this.api.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    if (props.handler) {
      const integration = new apigateway.LambdaIntegration(props.handler);
      for (const route of RELEASE_ROUTES) {
        const resource = this.api.root.resourceForPath(route.path);
        for (const method of route.methods) {
          resource.addMethod(method, integration, { requestValidator: this.validator });
        }
      }
    } else {
      this.api.root.addMethod(
        'GET',
        new apigateway.MockIntegration({
          requestTemplates: { 'application/json': '{"statusCode": 501}' },
          integrationResponses: [
            {
              statusCode: '501',
              responseTemplates: { 'application/json': '{"message":"the release API handler is not deployed yet"}' },
            },
          ],
        }),
        { requestValidator: this.validator, methodResponses: [{ statusCode: '501' }] },
      );
    }
  }
}
