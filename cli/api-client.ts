import { API_TOKEN_FILE, API_TOKEN_HEADER, readApiToken } from '../local/api-token.ts';
import type { RequestSigner } from './sigv4.ts';

export interface ApiResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** The release API (or the local server) could not be reached. */
export class ApiUnreachable extends Error {
  override readonly name = 'ApiUnreachable';
}

export interface ApiClientOptions {
  readonly baseUrl: string;
  /** SigV4 for the cloud API; none for the local server. */
  readonly signer?: RequestSigner;
  /** Extra headers on every request (the local server's token). */
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
}

/** JSON over HTTP to the release API, signed when a signer is given. */
export class ApiClient {
  readonly baseUrl: string;
  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const url = new URL(`${this.baseUrl}${path}`);
    const text = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
      ...this.options.headers,
    };
    if (this.options.signer)
      headers = await this.options.signer({ method, url, headers, ...(text !== undefined ? { body: text } : {}) });
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(text !== undefined ? { body: text } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause =
        error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new ApiUnreachable(`cannot reach ${this.baseUrl}: ${cause}`);
    }
    const raw = await response.text();
    let parsed: unknown = {};
    try {
      parsed = raw ? JSON.parse(raw) : {};
    } catch {
      parsed = { message: raw.slice(0, 500) };
    }
    return {
      status: response.status,
      body:
        parsed && typeof parsed === 'object' && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : { value: parsed },
    };
  }
}

/** The local server refuses requests without its per-start token, which it writes to the data directory. */
export function localTokenHeaders(dataDir: string): Record<string, string> {
  const token = readApiToken(dataDir);
  if (!token) {
    throw new ApiUnreachable(
      `no ${API_TOKEN_FILE} in ${dataDir}: start \`switchyard local serve\` with that data directory`,
    );
  }
  return { [API_TOKEN_HEADER]: token };
}
