import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardServer } from '../../local/switchyard-server.ts';
import { HEADLESS_ARGS, requireBrowser } from '../support/browser.ts';

const ARTIFACTS = join(import.meta.dirname, '../../test-results/console');

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
  server = new SwitchyardServer({ port: 0, dataDir, speedup: 120, ratePerSecond: 80, environments: ['dev', 'prod'] });
  url = await server.start();
  browser = await chromium.launch({
    executablePath: browserPath,
    args: HEADLESS_ARGS,
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1050 } });
  await page.goto(url);
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

const nodeClass = (state: string) =>
  page.locator(`#graph .node[data-state="${state}"]`).evaluate((n) => n.getAttribute('class') ?? '');

describe('the local server refuses bad requests before acting on them', () => {
  it('answers 413 for an oversized body and 400 naming the field for an impossible fault', async () => {
    const big = await fetch(`${url}/local/images`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    const bad = await fetch(`${url}/local/images`, {
      method: 'POST',
      body: JSON.stringify({ fault: { failRate: 2 } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'fault.failRate',
    ]);
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
      'Deploy green',
      'Verify green',
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
    await page.screenshot({ path: join(ARTIFACTS, 'dev-released.png'), fullPage: true });
  });

  it('approves a prod release from the page: it waits at Await approval, then releases', async () => {
    await startFromPage({ env: 'prod', strategy: 'all-at-once' });
    await page.locator('#approval-banner').waitFor({ state: 'visible', timeout: 60_000 });
    expect(await nodeClass('Await approval')).toContain('current');
    expect(await page.isEnabled('#approve')).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'prod-awaiting-approval.png'), fullPage: true });
    await page.fill('#reason', 'checked the canary dashboards');
    await page.click('#approve');
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
    expect(await nodeClass('Roll back')).toContain('succeeded');
    expect(await nodeClass('Rolled back')).toContain('failed');
    const chart = page.locator('#chart svg');
    expect(await chart.getAttribute('class')).toContain('crossed');
    expect(Number(await chart.getAttribute('data-threshold'))).toBe(1);
    expect(await page.locator('#chart svg .threshold').count()).toBe(1);
    expect(await page.locator('#chart svg .point.over').count()).toBeGreaterThan(0);
    expect(await page.locator('#timeline li.rolled-back').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'prod-rolled-back.png'), fullPage: true });
  });
});
