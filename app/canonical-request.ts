import { createHash, createHmac } from 'node:crypto';

/** The only signature version this API speaks; the prefix lets a v2 scheme coexist during a migration. */
export const SIGNATURE_PREFIX = 'v1=';

export type QueryInput =
  | Readonly<Record<string, string | readonly string[]>>
  | ReadonlyArray<readonly [string, string]>;

export interface CanonicalRequestParts {
  readonly method: string;
  readonly path: string;
  readonly query?: QueryInput;
  /** Unix seconds, as sent in X-Timestamp. */
  readonly timestamp: number | string;
  readonly nonce: string;
  /** The raw body bytes (a string is taken as UTF-8). */
  readonly body?: string | Uint8Array;
}

/** RFC 3986: everything but the unreserved set A-Z a-z 0-9 - . _ ~ is percent-encoded (UTF-8, upper-case hex). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function queryPairs(query: QueryInput | undefined): Array<readonly [string, string]> {
  if (!query) return [];
  if (Array.isArray(query)) return [...(query as ReadonlyArray<readonly [string, string]>)];
  const pairs: Array<readonly [string, string]> = [];
  for (const [name, value] of Object.entries(query as Record<string, string | readonly string[]>)) {
    for (const v of typeof value === 'string' ? [value] : value) pairs.push([name, v]);
  }
  return pairs;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Encoded `name=value` pairs sorted by encoded name, then encoded value (plain ASCII order), joined with `&`. */
export function canonicalQuery(query: QueryInput | undefined): string {
  return queryPairs(query)
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort((a, b) => byCodeUnit(a[0], b[0]) || byCodeUnit(a[1], b[1]))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

export function sha256Hex(body: string | Uint8Array | undefined): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('hex');
}

/** `METHOD\nPATH\nCANONICAL_QUERY\nTIMESTAMP\nNONCE\nhex(SHA256(body))`: the exact bytes both sides sign. */
export function canonicalString(parts: CanonicalRequestParts): string {
  return [
    parts.method.toUpperCase(),
    parts.path,
    canonicalQuery(parts.query),
    String(parts.timestamp),
    parts.nonce,
    sha256Hex(parts.body),
  ].join('\n');
}

/** `v1=` + lower-case hex HMAC-SHA256(secret, canonical string). */
export function signatureFor(secret: string, canonical: string): string {
  return SIGNATURE_PREFIX + createHmac('sha256', secret).update(canonical, 'utf8').digest('hex');
}
