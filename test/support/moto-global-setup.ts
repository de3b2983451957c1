import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureMotoServer, type RunningMoto, startMoto } from './moto.ts';
import { motoSummary } from './moto-report.ts';

/**
 * The moto project's global setup: finds (or pip-installs) `moto_server`, runs it on a free loopback port for the
 * whole run and stops it at the end, then prints the run's moto summary. Without moto it provides the one line that
 * says how to get it, and every moto test fails with that line (none is skipped).
 */
export default async function setup(project: TestProject) {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const reportDir = mkdtempSync(join(tmpdir(), 'switchyard-moto-'));
  const found = ensureMotoServer(log);
  let moto: RunningMoto | undefined;
  if ('path' in found) {
    try {
      moto = await startMoto(found.path);
      project.provide('moto', { endpoint: moto.endpoint, reportDir });
    } catch (error) {
      project.provide('moto', { missing: (error as Error).message.split('\n')[0] ?? 'moto_server failed', reportDir });
    }
  } else {
    log(`moto: ${found.missing}`);
    project.provide('moto', { missing: found.missing, reportDir });
  }
  return async () => {
    await moto?.stop();
    log(motoSummary(reportDir));
    rmSync(reportDir, { recursive: true, force: true });
  };
}
