import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import type { EnvironmentName } from '../../config/schema.ts';
import { DEFAULT_LOCAL_PORT, dataDirFrom } from '../../local/local-defaults.ts';
import { call } from '../api-calls.ts';
import type { Run } from '../context.ts';
import { CliFailure, EXIT } from '../exit-codes.ts';
import {
  dataDirOption,
  decimal,
  ENVIRONMENT_NAMES,
  environmentOption,
  type FaultFlags,
  faultFrom,
  faultOptions,
  rateOption,
  speedupOption,
  statusOption,
  withOptions,
} from '../options.ts';
import { releaseTable } from '../release-render.ts';
import type { Bind } from './binding.ts';
import { registerRehearse } from './rehearse.ts';

interface ServeOptions {
  readonly port: number;
  readonly dataDir?: string;
  readonly speedup?: number;
  readonly rate?: number;
  readonly envs?: string;
}

async function serve(run: Run, o: ServeOptions): Promise<number> {
  const { SwitchyardServer } = await import('../../local/switchyard-server.ts');
  const { openLocalRuntime } = await import('../../wiring/local.ts');
  const envs = o.envs
    ?.split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const unknown = envs?.filter((e) => !ENVIRONMENT_NAMES.includes(e)) ?? [];
  if (unknown.length > 0) {
    throw new CliFailure(
      `--envs: unknown environment "${unknown[0]}": use ${ENVIRONMENT_NAMES.join(', ')}`,
      EXIT.usage,
    );
  }
  const server = new SwitchyardServer(
    {
      port: o.port,
      ...(o.speedup !== undefined ? { speedup: o.speedup } : {}),
      ...(o.rate !== undefined ? { ratePerSecond: o.rate } : {}),
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...(envs ? { environments: envs as EnvironmentName[] } : {}),
      print: (line) => run.out.line(line),
    },
    openLocalRuntime,
  );
  let url: string;
  try {
    url = await server.start();
  } catch (error) {
    await server.stop();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliFailure(
        `port ${o.port} on 127.0.0.1 is in use (another switchyard local serve?): stop it or pass --port`,
        EXIT.unavailable,
      );
    }
    throw error;
  }
  run.out.line(run.out.c.bold(`Switchyard local console and release API on ${url}`));
  const api = o.port === DEFAULT_LOCAL_PORT ? '' : ` --api ${url}`;
  // The CLI reads the server's per-start token from the data directory, so a non-default one is passed on.
  const data = o.dataDir ? `SWITCHYARD_DATA_DIR=${o.dataDir} ` : '';
  run.out.line(`  try: ${data}npx switchyard local push${api} && ${data}npx switchyard status --local${api}`);
  await (run.io.interrupted?.() ?? new Promise(() => undefined));
  run.out.line('stopping…');
  await server.stop();
  return EXIT.ok;
}

async function push(run: Run, o: FaultFlags & { commit?: string }): Promise<number> {
  const connection = run.connect();
  const fault = faultFrom(o);
  const body = (await call(connection, 'POST', '/local/images', {
    ...(o.commit ? { commit: o.commit } : {}),
    ...(fault ? { fault } : {}),
  })) as unknown as {
    image: { repositoryName: string; digest: string; tag: string };
    releases: { releaseId: string }[];
  };
  if (run.out.json) {
    run.out.data(body);
    return EXIT.ok;
  }
  run.out.line(`Pushed ${body.image.repositoryName}@${body.image.digest} (${body.image.tag})`);
  for (const r of body.releases) {
    run.out.line(`  the push started release ${r.releaseId}: ${connection.consoleLink(r.releaseId, undefined)}`);
  }
  if (body.releases.length === 0) {
    run.out.line(
      `  no environment releases on push here; start one with: npx switchyard release start --local --env ENV --digest ${body.image.digest}`,
    );
  }
  return EXIT.ok;
}

interface HistoryOptions {
  readonly dataDir?: string;
  readonly env?: string;
  readonly status?: string;
  readonly limit: number;
}

async function history(run: Run, o: HistoryOptions): Promise<number> {
  const { SqliteReleaseStore } = await import('../../local/sqlite-release-store.ts');
  const dataDir = dataDirFrom(o.dataDir, run.io.env);
  if (!statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new CliFailure(
      `data directory ${dataDir} does not exist: pass the --data-dir a server or rehearsal used`,
      EXIT.notFound,
    );
  }
  const path = join(dataDir, 'releases.sqlite');
  // Reading only: a directory no server or rehearsal ever used gains no database.
  if (!existsSync(path)) {
    if (run.out.json) run.out.data({ releases: [] });
    else run.out.line(`no release history in ${dataDir}: no server or rehearsal has run there`);
    return EXIT.ok;
  }
  const store = new SqliteReleaseStore(path, { readOnly: true });
  try {
    const page = await store.listReleases({
      ...(o.env ? { environment: o.env } : {}),
      ...(o.status ? { status: o.status as never } : {}),
      limit: o.limit,
    });
    if (run.out.json) {
      run.out.data({ releases: page.releases.map(({ events, ...r }) => ({ ...r, events: events.length })) });
    } else for (const line of releaseTable(run.out, page.releases, true)) run.out.line(line);
    return EXIT.ok;
  } finally {
    store.close();
  }
}

export function registerLocalCommands(program: Command, bind: Bind): void {
  const local = program.command('local').description('the local runtime: serve, push builds, rehearse, read history');

  local
    .command('serve')
    .description('the local console, release API, gateways and load on 127.0.0.1 (Ctrl-C stops it)')
    .addOption(
      new Option('--port <n>', '0 picks a free port')
        .argParser(decimal('port', 0, 65535, 'integer'))
        .default(DEFAULT_LOCAL_PORT),
    )
    .addOption(dataDirOption())
    .addOption(speedupOption())
    .addOption(rateOption('load requests per second per environment (default: enough for every minimum-calls rule)'))
    .option('--envs <list>', `environments to set up, comma-separated (default ${ENVIRONMENT_NAMES.join(',')})`)
    .action(bind((run, _args, o: ServeOptions) => serve(run, o)));

  withOptions(
    local
      .command('push')
      .description('build the app and push it to the local registry (environments that release on push start one)'),
    faultOptions(),
  )
    .option('--commit <id>', 'the commit the build is tagged with')
    .action(bind((run, _args, o: FaultFlags & { commit?: string }) => push(run, o)));

  local
    .command('releases')
    .description('the release history of a data directory, read directly (no server needed)')
    .addOption(dataDirOption())
    .addOption(environmentOption())
    .addOption(statusOption())
    .addOption(new Option('--limit <n>', 'how many').argParser(decimal('limit', 1, 100, 'integer')).default(20))
    .action(bind((run, _args, o: HistoryOptions) => history(run, o)));

  registerRehearse(local, bind);
}
