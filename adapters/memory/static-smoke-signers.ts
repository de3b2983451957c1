import type { RequestSigner, SmokeSigners } from '../../core/ports/ports.ts';

export interface StaticSmokeSignersOptions {
  /** The signer of every environment not in `byEnvironment` (the local runtime has one smoke-test client). */
  readonly all?: RequestSigner;
  readonly byEnvironment?: Readonly<Record<string, RequestSigner>>;
}

/** Signers fixed up front: the local runtime's and the tests' stand-in for the per-environment secrets. */
export class StaticSmokeSigners implements SmokeSigners {
  constructor(private readonly options: StaticSmokeSignersOptions) {}

  async signerFor(environment: string): Promise<RequestSigner | undefined> {
    return this.options.byEnvironment?.[environment] ?? this.options.all;
  }
}
