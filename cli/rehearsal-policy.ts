import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { environments as configured, parseEnvironments } from '../config/environments.ts';
import type { ReleasePolicy } from '../config/release-windows.ts';
import type { Environments } from '../config/schema.ts';
import { dataDirFrom } from '../local/local-defaults.ts';
import { SqliteReleaseStore } from '../local/sqlite-release-store.ts';

/** Virtual minutes after the rehearsal starts at which `--wait-for-window`'s window opens (the set-up takes some). */
export const WINDOW_OPENS_AFTER_MINUTES = 15;

/**
 * Where the rehearsal's virtual clock starts: now, or later where an earlier run in the data directory left it
 * (the local runtime never runs virtual time backwards; wiring/local.ts).
 */
export function virtualStart(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): Date {
  const file = join(dataDirFrom(dataDir, env), 'releases.sqlite');
  const resumeAt = existsSync(file)
    ? Number(new SqliteReleaseStore(file, { readOnly: true }).getMeta('virtualNow') ?? 0)
    : 0;
  return new Date(Math.max(Date.now(), resumeAt));
}

/**
 * The policy a rehearsal option gives its environment: `wait-for-window`, a two-hour window opening
 * WINDOW_OPENS_AFTER_MINUTES virtual minutes after the start, which releases wait for; `frozen`, a freeze from the
 * start for a day, which refuses the release.
 */
export function rehearsalPolicy(kind: 'wait-for-window' | 'frozen', start: Date): ReleasePolicy {
  if (kind === 'frozen') {
    return {
      timeZone: 'UTC',
      freezes: [
        {
          name: 'rehearsal-freeze',
          from: new Date(start.getTime() - 60_000).toISOString(),
          until: new Date(start.getTime() + 86_400_000).toISOString(),
          reason: 'rehearsal: a change freeze is in force',
        },
      ],
    };
  }
  const opens = new Date(Math.ceil((start.getTime() + WINDOW_OPENS_AFTER_MINUTES * 60_000) / 60_000) * 60_000);
  return {
    timeZone: 'UTC',
    windows: [
      {
        name: 'rehearsal-window',
        opens: `${opens.getUTCMinutes()} ${opens.getUTCHours()} ${opens.getUTCDate()} ${opens.getUTCMonth() + 1} *`,
        durationMinutes: 120,
      },
    ],
    outsideWindow: { push: 'wait', api: 'wait' },
  };
}

/** The configured environments with `environment` under `policy`, validated as the config is. */
export function environmentsWithPolicy(environment: string, policy: ReleasePolicy): Environments {
  const raw = structuredClone(configured) as Record<string, Record<string, unknown>>;
  raw[environment] = { ...raw[environment], policy };
  return parseEnvironments(raw);
}
