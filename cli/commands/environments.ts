import type { Command } from 'commander';
import type { AbandonedImage, EnvironmentStatus } from '../../api/environment-status.ts';
import { call } from '../api-calls.ts';
import type { Run } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { ENVIRONMENT_NAMES, intervalOption, timeoutOption } from '../options.ts';
import { policyStatusLines } from '../policy-render.ts';
import { statusLines } from '../release-render.ts';
import type { Bind } from './binding.ts';
import { watchRelease } from './release.ts';

async function status(run: Run, environment: string | undefined): Promise<number> {
  const connection = run.connect();
  const body = await call(connection, 'GET', '/environments');
  const all = (body.environments as EnvironmentStatus[] | undefined) ?? [];
  const environments = environment ? all.filter((e) => e.name === environment) : all;
  const abandonedImages = (body.abandonedImages as AbandonedImage[] | undefined) ?? [];
  if (run.out.json) run.out.data({ environments, abandonedImages });
  else {
    const link = (releaseId: string) => connection.consoleLink(releaseId, undefined) || releaseId;
    for (const line of statusLines(run.out, environments, link, connection.local)) run.out.line(line);
    for (const line of policyStatusLines(run.out, environments, abandonedImages, connection.local)) run.out.line(line);
  }
  return EXIT.ok;
}

async function rollback(run: Run, environment: string, reason: string): Promise<number> {
  const connection = run.connect();
  const r = await call(connection, 'POST', `/environments/${encodeURIComponent(environment)}/rollback`, { reason });
  if (run.out.json) run.out.data(r);
  else if (r.status === 'running') {
    // A fleet: the API answered 202 and moves the members in the background.
    run.out.line(
      `Rolling back ${environment}: ${String(r.members)} members, in the background; follow it with: switchyard release watch ${String(r.operationId)}`,
    );
  } else {
    run.out.line(`Rolled back ${environment}: live ${String(r.from)} → ${String(r.to)}`);
    // A fleet environment: each member that moved, and those left where they were.
    const members = Array.isArray(r.members) ? (r.members as { member: string; from: string; to: string }[]) : [];
    const skipped = Array.isArray(r.skipped) ? (r.skipped as { member: string; why: string }[]) : [];
    for (const m of members) run.out.line(`  ${m.member}  ${m.from} → ${m.to}`);
    for (const m of skipped) run.out.line(`  ${m.member}  left: ${m.why}`);
  }
  return EXIT.ok;
}

export function registerEnvironmentCommands(program: Command, bind: Bind): void {
  program
    .command('status')
    .description("what is live, blue and green in each environment, and any release in flight (Argo's get rollout)")
    .argument('[env]', `one of ${ENVIRONMENT_NAMES.join(', ')}`)
    .action(
      bind((run, [environment]) => {
        if (environment !== undefined && !ENVIRONMENT_NAMES.includes(environment)) {
          program.error(`unknown environment "${environment}": use ${ENVIRONMENT_NAMES.join(', ')}`, {
            exitCode: EXIT.usage,
          });
        }
        return status(run, environment);
      }),
    );

  program
    .command('watch')
    .description('follow a release live until it ends (the same as release watch)')
    .argument('<release-id>')
    .addOption(intervalOption())
    .addOption(timeoutOption())
    .action(
      bind((run, [releaseId], o: { interval: number; timeout?: number }) => watchRelease(run, releaseId ?? '', o)),
    );

  const env = program.command('env').description('environments outside a release');
  env
    .command('rollback')
    .description('instant rollback of live to blue (Argo: undo)')
    .argument('<env>')
    .requiredOption('--reason <text>', 'recorded with the rollback')
    .action(bind((run, [environment], o: { reason: string }) => rollback(run, environment ?? '', o.reason)));
}
