import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

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

/** The routes the release API handler serves, each behind IAM authorization and the request validator. */
export const RELEASE_ROUTES = [
  { path: '/releases', methods: ['GET', 'POST'] },
  { path: '/releases/{releaseId}', methods: ['GET', 'DELETE'] },
  { path: '/releases/{releaseId}/approval', methods: ['POST'] },
] as const;

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
