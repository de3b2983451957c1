/** Where `switchyard local serve` listens by default, and where `--local` finds it: loopback only. */
export const DEFAULT_LOCAL_PORT = 4780;
export const DEFAULT_LOCAL_URL = `http://127.0.0.1:${DEFAULT_LOCAL_PORT}`;
