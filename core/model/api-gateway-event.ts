import { createHash, randomUUID } from 'node:crypto';

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Name-value pairs in order (a name may repeat), or one value per name. */
  readonly query?: Record<string, string> | ReadonlyArray<readonly [string, string]>;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly sourceIp?: string;
}

/**
 * An API Gateway REST API (payload 1.0) proxy event, shaped like the ones API Gateway sends, for invoking a
 * function version directly: verification in the cloud and the local gateway both use it.
 */
export function restProxyEvent(request: HttpRequest, stage = 'live'): Record<string, unknown> {
  const headers = { ...(request.headers ?? {}) };
  const pairs: ReadonlyArray<readonly [string, string]> = Array.isArray(request.query)
    ? request.query
    : Object.entries(request.query ?? {});
  const multiValue: Record<string, string[]> = {};
  for (const [name, value] of pairs) multiValue[name] = [...(multiValue[name] ?? []), value];
  // As API Gateway fills them: every value in the multi-value map, the last one in the single-value map.
  const query =
    pairs.length > 0 ? Object.fromEntries(Object.entries(multiValue).map(([k, v]) => [k, v.at(-1) ?? ''])) : null;
  const now = new Date();
  return {
    resource: '/{proxy+}',
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query ? multiValue : null,
    pathParameters: { proxy: request.path.replace(/^\//, '') },
    stageVariables: null,
    requestContext: {
      resourcePath: '/{proxy+}',
      httpMethod: request.method,
      path: `/${stage}${request.path}`,
      stage,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      identity: { sourceIp: request.sourceIp ?? '127.0.0.1', userAgent: 'switchyard' },
      extendedRequestId: createHash('sha256').update(randomUUID()).digest('hex').slice(0, 16),
    },
    body: request.body ?? null,
    isBase64Encoded: false,
  };
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Reads a proxy integration response; anything else is reported as a 502, as API Gateway would. */
export function parseProxyResponse(payload: unknown): HttpResponse {
  if (payload && typeof payload === 'object' && typeof Reflect.get(payload, 'statusCode') === 'number') {
    const body = Reflect.get(payload, 'body');
    const headers = Reflect.get(payload, 'headers');
    return {
      statusCode: Reflect.get(payload, 'statusCode') as number,
      headers: headers && typeof headers === 'object' ? (headers as Record<string, string>) : {},
      body: typeof body === 'string' ? body : '',
    };
  }
  return { statusCode: 502, headers: {}, body: JSON.stringify({ message: 'Malformed Lambda proxy response' }) };
}
