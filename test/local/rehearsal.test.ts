import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrafficState } from '../../core/traffic.ts';
import { synthesizeServiceDefinition } from '../../infra/service-definition.ts';
import { fleetRehearsalEnvironments, rehearse } from '../../local/rehearsal.ts';
import { SqliteReleaseStore } from '../../local/sqlite-release-store.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { environmentsWith } from '../support/environments.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-rehearsal-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// Prod's rules, with a traffic floor a loaded CI machine always reaches; everything else is the real config.
const environments = environmentsWith('prod', { health: { minInvocations: 5 } });
const base = { environment: 'prod', environments, speedup: 240, ratePerSecond: 150, dataDir } as const;

const entered = (report: Awaited<ReturnType<typeof rehearse>>) =>
  report.result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);

/** The release's recorded history, from the data directory the rehearsal left. */
async function historyOf(releaseId: string, dir = dataDir) {
  const store = new SqliteReleaseStore(join(dir, 'releases.sqlite'));
  try {
    return (await store.getRelease(releaseId))?.events ?? [];
  } finally {
    store.close();
  }
}

describe('the local rehearsal (npm start)', () => {
  it('runs every state of the synthesized definition and ends Released with live on the new version', async () => {
    const lines: string[] = [];
    const report = await rehearse({ ...base, print: (line) => lines.push(line) }, openLocalRuntime);
    expect(report.outcome).toBe('released');
    expect(report.result.status).toBe('SUCCEEDED');
    for (const state of [
      STATES.validate,
      STATES.scan,
      STATES.deploy,
      STATES.verify,
      STATES.approval,
      STATES.shift,
      STATES.bake,
      STATES.check,
      STATES.finalize,
      STATES.released,
    ]) {
      expect(entered(report)).toContain(state);
    }
    // A 10% canary baked 5 minutes, then 100% baked 10, one check every 10 s: the bake is over at the 30th and the
    // 60th check of its step. After each bake come the checks that wait until both sources' data up to its end is
    // complete: Lambda's last minute takes up to 60 + 120 s, so at most 18 checks of 10 s (fewer when a loaded
    // machine lets virtual time run ahead between checks, never more).
    const traffic = report.result.events
      .filter((e) => e.type === 'StateExited' && e.state === STATES.check)
      .map((e) => (e.output as { traffic: TrafficState }).traffic);
    const baking = traffic.filter((t) => t.bakeEndedAt === undefined);
    expect(baking.filter((t) => t.percent === 10)).toHaveLength(29);
    expect(baking.filter((t) => t.percent === 100)).toHaveLength(59);
    for (const percent of [10, 100]) {
      const settling = traffic.filter((t) => t.percent === percent && t.bakeEndedAt !== undefined);
      expect(settling.length).toBeGreaterThanOrEqual(1);
      expect(settling.length).toBeLessThanOrEqual(19);
    }
    // Every verdict says which source and window it used.
    expect(traffic.every((t) => t.lastCheck?.source !== undefined)).toBe(true);
    expect(traffic.at(-1)?.lastCheck?.sources?.map((s) => s.source)).toEqual(['high-resolution', 'lambda']);
    expect(report.live).toEqual({ version: '2' });
    expect(report.traffic.find((t) => t.version === '2')?.invocations).toBeGreaterThan(0);
    expect(report.load.byStatus['200']).toBeGreaterThan(0);
    // Verify green went through the local gateway's green stage too, as it goes through API Gateway and the WAF.
    const verified = (await historyOf(report.releaseId)).find((e) => e.kind === 'verified');
    const checks = (verified?.evidence as { checks: { name: string; observed: string }[] } | undefined)?.checks;
    expect(checks?.find((c) => c.name === 'front-door:list-orders')?.observed).toMatch(
      /^200 via http:\/\/127\.0\.0\.1:\d+\/green\/orders$/,
    );
    expect(report.targets).toEqual([
      { name: 'switchyard-api-prod', wave: 0, phase: 'live', live: { version: '2' }, blueVersion: '1' },
    ]);
    // A single function's progress reads as it always has: no member names.
    for (const line of [
      /^• Deployed the first version: switchyard-api-prod:1 from sha256:[0-9a-f]{12}… \(live, blue, green\)$/,
      /^• Gateway on http:\/\/127\.0\.0\.1:\d+ → live; signed load at 150 req\/s$/,
      /^ {2}✓ Validate release \(\d+ ms\) {2}blue is version 1; plan: 10% for 5 min → 100% for 10 min$/,
      /^ {2}✓ Deploy green \(\d+ ms\) {2}green → version 2$/,
      /^ {2}✓ Verify green \(\d+ ms\) {2}version 2 verified$/,
      /^ {2}✓ Shift traffic \(\d+ ms\) {2}live sends 10% to green \(step 1\/2\)$/,
      /^ {2}✓ Finalize \(\d+ ms\) {2}released: live on version 2$/,
    ]) {
      expect(
        lines.some((l) => line.test(l)),
        String(line),
      ).toBe(true);
    }
    expect(lines).toContain('  ▶ Deploy green');
  });

  it('rolls a failing build back at the canary: it never serves more than its share, and live returns to blue', async () => {
    // The onset comes after Verify green's six smoke requests (three direct, three through the green stage), so the
    // fault is live from the canary's first call however little traffic a loaded machine gets through in a minute.
    const report = await rehearse({ ...base, fault: { failRate: 0.5, failAfterRequests: 6 } }, openLocalRuntime);
    expect(report.outcome).toBe('rolled-back');
    expect(report.result.error).toBe('ReleaseRolledBack');
    expect(report.live).toEqual({ version: '1' });
    expect(report.lastCheck?.verdict).toBe('unhealthy');
    expect(report.reason).toMatch(/error rate|errors reach the limit/);
    const green = report.traffic.find((t) => t.version === '2');
    expect(green?.errors).toBeGreaterThan(0);
    // Live routed 10% to the canary until the rollback; routing is random per request, so the share is near 10%.
    expect(report.firstStepShare).toBeGreaterThan(0);
    expect(report.firstStepShare).toBeLessThan(0.2);
    expect(report.traffic.find((t) => t.version === '2')?.invocations).toBeLessThan(
      (report.traffic.find((t) => t.version === '1')?.invocations ?? 0) / 3,
    );
    expect(entered(report).filter((s) => s === STATES.shift)).toHaveLength(1);
    expect(entered(report)).not.toContain(STATES.finalize);
    expect(report.errorToRestoreSeconds).not.toBeNull();
  });

  it('fails a build whose health check fails, before any traffic moves', async () => {
    const report = await rehearse({ ...base, fault: { failHealth: true } }, openLocalRuntime);
    expect(report.outcome).toBe('failed');
    expect(report.reason).toContain('health (expected 200 reporting version 2, got 503');
    expect(report.live).toEqual({ version: '1' });
    expect(report.traffic.map((t) => t.version)).toEqual(['1']);
    expect(entered(report)).not.toContain(STATES.shift);
  });

  it('runs the definition it is given: no second orchestration path decides what happens', async () => {
    const definition = synthesizeServiceDefinition();
    const shift = definition.States[STATES.shift];
    if (!shift) throw new Error('no Shift traffic state');
    // Send Shift traffic straight to Finalize: no Bake, no Check health.
    definition.States[STATES.shift] = { ...shift, Next: STATES.finalize };
    const report = await rehearse({ ...base, definition, strategy: { kind: 'all-at-once' } }, openLocalRuntime);
    expect(report.outcome).toBe('released');
    expect(entered(report)).not.toContain(STATES.check);
    expect(entered(report)).not.toContain(STATES.bake);
  });

  it("catches a fault that starts in the bake's last minute, naming the late window", async () => {
    // --fail-at-minute 9.5: the build fails half its requests from 9.5 virtual minutes after Verify green. The onset
    // runs on the build's own (real) clock, so this run uses ×60: a loaded machine's delays between states then
    // move the onset by seconds of virtual time rather than minutes.
    const speedup = 60;
    const report = await rehearse(
      {
        ...base,
        speedup,
        strategy: { kind: 'all-at-once' },
        fault: { failRate: 0.5, failAfterRequests: 0, failAfterMs: Math.round((9.5 * 60_000) / speedup) },
      },
      openLocalRuntime,
    );
    expect(report.outcome).toBe('rolled-back');
    // The high-resolution source sees a 10-second period 15 s after it ends: the fault is caught in the bake's last
    // window or, when the onset comes late on a loaded machine, in the final window judged after it.
    expect(report.reason).toMatch(
      /(high-resolution 10 s|1-minute Lambda) metrics, (final )?window \d\d:\d\d:\d\d–\d\d:\d\d:\d\d: error rate [\d.]+% exceeds 1%/,
    );
    expect(report.live).toEqual({ version: '1' });
    expect(entered(report)).not.toContain(STATES.finalize);
  });

  it('rehearses the first release: no blue, the bootstrap digest released and verified', async () => {
    const report = await rehearse({ ...base, firstRelease: true }, openLocalRuntime);
    expect(report.outcome).toBe('released');
    expect(report.blueVersion).toBeNull();
    expect(report.live).toEqual({ version: '1' });
    expect(entered(report)).toContain(STATES.verify);
    expect(report.result.output).toMatchObject({ greens: [{ target: 'switchyard-api-prod', version: '1' }] });
    expect((await historyOf(report.releaseId)).map((e) => e.kind)).toContain('verified');
  });

  it('keeps the release history in the data directory across restarts', async () => {
    const store = new SqliteReleaseStore(join(dataDir, 'releases.sqlite'));
    try {
      const page = await store.listReleases({ environment: 'prod', limit: 100 });
      // Each rehearsal but the first-release one starts from a recorded first release of its base version.
      const rehearsed = page.releases.filter((r) => r.trigger !== 'rehearsal:first-release');
      expect(rehearsed.map((r) => r.status).sort()).toEqual([
        'failed',
        'released',
        'released',
        'released',
        'rolled-back',
        'rolled-back',
      ]);
      expect(await store.getLock('switchyard-api-prod#prod')).toBeUndefined();
    } finally {
      store.close();
    }
  });
});

describe('the rehearsal as a fleet (npm start -- --fleet N)', () => {
  const fleetDir = join(dataDir, 'fleet');

  it('builds a valid prod fleet of N members, keeping only the waves that move someone new', () => {
    expect(fleetRehearsalEnvironments('prod', 12).prod?.fleet?.waves).toHaveLength(3);
    expect(fleetRehearsalEnvironments('prod', 3).prod?.fleet?.waves).toEqual([{ members: 1 }, { percent: 100 }]);
    expect(fleetRehearsalEnvironments('prod', 1).prod?.fleet?.waves).toEqual([{ members: 1 }]);
    expect(() => fleetRehearsalEnvironments('prod', 0)).toThrow(/--fleet must be a whole number from 1 to 24/);
  });

  it('halts the fleet on the faulty member of wave 2 and ends ROLLED BACK with every member back on blue', async () => {
    // ×120 and 30 requests a second per member: the faulty member serves tens of requests once it takes its whole
    // traffic, and the default fault fails half of them after its fifth, so it trips even on a slow machine.
    const lines: string[] = [];
    const report = await rehearse(
      {
        environment: 'prod',
        speedup: 120,
        ratePerSecond: 60,
        dataDir: fleetDir,
        fleet: { members: 3 },
        print: (line) => lines.push(line),
      },
      openLocalRuntime,
    );
    expect(report.outcome).toBe('rolled-back');
    expect(report.faultyTarget).toBe('m02');
    expect(report.trippedBy).toBe('m02');
    expect(report.live).toBeUndefined();
    expect(report.blueVersion).toBe('1');
    expect(report.targets.map((m) => [m.name, m.wave, m.live, m.blueVersion])).toEqual([
      ['m01', 0, { version: '1' }, '1'],
      ['m02', 1, { version: '1' }, '1'],
      ['m03', 1, { version: '1' }, '1'],
    ]);
    // Every member's live traffic counts: the faulty member's green served errors before the rollback.
    expect(report.traffic.find((t) => t.version === '2')?.errors).toBeGreaterThan(0);
    expect(report.load.sent).toBeGreaterThan(0);
    const entered = report.result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    expect(entered.filter((s) => s === STATES.deploy)).toHaveLength(3);
    expect(entered).toContain(STATES.rollBack);
    // The same progress lines as one function's, each Map iteration's naming its member.
    for (const name of ['m01', 'm02', 'm03']) {
      expect(lines).toContain(`  ▶ Deploy green (${name})`);
      expect(
        lines.some((l) => new RegExp(`^  ✓ Deploy green \\(\\d+ ms\\)  ${name}: green → version 2$`).test(l)),
      ).toBe(true);
      expect(
        lines.some((l) => new RegExp(`^  ✓ Verify green \\(\\d+ ms\\)  ${name}: version 2 verified$`).test(l)),
      ).toBe(true);
    }
    for (const line of [
      /^• Deployed the first version: 3 members on version 1 from sha256:[0-9a-f]{12}… \(live, blue, green\)$/,
      /^• A gateway and signed load at 30 req\/s for each member \(90 req\/s in all\)$/,
      /^• Pushed switchyard-api@sha256:[0-9a-f]{12}… \(.+\); only member m02 misbehaves: \{"failRate":0\.5,"failAfterRequests":5\}$/,
      /^ {2}✓ Validate release \(\d+ ms\) {2}fleet of 3: wave 1 m01; wave 2 m02, m03; plan per wave: 10% for 5 min → 100% for 10 min$/,
      /^ {2}✓ Shift traffic \(\d+ ms\) {2}wave 1\/2: m01 at 10% \(step 1\/4\)$/,
      /^ {2}✓ Shift traffic \(\d+ ms\) {2}wave 2\/2: m02, m03 at 10%, wave 1 at 100% \(step 3\/4\)$/,
      /^ {2}✓ Roll back \(\d+ ms\) {2}back on blue: m01 → 1, m02 → 1, m03 → 1; tripped by m02: /,
    ]) {
      expect(
        lines.some((l) => line.test(l)),
        String(line),
      ).toBe(true);
    }
    const store = new SqliteReleaseStore(join(fleetDir, 'releases.sqlite'));
    try {
      expect(await store.getLock('switchyard-api-prod#prod')).toBeUndefined();
    } finally {
      store.close();
    }
  }, 240_000);
});
