import { type Command, Option } from 'commander';
import type { DoraMetrics } from '../../core/insight/dora.ts';
import type { ReleaseChanges } from '../../core/insight/release-changes.ts';
import { call } from '../api-calls.ts';
import type { Run } from '../context.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { changesLines, insightLines } from '../insight-render.ts';
import { environmentOption } from '../options.ts';
import type { Bind } from './binding.ts';

async function changes(run: Run, releaseId: string): Promise<number> {
  const body = await call(run.connect(), 'GET', `/releases/${encodeURIComponent(releaseId)}/changes`);
  if (run.out.json) run.out.data(body);
  else for (const line of changesLines(run.out, releaseId, body.changes as ReleaseChanges)) run.out.line(line);
  return EXIT.ok;
}

async function insights(run: Run, o: { env?: string; days?: number }): Promise<number> {
  const query = new URLSearchParams({
    ...(o.env ? { env: o.env } : {}),
    ...(o.days !== undefined ? { days: String(o.days) } : {}),
  }).toString();
  const body = await call(run.connect(), 'GET', `/insights${query ? `?${query}` : ''}`);
  if (run.out.json) run.out.data(body);
  else {
    const environments = body.environments as { environment: string; windows: DoraMetrics[] }[];
    for (const line of insightLines(run.out, environments)) run.out.line(line);
  }
  return EXIT.ok;
}

function days(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 365)
    throw new UsageError(`--days must be a whole number from 1 to 365, not "${value}"`);
  return n;
}

/** `switchyard release changes ID` and `switchyard insights` (docs/insight.md). */
export function registerInsightCommands(program: Command, bind: Bind): void {
  const release = program.commands.find((c) => c.name() === 'release');
  if (!release) throw new Error('the release commands must be registered first');
  release
    .command('changes')
    .description('what changed, blue against green: commits, packages, vulnerabilities (computed as it started)')
    .argument('<release-id>')
    .action(bind((run, [releaseId]) => changes(run, releaseId ?? '')));
  program
    .command('insights')
    .description('DORA metrics per environment over 7, 30 and 90 days, each in its band of the DORA report')
    .addOption(environmentOption('--env <name>', 'only this environment'))
    .addOption(new Option('--days <n>', 'only this window, in days (1 to 365)').argParser(days))
    .action(bind((run, _args, o: { env?: string; days?: number }) => insights(run, o)));
}
