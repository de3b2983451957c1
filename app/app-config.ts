import * as z from 'zod';

const optionalText = (schema: z.ZodString) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const intWithDefault = (min: number, max: number, fallback: number) =>
  z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number().int().min(min).max(max).default(fallback),
  );

/** Every environment variable the API reads, parsed once at cold start. */
export const AppEnvSchema = z.object({
  /** Set by Lambda; "$LATEST" in local runs. /health reports it so Verify green can match the published version. */
  AWS_LAMBDA_FUNCTION_VERSION: optionalText(z.string().max(64)),
  AWS_LAMBDA_FUNCTION_NAME: optionalText(z.string().max(140)),
  /** The image digest (sha256:…), when the deployment sets it. */
  SWITCHYARD_IMAGE_DIGEST: optionalText(z.string().max(200)),
  /** The source commit, baked into the image at build time (Dockerfile ARG). */
  SWITCHYARD_COMMIT: optionalText(z.string().max(64)),
  /** Secrets Manager secret (name or ARN) holding the client keys JSON. */
  CLIENT_KEYS_SECRET_NAME: optionalText(z.string().max(2048)),
  /** The same, as Terraform sets it (an ARN); used when CLIENT_KEYS_SECRET_NAME is not set. */
  CLIENT_KEYS_SECRET_ARN: optionalText(z.string().max(2048)),
  /** Local runs: a file holding the same JSON. Takes precedence over the secret. */
  SWITCHYARD_CLIENT_KEYS_FILE: optionalText(z.string().max(4096)),
  CLIENT_KEYS_MAX_AGE_SECONDS: intWithDefault(0, 3600, 300),
  /** The DynamoDB table every instance checks nonces against (Terraform sets it: nonces.tf). */
  SWITCHYARD_NONCE_TABLE: optionalText(z.string().max(1024)),
  /** Local runs: the directory every version checks nonces against. The table wins when both are set. */
  SWITCHYARD_NONCE_DIR: optionalText(z.string().max(4096)),
  MAX_BODY_BYTES: intWithDefault(1, 6 * 1024 * 1024, 64 * 1024),
});

export type KeySource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'secret'; readonly secretName: string; readonly maxAgeSeconds: number }
  | { readonly kind: 'none' };

/** Where nonces are remembered: shared by every instance (a table, a directory), or per instance in memory. */
export type NonceSource =
  | { readonly kind: 'table'; readonly tableName: string }
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'memory' };

export interface AppConfig {
  readonly functionVersion: string;
  readonly functionName: string | undefined;
  readonly imageDigest: string | undefined;
  readonly commit: string | undefined;
  readonly keySource: KeySource;
  readonly nonceSource: NonceSource;
  readonly maxBodyBytes: number;
}

export class AppConfigInvalid extends Error {
  override readonly name = 'AppConfigInvalid';
}

export function loadAppConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  const parsed = AppEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new AppConfigInvalid(`invalid environment: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const secretName = e.CLIENT_KEYS_SECRET_NAME ?? e.CLIENT_KEYS_SECRET_ARN;
  const keySource: KeySource = e.SWITCHYARD_CLIENT_KEYS_FILE
    ? { kind: 'file', path: e.SWITCHYARD_CLIENT_KEYS_FILE }
    : secretName
      ? { kind: 'secret', secretName, maxAgeSeconds: e.CLIENT_KEYS_MAX_AGE_SECONDS }
      : { kind: 'none' };
  return {
    functionVersion: e.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    functionName: e.AWS_LAMBDA_FUNCTION_NAME,
    imageDigest: e.SWITCHYARD_IMAGE_DIGEST,
    commit: e.SWITCHYARD_COMMIT,
    keySource,
    nonceSource: e.SWITCHYARD_NONCE_TABLE
      ? { kind: 'table', tableName: e.SWITCHYARD_NONCE_TABLE }
      : e.SWITCHYARD_NONCE_DIR
        ? { kind: 'directory', path: e.SWITCHYARD_NONCE_DIR }
        : { kind: 'memory' },
    maxBodyBytes: e.MAX_BODY_BYTES,
  };
}
