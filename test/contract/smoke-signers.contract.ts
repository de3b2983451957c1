import { beforeEach, describe, expect, it } from 'vitest';
import { type ClientKeysDocument, parseClientKeys } from '../../app/client-keys.ts';
import { InMemoryNonceCache } from '../../app/nonce-cache.ts';
import { verifySignedRequest } from '../../app/request-verifier.ts';
import type { SmokeSigners } from '../../core/ports/ports.ts';

/** Each environment's client keys, as its application reads them (its `<functionName>/client-keys` secret). */
export type KeysByEnvironment = Readonly<Record<string, ClientKeysDocument>>;

export interface SmokeSignersSubject {
  readonly signers: SmokeSigners;
}

const smokeKeys = (secret: string, previous?: string): ClientKeysDocument['clients'][string] => ({
  clientId: 'smoke-tests',
  secrets: previous ? [secret, previous] : [secret],
});

const DEV_SECRET = 'dev-smoke-secret-0123456789abcdef0123';
const PROD_SECRET = 'prod-smoke-secret-0123456789abcdef012';
const PROD_PREVIOUS = 'prod-previous-secret-0123456789abcdef';

export const CONTRACT_KEYS: KeysByEnvironment = {
  dev: { clients: { 'smoke-dev-key-0001': smokeKeys(DEV_SECRET) } },
  prod: {
    clients: {
      'orders-ui-key-0001': { clientId: 'orders-ui', secrets: ['ui-secret-0123456789abcdef0123456789'] },
      'smoke-prod-key-01': smokeKeys(PROD_SECRET, PROD_PREVIOUS),
    },
  },
  staging: {
    clients: { 'orders-ui-key-0001': { clientId: 'orders-ui', secrets: ['ui-secret-0123456789abcdef012345'] } },
  },
};

/** How the environment's application judges a request: its own verifier over its own keys. */
async function applicationAccepts(environment: string, headers: Record<string, string>) {
  const keys = parseClientKeys(JSON.stringify(CONTRACT_KEYS[environment]));
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  return verifySignedRequest(
    {
      method: 'GET',
      path: '/orders',
      query: [],
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
      body: new Uint8Array(),
    },
    {
      keys: { lookup: async (apiKey) => keys.get(apiKey) },
      nonces: new InMemoryNonceCache({ nowSeconds }),
      nowSeconds,
    },
  );
}

/** What Verify green relies on from the smoke-test signers, for every SmokeSigners over CONTRACT_KEYS. */
export function describeSmokeSignersContract(
  name: string,
  makeSubject: (keys: KeysByEnvironment) => Promise<SmokeSignersSubject> | SmokeSignersSubject,
) {
  describe(`${name} (SmokeSigners contract)`, () => {
    let subject: SmokeSignersSubject;
    beforeEach(async () => {
      subject = await makeSubject(CONTRACT_KEYS);
    });

    it("signs requests the environment's application accepts as the smoke-tests client, with the current secret", async () => {
      for (const environment of ['dev', 'prod']) {
        const signer = await subject.signers.signerFor(environment);
        const headers = await signer?.sign({ method: 'GET', path: '/orders', query: {}, body: '' });
        expect(await applicationAccepts(environment, headers ?? {}), environment).toEqual({
          clientId: 'smoke-tests',
          usedPreviousSecret: false,
        });
      }
    });

    it("signs with each environment's own key, which another environment refuses", async () => {
      const signer = await subject.signers.signerFor('dev');
      const headers = await signer?.sign({ method: 'GET', path: '/orders', query: {}, body: '' });
      await expect(applicationAccepts('prod', headers ?? {})).rejects.toThrow(/Unknown API key/);
    });

    it('has no signer for an environment whose keys hold no smoke-tests client', async () => {
      expect(await subject.signers.signerFor('staging')).toBeUndefined();
    });
  });
}
