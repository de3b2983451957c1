import { timingSafeEqual } from 'node:crypto';
import { canonicalString, SIGNATURE_PREFIX, signatureFor } from './canonical-request.ts';
import type { ClientKeyStore } from './client-keys.ts';
import {
  InvalidSignature,
  MalformedCredentials,
  MalformedRequest,
  MissingCredentials,
  NonceReplayed,
  StaleTimestamp,
  UnknownApiKey,
} from './errors.ts';
import type { NonceStore } from './nonce-cache.ts';
import { NONCE_PATTERN } from './signing-client.ts';

/** Seconds a timestamp may differ from server time, either way; also how long a nonce is remembered. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

const SIGNATURE_PATTERN = new RegExp(`^${SIGNATURE_PREFIX}[0-9a-f]{64}$`);
const TIMESTAMP_PATTERN = /^[0-9]{1,12}$/;
const API_KEY_HEADER_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** What the verifier reads from a request; header names are lower-case. */
export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface AuthenticatedClient {
  readonly clientId: string;
  /** True when the request was signed with the previous secret: the client has not rotated yet. */
  readonly usedPreviousSecret: boolean;
}

export interface VerifierDeps {
  readonly keys: ClientKeyStore;
  readonly nonces: NonceStore;
  readonly nowSeconds: () => number;
}

const REQUIRED_HEADERS = ['x-api-key', 'x-timestamp', 'x-nonce', 'x-signature'] as const;

function readCredentials(headers: Readonly<Record<string, string>>) {
  const missing = REQUIRED_HEADERS.filter((name) => !headers[name]);
  if (missing.length > 0) {
    throw new MissingCredentials(`Missing signing headers: ${missing.join(', ')}. See docs/app-api.md.`, { missing });
  }
  const [apiKey, timestamp, nonce, signature] = REQUIRED_HEADERS.map((name) => headers[name] ?? '') as [
    string,
    string,
    string,
    string,
  ];
  const malformed: string[] = [];
  if (!API_KEY_HEADER_PATTERN.test(apiKey)) malformed.push('x-api-key: printable ASCII, 1 to 256 characters');
  if (!TIMESTAMP_PATTERN.test(timestamp)) malformed.push('x-timestamp: unix seconds, digits only');
  if (!NONCE_PATTERN.test(nonce)) malformed.push('x-nonce: 16 to 64 characters of [A-Za-z0-9_-]');
  if (!SIGNATURE_PATTERN.test(signature)) malformed.push('x-signature: "v1=" then 64 lower-case hex digits');
  if (malformed.length > 0) {
    throw new MalformedCredentials(`Malformed signing headers: ${malformed.join('; ')}`, { malformed });
  }
  return { apiKey, timestampHeader: timestamp, timestamp: Number(timestamp), nonce, signature };
}

/** Compares against every secret of the client (no early exit), each in constant time. */
function matchingSecretIndex(secrets: readonly string[], canonical: string, presented: string): number {
  const presentedBytes = Buffer.from(presented, 'utf8');
  let match = -1;
  secrets.forEach((secret, index) => {
    const expected = Buffer.from(signatureFor(secret, canonical), 'utf8');
    if (expected.length === presentedBytes.length && timingSafeEqual(expected, presentedBytes) && match === -1) {
      match = index;
    }
  });
  return match;
}

/**
 * Authenticates one request: headers present and well-formed, timestamp within tolerance, a known key, a signature
 * that matches under the current or previous secret, and a nonce not seen before. The nonce is remembered only after
 * the signature checks out, so nobody without the secret can burn a client's nonces.
 */
export async function verifySignedRequest(request: SignedRequest, deps: VerifierDeps): Promise<AuthenticatedClient> {
  const { apiKey, timestampHeader, timestamp, nonce, signature } = readCredentials(request.headers);

  const now = deps.nowSeconds();
  if (Math.abs(now - timestamp) > TIMESTAMP_TOLERANCE_SECONDS) {
    throw new StaleTimestamp(
      `X-Timestamp is more than ${TIMESTAMP_TOLERANCE_SECONDS} s from server time; check the client clock and sign each request when it is sent.`,
      { serverTime: now },
    );
  }

  const client = await deps.keys.lookup(apiKey);
  if (!client) throw new UnknownApiKey('Unknown API key.');

  let canonical: string;
  try {
    // The header exactly as sent, not the number read from it: `01767225600` is signed as `01767225600`.
    canonical = canonicalString({ ...request, timestamp: timestampHeader, nonce });
  } catch {
    throw new MalformedRequest('The query string cannot be canonicalised (it is not well-formed UTF-8).');
  }
  const index = matchingSecretIndex(client.secrets, canonical, signature);
  if (index === -1) {
    throw new InvalidSignature(
      'Signature does not match. Sign METHOD, PATH, CANONICAL_QUERY, TIMESTAMP, NONCE and the SHA-256 of the exact body bytes, as in docs/app-api.md.',
    );
  }

  const fresh = await deps.nonces.remember(`${apiKey}\n${nonce}`, timestamp + TIMESTAMP_TOLERANCE_SECONDS);
  if (!fresh) throw new NonceReplayed('This nonce was already used; send a new random nonce with every request.');

  return { clientId: client.clientId, usedPreviousSecret: index > 0 };
}
