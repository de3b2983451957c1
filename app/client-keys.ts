import { readFile, stat } from 'node:fs/promises';
import * as z from 'zod';
import { KeySourceNotConfigured, KeyStoreUnavailable } from './errors.ts';

/** What an API key resolves to. `secrets[0]` is current; `secrets[1]`, when present, is the previous one. */
export interface ClientKey {
  readonly clientId: string;
  readonly secrets: readonly string[];
}

export interface ClientKeyStore {
  lookup(apiKey: string): Promise<ClientKey | undefined>;
}

export const API_KEY_PATTERN = /^[A-Za-z0-9._~-]{8,128}$/;

/**
 * The secret's JSON: `{ "clients": { "<apiKey>": { "clientId": "smoke-tests", "secrets": ["<current>", "<previous>"] } } }`.
 * Strict, so a typo in a field name fails loudly instead of silently disabling a client.
 */
export const ClientKeysDocumentSchema = z.strictObject({
  clients: z.record(
    z.string().regex(API_KEY_PATTERN),
    z.strictObject({
      clientId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
      secrets: z.array(z.string().min(32)).min(1).max(2),
    }),
  ),
});

export type ClientKeysDocument = z.infer<typeof ClientKeysDocumentSchema>;

/**
 * Parses the secret text. Error messages name the offending paths only: neither JSON.parse's message (which quotes
 * the text) nor the values ever reach a log.
 */
export function parseClientKeys(text: string): ReadonlyMap<string, ClientKey> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new KeyStoreUnavailable('client keys are not valid JSON');
  }
  const parsed = ClientKeysDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    // An API key is a credential too: a path names the client by its position (`clients.#2`), never by its key.
    const clients = raw && typeof raw === 'object' ? Reflect.get(raw, 'clients') : undefined;
    const keys = clients && typeof clients === 'object' ? Object.keys(clients) : [];
    const paths = parsed.error.issues.map(
      (issue) =>
        issue.path
          .map((part, i) =>
            i === 1 && issue.path[0] === 'clients' ? `#${keys.indexOf(String(part)) + 1}` : String(part),
          )
          .join('.') || '(root)',
    );
    throw new KeyStoreUnavailable(`client keys do not match the documented shape at: ${paths.join(', ')}`);
  }
  return new Map(Object.entries(parsed.data.clients));
}

/** Re-parses only when the text changes, so a cached secret costs one string comparison per request. */
class ParsedKeys {
  #lastText: string | undefined;
  #keys: ReadonlyMap<string, ClientKey> = new Map();

  from(text: string): ReadonlyMap<string, ClientKey> {
    if (text !== this.#lastText) {
      this.#keys = parseClientKeys(text);
      this.#lastText = text;
    }
    return this.#keys;
  }
}

/** The slice of Powertools' SecretsProvider this store needs, so tests and callers can inject their own. */
export interface SecretSource {
  get(name: string, options: { maxAge: number }): Promise<string | Uint8Array | undefined>;
}

export interface SecretsManagerKeyStoreOptions {
  readonly secretName: string;
  /** Seconds a fetched secret is reused before Secrets Manager is asked again. */
  readonly maxAgeSeconds: number;
  readonly source: SecretSource;
}

export function secretsManagerKeyStore(options: SecretsManagerKeyStoreOptions): ClientKeyStore {
  const parsed = new ParsedKeys();
  return {
    async lookup(apiKey) {
      let value: string | Uint8Array | undefined;
      try {
        value = await options.source.get(options.secretName, { maxAge: options.maxAgeSeconds });
      } catch (error) {
        throw new KeyStoreUnavailable('client keys could not be read from Secrets Manager', {
          cause: error instanceof Error ? error.name : 'unknown',
        });
      }
      if (value === undefined) throw new KeyStoreUnavailable('the client keys secret has no value');
      const text = typeof value === 'string' ? value : new TextDecoder().decode(value);
      return parsed.from(text).get(apiKey);
    },
  };
}

/** Local runs: the same JSON in a file, re-read whenever the file changes (so a rotation rehearsal is immediate). */
export function fileKeyStore(path: string): ClientKeyStore {
  const parsed = new ParsedKeys();
  let cached: { mtimeMs: number; text: string } | undefined;
  return {
    async lookup(apiKey) {
      try {
        const { mtimeMs } = await stat(path);
        if (!cached || cached.mtimeMs !== mtimeMs) cached = { mtimeMs, text: await readFile(path, 'utf8') };
      } catch (error) {
        throw new KeyStoreUnavailable('the client keys file could not be read', {
          cause: error instanceof Error && 'code' in error ? String(error.code) : 'unknown',
        });
      }
      return parsed.from(cached.text).get(apiKey);
    },
  };
}

/** Used when neither source is configured: public routes keep working, signed ones answer 500 with the reason. */
export function unconfiguredKeyStore(): ClientKeyStore {
  return {
    async lookup() {
      throw new KeySourceNotConfigured(
        'no client key source is configured: set CLIENT_KEYS_SECRET_NAME (or _ARN) or SWITCHYARD_CLIENT_KEYS_FILE',
      );
    },
  };
}
