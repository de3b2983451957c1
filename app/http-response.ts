import { HttpError } from './errors.ts';

/** What API Gateway expects back from a proxy integration (valid for payload 1.0 and 2.0). */
export interface ProxyResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function jsonResponse(
  statusCode: number,
  body: unknown,
  requestId: string | undefined,
  headers: Record<string, string> = {},
): ProxyResponse {
  return {
    statusCode,
    headers: { ...BASE_HEADERS, ...(requestId ? { 'x-request-id': requestId } : {}), ...headers },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** RFC 9110 asks a 401 to say which scheme would succeed. */
const CHALLENGE = 'Switchyard-HMAC-SHA256 headers="x-api-key x-timestamp x-nonce x-signature"';

export function errorResponse(error: unknown, requestId: string | undefined): ProxyResponse {
  if (error instanceof HttpError) {
    const internal = error.statusCode >= 500;
    const body = {
      error: {
        code: error.name,
        message: error.clientMessage,
        ...(internal ? {} : (error.details ?? {})),
      },
      requestId,
    };
    const challenge: Record<string, string> = error.statusCode === 401 ? { 'www-authenticate': CHALLENGE } : {};
    return jsonResponse(error.statusCode, body, requestId, { ...error.headers, ...challenge });
  }
  return jsonResponse(
    500,
    { error: { code: 'InternalError', message: 'Internal error; quote the request id when reporting it.' }, requestId },
    requestId,
  );
}
