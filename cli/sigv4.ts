import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SHA-256 (or its HMAC with a key) in the shape the SigV4 signer takes, on node:crypto. */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** The release API's region is neither in its host name nor in AWS_REGION / AWS_DEFAULT_REGION. */
export class UnknownRegion extends Error {
  override readonly name = 'UnknownRegion';
}

/** The default credential chain found nothing to sign with. */
export class MissingCredentials extends Error {
  override readonly name = 'MissingCredentials';
}

/** The region of an API Gateway endpoint (`<id>.execute-api.<region>.amazonaws.com`), else the configured one. */
export function regionOf(url: URL, fallback = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION): string {
  const match = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname);
  const region = match?.[1] ?? fallback;
  if (!region) {
    throw new UnknownRegion(`cannot tell the region of ${url.host}: set AWS_REGION or use the execute-api URL`);
  }
  return region;
}

export type RequestSigner = (request: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}) => Promise<Record<string, string>>;

/** Signs release API requests with SigV4 for `execute-api`, with the default AWS credential chain. */
export function sigV4Signer(
  options: { region?: string; credentials?: ConstructorParameters<typeof SignatureV4>[0]['credentials'] } = {},
): RequestSigner {
  return async ({ method, url, headers, body }) => {
    const signer = new SignatureV4({
      service: 'execute-api',
      region: options.region ?? regionOf(url),
      credentials: options.credentials ?? defaultProvider(),
      sha256: NodeSha256,
    });
    const signed = await signer
      .sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...headers, host: url.host },
        ...(body !== undefined ? { body } : {}),
      })
      .catch((error: unknown) => {
        // @smithy's providers name their failure CredentialsProviderError when the chain is empty.
        if (error instanceof Error && error.name === 'CredentialsProviderError') {
          throw new MissingCredentials(
            'no AWS credentials to sign the request with: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
          );
        }
        throw error;
      });
    return signed.headers as Record<string, string>;
  };
}
