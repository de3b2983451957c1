import { describe, expect, it } from 'vitest';
import { SmokeSigningKeyUnavailable } from '../../adapters/aws/secrets-manager-smoke-signers.ts';
import type { RequestSigner, SmokeSigners } from '../../core/ports/ports.ts';
import { ReleaseWorld } from './harness.ts';

const signer: RequestSigner = { sign: async () => ({ 'x-api-key': 'smoke', 'x-signature': 'v1=test' }) };

/** Records which environments Verify green asked a signer for. */
function recordingSigners(answer: (environment: string) => Promise<RequestSigner | undefined>) {
  const asked: string[] = [];
  const signers: SmokeSigners = {
    signerFor: async (environment) => {
      asked.push(environment);
      return answer(environment);
    },
  };
  return { asked, signers };
}

describe("Verify green's signed smoke requests", () => {
  it("sign with the release's own environment's signer", async () => {
    const { asked, signers } = recordingSigners(async () => signer);
    const world = await new ReleaseWorld({ environment: 'staging', smokeSigners: signers }).seed();

    const result = await world.run(world.apiRequest());

    expect(result.status).toBe('SUCCEEDED');
    expect(asked).toEqual(['staging']);
  });

  it('are not sent, and fail verification before traffic moves, when the environment has no signing key', async () => {
    const { signers } = recordingSigners(async () => undefined);
    const world = await new ReleaseWorld({ environment: 'staging', smokeSigners: signers }).seed();

    const result = await world.run(world.apiRequest());

    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain('list-orders (expected 200, got not sent: no smoke-test signing key is configured)');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  });

  it('fail verification with the reason when the signing key cannot be read', async () => {
    const { signers } = recordingSigners(async () => {
      throw new SmokeSigningKeyUnavailable('the client-keys secret switchyard-api-staging/client-keys has no value');
    });
    const world = await new ReleaseWorld({ environment: 'staging', smokeSigners: signers }).seed();

    const result = await world.run(world.apiRequest());

    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain(
      'got not sent: the smoke-test signing key could not be read: the client-keys secret switchyard-api-staging/client-keys has no value',
    );
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  });
});
