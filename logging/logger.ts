import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Powertools' Logger, configured once for every handler (service name and level come from the function's
 * environment). The handlers carry no Tracer: with active tracing "Lambda runs the X-Ray daemon and records a segment
 * with details about invoking and running the function" (docs.aws.amazon.com/xray/latest/devguide/xray-services-lambda.html),
 * and Tracer's X-Ray SDK was a third of every bundle while no handler annotated a segment or wrapped a client.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'switchyard' });
