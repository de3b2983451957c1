import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The header the CLI and the console send the local server's token in. */
export const API_TOKEN_HEADER = 'x-switchyard-token';

/** The file in the data directory that holds the running server's token (owner-only). */
export const API_TOKEN_FILE = 'api-token';

/**
 * The data directory's token, where the CLI (same user, same data directory) reads it: created once, owner-only
 * (the file's mode is fixed on every start, `restrictToOwner`), and kept across restarts. Only the directory's owner
 * calls this, so a second process can never replace the running server's token.
 */
export function ensureApiToken(dataDir: string): string {
  const existing = readApiToken(dataDir);
  if (existing && /^[0-9a-f]{64}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('hex');
  writeFileSync(join(dataDir, API_TOKEN_FILE), `${token}\n`, { mode: 0o600 });
  chmodSync(join(dataDir, API_TOKEN_FILE), 0o600);
  return token;
}

/** The token of the server that runs on this data directory, or undefined when none has started there. */
export function readApiToken(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, API_TOKEN_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Constant-time comparison, so the answer time says nothing about how much of a guess was right. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface GuardedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface Refusal {
  readonly status: 403 | 415;
  readonly message: string;
}

/**
 * Routes that read or change releases, and every local route (info, graph, events, pushes): only the CLI, holding
 * the token, and a console with a session may call them.
 */
function needsCredentials(path: string): boolean {
  return /^\/(releases|environments|local)(\/|$)/.test(path);
}

function header(request: GuardedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Refuses what is not the local console or the CLI: a Host other than this server's own (DNS rebinding), a
 * cross-origin page (an Origin other than ours; the CLI sends none), a body that is not JSON (HTML forms and
 * `fetch` without a preflight can only send form or text types), and a request with neither the per-start token
 * (the CLI) nor a console session (`hasSession`, local/console-session.ts).
 */
export function refuseForeignRequest(
  request: GuardedRequest,
  port: number,
  token: string,
  hasSession = false,
): Refusal | undefined {
  const own = [`127.0.0.1:${port}`, `localhost:${port}`];
  const host = header(request, 'host');
  if (!host || !own.includes(host.toLowerCase())) {
    return { status: 403, message: `requests must be addressed to ${own[0]}` };
  }
  const origin = header(request, 'origin');
  if (origin !== undefined && !own.map((o) => `http://${o}`).includes(origin.toLowerCase())) {
    return { status: 403, message: `cross-origin requests are refused (Origin ${origin.slice(0, 100)})` };
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    const type = header(request, 'content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      return { status: 415, message: 'request bodies must be sent as application/json' };
    }
  }
  if (needsCredentials(request.path) && !hasSession && !tokenMatches(token, header(request, API_TOKEN_HEADER))) {
    return {
      status: 403,
      message: `missing or wrong ${API_TOKEN_HEADER} (the CLI reads it from the data directory's ${API_TOKEN_FILE}) or console session (open the login link \`switchyard local serve\` printed)`,
    };
  }
  return undefined;
}
