import type { RequestSigner, SmokeSigners } from '../../core/ports.ts';

/**
 * One signer for every environment (or for the listed ones only): the local runtime's single smoke-test client and
 * the tests' stand-in for the per-environment secrets.
 */
export class StaticSmokeSigners implements SmokeSigners {
  constructor(
    private readonly signer: RequestSigner | undefined,
    private readonly environments?: readonly string[],
  ) {}

  async signerFor(environment: string): Promise<RequestSigner | undefined> {
    if (this.environments && !this.environments.includes(environment)) return undefined;
    return this.signer;
  }
}
