import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseClientKeys } from '../../app/client-keys.ts';
import { HmacRequestSigner } from '../../app/signing-client.ts';
import { clientKeysSecretName, environmentNamed } from '../../config/environments.ts';
import type { Environments } from '../../config/schema.ts';
import { errorMessage } from '../../core/model/errors.ts';
import type { RequestSigner, SmokeSigners } from '../../core/ports/ports.ts';
import { isTransientAwsError } from './transient-errors.ts';

let defaultClient: SecretsManagerClient | undefined;
function secretsManagerClient(): SecretsManagerClient {
  defaultClient ??= new SecretsManagerClient({});
  return defaultClient;
}

/** The `clientId` Verify green signs as; each environment's client-keys secret must hold one such client. */
export const SMOKE_TEST_CLIENT_ID = 'smoke-tests';

/** The slice of Powertools' `SecretsProvider` this adapter uses (its cache honours `maxAge`). */
export interface SecretValueSource {
  get(name: string, options: { maxAge: number }): Promise<string | Uint8Array | undefined>;
}

export interface SecretsManagerSmokeSignersOptions {
  /** The configured environments: each one's secret is `<functionName>/client-keys` (`clientKeysSecretName`). */
  readonly environments: Environments;
  /** @default one `SecretsManagerClient` per module, with the default credential chain and region. */
  readonly client?: SecretsManagerClient;
  /** @default a Powertools `SecretsProvider` over `client` */
  readonly source?: SecretValueSource;
  /** Seconds a fetched secret is reused before Secrets Manager is asked again. @default 300 */
  readonly maxAgeSeconds?: number;
  /** Milliseconds since the epoch, for the signature timestamps. @default Date.now */
  readonly now?: () => number;
}

/** The client-keys secret could not be read or does not have the documented shape. Never carries a key. */
export class SmokeSigningKeyUnavailable extends Error {
  override readonly name = 'SmokeSigningKeyUnavailable';
}

/**
 * The `smoke-tests` client of each environment's client-keys secret (the same secret the application verifies
 * with), signing with its current secret. An environment whose secret holds no such client has no signer.
 */
export class SecretsManagerSmokeSigners implements SmokeSigners {
  private readonly client: SecretsManagerClient;
  private readonly source: SecretValueSource;
  private readonly environments: Environments;
  private readonly maxAgeSeconds: number;
  private readonly now: () => number;

  constructor(options: SecretsManagerSmokeSignersOptions) {
    this.client = options.client ?? secretsManagerClient();
    this.source = options.source ?? new SecretsProvider({ awsSdkV3Client: this.client });
    this.environments = options.environments;
    this.maxAgeSeconds = options.maxAgeSeconds ?? 300;
    this.now = options.now ?? Date.now;
  }

  async signerFor(environment: string): Promise<RequestSigner | undefined> {
    const secretName = clientKeysSecretName(environmentNamed(environment, this.environments));
    const text = await this.read(secretName);
    let keys: ReturnType<typeof parseClientKeys>;
    try {
      keys = parseClientKeys(text);
    } catch (error) {
      // parseClientKeys names the offending paths only, never a value.
      throw new SmokeSigningKeyUnavailable(`the client-keys secret ${secretName} is malformed: ${errorMessage(error)}`);
    }
    // Several API keys of the smoke-test client (an API-key rotation): the first one in the document signs.
    for (const [apiKey, key] of keys) {
      const secret = key.secrets[0];
      if (key.clientId === SMOKE_TEST_CLIENT_ID && secret) {
        return new HmacRequestSigner({ apiKey, secret, now: this.now });
      }
    }
    return undefined;
  }

  private async read(secretName: string): Promise<string> {
    let value: string | Uint8Array | undefined;
    try {
      value = await this.source.get(secretName, { maxAge: this.maxAgeSeconds });
    } catch (error) {
      // Powertools wraps the SDK error; throttling and 5xx stay retryable for the state machine.
      const cause: unknown = error instanceof Error && error.cause !== undefined ? error.cause : error;
      if (isTransientAwsError(cause)) throw cause;
      const name = cause instanceof Error ? cause.name : 'Error';
      throw new SmokeSigningKeyUnavailable(
        `the client-keys secret ${secretName} could not be read (${name}: ${errorMessage(cause)})`,
      );
    }
    if (value === undefined) throw new SmokeSigningKeyUnavailable(`the client-keys secret ${secretName} has no value`);
    return typeof value === 'string' ? value : new TextDecoder().decode(value);
  }
}
