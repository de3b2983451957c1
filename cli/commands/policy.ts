import type { Command } from 'commander';
import { call } from '../api-calls.ts';
import type { Run } from '../context.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { environmentOption, intervalOption, timeoutOption } from '../options.ts';
import type { Bind } from './binding.ts';
import { watchRelease } from './release.ts';

const segment = encodeURIComponent;

interface OverrideOptions {
  readonly env: string;
  readonly digest?: string;
  readonly tag?: string;
  readonly reason: string;
  readonly watch?: boolean;
  readonly interval: number;
  readonly timeout?: number;
}

/** A release that overrides the environment's windows and freezes: its own API route, so its own IAM permission. */
async function override(run: Run, o: OverrideOptions): Promise<number> {
  if ((o.digest === undefined) === (o.tag === undefined)) {
    throw new UsageError('release override needs one of --digest or --tag');
  }
  const connection = run.connect();
  const r = await call(connection, 'POST', `/environments/${segment(o.env)}/overrides`, {
    ...(o.digest ? { imageDigest: o.digest } : { imageTag: o.tag }),
    reason: o.reason,
  });
  const releaseId = String(r.releaseId);
  if (run.out.json && !o.watch) {
    run.out.data(r);
    return EXIT.ok;
  }
  if (!run.out.json)
    run.out.line(`Started release ${releaseId} in ${String(r.environment)}, overriding its release policy`);
  return o.watch ? watchRelease(run, releaseId, o) : EXIT.ok;
}

async function changeImage(run: Run, digest: string, action: 'abandon' | 'restore', reason: string): Promise<number> {
  const r = await call(run.connect(), 'POST', `/images/${segment(digest)}/${action}`, { reason });
  if (run.out.json) run.out.data(r);
  else run.out.line(`${digest} ${r.abandoned ? 'abandoned: no release of it starts in any environment' : 'restored'}`);
  return EXIT.ok;
}

async function clearHold(run: Run, environment: string, reason: string): Promise<number> {
  const r = await call(run.connect(), 'POST', `/environments/${segment(environment)}/clear-hold`, { reason });
  if (run.out.json) run.out.data(r);
  else run.out.line(`${environment}: hold cleared; pushes release again`);
  return EXIT.ok;
}

/** The release policy's commands: overriding a window or freeze, abandoning an image, clearing a hold. */
export function registerPolicyCommands(program: Command, bind: Bind): void {
  const release = program.commands.find((c) => c.name() === 'release');
  release
    ?.command('override')
    .description("start a release that overrides the environment's windows and freezes (its own IAM permission)")
    .addOption(environmentOption().makeOptionMandatory())
    .option('--digest <sha256:…>', 'the image digest to release')
    .option('--tag <tag>', 'an image tag, resolved to its digest once')
    .requiredOption('--reason <text>', 'recorded with who overrode which window or freeze')
    .option('--watch', 'follow the release until it ends (exit code = outcome)')
    .addOption(intervalOption())
    .addOption(timeoutOption())
    .action(bind((run, _args, o: OverrideOptions) => override(run, o)));

  const image = program.command('image').description('images across environments');
  image
    .command('abandon')
    .description('no release of this digest starts again, in any environment (push, API or promotion)')
    .argument('<digest>')
    .requiredOption('--reason <text>', 'recorded with the abandonment')
    .action(bind((run, [digest], o: { reason: string }) => changeImage(run, digest ?? '', 'abandon', o.reason)));
  image
    .command('restore')
    .description('lift an abandonment (recorded beside it)')
    .argument('<digest>')
    .requiredOption('--reason <text>', 'recorded with the restoring')
    .action(bind((run, [digest], o: { reason: string }) => changeImage(run, digest ?? '', 'restore', o.reason)));

  const env = program.commands.find((c) => c.name() === 'env');
  env
    ?.command('clear-hold')
    .description("let pushes release into the environment again after an operator's rollback held it")
    .argument('<env>')
    .requiredOption('--reason <text>', 'recorded with the hold')
    .action(bind((run, [environment], o: { reason: string }) => clearHold(run, environment ?? '', o.reason)));
}
