/**
 * The client side of the API's "API key + HMAC" scheme, for users, smoke tests and the load generator.
 * Deliberately free of Powertools and the AWS SDK so a CLI can import it without dragging them in.
 */
import { randomBytes } from 'node:crypto';
import { canonicalString, type QueryInput, signatureFor } from './canonical-request.ts';

export type { CanonicalRequestParts, QueryInput } from './canonical-request.ts';
export { canonicalQuery, canonicalString, percentEncode, queryPairs, sha256Hex } from './canonical-request.ts';

export interface SignRequestInput {
  readonly apiKey: string;
  readonly secret: string;
  readonly method: string;
  /** The route path without the stage and without the query string, e.g. `/orders`. */
  readonly path: string;
  readonly query?: QueryInput;
  /** The exact body bytes that will be sent (a string is taken as UTF-8). */
  readonly body?: string | Uint8Array;
  /** Unix seconds; defaults to now. */
  readonly timestamp?: number;
  /** 16 to 64 characters of [A-Za-z0-9_-]; defaults to 24 random characters. */
  readonly nonce?: string;
}

export interface SignedHeaders {
  readonly 'X-Api-Key': string;
  readonly 'X-Timestamp': string;
  readonly 'X-Nonce': string;
  readonly 'X-Signature': string;
}

export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/** Pure apart from the defaults for timestamp and nonce: the headers that authenticate one request. */
export function signRequest(input: SignRequestInput): SignedHeaders {
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const nonce = input.nonce ?? newNonce();
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('timestamp must be unix seconds');
  if (!NONCE_PATTERN.test(nonce)) throw new RangeError('nonce must be 16 to 64 characters of [A-Za-z0-9_-]');
  const canonical = canonicalString({
    method: input.method,
    path: input.path,
    query: input.query,
    timestamp,
    nonce,
    body: input.body,
  });
  return {
    'X-Api-Key': input.apiKey,
    'X-Timestamp': String(timestamp),
    'X-Nonce': nonce,
    'X-Signature': signatureFor(input.secret, canonical),
  };
}

/** Structurally the deployment service's `RequestSigner` port (core/ports/ports.ts). */
export interface RequestSigner {
  sign(request: {
    method: string;
    path: string;
    query: Record<string, string>;
    body: string;
  }): Promise<Record<string, string>>;
}

export interface SigningCredentials {
  readonly apiKey: string;
  readonly secret: string;
  /** Milliseconds since the epoch; injectable so tests and replays control time. */
  readonly now?: () => number;
}

export class HmacRequestSigner implements RequestSigner {
  readonly #credentials: SigningCredentials;

  constructor(credentials: SigningCredentials) {
    if (!credentials.apiKey || !credentials.secret) throw new RangeError('apiKey and secret are required');
    this.#credentials = credentials;
  }

  async sign(request: { method: string; path: string; query: Record<string, string>; body: string }) {
    const { apiKey, secret, now = Date.now } = this.#credentials;
    const headers = signRequest({ apiKey, secret, ...request, timestamp: Math.floor(now() / 1000) });
    return { ...headers };
  }
}
