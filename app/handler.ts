import type { Context } from 'aws-lambda';
import { type ApiProgress, type AppDeps, handleApiRequest } from './api.ts';
import { HttpError } from './errors.ts';
import { type ApiRequest, parseApiGatewayEvent } from './http-event.ts';
import { errorResponse, type ProxyResponse } from './http-response.ts';
import { logger, recordRequest, tracer, useFunctionVersionDimension } from './observability.ts';

/**
 * The Lambda entry: parse the event, hand it to handleApiRequest, shape refusals as JSON, and record one log line,
 * one set of metrics and one trace subsegment per request. Headers and bodies are never logged.
 */
export function createHandler(deps: AppDeps) {
  useFunctionVersionDimension(deps.config.functionVersion);

  return async function handler(event: unknown, context?: Context): Promise<ProxyResponse> {
    const started = performance.now();
    const segment = tracer.getSegment();
    const subsegment = segment?.addNewSubsegment('## index.handler');
    if (subsegment) tracer.setSegment(subsegment);
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    if (context) logger.addContext(context);

    let request: ApiRequest | undefined;
    const progress: ApiProgress = {};
    let response: ProxyResponse;
    let failure: unknown;
    try {
      request = parseApiGatewayEvent(event);
      logger.appendKeys({ apiRequestId: request.requestId });
      response = await handleApiRequest(request, deps, progress);
    } catch (error) {
      failure = error;
      response = errorResponse(error, request?.requestId);
    }

    const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    const entry = {
      method: request?.method,
      route: progress.routeName,
      clientId: progress.client?.clientId,
      statusCode: response.statusCode,
      latencyMs,
      ...(failure instanceof HttpError ? { errorCode: failure.name, reason: failure.message } : {}),
    };
    if (response.statusCode >= 500) logger.error('request failed', { ...entry, error: failure as Error });
    else if (response.statusCode >= 400) logger.warn('request refused', entry);
    else logger.info('request served', entry);
    if (progress.client?.usedPreviousSecret) logger.warn('client signed with its previous secret', entry);

    recordRequest({
      statusCode: response.statusCode,
      latencyMs,
      usedPreviousSecret: !!progress.client?.usedPreviousSecret,
    });
    if (progress.routeName) tracer.putAnnotation('route', progress.routeName);
    if (progress.client) tracer.putAnnotation('clientId', progress.client.clientId);
    tracer.putAnnotation('statusCode', response.statusCode);
    subsegment?.close();
    if (segment) tracer.setSegment(segment);
    logger.resetKeys();
    return response;
  };
}
