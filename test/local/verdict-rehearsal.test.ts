import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HealthCheck } from '../../core/model/traffic.ts';
import { rehearse } from '../../local/rehearsal.ts';
import { SqliteReleaseStore } from '../../local/sqlite-release-store.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { environmentsWith } from '../support/environments.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-verdicts-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// Prod's rules and its judge (both, 99.9%), with a traffic floor a loaded CI machine always reaches.
const environments = environmentsWith('prod', { health: { minInvocations: 5 } });

async function checksOf(releaseId: string): Promise<HealthCheck[]> {
  const store = new SqliteReleaseStore(join(dataDir, 'releases.sqlite'));
  try {
    const record = await store.getRelease(releaseId);
    return (record?.events ?? [])
      .filter((e) => e.kind === 'health-check')
      .map((e) => (e.evidence as { check: HealthCheck }).check);
  } finally {
    store.close();
  }
}

/** A budget, not a speed check: a whole prod rehearsal at ×30 takes about 40 s idle and 50 s on a loaded machine. */
const REHEARSAL_BUDGET_MS = 180_000;

describe('rehearsed verdicts with blue as the control', () => {
  it(
    'rolls a 2% regression back at the canary, with blue numbers beside green in the evidence',
    async () => {
      // ×15 gives the 5-minute canary 20 real seconds: at 150 req/s green serves about 300 requests there, so the
      // chance that a 2% fault shows no error at all before the 100% step is about 0.2%, even on a slow machine.
      const report = await rehearse(
        {
          environment: 'prod',
          environments,
          speedup: 15,
          ratePerSecond: 150,
          dataDir,
          fault: { failRate: 0.02, failAfterRequests: 6 },
        },
        openLocalRuntime,
      );
      expect(report.outcome).toBe('rolled-back');
      expect(report.live).toEqual({ version: '1' });
      const check = report.lastCheck;
      expect(check?.verdict).toBe('unhealthy');
      expect(check?.judge).toBe('both');
      expect(check?.blue?.version).toBe('1');
      expect(check?.blue?.sample.invocations).toBeGreaterThan(0);
      expect(check?.comparison?.confidence).toBe(0.999);
      expect(check?.reasons.some((r) => r.includes('vs blue'))).toBe(true);
    },
    REHEARSAL_BUDGET_MS,
  );

  it(
    'does not blame the release for a downstream outage that fails both versions alike',
    async () => {
      // ×30: the 3-minute outage lasts 6 real seconds from the first shift and the canary bakes 10; a timer firing a
      // second late on a loaded machine still ends the outage minutes before the 100% step, where blue serves nothing,
      // and each virtual minute gets twice the requests it would at ×60, so both versions stay above the minimum calls.
      const report = await rehearse(
        {
          environment: 'prod',
          environments,
          speedup: 30,
          ratePerSecond: 150,
          dataDir,
          downstreamOutage: { failRate: 0.3, minutes: 3 },
        },
        openLocalRuntime,
      );
      expect(report.outcome).toBe('released');
      expect(report.live).toEqual({ version: '2' });
      // Both versions served errors, and the checks that saw them named the environment.
      expect(report.traffic.find((t) => t.version === '1')?.errors).toBeGreaterThan(0);
      expect(report.traffic.find((t) => t.version === '2')?.errors).toBeGreaterThan(0);
      const checks = await checksOf(report.releaseId);
      const environmentChecks = checks.filter((c) => c.verdict === 'environment-unhealthy');
      expect(environmentChecks.length).toBeGreaterThan(0);
      expect(environmentChecks[0]?.reasons.join('; ')).toContain('the environment is unhealthy, not the release');
      expect(checks.some((c) => c.verdict === 'unhealthy')).toBe(false);
    },
    REHEARSAL_BUDGET_MS,
  );
});
