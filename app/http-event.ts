import * as z from 'zod';
import { MalformedRequest, UnsupportedEvent } from './errors.ts';

/** One HTTP request, whichever API Gateway payload version carried it. Header names are lower-case. */
export interface ApiRequest {
  readonly method: string;
  /** The route path, without the stage. This is the PATH that clients sign. */
  readonly path: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body bytes, base64-decoded when API Gateway flagged it. */
  readonly body: Uint8Array;
  readonly requestId: string | undefined;
  readonly sourceIp: string | undefined;
}

const stringRecord = z.record(z.string(), z.string()).nullish();

/** API Gateway REST API, Lambda proxy integration (payload 1.0): only the fields this function reads. */
const RestProxyEventSchema = z.looseObject({
  httpMethod: z.string().min(1),
  path: z.string().startsWith('/'),
  headers: stringRecord,
  multiValueHeaders: z.record(z.string(), z.array(z.string())).nullish(),
  queryStringParameters: stringRecord,
  multiValueQueryStringParameters: z.record(z.string(), z.array(z.string())).nullish(),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().nullish(),
  requestContext: z
    .looseObject({
      requestId: z.string().optional(),
      identity: z.looseObject({ sourceIp: z.string().nullish() }).nullish(),
    })
    .nullish(),
});

/** API Gateway HTTP API (payload 2.0). */
const HttpApiEventSchema = z.looseObject({
  version: z.literal('2.0'),
  rawPath: z.string().startsWith('/'),
  rawQueryString: z.string().default(''),
  headers: stringRecord,
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().nullish(),
  requestContext: z.looseObject({
    requestId: z.string().optional(),
    stage: z.string().optional(),
    http: z.looseObject({ method: z.string().min(1), sourceIp: z.string().optional() }),
  }),
});

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBody(body: string | null | undefined, isBase64Encoded: boolean | null | undefined): Uint8Array {
  if (!body) return new Uint8Array();
  if (!isBase64Encoded) return Buffer.from(body, 'utf8');
  if (!BASE64.test(body)) throw new MalformedRequest('The body is flagged as base64 but is not valid base64.');
  return Buffer.from(body, 'base64');
}

function lowerCaseKeys(headers: Record<string, string> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new MalformedRequest('The query string has an invalid percent-encoding.');
  }
}

/** Splits a raw query string the RFC 3986 way: `+` stays a plus sign (clients must send spaces as %20). */
export function parseRawQuery(raw: string): Array<readonly [string, string]> {
  if (!raw) return [];
  return raw
    .split('&')
    .filter((part) => part.length > 0)
    .map((part) => {
      const at = part.indexOf('=');
      const name = at === -1 ? part : part.slice(0, at);
      const value = at === -1 ? '' : part.slice(at + 1);
      return [decodeComponent(name), decodeComponent(value)] as const;
    });
}

function fromRestProxy(event: z.infer<typeof RestProxyEventSchema>): ApiRequest {
  // multiValueHeaders is authoritative where present; a repeated signing header becomes "a,b" and fails its format check.
  const headers = lowerCaseKeys(event.headers);
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    headers[name.toLowerCase()] = values.join(',');
  }
  const query: Array<readonly [string, string]> = [];
  if (event.multiValueQueryStringParameters) {
    for (const [name, values] of Object.entries(event.multiValueQueryStringParameters)) {
      for (const value of values) query.push([name, value]);
    }
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) query.push([name, value]);
  }
  return {
    method: event.httpMethod.toUpperCase(),
    path: event.path,
    query,
    headers,
    body: decodeBody(event.body, event.isBase64Encoded),
    requestId: event.requestContext?.requestId,
    sourceIp: event.requestContext?.identity?.sourceIp ?? undefined,
  };
}

function fromHttpApi(event: z.infer<typeof HttpApiEventSchema>): ApiRequest {
  const stage = event.requestContext.stage;
  // rawPath keeps a named stage as its first segment; clients sign the route path without it.
  const prefix = stage && stage !== '$default' ? `/${stage}` : '';
  const path =
    prefix && (event.rawPath === prefix || event.rawPath.startsWith(`${prefix}/`))
      ? event.rawPath.slice(prefix.length) || '/'
      : event.rawPath;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path,
    query: parseRawQuery(event.rawQueryString),
    headers: lowerCaseKeys(event.headers),
    body: decodeBody(event.body, event.isBase64Encoded),
    requestId: event.requestContext.requestId,
    sourceIp: event.requestContext.http.sourceIp,
  };
}

/** Parses an API Gateway proxy event (payload 1.0 or 2.0) into an ApiRequest, or throws UnsupportedEvent. */
export function parseApiGatewayEvent(event: unknown): ApiRequest {
  const v2 = HttpApiEventSchema.safeParse(event);
  if (v2.success) return fromHttpApi(v2.data);
  const v1 = RestProxyEventSchema.safeParse(event);
  if (v1.success) return fromRestProxy(v1.data);
  throw new UnsupportedEvent('The event is not an API Gateway proxy event (payload 1.0 or 2.0).', {
    fields: v1.error.issues.map((issue) => issue.path.join('.')),
  });
}
