import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoraMetrics } from '../../core/insight/dora.ts';
import { releaseChanges } from '../../core/insight/release-changes.ts';
import { singleTarget } from '../../core/model/target-set.ts';
import type { HealthCheck } from '../../core/model/traffic.ts';
import type { ReleaseEvent, ReleaseRecord } from '../../core/ports/ports.ts';
import { recordChangeSet } from '../../local/change-set-recorder.ts';
import type { LocalRuntime, LocalRuntimeOptions } from '../../local/runtime.ts';
import { SwitchyardServer } from '../../local/switchyard-server.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { AppRepository } from '../support/app-repository.ts';
import { HEADLESS_ARGS, requireBrowser } from '../support/browser.ts';

const ARTIFACTS = join(import.meta.dirname, '../../test-results/console');
/** Screenshots for docs/insight.md, rewritten there only on request (UPDATE_DOC_SCREENSHOTS=1). */
const DOCS = process.env.UPDATE_DOC_SCREENSHOTS ? join(import.meta.dirname, '../../docs') : ARTIFACTS;
const WIDTHS = [1440, 900] as const;

let server: SwitchyardServer;
let runtime: LocalRuntime;
let browser: Browser;
let page: Page;
let dataDir: string;
let repo: AppRepository;
const RELEASE_ID = 'rel-prod-20260101000000-c4a9e1';
const DIGEST = (c: string) => `sha256:${c.repeat(64)}`;

/** A release record of prod, ended at `end` (ms), as the workflow leaves it. */
function record(id: string, end: number, outcome: 'released' | 'rolled-back', trigger = 'ecr-push:e'): ReleaseRecord {
  const at = (ms: number) => new Date(ms).toISOString();
  const events: ReleaseEvent[] = [
    { at: at(end - 3_600_000), kind: 'validated', summary: 'validated' },
    {
      at: at(end - 3_000_000),
      kind: 'traffic-shifted',
      summary: 'shift',
      evidence: { stepIndex: 0, stepCount: 1, percent: 100, bakeSeconds: 600 },
    },
    ...(outcome === 'released'
      ? [{ at: at(end), kind: 'released', summary: 'live' } as const]
      : [
          // The check that sent it back: time to restore runs from here to the end.
          {
            at: at(end - 1_500_000),
            kind: 'health-check',
            summary: 'unhealthy',
            evidence: { check: {} as HealthCheck, next: 'roll-back' },
          } as const,
          { at: at(end), kind: 'rolled-back', summary: 'rolled back' } as const,
        ]),
  ];
  return {
    releaseId: id,
    executionArn: `local:${id}`,
    environment: 'prod',
    imageUri: `repo@${DIGEST('e')}`,
    digest: DIGEST('e'),
    targets: singleTarget({ functionName: 'switchyard-api-prod', blueVersion: '1' }),
    status: outcome,
    startedAt: at(end - 3_600_000),
    endedAt: at(end),
    trigger,
    events,
  };
}

/**
 * The kept diff of one prod release, made from two real builds of a scratch repository (two commits, one dependency
 * upgraded, one added, one high vulnerability fixed), and a 30-day prod history of releases, rollbacks and an
 * environment rollback for the insights page.
 */
async function seed(rt: LocalRuntime): Promise<void> {
  const insight = rt.deps.insight;
  if (!insight) throw new Error('the local runtime keeps no insight');
  repo = new AppRepository({ zod: '4.1.0', semver: '7.5.4', '@smithy/types': '4.0.0' }, { vitest: '5.1.1' });
  const baseCommit = repo.head();
  repo.commit('Add the orders route', { 'orders.ts': 'export const orders = [];\n' });
  repo.upgrade('semver', '7.6.3', 'Upgrade semver to 7.6.3 (fixes CVE-2024-21538)');
  const now = new Date(rt.clock.now());
  const vulnerability = {
    VulnerabilityID: 'CVE-2024-21538',
    PkgName: 'semver',
    InstalledVersion: '7.5.4',
    FixedVersion: '7.6.3',
    Severity: 'HIGH',
  };
  const blue = await recordChangeSet({
    sourceDir: repo.dir,
    digest: DIGEST('b'),
    commit: baseCommit,
    trivyReport: { Results: [{ Vulnerabilities: [vulnerability] }] },
    sbomKey: 'sboms/blue.cdx.json',
    now,
  });
  const green = await recordChangeSet({
    sourceDir: repo.dir,
    digest: DIGEST('a'),
    commit: repo.head(),
    previousCommit: baseCommit,
    trivyReport: { Results: [] },
    sbomKey: 'sboms/green.cdx.json',
    now,
  });
  const end = now.getTime() - 2 * 3_600_000;
  await rt.store.createRelease({ ...record(RELEASE_ID, end, 'released'), digest: DIGEST('a') });
  await insight.putReleaseChanges(
    RELEASE_ID,
    releaseChanges({
      blueDigest: DIGEST('b'),
      greenDigest: DIGEST('a'),
      blue: blue.changeSet,
      greenChain: [green.changeSet],
      computedAt: new Date(end - 3_600_000).toISOString(),
    }),
  );
  // 30 days, one release a day: every seventh rolled back, and the one on day 20 undone by an environment rollback.
  const day = 86_400_000;
  for (let i = 1; i <= 30; i++) {
    const ends = now.getTime() - i * day + 3_600_000;
    const id = `rel-prod-seed-${String(i).padStart(2, '0')}`;
    await rt.store.createRelease(record(id, ends, i % 7 === 0 ? 'rolled-back' : 'released'));
    await insight.putReleaseChanges(
      id,
      releaseChanges({
        blueDigest: null,
        greenDigest: DIGEST('c'),
        greenChain: [
          {
            ...green.changeSet,
            commits: green.changeSet.commits.map((c, k) => ({
              ...c,
              time: new Date(ends - (k + 1) * (i % 3 === 0 ? 30 : 5) * 3_600_000).toISOString(),
            })),
          },
        ],
        computedAt: new Date(ends).toISOString(),
      }),
    );
    if (i === 20) {
      await rt.store.createRelease({
        ...record('rel-prod-seed-rollback', ends + 7_200_000, 'rolled-back', 'manual-rollback:oncall'),
        startedAt: new Date(ends + 7_200_000).toISOString(),
        endedAt: new Date(ends + 7_200_000 + 300_000).toISOString(),
      });
    }
  }
}

beforeAll(async () => {
  const browserPath = requireBrowser().path;
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-insight-console-'));
  server = new SwitchyardServer(
    { port: 0, dataDir, speedup: 60, ratePerSecond: 20, environments: ['dev', 'prod'] },
    (options?: LocalRuntimeOptions) => {
      runtime = openLocalRuntime(options);
      return runtime;
    },
  );
  await server.start();
  await seed(runtime);
  browser = await chromium.launch({ executablePath: browserPath, args: HEADLESS_ARGS });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(server.loginUrl);
  await page.locator('#graph .node').first().waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  repo?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('the "What changed" panel', () => {
  it('shows the commits, the package changes and the fixed vulnerability the release was started with', async () => {
    await page.locator('#releases tbody tr', { hasText: RELEASE_ID }).click();
    await page.locator('#changes-commits li').first().waitFor();
    expect(await page.textContent('#changes-summary')).toBe(
      '· 2 commits, 1 package upgraded, 1 high vulnerability fixed',
    );
    expect(await page.locator('#changes-commits li').allTextContents()).toEqual([
      expect.stringContaining('Upgrade semver to 7.6.3 (fixes CVE-2024-21538)'),
      expect.stringContaining('Add the orders route'),
    ]);
    expect(await page.locator('#changes-packages tr').allTextContents()).toEqual(['upgradedsemver7.5.4 → 7.6.3']);
    expect(await page.locator('#changes-vulnerabilities tr').allTextContents()).toEqual([
      'fixedHIGHCVE-2024-21538 · semver',
    ]);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 1000 });
      await page.locator('#changes').scrollIntoViewIfNeeded();
      const box = await page.locator('#changes').boundingBox();
      // The panel fits the page at both widths: nothing is cut off on the right.
      expect((box?.x ?? 0) + (box?.width ?? Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(width);
      await page.locator('#changes').screenshot({ path: join(DOCS, `console-what-changed-${width}px.png`) });
    }
  });

  it('says so for a release that has no recorded changes', async () => {
    await page.setViewportSize({ width: 1440, height: 1000 });
    // The server's set-up record of dev's first version: no build of it recorded a change set.
    await page.locator('#releases tbody tr', { hasText: 'rel-dev-' }).first().click();
    await page.waitForFunction(
      () => document.querySelector('#changes-versions')?.textContent === 'No change set was recorded for this release.',
    );
    expect(await page.isHidden('#changes .changes-grid')).toBe(true);
  });
});

describe('the insights page', () => {
  it('shows each metric with its band and draws the daily deployments with Chart.js, at 1440 and 900 px', async () => {
    const expected = await page.evaluate(async () => (await fetch('/insights?env=prod&days=30')).json());
    const prod = (expected.environments as { windows: DoraMetrics[] }[])[0]?.windows[0];
    expect(prod?.deploymentFrequency.deployments).toBeGreaterThan(20);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 1000 });
      await page.goto(new URL('/console/insights?days=30', page.url()).toString());
      await page.waitForFunction(() => document.body.dataset.ready === 'true');
      const section = page.locator('section.environment[data-environment="prod"]');
      expect(await section.locator('h2').textContent()).toBe('prod · last 30 days');
      const bands = await section.locator('.metric .band').allTextContents();
      expect(bands).toEqual([
        prod?.deploymentFrequency.band,
        prod?.leadTime.band,
        prod?.changeFailureRate.band,
        prod?.timeToRestore.band,
      ]);
      expect(await section.locator('.metric .value').first().textContent()).toBe(
        `${prod?.deploymentFrequency.perDay.toFixed(2)} / day`,
      );
      // Chart.js drew the daily series the API computed.
      const drawn = await page.evaluate(() => {
        const canvas = document.querySelector('#daily-prod') as HTMLCanvasElement;
        const chart = (
          window as unknown as {
            Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { data: number[] }[] } } };
          }
        ).Chart.getChart(canvas);
        return { width: canvas.width, deployments: chart.data.datasets[0]?.data.reduce((a, b) => a + b, 0) };
      });
      expect(drawn.width).toBeGreaterThan(0);
      expect(drawn.deployments).toBe(prod?.daily.reduce((n, d) => n + d.deployments, 0));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(DOCS, `console-insights-${width}px.png`), fullPage: true });
    }
  });

  it('switches to the 7-day window', async () => {
    await page.locator('#window button[data-days="7"]').click();
    expect(await page.locator('section.environment[data-environment="prod"] h2').textContent()).toBe(
      'prod · last 7 days',
    );
    expect(await page.locator('#window button[data-days="7"]').getAttribute('aria-pressed')).toBe('true');
  });
});
