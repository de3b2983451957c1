import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `switchyard local serve` listens by default, and where `--local` finds it: loopback only. */
export const DEFAULT_LOCAL_PORT = 4780;
export const DEFAULT_LOCAL_URL = `http://127.0.0.1:${DEFAULT_LOCAL_PORT}`;

/** Virtual seconds per real second on the local runtime: a 10-minute bake takes 10 s. */
export const DEFAULT_SPEEDUP = 60;

/**
 * `npm start`'s time scale: a prod release (about 25 virtual minutes with its canary, bake and the checks that wait
 * out the metric delay) in about 13 s of real time, half of what ×60 took. The load rises with it (rehearsalRate),
 * so the gateway's CPU per request sets how far the speedup can go.
 */
export const REHEARSAL_SPEEDUP = 120;

/** The rehearsal's load, in requests per virtual minute: what 200 req/s gave at ×60. */
const REHEARSAL_CALLS_PER_VIRTUAL_MINUTE = 200;

/**
 * The rehearsal's load generator rate at `speedup`: at least 200 req/s, and at least 200 requests a virtual minute,
 * so a faster rehearsal's checks see as many calls as a ×60 one (at most 2000 req/s, what `--rate` accepts).
 */
export function rehearsalRate(speedup: number): number {
  return Math.min(2000, Math.max(200, Math.round((REHEARSAL_CALLS_PER_VIRTUAL_MINUTE * speedup) / 60)));
}

/** Release history (SQLite), images and keys: `.data/` in the repository unless $SWITCHYARD_DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)), '.data');

/** The data directory a command uses: its option, else $SWITCHYARD_DATA_DIR, else `.data/`. */
export function dataDirFrom(option: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return option ?? env.SWITCHYARD_DATA_DIR ?? DEFAULT_DATA_DIR;
}
