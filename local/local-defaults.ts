import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `switchyard local serve` listens by default, and where `--local` finds it: loopback only. */
export const DEFAULT_LOCAL_PORT = 4780;
export const DEFAULT_LOCAL_URL = `http://127.0.0.1:${DEFAULT_LOCAL_PORT}`;

/** Virtual seconds per real second on the local runtime: a 10-minute bake takes 10 s. */
export const DEFAULT_SPEEDUP = 60;

/** Release history (SQLite), images and keys: `.data/` in the repository unless $SWITCHYARD_DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)), '.data');

/** The data directory a command uses: its option, else $SWITCHYARD_DATA_DIR, else `.data/`. */
export function dataDirFrom(option: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return option ?? env.SWITCHYARD_DATA_DIR ?? DEFAULT_DATA_DIR;
}
