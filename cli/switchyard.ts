import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ReleaseDetail, ReleaseSummary } from '../api/release-view.ts';
import { STRATEGY_PRESETS, strategyPreset } from '../config/traffic-plan.ts';
import { DEFAULT_LOCAL_URL } from '../local/server-address.ts';
import { ApiClient, type ApiResponse, ApiUnreachable } from './api-client.ts';
import { decimalOption } from './option-values.ts';
import { sigV4Signer } from './sigv4.ts';

/** Exit codes: scripts branch on these (docs/operate.md lists them). */
export const EXIT = {
  ok: 0,
  rolledBack: 1,
  failed: 2,
  aborted: 3,
  notFound: 4,
  conflict: 5,
  usage: 64,
  rejectedRequest: 65,
  unavailable: 69,
  software: 70,
  notAuthorized: 77,
} as const;

export { DEFAULT_LOCAL_URL };

const USAGE = `Usage: switchyard <command> [options]

Releases (the release API; --local talks to \`switchyard local serve\` on ${DEFAULT_LOCAL_URL}):
  release start --env ENV (--digest sha256:… | --tag TAG) [--strategy all-at-once|canary|linear|JSON]
                [--idempotency-key KEY] [--reason TEXT] [--watch]
  release list [--env ENV] [--status running|released|rolled-back|failed|aborted] [--limit N] [--cursor C] [--all]
  release show ID
  release watch ID [--interval MS] [--timeout SECONDS]     follow the execution until it ends
  release approve ID [--comment TEXT]
  release reject ID --reason TEXT
  release promote ID --reason TEXT                          fast-forward: skip the rest of the bake
  release promote ID --next [--reason TEXT] [--accept-warnings]
                                                            release the same digest into the next environment
  release abort ID [--reason TEXT]                          stop it; live goes back to the verified version
  env rollback ENV --reason TEXT                            instant rollback of live to blue

Local runtime:
  local serve [--port N] [--data-dir DIR] [--speedup N] [--rate N] [--envs dev,staging,prod]
  local push [--fail-rate N] [--fail-after N] [--fail-health] [--latency-ms N] [--commit C]
  local releases [--data-dir DIR] [--env ENV] [--status S] [--limit N]   (reads the history; no server needed)

Options:
  --api URL     the release API's base URL (default $SWITCHYARD_API_URL); requests are SigV4-signed
  --local       use the local server (default ${DEFAULT_LOCAL_URL}, or --api)
  --json        machine-readable output
  --help

Exit codes: 0 ok / released, 1 rolled back, 2 release failed, 3 aborted, 4 not found, 5 conflict (environment busy,
nothing to approve, release not running), 64 usage, 65 request refused as invalid (400), 69 API unreachable or
failing, 70 internal error, 77 not authorized.`;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the user interrupts (Ctrl-C), for `local serve`. */
  readonly interrupted?: () => Promise<void>;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  interrupted: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
};

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  api: { type: 'string' },
  local: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  user: { type: 'string' },
  env: { type: 'string' },
  envs: { type: 'string' },
  digest: { type: 'string' },
  tag: { type: 'string' },
  strategy: { type: 'string' },
  'idempotency-key': { type: 'string' },
  reason: { type: 'string' },
  comment: { type: 'string' },
  watch: { type: 'boolean' },
  next: { type: 'boolean' },
  'accept-warnings': { type: 'boolean' },
  status: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  speedup: { type: 'string' },
  rate: { type: 'string' },
  'fail-rate': { type: 'string' },
  'fail-after': { type: 'string' },
  'fail-health': { type: 'boolean' },
  'latency-ms': { type: 'string' },
  commit: { type: 'string' },
} as const;

type Values = Partial<Record<keyof typeof OPTIONS, string | boolean>>;

function str(values: Values, name: keyof typeof OPTIONS): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function num(values: Values, name: keyof typeof OPTIONS, min: number, max: number): number | undefined {
  try {
    return decimalOption(name, str(values, name), min, max);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function required(values: Values, name: keyof typeof OPTIONS, what: string): string {
  const v = str(values, name);
  if (!v) throw new UsageError(`${what} needs --${name}`);
  return v;
}

function positional(args: string[], index: number, what: string): string {
  const v = args[index];
  if (!v) throw new UsageError(`missing ${what}`);
  return v;
}

function strategyOption(value: string | undefined): unknown {
  if (value === undefined || value === 'config') return undefined;
  if (value in STRATEGY_PRESETS) return strategyPreset(value);
  try {
    return JSON.parse(value);
  } catch {
    throw new UsageError(`--strategy must be config, all-at-once, canary, linear or a JSON strategy, not "${value}"`);
  }
}

const STATUS_TITLE: Record<string, string> = {
  starting: 'STARTING',
  running: 'RUNNING',
  released: 'RELEASED',
  'rolled-back': 'ROLLED BACK',
  failed: 'RELEASE FAILED',
  aborted: 'ABORTED',
};

/** The exit code a finished release stands for. */
export function outcomeExitCode(status: string): number {
  switch (status) {
    case 'released':
      return EXIT.ok;
    case 'rolled-back':
      return EXIT.rolledBack;
    case 'aborted':
      return EXIT.aborted;
    default:
      return EXIT.failed;
  }
}

/** The exit code of a refused or failed API call. */
export function statusExitCode(status: number): number {
  if (status === 400 || status === 422) return EXIT.rejectedRequest;
  if (status === 401 || status === 403) return EXIT.notAuthorized;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.software;
}

class Cli {
  constructor(
    private readonly io: CliIo,
    private readonly values: Values,
    private readonly client: () => ApiClient,
  ) {}

  private get json(): boolean {
    return this.values.json === true;
  }

  /** Prints an API refusal (with field errors) and returns its exit code. */
  private refused(response: ApiResponse): number {
    if (this.json) this.io.out(JSON.stringify({ status: response.status, ...response.body }, null, 2));
    else {
      this.io.err(`error ${response.status}: ${String(response.body.message ?? 'request failed')}`);
      for (const e of (response.body.errors as { field: string; message: string }[] | undefined) ?? []) {
        this.io.err(`  ${e.field}: ${e.message}`);
      }
      if (response.body.runningRelease) this.io.err(`  running release: ${String(response.body.runningRelease)}`);
    }
    return statusExitCode(response.status);
  }

  private async call(method: string, path: string, body?: unknown): Promise<ApiResponse | number> {
    const response = await this.client().request(method, path, body);
    return response.status >= 200 && response.status < 300 ? response : this.refused(response);
  }

  async start(): Promise<number> {
    const digest = str(this.values, 'digest');
    const tag = str(this.values, 'tag');
    if ((digest === undefined) === (tag === undefined))
      throw new UsageError('release start needs one of --digest or --tag');
    const strategy = strategyOption(str(this.values, 'strategy'));
    const body = {
      environment: required(this.values, 'env', 'release start'),
      ...(digest ? { imageDigest: digest } : { imageTag: tag }),
      ...(strategy ? { strategy } : {}),
      ...(str(this.values, 'idempotency-key') ? { idempotencyKey: str(this.values, 'idempotency-key') } : {}),
      ...(str(this.values, 'reason') ? { reason: str(this.values, 'reason') } : {}),
    };
    const response = await this.call('POST', '/releases', body);
    if (typeof response === 'number') return response;
    const r = response.body;
    if (this.values.watch) {
      if (!this.json) this.printStarted(r);
      return this.watch(String(r.releaseId));
    }
    if (this.json) this.io.out(JSON.stringify(r, null, 2));
    else this.printStarted(r);
    return EXIT.ok;
  }

  private printStarted(r: Record<string, unknown>): void {
    this.io.out(
      `${r.replayed ? 'Already started' : 'Started'} release ${String(r.releaseId)} in ${String(r.environment)}`,
    );
    this.io.out(`  execution: ${String(r.executionArn)}`);
    this.io.out(`  console:   ${String(r.consoleUrl)}`);
  }

  async list(): Promise<number> {
    const query = new URLSearchParams();
    for (const name of ['env', 'status', 'cursor'] as const) {
      const v = str(this.values, name);
      if (v !== undefined) query.set(name === 'env' ? 'environment' : name, v);
    }
    const limit = num(this.values, 'limit', 1, 100);
    if (limit !== undefined) query.set('limit', String(limit));
    const releases: ReleaseSummary[] = [];
    let nextCursor: string | undefined;
    do {
      if (nextCursor) query.set('cursor', nextCursor);
      const response = await this.call('GET', `/releases${query.size > 0 ? `?${query}` : ''}`);
      if (typeof response === 'number') return response;
      releases.push(...((response.body.releases as ReleaseSummary[]) ?? []));
      nextCursor = typeof response.body.nextCursor === 'string' ? response.body.nextCursor : undefined;
    } while (this.values.all && nextCursor);
    if (this.json) {
      this.io.out(JSON.stringify({ releases, ...(nextCursor ? { nextCursor } : {}) }, null, 2));
      return EXIT.ok;
    }
    this.printReleases(releases);
    if (nextCursor) this.io.out(`more: --cursor ${nextCursor}`);
    return EXIT.ok;
  }

  printReleases(
    releases: readonly Pick<ReleaseSummary, 'releaseId' | 'environment' | 'status' | 'startedAt' | 'digest'>[],
  ): void {
    if (releases.length === 0) {
      this.io.out('no releases');
      return;
    }
    this.io.out(`${'RELEASE'.padEnd(44)} ${'ENV'.padEnd(8)} ${'STATUS'.padEnd(12)} ${'STARTED'.padEnd(20)} DIGEST`);
    for (const r of releases) {
      this.io.out(
        `${r.releaseId.padEnd(44)} ${r.environment.padEnd(8)} ${r.status.padEnd(12)} ${r.startedAt.slice(0, 19).padEnd(20)} ${r.digest.slice(0, 19)}…`,
      );
    }
  }

  private async detail(releaseId: string): Promise<ReleaseDetail | number> {
    const response = await this.call('GET', `/releases/${encodeURIComponent(releaseId)}`);
    return typeof response === 'number' ? response : (response.body as unknown as ReleaseDetail);
  }

  async show(releaseId: string): Promise<number> {
    const detail = await this.detail(releaseId);
    if (typeof detail === 'number') return detail;
    if (this.json) {
      this.io.out(JSON.stringify(detail, null, 2));
      return EXIT.ok;
    }
    this.io.out(
      `${STATUS_TITLE[detail.status] ?? detail.status}: release ${detail.releaseId} in ${detail.environment}`,
    );
    if (detail.currentState) this.io.out(`  now in:  ${detail.currentState}`);
    if (detail.awaitingApproval)
      this.io.out(`  waiting for approval until ${detail.awaitingApproval.expiresAt ?? '?'}`);
    this.io.out(`  image:   ${detail.imageUri ?? detail.digest ?? 'unknown'}`);
    this.io.out(`  blue:    ${detail.blueVersion ?? 'none'}   green: ${detail.greenVersion ?? '—'}`);
    if (detail.reason) this.io.out(`  reason:  ${detail.reason}`);
    this.io.out(`  console: ${detail.consoleUrl}`);
    if (detail.steps.length > 0) {
      this.io.out('  steps:');
      for (const s of detail.steps) {
        const mark = s.outcome === 'succeeded' ? '✓' : s.outcome === 'failed' ? '✗' : '▶';
        this.io.out(
          `    ${mark} ${s.name}${s.retries > 0 ? ` (retried ${s.retries}×)` : ''}${s.error ? ` — ${s.error}` : ''}`,
        );
      }
    }
    this.io.out('  events:');
    for (const e of detail.events) this.io.out(`    ${e.at.slice(11, 19)} ${e.kind}: ${e.summary}`);
    return EXIT.ok;
  }

  /** Polls the release and prints each new state and event until it ends; exits with its outcome. */
  async watch(releaseId: string): Promise<number> {
    const interval = num(this.values, 'interval', 50, 60_000) ?? 1000;
    const timeoutSeconds = num(this.values, 'timeout', 1, 7 * 24 * 3600);
    const deadline = timeoutSeconds ? Date.now() + timeoutSeconds * 1000 : Number.POSITIVE_INFINITY;
    let printedSteps = 0;
    let printedEvents = 0;
    let approvalShown = false;
    for (;;) {
      const detail = await this.detail(releaseId);
      if (typeof detail === 'number') return detail;
      if (!this.json) {
        for (const step of detail.steps.slice(printedSteps)) {
          if (step.type === 'Task' || step.type === 'Succeed' || step.type === 'Fail') this.io.out(`  ▶ ${step.name}`);
        }
        printedSteps = detail.steps.length;
        for (const event of detail.events.slice(printedEvents)) this.io.out(`    · ${event.kind}: ${event.summary}`);
        printedEvents = detail.events.length;
        if (detail.awaitingApproval && !approvalShown) {
          this.io.out(`  ⏸ waiting for approval: switchyard release approve ${releaseId}`);
          approvalShown = true;
        }
      }
      const ended = detail.status !== 'running' && detail.status !== 'starting';
      if (ended) {
        if (this.json) this.io.out(JSON.stringify(detail, null, 2));
        else {
          this.io.out(
            `${STATUS_TITLE[detail.status] ?? detail.status}: release ${releaseId}${detail.reason ? ` — ${detail.reason}` : ''}`,
          );
        }
        return outcomeExitCode(detail.status);
      }
      if (Date.now() > deadline) {
        this.io.err(`release ${releaseId} is still ${detail.status} after ${timeoutSeconds} s`);
        return EXIT.unavailable;
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  }

  async action(
    releaseId: string,
    action: string,
    body: Record<string, unknown>,
    done: (r: Record<string, unknown>) => string,
  ) {
    const response = await this.call('POST', `/releases/${encodeURIComponent(releaseId)}/${action}`, body);
    if (typeof response === 'number') return response;
    this.io.out(this.json ? JSON.stringify(response.body, null, 2) : done(response.body));
    return EXIT.ok;
  }

  async rollback(environment: string): Promise<number> {
    const reason = required(this.values, 'reason', 'env rollback');
    const response = await this.call('POST', `/environments/${encodeURIComponent(environment)}/rollback`, { reason });
    if (typeof response === 'number') return response;
    const r = response.body;
    this.io.out(
      this.json ? JSON.stringify(r, null, 2) : `Rolled back ${environment}: live ${String(r.from)} → ${String(r.to)}`,
    );
    return EXIT.ok;
  }

  async push(): Promise<number> {
    const failRate = num(this.values, 'fail-rate', 0, 1);
    const latencyMs = num(this.values, 'latency-ms', 0, 60_000);
    const fault = {
      ...(failRate !== undefined
        ? { failRate, failAfterRequests: num(this.values, 'fail-after', 0, 1_000_000) ?? 20 }
        : {}),
      ...(this.values['fail-health'] ? { failHealth: true } : {}),
      ...(latencyMs !== undefined ? { latencyMs } : {}),
    };
    const response = await this.call('POST', '/local/images', {
      ...(str(this.values, 'commit') ? { commit: str(this.values, 'commit') } : {}),
      ...(Object.keys(fault).length > 0 ? { fault } : {}),
    });
    if (typeof response === 'number') return response;
    const body = response.body as {
      image: { repositoryName: string; digest: string; tag: string };
      releases: { releaseId: string }[];
    };
    if (this.json) this.io.out(JSON.stringify(body, null, 2));
    else {
      this.io.out(`Pushed ${body.image.repositoryName}@${body.image.digest} (${body.image.tag})`);
      for (const r of body.releases) this.io.out(`  the push started release ${r.releaseId}`);
      if (body.releases.length === 0)
        this.io.out('  no environment releases on push here; start one with: switchyard release start --local');
    }
    return EXIT.ok;
  }
}

async function localReleases(values: Values, io: CliIo): Promise<number> {
  const { SqliteReleaseStore } = await import('../local/sqlite-release-store.ts');
  const dataDir =
    str(values, 'data-dir') ??
    io.env.SWITCHYARD_DATA_DIR ??
    join(fileURLToPath(new URL('..', import.meta.url)), '.data');
  const store = new SqliteReleaseStore(join(dataDir, 'releases.sqlite'));
  try {
    const status = str(values, 'status');
    const page = await store.listReleases({
      ...(str(values, 'env') ? { environment: str(values, 'env') } : {}),
      ...(status ? { status: status as never } : {}),
      limit: num(values, 'limit', 1, 100) ?? 20,
    });
    if (values.json)
      io.out(
        JSON.stringify(
          { releases: page.releases.map(({ events, ...r }) => ({ ...r, events: events.length })) },
          null,
          2,
        ),
      );
    else new Cli(io, values, () => undefined as never).printReleases(page.releases);
    return EXIT.ok;
  } finally {
    store.close();
  }
}

async function serve(values: Values, io: CliIo): Promise<number> {
  const { SwitchyardServer } = await import('../local/switchyard-server.ts');
  const envs = str(values, 'envs')
    ?.split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const server = new SwitchyardServer({
    port: num(values, 'port', 0, 65535) ?? 4780,
    speedup: num(values, 'speedup', 1, 3600) ?? 60,
    ratePerSecond: num(values, 'rate', 1, 2000) ?? 40,
    ...(str(values, 'data-dir') ? { dataDir: str(values, 'data-dir') } : {}),
    ...(envs ? { environments: envs as never } : {}),
    print: (line) => io.out(line),
  });
  const url = await server.start();
  io.out(`Switchyard local console and release API on ${url}`);
  io.out(`  try: switchyard local push && switchyard release list --local`);
  await (io.interrupted?.() ?? new Promise(() => undefined));
  io.out('stopping…');
  await server.stop();
  return EXIT.ok;
}

/** Runs one command; returns its exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let values: Values;
  let args: string[];
  try {
    const parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    values = parsed.values as Values;
    args = parsed.positionals;
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.help || args.length === 0) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const local = values.local === true || args[0] === 'local';
  const client = () => {
    const base =
      str(values, 'api') ?? (local ? (io.env.SWITCHYARD_LOCAL_URL ?? DEFAULT_LOCAL_URL) : io.env.SWITCHYARD_API_URL);
    if (!base) throw new UsageError('no release API: pass --api URL, set SWITCHYARD_API_URL, or use --local');
    const user = str(values, 'user') ?? io.env.SWITCHYARD_USER;
    return new ApiClient({
      baseUrl: base,
      ...(local ? {} : { signer: sigV4Signer() }),
      ...(local && user ? { headers: { 'x-switchyard-user': user } } : {}),
    });
  };
  const cli = new Cli(io, values, client);
  const [group, command, id] = args;
  try {
    switch (`${group} ${command}`) {
      case 'release start':
        return await cli.start();
      case 'release list':
        return await cli.list();
      case 'release show':
        return await cli.show(positional(args, 2, 'release id'));
      case 'release watch':
        return await cli.watch(positional(args, 2, 'release id'));
      case 'release approve': {
        const comment = str(values, 'comment') ?? str(values, 'reason');
        return await cli.action(
          positional(args, 2, 'release id'),
          'approve',
          comment ? { comment } : {},
          (r) => `Approved ${String(r.releaseId)}: traffic moves next`,
        );
      }
      case 'release reject':
        return await cli.action(
          positional(args, 2, 'release id'),
          'reject',
          { reason: required(values, 'reason', 'release reject') },
          (r) => `Rejected ${String(r.releaseId)}: the release fails before traffic moves`,
        );
      case 'release promote':
        if (values.next) {
          const reason = str(values, 'reason');
          return await cli.action(
            positional(args, 2, 'release id'),
            'promote-to-next',
            { ...(reason ? { reason } : {}), ...(values['accept-warnings'] ? { acceptWarnings: true } : {}) },
            (r) =>
              `${r.replayed ? 'Already promoted' : 'Promoted'} ${id} to ${String(r.environment)}: release ${String(r.releaseId)}\n  console: ${String(r.consoleUrl)}`,
          );
        }
        return await cli.action(
          positional(args, 2, 'release id'),
          'promote',
          { reason: required(values, 'reason', 'release promote') },
          (r) => `Fast-forward requested for ${String(r.releaseId)}: ${String(r.message)}`,
        );
      case 'release abort': {
        const reason = str(values, 'reason');
        return await cli.action(
          positional(args, 2, 'release id'),
          'abort',
          reason ? { reason } : {},
          (r) => `Aborted ${String(r.releaseId)}: ${String(r.message)}`,
        );
      }
      case 'env rollback':
        return await cli.rollback(positional(args, 2, 'environment'));
      case 'local push':
        return await cli.push();
      case 'local releases':
        return await localReleases(values, io);
      case 'local serve':
        return await serve(values, io);
      default:
        throw new UsageError(`unknown command "${args.join(' ')}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\nRun switchyard --help for usage.`);
      return EXIT.usage;
    }
    if (error instanceof ApiUnreachable) {
      io.err(error.message);
      if (local) io.err('  is `switchyard local serve` running?');
      return EXIT.unavailable;
    }
    io.err(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return EXIT.software;
  }
}

function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(EXIT.software);
    },
  );
}
