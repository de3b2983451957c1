import { createHash, randomBytes } from 'node:crypto';
import { tokenMatches } from './api-token.ts';

/** The cookie that carries a console session (HttpOnly: no script, not even the console's own, can read it). */
export const SESSION_COOKIE = 'switchyard-session';

/** The path a login link points at: `GET /login?code=<one-time code>`. */
export const LOGIN_PATH = '/login';

const digest = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * Console sessions of one `local serve` start. The browser proves it belongs to the user running the server the
 * same way the CLI does, by something only that user can read: a one-time code in a login link printed to the
 * server's terminal. The code is exchanged once for a session cookie (HttpOnly, SameSite=Strict), and a fresh link
 * is printed for the next browser. The page itself carries no secret, so reading it (any local user can reach the
 * port) gives nothing.
 */
export class ConsoleSessions {
  #code = randomBytes(32).toString('hex');
  /** SHA-256 of each session id: a lookup by digest times nothing about the id presented. */
  readonly #sessions = new Set<string>();

  /** The link that opens a session, valid for one use. */
  loginUrl(baseUrl: string): string {
    return `${baseUrl}${LOGIN_PATH}?code=${this.#code}`;
  }

  /**
   * Trades the current one-time code for a new session id, or undefined when the code is wrong or already used.
   * Either way a used code never works again.
   */
  exchange(code: string | null): string | undefined {
    if (!tokenMatches(this.#code, code ?? undefined)) return undefined;
    this.#code = randomBytes(32).toString('hex');
    const session = randomBytes(32).toString('hex');
    this.#sessions.add(digest(session));
    return session;
  }

  /** The `Set-Cookie` value for a session: this origin only, never sent on a request another site starts. */
  cookie(session: string): string {
    return `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /** Whether the request's Cookie header holds a session this server opened. */
  holds(cookieHeader: string | undefined): boolean {
    for (const part of cookieHeader?.split(';') ?? []) {
      const [name, value] = part.trim().split('=', 2);
      if (name === SESSION_COOKIE && value && this.#sessions.has(digest(value))) return true;
    }
    return false;
  }
}
