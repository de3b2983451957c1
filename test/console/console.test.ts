import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseDetail } from '../../api/release-view.ts';
import { type HealthCheck, HealthCheckSchema } from '../../core/model/traffic.ts';
import { API_TOKEN_FILE, API_TOKEN_HEADER } from '../../local/api-token.ts';
import { SwitchyardServer } from '../../local/switchyard-server.ts';
import { openLocalRuntime } from '../../wiring/local.ts';
import { HEADLESS_ARGS, requireBrowser } from '../support/browser.ts';
import { type FleetScenario, memberName, UNHEALTHY_REASON, writeFleetRelease } from '../support/fleet-records.ts';
import { crossings } from '../unit/console/geometry.ts';

const ARTIFACTS = join(import.meta.dirname, '../../test-results/console');
/**
 * Screenshots of each view: docs/operate.md shows them. They are rewritten there only on request
 * (UPDATE_DOC_SCREENSHOTS=1), so an ordinary test run leaves the working tree alone.
 */
const DOCS = process.env.UPDATE_DOC_SCREENSHOTS ? join(import.meta.dirname, '../../docs') : ARTIFACTS;

let server: SwitchyardServer;
let url: string;
let browser: Browser;
let page: Page;
let dataDir: string;

beforeAll(async () => {
  // Never skipped: without a browser this fails with one line that says how to get one.
  const browserPath = requireBrowser().path;
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-console-'));
  server = new SwitchyardServer(
    { port: 0, dataDir, speedup: 120, ratePerSecond: 80, environments: ['dev', 'prod'] },
    openLocalRuntime,
  );
  url = await server.start();
  browser = await chromium.launch({
    executablePath: browserPath,
    args: HEADLESS_ARGS,
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1050 } });
  // As a person does: the one-time login link `local serve` printed, which sets the session cookie.
  await page.goto(server.loginUrl);
  await page.locator('#graph .node').first().waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function startFromPage(options: { env: string; strategy?: string; failRate?: string }): Promise<string> {
  await page.selectOption('#env', options.env);
  await page.selectOption('#strategy', options.strategy ?? 'config');
  await page.fill('#fail-rate', options.failRate ?? '');
  await page.click('#start');
  await page
    .waitForFunction(() => document.querySelector('#message')?.textContent?.startsWith('started '), null, {
      timeout: 30_000,
    })
    .catch(async (error: Error) => {
      throw new Error(`${error.message}; the page says: ${await page.textContent('#message')}`);
    });
  return (await page.textContent('#release-id')) ?? '';
}

/** Waits for the status badge to read `label`, recording every state the graph highlights as current meanwhile. */
async function waitForStatus(label: string, timeoutMs = 60_000): Promise<Set<string>> {
  const highlighted = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [status, current] = await page.evaluate(() => [
      document.querySelector('#status')?.textContent ?? '',
      Array.from(document.querySelectorAll('#graph .node.current'), (n) => n.getAttribute('data-state') ?? ''),
    ]);
    for (const state of current as string[]) highlighted.add(state);
    if (status === label) return highlighted;
    if (status && !['Running', 'Starting', label].includes(status)) {
      const timeline = await page.locator('#timeline li').allTextContents();
      throw new Error(`the release ended ${status}, not ${label}: ${timeline.slice(-3).join(' | ')}`);
    }
    if (Date.now() > deadline) throw new Error(`status is "${status}", not "${label}", after ${timeoutMs} ms`);
    await page.waitForTimeout(25);
  }
}

const summary = (field: string) => page.textContent(`#summary [data-field="${field}"] dd`);

const nodeClass = (state: string) =>
  page.locator(`#graph .node[data-state="${state}"]`).evaluate((n) => n.getAttribute('class') ?? '');

describe('the local server refuses bad requests before acting on them', () => {
  it('answers 413 for an oversized body and 400 naming the field for an impossible fault', async () => {
    // As the CLI sends them: JSON, with the token `local serve` wrote to its data directory.
    const headers = {
      'content-type': 'application/json',
      [API_TOKEN_HEADER]: readFileSync(join(dataDir, API_TOKEN_FILE), 'utf8').trim(),
    };
    const big = await fetch(`${url}/local/images`, { method: 'POST', headers, body: 'x'.repeat(1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    const bad = await fetch(`${url}/local/images`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ fault: { failRate: 2 } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'fault.failRate',
    ]);
  });
});

describe('the console page carries no credential; a browser needs the login link', () => {
  it('the page HTML holds neither the API token nor the session, and the session cookie is HttpOnly and Strict', async () => {
    const token = readFileSync(join(dataDir, API_TOKEN_FILE), 'utf8').trim();
    const html = await (await fetch(url)).text();
    expect(html).toContain('<script src="/console/app.js"');
    expect(html).not.toContain(token);
    expect(html).not.toMatch(/[0-9a-f]{64}/);
    const [cookie] = await page.context().cookies(url);
    expect(cookie).toMatchObject({ name: 'switchyard-session', httpOnly: true, sameSite: 'Strict' });
    expect(html).not.toContain(cookie?.value ?? '(no cookie)');
    expect(await page.content()).not.toContain(token);
    // No script on the page can read the session either.
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it('refuses every /local route and the release API to a browser without a session', async () => {
    const stranger = await browser.newPage();
    try {
      await stranger.goto(url);
      const statuses = await stranger.evaluate(async () => {
        const paths = ['/local/info', '/local/graph', '/local/events', '/local/nothing', '/releases'];
        return Promise.all(paths.map(async (path) => [path, (await fetch(path)).status]));
      });
      expect(Object.fromEntries(statuses)).toEqual({
        '/local/info': 403,
        '/local/graph': 403,
        '/local/events': 403,
        '/local/nothing': 403,
        '/releases': 403,
      });
      await stranger.waitForFunction(() => document.querySelector('#message')?.textContent?.includes('login link'));
      expect(await stranger.locator('#graph .node').count()).toBe(0);
    } finally {
      await stranger.close();
    }
  });

  it('a login link works once: used again it opens no session, the fresh one does', async () => {
    const fresh = server.loginUrl;
    const first = await fetch(fresh, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const session = first.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(session).toMatch(/^switchyard-session=[0-9a-f]{64}$/);
    expect((await fetch(`${url}/local/info`, { headers: { cookie: session } })).status).toBe(200);
    const again = await fetch(fresh, { redirect: 'manual' });
    expect(again.status).toBe(403);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(server.loginUrl).not.toBe(fresh);
    const forged = `switchyard-session=${'0'.repeat(64)}`;
    expect((await fetch(`${url}/local/info`, { headers: { cookie: forged } })).status).toBe(403);
  });
});

describe('the local console', () => {
  it('draws the synthesized state machine and starts a dev release that reaches Released, highlighting each state', async () => {
    expect(await page.locator('#graph .node').count()).toBeGreaterThan(15);
    const id = await startFromPage({ env: 'dev' });
    expect(id).toMatch(/^rel-dev-/);
    const highlighted = await waitForStatus('Released');
    expect(highlighted.size).toBeGreaterThanOrEqual(2);
    for (const state of [
      'Validate release',
      // Every release deploys and verifies its targets in one Map state, one iteration for a single function.
      'Deploy & verify',
      'Shift traffic',
      'Check health',
      'Finalize',
      'Released',
    ]) {
      expect(await nodeClass(state)).toContain('succeeded');
    }
    expect(await nodeClass('Roll back')).not.toMatch(/succeeded|failed|current/);
    expect(await page.locator('#chart svg .point').count()).toBeGreaterThan(0);
    expect(await page.locator('#timeline li.released').count()).toBe(1);
    // One function is one target: its versions read blue · green · live, and no member grid is drawn.
    expect(await summary('versions')).toMatch(/^(\d+|none) · (\d+) · \2$/);
    expect(await page.isHidden('#fleet')).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dev-released.png'), fullPage: true });
  });

  it('approves a prod release from the page: it waits at Await approval, then releases', async () => {
    await startFromPage({ env: 'prod', strategy: 'all-at-once' });
    await page.locator('#approval-banner').waitFor({ state: 'visible', timeout: 60_000 });
    expect(await nodeClass('Await approval')).toContain('current');
    expect(await page.isEnabled('#approve')).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'prod-awaiting-approval.png'), fullPage: true });
    await page.screenshot({ path: join(DOCS, 'console-approval.png'), fullPage: true });
    await page.fill('#reason', 'checked the canary dashboards');
    await page.click('#approve');
    // The baking view: weight, step and bake progress while the bake loop runs.
    await page.waitForFunction(
      () => Number(document.querySelector('#summary [data-field="bake"]')?.getAttribute('data-share')) > 0.2,
      null,
      { timeout: 30_000, polling: 25 },
    );
    expect(await summary('weight')).toBe('100%');
    expect(await summary('step')).toBe('1 of 1');
    expect(await summary('bake')).toMatch(/of 10 min$/);
    await page.screenshot({ path: join(DOCS, 'console-baking.png'), fullPage: true });
    await waitForStatus('Released');
    expect(await nodeClass('Await approval')).toContain('succeeded');
    expect(await page.locator('#timeline li.approved').textContent()).toContain('checked the canary dashboards');
    await page.screenshot({ path: join(ARTIFACTS, 'prod-approved-released.png'), fullPage: true });
  });

  it('a fault-injected prod release rolls back, and the chart shows the error rate over its threshold', async () => {
    await startFromPage({ env: 'prod', strategy: 'all-at-once', failRate: '0.5' });
    await page.locator('#approval-banner').waitFor({ state: 'visible', timeout: 60_000 });
    await page.click('#approve');
    await waitForStatus('Rolled back');
    // The status comes from the record, the graph from the execution's next poll: wait for the graph to catch up.
    await expect.poll(() => nodeClass('Roll back')).toContain('succeeded');
    await expect.poll(() => nodeClass('Rolled back')).toContain('failed');
    const chart = page.locator('#chart svg.rate');
    expect(await chart.getAttribute('class')).toContain('crossed');
    expect(Number(await chart.getAttribute('data-threshold'))).toBe(1);
    expect(await page.locator('#chart svg .threshold').count()).toBe(1);
    expect(await page.locator('#chart svg .threshold-label').textContent()).toBe('limit 1%');
    expect(await page.locator('#chart svg .point.over').count()).toBeGreaterThan(0);
    expect(await page.locator('#timeline li.rolled-back').count()).toBeGreaterThan(0);
    expect(await summary('verdict')).toMatch(/^Rolled back: .*error/);
    expect(await page.locator('#summary [data-field="verdict"]').getAttribute('data-verdict')).toBe('rolled-back');
    // An axis a person can read: round ticks, with the threshold well inside it.
    const ticks = await page.locator('#chart svg.rate .tick').allTextContents();
    for (const tick of ticks) expect(tick).toMatch(/^\d+(\.\d)?%$/);
    await page.screenshot({ path: join(DOCS, 'console.png'), fullPage: true });
  });

  it('a prod canary with too little traffic rolls back for insufficient data, shown as such and not as 0%', async () => {
    await startFromPage({ env: 'prod', strategy: 'canary' });
    await page.locator('#approval-banner').waitFor({ state: 'visible', timeout: 60_000 });
    await page.click('#approve');
    await waitForStatus('Rolled back');
    expect(await summary('verdict')).toContain('fewer than the 50 needed to judge');
    expect(await page.locator('#summary [data-field="verdict"]').getAttribute('data-verdict')).toBe('rolled-back');
    const short = page.locator('#chart svg.rate .point.insufficient-data');
    expect(await short.count()).toBeGreaterThan(0);
    // No check with too few calls is drawn as an error rate.
    const circles = await page.locator('#chart svg.rate circle.point').count();
    const checks = await page.locator('#chart svg.calls .bar').count();
    expect(circles + (await short.count())).toBe(checks);
    expect(await page.locator('#chart svg.calls .bar.short').count()).toBeGreaterThan(0);
    expect(await page.locator('#chart svg.calls .minimum-label').textContent()).toBe('min 50 calls');
    expect(await page.locator('#chart .legend').textContent()).toContain('too few calls to judge');
    await page.screenshot({ path: join(DOCS, 'console-insufficient-data.png'), fullPage: true });
  });

  it('pauses a baking release from the page: the bake holds while checks go on, and resume takes it to Released', async () => {
    await startFromPage({ env: 'prod', strategy: 'all-at-once' });
    await page.locator('#approval-banner').waitFor({ state: 'visible', timeout: 60_000 });
    // Nothing bakes yet: a pause is not offered while the release waits for approval.
    expect(await page.isDisabled('#pause')).toBe(true);
    await page.click('#approve');
    await page.waitForFunction(() => !(document.querySelector('#pause') as HTMLButtonElement | null)?.disabled, null, {
      timeout: 30_000,
      polling: 25,
    });
    await page.fill('#reason', 'schema migration');
    await page.click('#pause');
    await page.locator('#paused-banner').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.textContent('#paused-banner')).toMatch(
      /^Paused since \d\d:\d\d:\d\d by local:.* \(schema migration\): checks go on, the step holds\.$/,
    );
    expect(await page.textContent('#pause')).toBe('Resume');
    const held = () => page.locator('#timeline li.health-check', { hasText: 'the step holds' }).count();
    // Two held checks (each renews the lock), however long the machine takes to run them; the release still runs.
    // Margin: prod's 60-minute pause limit is 30 s of wall time at ×120, against about 1 s for two checks.
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#timeline li.health-check')).filter((li) =>
          li.textContent?.includes('the step holds'),
        ).length >= 2,
      null,
      { timeout: 30_000, polling: 25 },
    );
    expect(await page.textContent('#status')).toBe('Running');
    expect(await held()).toBeGreaterThanOrEqual(2);
    await page.click('#pause');
    await page.locator('#paused-banner').waitFor({ state: 'hidden', timeout: 30_000 });
    await waitForStatus('Released');
    expect(await page.locator('#timeline li.resumed').count()).toBe(1);
  });

  it('an aborted release shows its reason; prod offers no promotion to a next environment', async () => {
    await startFromPage({ env: 'prod', strategy: 'all-at-once' });
    await page.locator('#approval-banner').waitFor({ state: 'visible', timeout: 60_000 });
    await page.fill('#reason', 'change freeze until Monday');
    await page.click('#abort');
    await waitForStatus('Aborted');
    expect(await summary('verdict')).toMatch(/^Aborted: aborted by local:.*: change freeze until Monday$/);
    expect(await page.isDisabled('#promote-next')).toBe(true);
    expect(await page.textContent('#promote-next')).toBe('No next environment');
    await page.screenshot({ path: join(DOCS, 'console-aborted.png'), fullPage: true });
  });
});

describe('the console at a glance', () => {
  it('draws the graph of the layout engine: no edge runs through a state it does not connect', async () => {
    const geometry = await page.evaluate(() => {
      const nodes = Array.from(document.querySelectorAll<SVGGElement>('#graph .node'), (g) => {
        const m = g.transform.baseVal.consolidate()?.matrix;
        const r = g.querySelector('rect') as SVGRectElement;
        return {
          name: g.dataset.state ?? '',
          x: m?.e ?? 0,
          y: m?.f ?? 0,
          width: r.width.baseVal.value,
          height: r.height.baseVal.value,
        };
      });
      // The drawn paths, sampled every 2 px: what the reader sees, not what the server sent.
      const edges = Array.from(document.querySelectorAll<SVGPathElement>('#graph .edge'), (path) => {
        const points: { x: number; y: number }[] = [];
        const length = path.getTotalLength();
        for (let at = 0; at <= length; at += 2) {
          const p = path.getPointAtLength(at);
          points.push({ x: p.x, y: p.y });
        }
        return { from: path.dataset.from ?? '', to: path.dataset.to ?? '', points };
      });
      return { nodes, edges };
    });
    expect(geometry.nodes.length).toBeGreaterThan(15);
    expect(geometry.edges.length).toBeGreaterThan(20);
    expect(crossings(geometry)).toEqual([]);
    const loops = await page
      .locator('#graph .edge.back')
      .evaluateAll((paths) => paths.map((p) => `${p.getAttribute('data-from')} → ${p.getAttribute('data-to')}`).sort());
    expect(loops).toEqual(['Await release window → Validate release', 'Healthy? → Bake', 'Healthy? → Shift traffic']);
  });

  it('the state inspector shows the input, output and retries of a state', async () => {
    await page.click('#releases tr[data-status="released"]');
    await page.locator('#summary [data-field="verdict"][data-verdict="released"]').waitFor();
    await page.click('#graph .node[data-state="Check health"]');
    await page.locator('#inspector-output').filter({ hasText: 'lastCheck' }).waitFor({ timeout: 10_000 });
    expect(await page.textContent('#inspector-name')).toBe('Check health');
    expect(await page.textContent('#inspector-facts [data-fact="outcome"]')).toBe('succeeded');
    expect(await page.textContent('#inspector-input')).toContain('"traffic"');
  });

  it('works in a 900 px window: nothing wider than the window, the summary and chart readable', async () => {
    await page.click('#releases tr[data-status="rolled-back"]');
    await page.locator('#chart svg.rate').waitFor();
    await page.setViewportSize({ width: 900, height: 1000 });
    try {
      await page.waitForTimeout(300);
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        chart: document.querySelector('#chart svg.rate')?.getBoundingClientRect().width ?? 0,
        graph: document.querySelector('#graph svg')?.getBoundingClientRect().right ?? 0,
        title: document.querySelector('header h1')?.getBoundingClientRect().height ?? 0,
      }));
      expect(widths.page).toBeLessThanOrEqual(900);
      expect(widths.graph).toBeLessThanOrEqual(900);
      expect(widths.chart).toBeGreaterThan(300);
      expect(widths.title).toBeLessThan(30);
      expect(await page.isVisible('#summary')).toBe(true);
      await page.screenshot({ path: join(DOCS, 'console-900px.png'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1400, height: 1050 });
    }
  });
});

/** The release API as the console reads it, with the local server's token. */
async function releaseDetail(id: string): Promise<ReleaseDetail> {
  const token = readFileSync(join(dataDir, API_TOKEN_FILE), 'utf8').trim();
  const response = await fetch(`${url}/releases/${encodeURIComponent(id)}`, { headers: { [API_TOKEN_HEADER]: token } });
  expect(response.status).toBe(200);
  return (await response.json()) as ReleaseDetail;
}

/** Where the rate chart drew each check's marks, green's and blue's, in the chart's own coordinates. */
function rateMarks() {
  return page.evaluate(() => {
    const rate = document.querySelector('#chart svg.rate') as SVGSVGElement;
    const mark = (n: Element) => {
      const box = (n as SVGGraphicsElement).getBBox();
      return {
        check: Number(n.getAttribute('data-check')),
        short: n.classList.contains('insufficient-data'),
        x: box.x + box.width / 2,
        y: box.y + box.height / 2,
      };
    };
    return {
      top: Number(rate.getAttribute('data-top')),
      height: rate.viewBox.baseVal.height,
      blue: Array.from(rate.querySelectorAll('.blue-point'), mark),
      green: Array.from(rate.querySelectorAll('.point'), mark),
      blueLines: rate.querySelectorAll('.blue-line').length,
      blueBars: Array.from(document.querySelectorAll('#chart svg.calls .blue-bar'), (b) =>
        Number(b.getAttribute('data-calls')),
      ),
    };
  });
}

type Sample = HealthCheck['sample'];
const sampleOf = (invocations: number, errors: number): Sample => ({
  invocations,
  errors,
  throttles: 0,
  p99DurationMs: 20,
  errorRatePercent: Number(((errors / invocations) * 100).toFixed(3)),
});

describe('the chart beside blue (relative judge)', () => {
  let canaryId = '';

  it('draws a blue mark beside green for each check that read blue, and names both versions', async () => {
    // prod judges green against blue ('both') and a canary leaves blue serving 90%, so each check reads blue too.
    canaryId = await startFromPage({ env: 'prod', strategy: 'canary' });
    await page.locator('#approval-banner').waitFor({ state: 'visible', timeout: 60_000 });
    await page.click('#approve');
    await page.waitForFunction(
      () => !['Running', 'Starting'].includes(document.querySelector('#status')?.textContent ?? ''),
      null,
      { timeout: 60_000, polling: 50 },
    );
    const detail = await releaseDetail(canaryId);
    const withBlue = detail.healthChecks.flatMap((c, i) => (c.evidence.blue ? [i] : []));
    expect(withBlue.length).toBeGreaterThan(0);
    await page.waitForFunction(
      (n) => document.querySelectorAll('#chart svg.rate .blue-point').length === n,
      withBlue.length,
      { timeout: 10_000, polling: 50 },
    );
    const drawn = await rateMarks();
    // One blue mark per check that read blue, none elsewhere; its calls beside green's against the minimum.
    expect(drawn.blue.map((b) => b.check)).toEqual(withBlue);
    expect(drawn.blueBars).toEqual(withBlue.map((i) => detail.healthChecks[i]?.evidence.blue?.sample.invocations));
    const min = detail.healthChecks[0]?.evidence.thresholds.minInvocations ?? 0;
    for (const mark of drawn.blue) {
      const blue = detail.healthChecks[mark.check]?.evidence.blue;
      const green = drawn.green.find((g) => g.check === mark.check);
      // In the same check's slot, just right of green's mark.
      expect(mark.x - (green?.x ?? Number.POSITIVE_INFINITY)).toBeGreaterThan(0);
      expect(mark.x - (green?.x ?? 0)).toBeLessThanOrEqual(11);
      // Blue with too few calls is marked as such, as green is, never drawn as a 0% rate.
      expect(mark.short).toBe((blue?.sample.invocations ?? 0) < min || blue?.sample.errorRatePercent === null);
    }
    const legend = await page.locator('#chart .legend').textContent();
    expect(legend).toContain(`green ${detail.greenVersion}`);
    expect(legend).toContain(`blue ${detail.blueVersion}`);
    const title = await page.locator(`#chart svg.rate .blue-point[data-check="${withBlue[0]}"] title`).textContent();
    expect(title).toContain(`blue ${detail.blueVersion}:`);
  });

  it("plots blue's error rate on the axis, shows the comparison, and labels an unhealthy environment apart", async () => {
    // The local server cannot make blue fail (its faults ride on the pushed image, green), so the console is served
    // the canary's own record with its last checks as the relative judge writes them: blue judged, compared, and
    // finally failing as badly as green (each check parsed by the evidence schema, so the shape is the real one).
    const real = await releaseDetail(canaryId);
    const blueVersion = real.blueVersion ?? '';
    const count = real.healthChecks.length;
    const healthy = (green: Sample, blue: Sample, pValue: number) => ({
      verdict: 'healthy' as const,
      green,
      blue,
      comparison: {
        test: 'two-proportion z-test',
        pValue,
        confidence: 0.999,
        greenRatePercent: green.errorRatePercent ?? 0,
        blueRatePercent: blue.errorRatePercent ?? 0,
      },
    });
    const rewritten = [
      healthy(sampleOf(60, 0), sampleOf(540, 1), 0.83),
      healthy(sampleOf(120, 1), sampleOf(560, 3), 0.31),
      { ...healthy(sampleOf(70, 7), sampleOf(600, 60), 0.5), verdict: 'environment-unhealthy' as const },
    ];
    const checks = real.healthChecks.map((c, i) => {
      const change = rewritten[i - (count - rewritten.length)];
      if (!change) return c;
      const evidence = HealthCheckSchema.parse({
        ...c.evidence,
        verdict: change.verdict,
        judge: 'both',
        sample: change.green,
        blue: { version: blueVersion, sample: change.blue, step: change.blue },
        comparison: change.comparison,
        reasons: [`green ${change.green.errorRatePercent}% against blue ${change.blue.errorRatePercent}%`],
      });
      return {
        ...c,
        verdict: evidence.verdict,
        invocations: change.green.invocations,
        errors: change.green.errors,
        errorRatePercent: change.green.errorRatePercent,
        reasons: evidence.reasons,
        next: 'bake',
        evidence,
      };
    });
    const last = checks.at(-1);
    const served = {
      ...real,
      status: 'running',
      executionStatus: 'RUNNING',
      currentState: 'Bake',
      healthChecks: checks,
      progress: real.progress ? { ...real.progress, lastCheck: last } : null,
    };
    const route = `${url}/releases/${encodeURIComponent(canaryId)}`;
    await page.route(route, (r) => r.fulfill({ json: served }));
    try {
      await page.click(`#releases tr[data-release-id="${canaryId}"]`);
      await page.waitForFunction(
        () => document.querySelector('#chart svg.rate .point.environment-unhealthy') !== null,
        null,
        { timeout: 10_000, polling: 50 },
      );
      const drawn = await rateMarks();
      const judgedBlue = drawn.blue.filter((b) => !b.short);
      // Blue is a rate where it had the minimum calls (the three rewritten checks, and any real window that did).
      const min = real.healthChecks[0]?.evidence.thresholds.minInvocations ?? 0;
      const blueJudged = checks.flatMap((c, i) => {
        const blue = c.evidence.blue?.sample;
        return blue && blue.errorRatePercent !== null && blue.invocations >= min ? [i] : [];
      });
      expect(blueJudged).toEqual(expect.arrayContaining([count - 3, count - 2, count - 1]));
      expect(judgedBlue.map((b) => b.check)).toEqual(blueJudged);
      for (const mark of judgedBlue) {
        const rate = checks[mark.check]?.evidence.blue?.sample.errorRatePercent ?? Number.NaN;
        // Its height is its rate on the chart's axis (12 px padding above, 22 px below the plot).
        expect(mark.y).toBeCloseTo(12 + (drawn.height - 34) * (1 - rate / drawn.top), 1);
      }
      expect(drawn.blueLines).toBeGreaterThanOrEqual(1);
      // The axis reaches blue's 10% as well as green's.
      expect(drawn.top).toBeGreaterThanOrEqual(10);
      // The comparison: under the chart for the last check, and in each compared check's tooltip.
      expect(await page.textContent('#chart .comparison')).toBe(
        'Last comparison, green against blue: two-proportion z-test: green 10% vs blue 10%, p = 0.5 (confidence 99.9%)',
      );
      const tooltip = await page.locator(`#chart svg.rate circle.point[data-check="${count - 2}"] title`).textContent();
      expect(tooltip).toContain(`blue ${blueVersion}: 560 calls, 3 errors`);
      expect(tooltip).toContain('two-proportion z-test: green 0.833% vs blue 0.536%, p = 0.31');
      // An unhealthy environment is labelled as such, not drawn as a release failure over the limit.
      const unhealthy = page.locator('#chart svg.rate .point.environment-unhealthy');
      expect(await unhealthy.count()).toBe(1);
      expect(await unhealthy.getAttribute('class')).not.toContain('over');
      expect(await page.locator('#chart svg.rate').getAttribute('class')).not.toContain('crossed');
      expect(await page.locator('#chart svg.rate .env-label').textContent()).toBe('env');
      expect(await unhealthy.locator('title').textContent()).toContain(
        'environment unhealthy: blue fails as badly as green (not a release failure)',
      );
      expect(await page.locator('#chart .legend').textContent()).toContain(
        'env environment unhealthy: blue fails as badly as green (not a release failure)',
      );
      expect(await page.locator('#summary [data-field="verdict"]').getAttribute('data-verdict')).toBe(
        'environment-unhealthy',
      );
      expect(await summary('verdict')).toMatch(/^environment unhealthy: blue fails as badly as green/);
      await page.screenshot({ path: join(ARTIFACTS, 'console-blue-green.png'), fullPage: true });
      // Both series and the longer legend still fit a 900 px window.
      await page.setViewportSize({ width: 900, height: 1000 });
      await page.waitForTimeout(300);
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        chart: document.querySelector('#chart svg.rate')?.getBoundingClientRect().width ?? 0,
        legend: document.querySelector('#chart .legend')?.getBoundingClientRect().right ?? 0,
      }));
      expect(widths.page).toBeLessThanOrEqual(900);
      expect(widths.legend).toBeLessThanOrEqual(900);
      expect(widths.chart).toBeGreaterThan(300);
    } finally {
      await page.setViewportSize({ width: 1400, height: 1050 });
      await page.unroute(route);
    }
  });
});

describe('a fleet release in the console', () => {
  /** A fleet release written into the server's own store through its public methods, then selected in the list. */
  async function showFleet(releaseId: string, scenario: Omit<FleetScenario, 'releaseId' | 'environment'>) {
    const store = server.runtime?.store;
    if (!store) throw new Error('the server has no runtime');
    // Started long ago, so it sorts after the releases the other tests start and select.
    await writeFleetRelease(store, { releaseId, environment: 'prod', startedAt: '2020-01-01T00:00:00Z', ...scenario });
    await page.click(`#releases tr[data-release-id="${releaseId}"]`, { timeout: 10_000 });
    await page.waitForFunction((n) => document.querySelectorAll('#fleet .member').length === n, scenario.members, {
      timeout: 10_000,
      polling: 50,
    });
  }

  /** Each wave's members in order, the tripping member and how every cell sits. */
  const fleetLayout = () =>
    page.evaluate(() => {
      const cells = Array.from(document.querySelectorAll<HTMLElement>('#fleet .member'), (c) => {
        const r = c.getBoundingClientRect();
        const name = c.querySelector<HTMLElement>('.name');
        return {
          name: c.dataset.member ?? '',
          verdict: c.dataset.verdict ?? '',
          background: getComputedStyle(c).backgroundColor,
          rect: { left: r.left, top: r.top, right: r.right, bottom: r.bottom },
          nameClipped: name ? name.scrollWidth > name.clientWidth : true,
        };
      });
      const waves = Array.from(document.querySelectorAll<HTMLElement>('#fleet .wave'), (w) =>
        Array.from(w.querySelectorAll<HTMLElement>('.member'), (c) => c.dataset.member ?? ''),
      );
      const panel = document.querySelector('#fleet')?.getBoundingClientRect();
      return {
        cells,
        waves,
        tripped: Array.from(document.querySelectorAll<HTMLElement>('#fleet .member.tripped'), (c) => c.dataset.member),
        moving: Array.from(document.querySelectorAll<HTMLElement>('#fleet .wave.moving'), (w) => w.dataset.wave),
        pageWidth: document.documentElement.scrollWidth,
        panelHeight: panel?.height ?? 0,
      };
    });

  type Layout = Awaited<ReturnType<typeof fleetLayout>>;
  const overlaps = (cells: Layout['cells']) =>
    cells.flatMap((a, i) =>
      cells
        .slice(i + 1)
        .filter(
          (b) =>
            a.rect.left < b.rect.right - 0.5 &&
            b.rect.left < a.rect.right - 0.5 &&
            a.rect.top < b.rect.bottom - 0.5 &&
            b.rect.top < a.rect.bottom - 0.5,
        )
        .map((b) => `${a.name}/${b.name}`),
    );

  it('shows 12 members by wave with their verdicts; the member that tripped stands out, at 1400 and 900 px', async () => {
    await showFleet('rel-prod-fleet-12', {
      members: 12,
      waves: [{ members: 1 }, { percent: 25 }, { percent: 100 }],
      tripAt: 5,
      end: 'halted',
    });
    const wide = await fleetLayout();
    expect(wide.waves).toEqual([
      ['svc-001'],
      ['svc-002', 'svc-003'],
      Array.from({ length: 9 }, (_, i) => memberName(i + 3)),
    ]);
    expect(wide.moving).toEqual(['2']);
    expect(wide.tripped).toEqual(['svc-006']);
    expect(wide.cells.filter((c) => c.verdict === 'unhealthy').map((c) => c.name)).toEqual(['svc-006']);
    expect(wide.cells.filter((c) => c.verdict === 'healthy')).toHaveLength(11);
    // Only the tripping member is filled red; every other cell keeps the page's light background.
    const tripped = wide.cells.find((c) => c.name === 'svc-006');
    expect(tripped?.background).toBe('rgb(209, 50, 18)');
    expect(new Set(wide.cells.filter((c) => c.name !== 'svc-006').map((c) => c.background))).toEqual(
      new Set(['rgb(255, 255, 255)']),
    );
    expect(await page.textContent('#fleet-headline')).toBe(
      '— 12 members in 3 waves · wave 3 moving · halted by svc-006',
    );
    expect(await page.textContent('#fleet-halt')).toBe(
      `svc-006 (wave 3) tripped the fleet: svc-006 (v2, 100%): ${UNHEALTHY_REASON}`,
    );
    expect(await page.locator('#fleet .member[data-member="svc-006"] .state').textContent()).toBe('baking · 100%');
    expect(await page.locator('#fleet .member[data-member="svc-006"]').getAttribute('title')).toContain(
      `unhealthy: svc-006 (v2, 100%): ${UNHEALTHY_REASON}`,
    );
    expect(await summary('weight')).toBe('12 of 12 members');
    expect(overlaps(wide.cells)).toEqual([]);
    expect(wide.cells.filter((c) => c.nameClipped)).toEqual([]);
    await page.locator('#fleet').screenshot({ path: join(DOCS, 'console-fleet.png') });

    await page.setViewportSize({ width: 900, height: 1000 });
    try {
      await page.waitForTimeout(300);
      const narrow = await fleetLayout();
      expect(narrow.pageWidth).toBeLessThanOrEqual(900);
      expect(Math.max(...narrow.cells.map((c) => c.rect.right))).toBeLessThanOrEqual(900);
      expect(overlaps(narrow.cells)).toEqual([]);
      expect(narrow.cells.filter((c) => c.nameClipped)).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1400, height: 1050 });
    }
  });

  it('says a released fleet is live on every member’s green, not on one version', async () => {
    await showFleet('rel-prod-fleet-released', { members: 3, waves: [{ percent: 100 }] });
    expect(await summary('verdict')).toBe('Released: every member (3) live on its green');
    expect(await summary('versions')).toBe('1 · 2 on every member');
  });

  it('fits 100 members in compact cells at 900 px, the tripping member still standing out', async () => {
    await showFleet('rel-prod-fleet-100', {
      members: 100,
      waves: [{ members: 1 }, { percent: 25 }, { percent: 100 }],
      tripAt: 17,
    });
    expect(await page.getAttribute('#fleet', 'class')).toContain('compact');
    await page.setViewportSize({ width: 900, height: 1000 });
    try {
      await page.waitForTimeout(300);
      const layout = await fleetLayout();
      expect(layout.waves.map((w) => w.length)).toEqual([1, 24, 75]);
      expect(layout.moving).toEqual([]);
      expect(layout.tripped).toEqual(['svc-018']);
      expect(layout.cells.find((c) => c.name === 'svc-018')?.background).toBe('rgb(209, 50, 18)');
      expect(layout.pageWidth).toBeLessThanOrEqual(900);
      expect(Math.max(...layout.cells.map((c) => c.rect.right))).toBeLessThanOrEqual(900);
      expect(overlaps(layout.cells)).toEqual([]);
      expect(layout.cells.filter((c) => c.nameClipped)).toEqual([]);
      // A hundred members take less than one screen at this width.
      expect(layout.panelHeight).toBeLessThan(1000);
      expect(await page.textContent('#fleet-halt')).toContain('svc-018 (wave 2) tripped the fleet');
      expect(await page.textContent('#status')).toBe('Rolled back');
      await page.locator('#fleet').screenshot({ path: join(DOCS, 'console-fleet-100-900px.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'console-fleet-100-900px-page.png'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1400, height: 1050 });
    }
  });
});

describe('the environment cards', () => {
  it('show each environment release window, and an abandoned image with who abandoned it and why', async () => {
    const digest = `sha256:${'7'.repeat(64)}`;
    const change = (action: string, reason: string) =>
      page.evaluate(
        async ([path, why]) =>
          (
            await fetch(path ?? '', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ reason: why }),
            })
          ).status,
        [`/images/${digest}/${action}`, reason],
      );
    expect(await change('abandon', 'CVE-2026-0001 in libssl')).toBe(200);
    await page.locator('#environment-cards .abandoned').waitFor({ timeout: 10_000 });
    expect(await page.textContent('#environment-cards [data-environment="prod"] .window')).toBe('releases any time');
    expect(await page.textContent('#environment-cards .abandoned')).toMatch(
      /^abandoned sha256:7{12}… by local:.*: CVE-2026-0001 in libssl$/,
    );
    await page.screenshot({ path: join(DOCS, 'console-environment-cards.png'), fullPage: false });
    expect(await change('restore', 'false positive')).toBe(200);
    await page.locator('#environment-cards .abandoned').waitFor({ state: 'detached', timeout: 10_000 });
  });
});
