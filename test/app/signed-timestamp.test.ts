import { describe, expect, it } from 'vitest';
import { canonicalString, signatureFor } from '../../app/canonical-request.ts';
import { InMemoryNonceCache } from '../../app/nonce-cache.ts';
import { verifySignedRequest } from '../../app/request-verifier.ts';
import { NOW_SECONDS, SMOKE_CLIENT, staticKeyStore } from './request-builders.ts';

const deps = () => ({
  keys: staticKeyStore(),
  nonces: new InMemoryNonceCache({ nowSeconds: () => NOW_SECONDS }),
  nowSeconds: () => NOW_SECONDS,
});

/** A GET /orders signed over `signedTimestamp` and sent with `X-Timestamp: sentTimestamp`. */
function request(signedTimestamp: string, sentTimestamp: string, nonce: string) {
  const canonical = canonicalString({ method: 'GET', path: '/orders', timestamp: signedTimestamp, nonce, body: '' });
  return {
    method: 'GET',
    path: '/orders',
    query: [],
    body: new Uint8Array(),
    headers: {
      'x-api-key': SMOKE_CLIENT.apiKey,
      'x-timestamp': sentTimestamp,
      'x-nonce': nonce,
      'x-signature': signatureFor(SMOKE_CLIENT.secret, canonical),
    },
  };
}

describe('the timestamp line of the canonical request is exactly the X-Timestamp header as sent', () => {
  it('accepts a signature over the header as sent, leading zero and all', async () => {
    const padded = `0${NOW_SECONDS}`;
    await expect(verifySignedRequest(request(padded, padded, 'nonce-padded-000001'), deps())).resolves.toMatchObject({
      clientId: SMOKE_CLIENT.clientId,
    });
  });

  it('refuses a signature over the parsed number when the header says something else', async () => {
    const padded = `0${NOW_SECONDS}`;
    await expect(
      verifySignedRequest(request(String(NOW_SECONDS), padded, 'nonce-parsed-000001'), deps()),
    ).rejects.toMatchObject({ name: 'InvalidSignature' });
  });
});
