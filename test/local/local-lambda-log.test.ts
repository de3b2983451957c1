import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../adapters/memory/clocks.ts';
import { MemoryVersionMetrics } from '../../adapters/memory/memory-metrics.ts';
import { LocalLambda } from '../../local/local-lambda.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the local Lambda log', () => {
  it('is capped: past its limit it rotates to lambda.log.1, so two versions logging for ever take bounded space', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-log-'));
    dirs.push(dir);
    const bundlePath = join(dir, 'bundle.mjs');
    // About 500 bytes of log per call, as a request's structured log lines and EMF metrics come to.
    writeFileSync(
      bundlePath,
      `export const handler = async () => { console.log('x'.repeat(500)); return { statusCode: 200 }; };\n`,
    );
    const logFile = join(dir, 'lambda.log');
    const maxBytes = 16 * 1024;
    const clock = new ScaledClock(1);
    const lambda = new LocalLambda({
      imageFor: async () => ({ bundlePath, environment: {} }),
      metrics: new MemoryVersionMetrics({ clock }),
      clock,
      logFile,
      logMaxBytes: maxBytes,
    });
    try {
      // 400 calls across two versions' workers: about 200 KB of logs, twelve times the cap.
      for (let i = 0; i < 200; i++) {
        await Promise.all(
          ['1', '2'].map((version) =>
            lambda.invoke({
              functionName: 'fn',
              version,
              imageUri: 'image',
              payload: {},
              timeoutMs: 10_000,
              qualifier: version,
            }),
          ),
        );
      }
    } finally {
      await lambda.close();
    }
    expect(readdirSync(dir).sort()).toEqual(['bundle.mjs', 'lambda.log', 'lambda.log.1']);
    // Each worker looks every maxBytes/16 it writes, so a file overshoots the cap by at most that much per worker.
    for (const file of ['lambda.log', 'lambda.log.1']) {
      expect(statSync(join(dir, file)).size).toBeLessThanOrEqual(maxBytes + 2 * (maxBytes / 16) + 1024);
    }
    expect(statSync(join(dir, 'lambda.log')).size).toBeGreaterThan(0);
  }, 60_000);
});
