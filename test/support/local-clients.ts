import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The API key and secret of one client of a local data directory's `client-keys.json`, by client id. */
export function localClient(dataDir: string, clientId = 'smoke-tests'): { apiKey: string; secret: string } {
  const keys = JSON.parse(readFileSync(join(dataDir, 'client-keys.json'), 'utf8')) as {
    clients: Record<string, { clientId: string; secrets: string[] }>;
  };
  const [apiKey, client] = Object.entries(keys.clients).find(([, c]) => c.clientId === clientId) ?? [];
  if (!apiKey || !client?.secrets[0]) throw new Error(`no client ${clientId} in ${dataDir}/client-keys.json`);
  return { apiKey, secret: client.secrets[0] };
}
