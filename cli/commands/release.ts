import { type Command, Option } from 'commander';
import { healthDecisions, type ReleaseDetail, type ReleaseSummary } from '../../api/release-view.ts';
import { environmentNamed } from '../../config/environments.ts';
import { call, environmentOfRelease, environmentReleasesPath, promotionPath, releaseActionPath } from '../api-calls.ts';
import type { Connection, Run } from '../context.ts';
import { CliFailure, EXIT, outcomeExitCode, UsageError } from '../exit-codes.ts';
import { decimal, environmentOption, intervalOption, statusOption, strategyOption, timeoutOption } from '../options.ts';
import { clockTime } from '../output.ts';
import {
  checkLine,
  detailLines,
  FLEET_GRID_ROWS,
  fleetLines,
  membersOf,
  pausedLine,
  phaseTally,
  releaseTable,
  watchFrame,
} from '../release-render.ts';
import type { Bind } from './binding.ts';

const id = (releaseId: string) => `/releases/${encodeURIComponent(releaseId)}`;

async function detailOf(connection: Connection, releaseId: string): Promise<ReleaseDetail> {
  return (await call(connection, 'GET', id(releaseId))) as unknown as ReleaseDetail;
}

/** Rows the lines take on a terminal `columns` wide: a long line wraps onto more than one. */
export function terminalRows(lines: readonly string[], columns: number | undefined): number {
  const width = columns && columns > 0 ? columns : Number.POSITIVE_INFINITY;
  const visible = (line: string) => line.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '').length;
  return lines.reduce((rows, line) => rows + Math.max(1, Math.ceil(visible(line) / width)), 0);
}

/** Member events a non-terminal watch counts instead of printing one line each. */
const memberProgressKinds = new Set(['deployed', 'verified']);

interface WatchOptions {
  readonly interval: number;
  readonly timeout?: number;
}

/**
 * Follows a release until it ends and exits with its outcome. On a terminal the live view (weight, step, bake bar,
 * last check) is redrawn in place; otherwise each new state, shift and check is appended as a line.
 */
export async function watchRelease(run: Run, releaseId: string, options: WatchOptions): Promise<number> {
  const connection = run.connect();
  const out = run.out;
  const virtual = connection.local;
  const deadline = options.timeout ? Date.now() + options.timeout * 1000 : Number.POSITIVE_INFINITY;
  let drawn = 0;
  let lastFrame = '';
  let printedSteps = 0;
  let printedEvents = 0;
  let approvalShown = false;
  let pauseShown: string | undefined;
  let printedTally = '';
  for (;;) {
    const detail = await detailOf(connection, releaseId);
    const link = connection.consoleLink(releaseId, detail.consoleUrl);
    const ended = detail.status !== 'running' && detail.status !== 'starting';
    const fleet = membersOf(detail);
    if (out.json) {
      if (ended) out.data(detail);
    } else if (out.tty) {
      const frame = watchFrame(out, detail, link, virtual);
      const text = frame.join('\n');
      if (text !== lastFrame) {
        // Back to the first line of the previous frame and clear below it, then draw the new one.
        const rewind = drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : '';
        out.line(`${rewind}${text}`);
        drawn = terminalRows(frame, run.io.columns);
        lastFrame = text;
      }
    } else {
      if (printedSteps === 0 && printedEvents === 0) out.line(`watching ${releaseId}: ${link}`);
      for (const step of detail.steps.slice(printedSteps)) {
        if (step.type === 'Task' || step.type === 'Succeed' || step.type === 'Fail') out.line(`  ▶ ${step.name}`);
      }
      printedSteps = detail.steps.length;
      for (const event of detail.events.slice(printedEvents)) {
        // A fleet's members each deploy and verify: counted below, not a line each (a failed one still prints).
        if (fleet && memberProgressKinds.has(event.kind) && event.evidence && 'member' in event.evidence) continue;
        const check = event.kind === 'health-check' ? healthDecisions([event])[0] : undefined;
        out.line(check ? `    · check: ${checkLine(out, check, virtual)}` : `    · ${event.kind}: ${event.summary}`);
      }
      printedEvents = detail.events.length;
      const tally = fleet ? `${phaseTally(fleet.members)} (of ${fleet.members.length})` : '';
      if (tally !== printedTally) out.line(`    · fleet: ${tally}`);
      printedTally = tally;
      if (detail.awaitingApproval && !approvalShown) {
        out.line(`  ⏸ waiting for approval: switchyard release approve ${releaseId}`);
        approvalShown = true;
      }
      if (detail.paused && detail.paused.pausedAt !== pauseShown)
        out.line(`  ${pausedLine(detail.paused, releaseId, virtual)}`);
      pauseShown = detail.paused?.pausedAt;
    }
    if (ended) {
      if (!out.json && !out.tty) {
        if (fleet) for (const line of fleetLines(out, fleet, releaseId)) out.line(line);
        out.line(`${out.status(detail.status)}: release ${releaseId}${detail.reason ? ` — ${detail.reason}` : ''}`);
      }
      return outcomeExitCode(detail.status);
    }
    if (Date.now() > deadline) {
      throw new CliFailure(
        `release ${releaseId} is still ${detail.status} after ${options.timeout} s (${clockTime(detail.events.at(-1)?.at, virtual)}); watch it again later`,
        EXIT.temporaryFailure,
      );
    }
    await new Promise((r) => setTimeout(r, options.interval));
  }
}

interface StartOptions {
  readonly env: string;
  readonly digest?: string;
  readonly tag?: string;
  readonly strategy?: unknown;
  readonly idempotencyKey?: string;
  readonly reason?: string;
  readonly watch?: boolean;
  readonly interval: number;
  readonly timeout?: number;
}

async function start(run: Run, o: StartOptions): Promise<number> {
  if ((o.digest === undefined) === (o.tag === undefined))
    throw new UsageError('release start needs one of --digest or --tag');
  const connection = run.connect();
  const r = await call(connection, 'POST', environmentReleasesPath(o.env), {
    ...(o.digest ? { imageDigest: o.digest } : { imageTag: o.tag }),
    ...(o.strategy ? { strategy: o.strategy } : {}),
    ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  });
  const releaseId = String(r.releaseId);
  if (run.out.json && !o.watch) {
    run.out.data(r);
    return EXIT.ok;
  }
  if (!run.out.json) {
    run.out.line(`${r.replayed ? 'Already started' : 'Started'} release ${releaseId} in ${String(r.environment)}`);
    if (!connection.local) run.out.line(`  execution: ${String(r.executionArn)}`);
    run.out.line(`  console:   ${connection.consoleLink(releaseId, r.consoleUrl)}`);
  }
  return o.watch ? watchRelease(run, releaseId, o) : EXIT.ok;
}

interface ListOptions {
  readonly env?: string;
  readonly status?: string;
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

async function list(run: Run, o: ListOptions): Promise<number> {
  const connection = run.connect();
  const query = new URLSearchParams();
  if (o.status) query.set('status', o.status);
  if (o.limit !== undefined) query.set('limit', String(o.limit));
  if (o.cursor) query.set('cursor', o.cursor);
  const releases: ReleaseSummary[] = [];
  let nextCursor: string | undefined;
  do {
    if (nextCursor) query.set('cursor', nextCursor);
    const path = o.env ? environmentReleasesPath(o.env) : '/releases';
    const body = await call(connection, 'GET', `${path}${query.size > 0 ? `?${query}` : ''}`);
    releases.push(...((body.releases as ReleaseSummary[]) ?? []));
    nextCursor = typeof body.nextCursor === 'string' ? body.nextCursor : undefined;
  } while (o.all && nextCursor);
  if (run.out.json) {
    run.out.data({ releases, ...(nextCursor ? { nextCursor } : {}) });
    return EXIT.ok;
  }
  for (const line of releaseTable(run.out, releases, connection.local)) run.out.line(line);
  if (nextCursor) run.out.line(`more: --cursor ${nextCursor}`);
  return EXIT.ok;
}

async function show(run: Run, releaseId: string, o: { members?: boolean }): Promise<number> {
  const connection = run.connect();
  const detail = await detailOf(connection, releaseId);
  if (run.out.json) run.out.data(detail);
  else {
    const link = connection.consoleLink(releaseId, detail.consoleUrl);
    const lines = detailLines(run.out, detail, link, connection.local, { allMembers: o.members === true });
    for (const line of lines) run.out.line(line);
  }
  return EXIT.ok;
}

/** A POST on one release; prints the answer (or its JSON). */
async function act(
  run: Run,
  releaseId: string,
  action: string,
  body: Record<string, unknown>,
  done: (r: Record<string, unknown>, connection: Connection) => string,
): Promise<number> {
  const connection = run.connect();
  const r = await call(connection, 'POST', await releaseActionPath(connection, releaseId, action), body);
  if (run.out.json) run.out.data(r);
  else run.out.line(done(r, connection));
  return EXIT.ok;
}

interface PromoteOptions {
  readonly full?: boolean;
  readonly to?: string;
  readonly next?: boolean;
  readonly reason?: string;
  readonly acceptWarnings?: boolean;
}

function fastForward(run: Run, releaseId: string, reason: string | undefined, spelling: string): Promise<number> {
  if (!reason) throw new UsageError(`${spelling} needs --reason TEXT (it is recorded with the release)`);
  return act(
    run,
    releaseId,
    'fast-forward',
    { reason },
    (r) => `Fast-forward requested for ${String(r.releaseId)}: ${String(r.message)}`,
  );
}

/** Where `--next` promotes to: the release's environment's `promotesTo` (the API refuses any other). */
async function nextEnvironment(connection: Connection, releaseId: string): Promise<string> {
  const from = environmentNamed(await environmentOfRelease(connection, releaseId));
  if (!from.promotesTo) throw new CliFailure(`${from.name} promotes to no other environment`, EXIT.conflict);
  return from.promotesTo;
}

async function promote(run: Run, releaseId: string, o: PromoteOptions): Promise<number> {
  if (o.full && (o.to || o.next)) throw new UsageError('promote takes --full (skip the bake) or --to ENV, not both');
  if (o.to || o.next) {
    const connection = run.connect();
    const target = o.to ?? (await nextEnvironment(connection, releaseId));
    const r = await call(connection, 'POST', promotionPath(target, releaseId), {
      ...(o.reason ? { reason: o.reason } : {}),
      ...(o.acceptWarnings ? { acceptWarnings: true } : {}),
    });
    if (run.out.json) run.out.data(r);
    else {
      run.out.line(
        `${r.replayed ? 'Already promoted' : 'Promoted'} ${releaseId} to ${String(r.environment)}: release ${String(r.releaseId)}\n  console: ${connection.consoleLink(String(r.releaseId), r.consoleUrl)}`,
      );
    }
    return EXIT.ok;
  }
  if (!o.full && !run.out.json) {
    run.out.error(
      'note: `promote` without --full or --to is the old spelling of `promote --full`; it stays for one release',
    );
  }
  return fastForward(run, releaseId, o.reason, 'promote --full');
}

export function registerReleaseCommands(program: Command, bind: Bind): void {
  const release = program
    .command('release')
    .description('start, follow and steer releases through the release API (--local: switchyard local serve)');

  release
    .command('start')
    .description('start a release of an image (by digest or tag) into an environment')
    .addOption(environmentOption().makeOptionMandatory())
    .option('--digest <sha256:…>', 'the image digest to release')
    .option('--tag <tag>', 'an image tag, resolved to its digest once')
    .addOption(strategyOption())
    .option('--idempotency-key <key>', 'the same key always names the same release')
    .option('--reason <text>', 'why, recorded with the release')
    .option('--watch', 'follow the release until it ends (exit code = outcome)')
    .addOption(intervalOption())
    .addOption(timeoutOption())
    .action(bind((run, _args, o: StartOptions) => start(run, o)));

  release
    .command('list')
    .description('releases, newest first')
    .addOption(environmentOption())
    .addOption(statusOption())
    .addOption(new Option('--limit <n>', 'page size').argParser(decimal('limit', 1, 100, 'integer')))
    .option('--cursor <cursor>', 'the next page (printed after a page)')
    .option('--all', 'follow every page')
    .action(bind((run, _args, o: ListOptions) => list(run, o)));

  release
    .command('show')
    .description("a release: versions, step, bake, a fleet's members, last check, states and history")
    .argument('<release-id>')
    .option(
      '--members',
      `a fleet's every member, one row each (above ${FLEET_GRID_ROWS} members only those that need a look are listed)`,
    )
    .action(bind((run, [releaseId], o: { members?: boolean }) => show(run, releaseId ?? '', o)));

  release
    .command('watch')
    .description('follow a release live until it ends; exits with its outcome')
    .argument('<release-id>')
    .addOption(intervalOption())
    .addOption(timeoutOption())
    .action(bind((run, [releaseId], o: WatchOptions) => watchRelease(run, releaseId ?? '', o)));

  release
    .command('approve')
    .description('approve a release waiting at "Await approval"')
    .argument('<release-id>')
    .option('--comment <text>', 'recorded with the approval')
    .addOption(new Option('--reason <text>', 'old spelling of --comment').hideHelp())
    .action(
      bind((run, [releaseId], o: { comment?: string; reason?: string }) => {
        const comment = o.comment ?? o.reason;
        return act(
          run,
          releaseId ?? '',
          'approve',
          comment ? { comment } : {},
          (r) => `Approved ${String(r.releaseId)}: traffic moves next`,
        );
      }),
    );

  release
    .command('reject')
    .description('reject a release waiting for approval: it fails before traffic moves')
    .argument('<release-id>')
    .requiredOption('--reason <text>', 'recorded with the rejection')
    .action(
      bind((run, [releaseId], o: { reason: string }) =>
        act(
          run,
          releaseId ?? '',
          'reject',
          { reason: o.reason },
          (r) => `Rejected ${String(r.releaseId)}: the release fails before traffic moves`,
        ),
      ),
    );

  release
    .command('promote')
    .description(
      '--full: skip the rest of the bake and steps; --to ENV: release the same digest into the next environment',
    )
    .argument('<release-id>')
    .option('--full', 'skip the remaining bake and steps (unless the next check finds it unhealthy)')
    .addOption(environmentOption('--to <env>', 'the next environment (the one this environment promotes to)'))
    .addOption(new Option('--next', 'old spelling of --to <the next environment>').hideHelp())
    .option('--reason <text>', 'recorded with the release (required with --full)')
    .option('--accept-warnings', 'promote a release that went live with warnings')
    .action(bind((run, [releaseId], o: PromoteOptions) => promote(run, releaseId ?? '', o)));

  release
    .command('fast-forward')
    .description('skip the rest of the bake and steps: the same as promote --full')
    .argument('<release-id>')
    .requiredOption('--reason <text>', 'recorded with the release')
    .action(
      bind((run, [releaseId], o: { reason: string }) => fastForward(run, releaseId ?? '', o.reason, 'fast-forward')),
    );

  release
    .command('retry')
    .description(
      'a new release of the same digest into the same environment, for one that failed, rolled back or was aborted',
    )
    .argument('<release-id>')
    .option('--reason <text>', 'recorded with the new release')
    .option('--watch', 'follow the new release until it ends (exit code = outcome)')
    .addOption(intervalOption())
    .addOption(timeoutOption())
    .action(
      bind(async (run, [releaseId], o: { reason?: string; watch?: boolean } & WatchOptions) => {
        const connection = run.connect();
        const path = await releaseActionPath(connection, releaseId ?? '', 'retry');
        const r = await call(connection, 'POST', path, o.reason ? { reason: o.reason } : {});
        const retryId = String(r.releaseId);
        if (run.out.json && !o.watch) run.out.data(r);
        else if (!run.out.json) {
          run.out.line(`${r.replayed ? 'Already retried' : 'Retried'} ${releaseId} as release ${retryId}`);
          run.out.line(`  console: ${connection.consoleLink(retryId, r.consoleUrl)}`);
        }
        return o.watch ? watchRelease(run, retryId, o) : EXIT.ok;
      }),
    );

  release
    .command('pause')
    .description('hold a baking release: checks go on (an unhealthy one still rolls back), the step does not advance')
    .argument('<release-id>')
    .option('--reason <text>', 'recorded with the release')
    .action(
      bind((run, [releaseId], o: { reason?: string }) =>
        act(
          run,
          releaseId ?? '',
          'pause',
          o.reason ? { reason: o.reason } : {},
          (r, connection) =>
            `Paused ${String(r.releaseId)}: the bake holds; rolled back at ${clockTime(String(r.rollsBackAfter), connection.local)} unless resumed (switchyard release resume ${String(r.releaseId)})`,
        ),
      ),
    );

  release
    .command('resume')
    .description('let a paused release bake on from where it was held')
    .argument('<release-id>')
    .action(
      bind((run, [releaseId]) =>
        act(
          run,
          releaseId ?? '',
          'resume',
          {},
          (r) =>
            `Resumed ${String(r.releaseId)} after ${Math.round(Number(r.pausedSeconds) / 60)} min paused: the bake goes on`,
        ),
      ),
    );

  release
    .command('abort')
    .description('stop a release; live goes back to the verified version')
    .argument('<release-id>')
    .option('--reason <text>', 'recorded with the release')
    .action(
      bind((run, [releaseId], o: { reason?: string }) =>
        act(
          run,
          releaseId ?? '',
          'abort',
          o.reason ? { reason: o.reason } : {},
          (r) => `Aborted ${String(r.releaseId)}: ${String(r.message)}`,
        ),
      ),
    );
}
