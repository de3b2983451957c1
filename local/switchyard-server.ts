import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { ImageTagAlreadyExists } from '../adapters/memory/memory-registry.ts';
import { type ProxyResult, releaseApiHandler } from '../api/release-api.ts';
import { FaultOptionsSchema } from '../app/build.ts';
import { environmentNamed, lockKey } from '../config/environments.ts';
import type { EnvironmentName } from '../config/schema.ts';
import { type GraphLayout, layoutStateMachine } from '../console/graph-layout.ts';
import type { Notification } from '../core/ports/ports.ts';
import type { AslDefinition } from '../state-machine/synthesize.ts';
import { ensureApiToken, refuseForeignRequest } from './api-token.ts';
import { cachedServiceDefinition } from './cached-service-definition.ts';
import { ConsoleSessions, LOGIN_PATH } from './console-session.ts';
import { type LocalGateway, proxyEventFor, readBody } from './gateway.ts';
import { LoadGenerator } from './load-generator.ts';
import { IDLE_RATE, type LoadPlan, loadPlan } from './load-plan.ts';
import { DEFAULT_LOCAL_PORT, DEFAULT_SPEEDUP } from './local-defaults.ts';
import type { LocalImage } from './local-registry.ts';
import { ExecutionLog, LocalReleaseOperations } from './local-release-operations.ts';
import type { LocalRuntime, OpenLocalRuntime } from './runtime.ts';

const CONSOLE_DIR = resolve(fileURLToPath(new URL('../console', import.meta.url)));
const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/console/app.js': 'app.js',
  '/console/style.css': 'style.css',
  '/console/insights': 'insights.html',
  '/console/insights.js': 'insights.js',
  // The insights page's charts: Chart.js from npm, served as its own UMD build.
  '/console/vendor/chart.umd.min.js': '../node_modules/chart.js/dist/chart.umd.min.js',
};
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

export interface ServeOptions {
  /** @default DEFAULT_LOCAL_PORT (local-defaults.ts); 0 picks a free port */
  readonly port?: number;
  readonly dataDir?: string;
  /** Virtual seconds per real second. @default 60 */
  readonly speedup?: number;
  /**
   * A fixed load (requests per real second) for every environment. By default each environment idles at a couple of
   * requests per second and gets its load plan's rate while a release runs there (`local/load-plan.ts`).
   */
  readonly ratePerSecond?: number;
  /** Environments set up with a first version, a gateway and load. @default every configured one */
  readonly environments?: readonly EnvironmentName[];
  /** @default the service stack's synthesized definition (what AWS runs) */
  readonly definition?: AslDefinition;
  readonly print?: (line: string) => void;
}

/** A build for `local push` and the console's start button; faults are for rehearsals only. */
const PushBody = z.strictObject({
  commit: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,40}$/)
    .optional(),
  fault: FaultOptionsSchema.optional(),
  /** Send ECR's push event to the local event rules (environments that release on push start a release). */
  emitPushEvent: z.boolean().default(true),
});

/** The release API's and the console's bodies are small; anything larger is refused unread. */
const MAX_BODY_BYTES = 1024 * 1024;

function send(res: ServerResponse, result: ProxyResult): void {
  res.writeHead(result.statusCode, result.headers).end(result.body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, { statusCode: status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/**
 * `switchyard local serve`: the local runtime (approvals answered by people), the release API handler behind a
 * small HTTP adapter that turns requests into the same REST proxy events API Gateway sends, a gateway and a modest
 * load generator per environment so bakes see traffic, and the console page — all on 127.0.0.1.
 */
export class SwitchyardServer {
  readonly log = new ExecutionLog();
  runtime: LocalRuntime | undefined;
  ops: LocalReleaseOperations | undefined;
  definition: AslDefinition | undefined;
  /** The graph's layout, computed once by the layout engine. */
  private layout: Promise<GraphLayout> | undefined;
  private server: Server | undefined;
  private readonly gateways: LocalGateway[] = [];
  private readonly loads = new Map<string, LoadGenerator>();
  private readonly plans = new Map<string, LoadPlan>();
  private loadTimer: NodeJS.Timeout | undefined;
  private readonly sse = new Set<ServerResponse>();
  private stopping = false;
  private readonly notifications: Notification[] = [];
  /** This start's token: the CLI reads it from the data directory (the console never sees it). */
  private token = '';
  /** The console's sessions, opened through one-time login links printed to this server's terminal. */
  private readonly sessions = new ConsoleSessions();
  private port = 0;
  private baseUrl = '';

  constructor(
    private readonly options: ServeOptions,
    /** The local composition root's runtime (wiring/local.ts). */
    private readonly openRuntime: OpenLocalRuntime,
  ) {}

  async start(): Promise<string> {
    const print = this.options.print ?? (() => undefined);
    this.definition = this.options.definition ?? cachedServiceDefinition();
    const runtime = this.openRuntime({
      ...(this.options.dataDir ? { dataDir: this.options.dataDir } : {}),
      speedup: this.options.speedup ?? DEFAULT_SPEEDUP,
      definition: this.definition,
      approvals: 'manual',
      resume: true,
      onEvent: (id, event) => this.log.record(id, event),
      onNotification: (n) => {
        this.notifications.push(n);
        print(`✉ ${n.subject}`);
      },
    });
    this.runtime = runtime;
    this.token = ensureApiToken(runtime.dataDir);
    this.ops = new LocalReleaseOperations(runtime, this.log);
    const leftovers = await runtime.reconcileLeftovers();
    if (leftovers.length > 0) print(`reconciled releases an earlier run left behind: ${leftovers.join(', ')}`);

    const names = this.options.environments ?? (Object.keys(runtime.environments) as EnvironmentName[]);
    const repositoryName = environmentNamed(names[0] ?? 'dev', runtime.environments).repositoryName;
    // The base build keeps its tag across restarts; a changed app/ gets a tag of its own (tags are immutable).
    const base = await runtime.registry.build(repositoryName, { commit: 'local-base' }).catch((error: unknown) => {
      if (!(error instanceof ImageTagAlreadyExists)) throw error;
      return runtime.registry.build(repositoryName, { commit: `local-base-${Date.now().toString(36)}` });
    });
    for (const name of names) {
      const env = environmentNamed(name, runtime.environments);
      const version = (await runtime.bootstrap(env.name, base))[env.functionName];
      const gateway = runtime.gatewayFor(env.name);
      const url = await gateway.start();
      runtime.openGreenStage(env.name, url);
      this.gateways.push(gateway);
      const plan = loadPlan(env, runtime.clock.speedup);
      this.plans.set(env.name, plan);
      this.startLoad(env.name, url);
      print(`${env.name}: ${env.functionName}:${version} live behind ${url}`);
      print(`  ${this.describeLoad(plan)}`);
    }
    if (this.options.ratePerSecond === undefined) {
      this.loadTimer = setInterval(() => void this.followReleases(), 1000).unref();
    }
    this.log.subscribe((change) => this.broadcast(change));

    const handle = releaseApiHandler(this.ops);
    this.server = createServer((req, res) => {
      this.route(req, res, handle).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { message: error instanceof Error ? error.message : String(error) });
      });
    });
    const port = this.options.port ?? DEFAULT_LOCAL_PORT;
    await new Promise<void>((ok, fail) => {
      this.server?.once('error', fail);
      this.server?.listen(port, '127.0.0.1', ok);
    });
    const { port: bound } = this.server.address() as AddressInfo;
    this.port = bound;
    this.baseUrl = `http://127.0.0.1:${bound}`;
    print(this.loginLine());
    return this.baseUrl;
  }

  /**
   * The one-time link that opens a console session in a browser. Printed to this server's terminal only (its user
   * alone sees it), and again, fresh, each time one is used.
   */
  get loginUrl(): string {
    return this.sessions.loginUrl(this.baseUrl);
  }

  private loginLine(): string {
    return `console: open ${this.loginUrl} (one use: it sets a session cookie; a new link is printed when it is used)`;
  }

  /** What load an environment gets, and why: printed at start so a quiet bake is never a mystery. */
  private describeLoad(plan: LoadPlan): string {
    const fixed = this.options.ratePerSecond;
    const why = `${plan.releaseRate} req/s while it releases (${plan.reason})`;
    if (fixed === undefined) return `load: ${plan.idleRate} req/s idle, ${why}`;
    const short = fixed < plan.releaseRate ? `; its releases need ${why} and may end with insufficient data` : '';
    return `load: ${fixed} req/s (--rate)${short}`;
  }

  /** Each environment's load follows its lock: the release rate while a release holds it, idle otherwise. */
  private async followReleases(): Promise<void> {
    const runtime = this.runtime;
    if (!runtime || this.stopping) return;
    const now = runtime.clock.now().getTime();
    for (const [name, plan] of this.plans) {
      const env = environmentNamed(name, runtime.environments);
      const lock = await runtime.store.getLock(lockKey(env)).catch(() => undefined);
      const releasing = lock !== undefined && Date.parse(lock.expiresAt) > now;
      this.loads.get(name)?.setRate(releasing ? plan.releaseRate : plan.idleRate);
    }
  }

  /** Steady signed traffic for an environment, restarted whenever the generator reaches its bounds. */
  private startLoad(environment: string, baseUrl: string): void {
    if (this.stopping || !this.runtime) return;
    const plan = this.plans.get(environment);
    const fixed = this.options.ratePerSecond;
    const load = new LoadGenerator({
      baseUrl,
      signer: this.runtime.loadSigner,
      ratePerSecond: fixed ?? plan?.idleRate ?? IDLE_RATE,
      maxDurationMs: 10 * 60_000,
      maxRequests: (fixed ?? plan?.releaseRate ?? IDLE_RATE) * 600,
      maxInFlight: 16,
    });
    this.loads.set(environment, load);
    load.start();
    void (async () => {
      await new Promise((r) => setTimeout(r, 10 * 60_000 + 1000).unref());
      if (!this.stopping) this.startLoad(environment, baseUrl);
    })();
  }

  private broadcast(change: unknown): void {
    const data = `data: ${JSON.stringify(change)}\n\n`;
    for (const res of this.sse) res.write(data);
  }

  private async route(req: IncomingMessage, res: ServerResponse, handle: (event: unknown) => Promise<ProxyResult>) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const refusal = refuseForeignRequest(
      { method, path: url.pathname, headers: req.headers },
      this.port,
      this.token,
      this.sessions.holds(req.headers.cookie),
    );
    if (refusal) {
      req.resume();
      sendJson(res, refusal.status, { message: refusal.message });
      return;
    }
    if (method === 'GET' && url.pathname === LOGIN_PATH) {
      this.login(url.searchParams.get('code'), res);
      return;
    }
    const file = STATIC[url.pathname];
    if (method === 'GET' && file) {
      // Static files only: the page holds no token, its calls ride on the session cookie.
      const body = await readFile(join(CONSOLE_DIR, file));
      res.writeHead(200, { 'content-type': `${TYPES[extname(file)] ?? 'text/plain'}; charset=utf-8` }).end(body);
      return;
    }
    if (method === 'GET' && url.pathname === '/local/graph') {
      this.layout ??= layoutStateMachine(this.definition ?? { StartAt: '', States: {} });
      sendJson(res, 200, await this.layout);
      return;
    }
    if (method === 'GET' && url.pathname === '/local/info') {
      sendJson(res, 200, await this.info());
      return;
    }
    if (method === 'GET' && url.pathname === '/local/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write('retry: 1000\n\n');
      this.sse.add(res);
      req.on('close', () => this.sse.delete(res));
      return;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) {
      sendJson(res, 413, { message: `request bodies are limited to ${MAX_BODY_BYTES} bytes` });
      return;
    }
    if (method === 'POST' && url.pathname === '/local/images') {
      await this.push(body, res);
      return;
    }
    if (url.pathname.startsWith('/local/')) {
      sendJson(res, 404, { message: `no route ${url.pathname}` });
      return;
    }
    const event = proxyEventFor(req, body);
    // IAM authorization's caller, locally: the user the server runs as (the only one holding its token), never a
    // name a request brings along.
    const identity = (event.requestContext as { identity: Record<string, unknown> }).identity;
    identity.userArn = `local:${userInfo().username}`;
    send(res, await handle(event));
  }

  /** Trades a login link's one-time code for a session cookie and sends the browser on to the console. */
  private login(code: string | null, res: ServerResponse): void {
    const session = this.sessions.exchange(code);
    if (!session) {
      sendJson(res, 403, {
        message: 'this login link is wrong or was already used: open the newest one `switchyard local serve` printed',
      });
      return;
    }
    // The code is spent: the terminal gets the next one, for another browser or a later visit.
    this.options.print?.(this.loginLine());
    res.writeHead(303, { location: '/', 'set-cookie': this.sessions.cookie(session), 'cache-control': 'no-store' });
    res.end();
  }

  private async push(raw: string, res: ServerResponse): Promise<void> {
    const runtime = this.runtime;
    if (!runtime || !this.ops) throw new Error('the server has not started');
    let value: unknown = {};
    try {
      value = raw.trim() ? JSON.parse(raw) : {};
    } catch {
      sendJson(res, 400, {
        message: 'the request body is not valid JSON',
        errors: [{ field: '(body)', message: 'not valid JSON' }],
      });
      return;
    }
    const parsed = PushBody.safeParse(value);
    if (!parsed.success) {
      sendJson(res, 400, {
        message: 'invalid request body',
        errors: parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message })),
      });
      return;
    }
    const body = parsed.data;
    const repositoryName = Object.values(runtime.environments)[0]?.repositoryName ?? 'switchyard-api';
    let image: LocalImage;
    try {
      image = await runtime.registry.build(repositoryName, {
        commit: body.commit ?? `local-${Date.now().toString(36)}`,
        ...(body.fault ? { fault: body.fault } : {}),
      });
    } catch (error) {
      if (!(error instanceof ImageTagAlreadyExists)) throw error;
      sendJson(res, 409, { message: error.message, errors: [{ field: 'commit', message: error.message }] });
      return;
    }
    const releases = body.emitPushEvent
      ? runtime.onImageEvent(runtime.registry.pushEvent(image, runtime.clock.now()))
      : [];
    for (const started of releases) this.ops.track(started);
    sendJson(res, 201, {
      image,
      releases: releases.map((r) => ({ releaseId: r.releaseId, executionArn: r.executionArn })),
    });
  }

  private async info() {
    const runtime = this.runtime;
    if (!runtime) return {};
    const environments = [];
    for (const env of Object.values(runtime.environments)) {
      if (!runtime.functions.hasFunction(env.functionName)) continue;
      const live = await runtime.functions.getAlias(env.functionName, env.aliases.live);
      environments.push({
        name: env.name,
        functionName: env.functionName,
        live: live ?? null,
        strategy: env.strategy,
        approvalRequired: env.approvalRequired,
        promotesTo: env.promotesTo ?? null,
        health: env.health,
        load: {
          ratePerSecond: this.loads.get(env.name)?.ratePerSecond ?? null,
          plan: this.plans.get(env.name) ?? null,
        },
      });
    }
    return {
      speedup: runtime.clock.speedup,
      dataDir: runtime.dataDir,
      environments,
      notifications: this.notifications.slice(-20),
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.loadTimer);
    for (const res of this.sse) res.end();
    this.sse.clear();
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
    await Promise.all([...this.loads.values()].map((l) => l.stop()));
    for (const runtime of this.runtime ? [this.runtime] : []) {
      for (const id of runtime.executions.keys()) {
        if (this.log.view(id)?.status !== 'RUNNING') continue;
        await runtime.abort(id);
        await this.log.settled(id);
      }
    }
    await Promise.all(this.gateways.map((g) => g.stop()));
    await this.runtime?.close();
  }
}
