/**
 * `npm run bench`: measures what the tests never time. Prints a table and writes the figures as JSON to
 * bench/results/ (latest.json plus a timestamped copy).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { SystemClock } from '../adapters/memory/clocks.ts';
import { MemoryFunctionVersions } from '../adapters/memory/memory-functions.ts';
import { MemoryVersionMetrics } from '../adapters/memory/memory-metrics.ts';
import { environmentNamed, trafficPlan } from '../config/environments.ts';
import { waveSizes } from '../config/fleet.ts';
import { synthesizeServiceDefinition } from '../infra/service-definition.ts';
import { LocalGateway } from '../local/gateway.ts';
import { LoadGenerator } from '../local/load-generator.ts';
import { REHEARSAL_SPEEDUP, rehearsalRate } from '../local/local-defaults.ts';
import { LocalLambda } from '../local/local-lambda.ts';
import { type RehearsalReport, rehearse } from '../local/rehearsal.ts';
import { buildHandlers } from '../scripts/build-handlers.ts';
import { openLocalRuntime } from '../wiring/local.ts';
import { benchApp } from './app.ts';
import {
  type AslState,
  aslStates,
  enteredStates,
  exampleWaves,
  LIMITS,
  largestPayload,
  metricCallsPerCheck,
  modelFleetRelease,
  releaseShape,
  runHistoryEvents,
  USD_PER_TRANSITION,
} from './fleet-scale.ts';
import { benchNonceStores } from './nonce-store.ts';
import { TransportFloor } from './transport-floor.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * The baseline of the rehearsal speed target: `npm start` as it ran before its defaults followed REHEARSAL_SPEEDUP,
 * prod at ×60 and 200 req/s. It runs with today's code, so set-up savings shorten it too: the ratio counts only
 * what separates today's `npm start` from that one.
 */
const NPM_START_BASELINE = { speedup: 60, ratePerSecond: 200 } as const;
/** What `npm start` runs today: prod, its canary plan and 10-minute bake, at the rehearsal's defaults. */
const NPM_START = { speedup: REHEARSAL_SPEEDUP, ratePerSecond: rehearsalRate(REHEARSAL_SPEEDUP) } as const;
const REHEARSAL_ROUNDS = 3;
const PROD_CHECK_SECONDS = environmentNamed('prod').bake.checkIntervalSeconds;

async function rehearsals(figures: Figure[]): Promise<void> {
  const dataDirs: string[] = [];
  const freshDataDir = () => {
    dataDirs.push(mkdtempSync(join(tmpdir(), 'switchyard-bench-')));
    return dataDirs.at(-1) as string;
  };
  try {
    // Interleaved rounds, each run on a fresh data directory: a busy moment on the shared machine hits both.
    const wall = { baseline: [] as number[], npmStart: [] as number[] };
    let happy: RehearsalReport | undefined;
    for (let round = 0; round < REHEARSAL_ROUNDS; round++) {
      for (const [key, settings] of [
        ['baseline', NPM_START_BASELINE],
        ['npmStart', NPM_START],
      ] as const) {
        const report = await rehearse({ environment: 'prod', ...settings, dataDir: freshDataDir() }, openLocalRuntime);
        if (report.outcome !== 'released') {
          throw new Error(`happy-path rehearsal (×${settings.speedup}) ended ${report.outcome}: ${report.reason}`);
        }
        wall[key].push(report.wallMs / 1000);
        if (key === 'npmStart') happy = report;
      }
    }
    if (!happy) throw new Error('no happy-path rehearsal ran');
    const [baseline, npmStart] = [median(wall.baseline), median(wall.npmStart)];
    figures.push({
      name: 'rehearsal wall time, happy path (npm start)',
      value: round(npmStart),
      unit: 's',
      note: `×${NPM_START.speedup}, ${NPM_START.ratePerSecond} req/s; median of ${REHEARSAL_ROUNDS}, min ${round(Math.min(...wall.npmStart))}`,
    });
    figures.push({
      name: 'rehearsal wall time, happy path (baseline: ×60, 200 req/s)',
      value: round(baseline),
      unit: 's',
      note: `median of ${REHEARSAL_ROUNDS}, min ${round(Math.min(...wall.baseline))}`,
    });
    figures.push({
      name: 'npm start rehearsal speedup over the baseline',
      value: round(baseline / npmStart),
      unit: '×',
      note: 'medians, interleaved in this run; target ≥ 1.5',
    });
    const checks = happy.result.events.filter((e) => e.type === 'StateEntered' && e.state === 'Check health').length;
    figures.push({
      name: 'state transitions per release',
      value: happy.stateTransitions,
      unit: 'transitions',
      note: `prod: 10% for 5 min + 100% for 10 min, a check every ${PROD_CHECK_SECONDS} s (${checks} checks); retries add more`,
    });
    figures.push({
      name: 'Step Functions cost per release',
      value: round(happy.stateTransitions * USD_PER_TRANSITION, 5),
      unit: 'USD',
      note: '$0.025 per 1,000 transitions (Standard)',
    });

    const rollback = await rehearse(
      { environment: 'prod', ...NPM_START, dataDir: freshDataDir(), fault: { failRate: 0.5, failAfterRequests: 20 } },
      openLocalRuntime,
    );
    if (rollback.outcome !== 'rolled-back') {
      throw new Error(`rollback rehearsal ended ${rollback.outcome}: ${rollback.reason}`);
    }
    figures.push({ name: 'rehearsal wall time, rollback path', value: round(rollback.wallMs / 1000), unit: 's' });
    figures.push({
      name: 'error onset to live restored',
      value: round(rollback.errorToRestoreSeconds ?? Number.NaN, 1),
      unit: 'virtual s',
      note: `first error the canary served → Roll back moved live to blue (check interval ${PROD_CHECK_SECONDS} s)`,
    });
    figures.push({
      name: 'canary share of live traffic before rollback',
      value: round(rollback.firstStepShare * 100, 1),
      unit: '%',
      note: `configured canary weight: 10%; highest in one virtual minute ${round(rollback.candidateMaxShare * 100, 1)}%`,
    });
  } finally {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
}

async function gatewayThroughput(figures: Figure[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const runtime = openLocalRuntime({ dataDir });
  const gateway = new LocalGateway({
    functions: runtime.functions,
    functionName: 'switchyard-api-prod',
    alias: 'live',
  });
  try {
    const image = await runtime.registry.build('switchyard-api', { commit: 'bench' });
    await runtime.bootstrap('prod', image);
    const baseUrl = await gateway.start();
    // Warm the version's worker first: a cold start is not throughput.
    for (let i = 0; i < 20; i++) await (await fetch(`${baseUrl}/version`)).arrayBuffer();
    const load = new LoadGenerator({
      baseUrl,
      signer: runtime.loadSigner,
      ratePerSecond: 2000,
      maxDurationMs: 5000,
      maxRequests: 10_000,
      maxInFlight: 32,
    });
    const report = await load.finished();
    const ok = Object.entries(report.byStatus)
      .filter(([status]) => status.startsWith('2'))
      .reduce((n, [, count]) => n + count, 0);
    figures.push({
      name: 'local gateway throughput (signed requests)',
      value: round(report.sent / (report.durationMs / 1000), 0),
      unit: 'req/s',
      note: `${ok} of ${report.sent} answered 2xx; 32 in flight`,
    });
    figures.push({ name: 'local gateway latency p50', value: round(percentile(report.latenciesMs, 50)), unit: 'ms' });
    figures.push({ name: 'local gateway latency p99', value: round(percentile(report.latenciesMs, 99)), unit: 'ms' });
  } finally {
    await gateway.stop();
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const run = promisify(execFile);
const median = (values: readonly number[]) => percentile(values, 50);

/** CPU µs this process spends per request while a client in another process sends `requests` to `baseUrl`. */
async function serverCpuPerRequest(baseUrl: string, requests: number): Promise<number> {
  const before = process.cpuUsage();
  const { stdout } = await run(process.execPath, [
    join(ROOT, 'bench', 'http-client.mjs'),
    `${baseUrl}/health`,
    String(requests),
    '8',
  ]);
  const used = process.cpuUsage(before);
  if (Number(stdout.trim()) !== requests) throw new Error(`only ${stdout.trim()} of ${requests} requests answered 2xx`);
  return (used.user + used.system) / requests;
}

/** The local gateway and Lambda in front of a function that answers at once: the gateway's own cost, no app's. */
async function gatewayOverNoopFunction(dir: string): Promise<{ gateway: LocalGateway; close: () => Promise<void> }> {
  const bundlePath = join(dir, 'noop.mjs');
  writeFileSync(
    bundlePath,
    `export const handler = async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' });\n`,
  );
  const lambda = new LocalLambda({
    imageFor: async () => ({ bundlePath, environment: {} }),
    metrics: new MemoryVersionMetrics(),
    clock: new SystemClock(),
    logFile: join(dir, 'noop.log'),
  });
  const functions = new MemoryFunctionVersions(lambda.invoker());
  functions.createFunction('noop');
  const { codeSha256 } = await functions.updateCodeAndWait('noop', `local/noop@sha256:${'0'.repeat(64)}`);
  const { version } = await functions.publishVersion('noop', 'bench', codeSha256);
  await functions.ensureAlias('noop', 'live', version);
  const gateway = new LocalGateway({ functions, functionName: 'noop', alias: 'live' });
  return { gateway, close: () => lambda.close() };
}

/**
 * CPU per request, warm and interleaved (5 rounds of 2000 each, the client in its own process), of: the local
 * gateway with the app (HTTP, event, worker hop, the app's /health handler with its log and EMF lines); the same
 * gateway in front of a function that answers at once (the gateway's own cost); and the transport floor (HTTP plus
 * one worker round trip, nothing else).
 */
async function gatewayCpu(figures: Figure[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const runtime = openLocalRuntime({ dataDir });
  const withApp = new LocalGateway({
    functions: runtime.functions,
    functionName: 'switchyard-api-prod',
    alias: 'live',
  });
  const noop = await gatewayOverNoopFunction(dataDir);
  const floor = new TransportFloor();
  try {
    const image = await runtime.registry.build('switchyard-api', { commit: 'bench' });
    await runtime.bootstrap('prod', image);
    const urls = { app: await withApp.start(), gateway: await noop.gateway.start(), floor: await floor.start() };
    const samples = { app: [] as number[], gateway: [] as number[], floor: [] as number[] };
    for (const url of Object.values(urls)) await serverCpuPerRequest(url, 500);
    for (let round = 0; round < 5; round++) {
      for (const key of ['app', 'gateway', 'floor'] as const)
        samples[key].push(await serverCpuPerRequest(urls[key], 2000));
    }
    const [app, gateway, transport] = [median(samples.app), median(samples.gateway), median(samples.floor)];
    figures.push({
      name: 'local gateway CPU per request, with the app (GET /health)',
      value: round(app, 0),
      unit: 'µs',
      note: `min ${round(Math.min(...samples.app), 0)}; includes the app's own handler, log and EMF`,
    });
    figures.push({
      name: 'local gateway CPU per request, function answering at once',
      value: round(gateway, 0),
      unit: 'µs',
      note: `min ${round(Math.min(...samples.gateway), 0)}`,
    });
    figures.push({
      name: 'transport floor CPU per request (http + one worker hop)',
      value: round(transport, 0),
      unit: 'µs',
      note: `min ${round(Math.min(...samples.floor), 0)}`,
    });
    figures.push({
      name: 'local gateway CPU ÷ transport floor',
      value: round(gateway / transport),
      unit: '×',
      note: 'target ≤ 2',
    });
    figures.push({ name: 'local gateway with the app ÷ transport floor', value: round(app / transport), unit: '×' });
  } finally {
    await withApp.stop();
    await noop.gateway.stop();
    await floor.stop();
    await noop.close();
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Milliseconds to import `file` in a fresh Node process (the module graph only, not Node's own start-up). */
/**
 * A fresh process imports `file`: wall time, and the process's CPU time over the import (less sensitive to the other
 * work on a shared machine, which stretches the wall time).
 */
async function coldImportMs(file: string): Promise<{ wall: number; cpu: number }> {
  const script = `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); const u = process.cpuUsage(c); process.stdout.write(JSON.stringify({ wall: performance.now() - t, cpu: (u.user + u.system) / 1000 }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, AWS_REGION: 'eu-west-1', POWERTOOLS_TRACE_ENABLED: 'false' },
  });
  return JSON.parse(stdout) as { wall: number; cpu: number };
}

/** A fresh process imports `file`, then times one call of its `firstRead` export: work deferred past the import. */
async function firstReadMs(file: string): Promise<number> {
  const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); const t = performance.now(); m.firstRead(); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
  return Number(stdout);
}

/** The AWS SDK packages a bundle leaves to the runtime (its `import … from "@aws-sdk/…"` lines). */
function sdkImportsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...new Set([...text.matchAll(/\bfrom\s*["'](@aws-sdk\/[\w-]+)["']/g)].map((m) => m[1] ?? ''))].sort();
}

const COLD_IMPORT_ROUNDS = 5;

/**
 * Each Lambda bundle as `npm run build` makes it: its size and its cold import (a fresh Node process per import,
 * COLD_IMPORT_ROUNDS rounds, min and median), beside an empty module and beside a module that imports only the AWS
 * SDK clients the bundle imports (the part of the cold import that the runtime's SDK costs, not the bundle's code).
 */
async function handlerBundles(figures: Figure[]): Promise<void> {
  // Inside the repository, so the bundles resolve the AWS SDK they leave out, as Lambda's runtime provides it.
  const out = mkdtempSync(join(ROOT, 'dist-bench-'));
  try {
    const built = await buildHandlers(join(out, 'handlers'));
    // The config is parsed at its first read, in a handler's first invocation, not at import: this bundle of the
    // config alone, bundled like a handler, shows what that first read costs, so the import figure hides nothing.
    const probe = join(out, 'config-first-read.ts');
    writeFileSync(
      probe,
      `import { environments } from ${JSON.stringify(join(ROOT, 'config', 'environments.ts'))};\nexport const firstRead = () => environments.prod;\n`,
    );
    const [configProbe] = await buildHandlers(join(out, 'probe'), [relative(ROOT, probe)]);
    const empty = join(out, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');
    const largest = built.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    figures.push({
      name: 'largest handler bundle',
      value: round(largest.bytes / 1024, 0),
      unit: 'KB',
      note: `${largest.name}; zod ${round((largest.packages.zod ?? 0) / 1024, 0)} KB of it; target ≤ 300`,
    });
    const sdkOnly = new Map<string, string>();
    for (const b of built) {
      const file = join(out, `${b.name}-sdk-only.mjs`);
      writeFileSync(
        file,
        sdkImportsOf(b.file)
          .map((pkg) => `import '${pkg}';\n`)
          .join('') || 'export {};\n',
      );
      sdkOnly.set(b.name, file);
    }
    // Interleaved rounds, one import at a time: a busy moment on the shared machine hits every file alike.
    const samples = new Map<string, number[]>([['(empty)', []]]);
    const record = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);
    const recordImport = (key: string, { wall, cpu }: { wall: number; cpu: number }) => {
      record(key, wall);
      record(`${key} cpu`, cpu);
    };
    for (let i = 0; i < COLD_IMPORT_ROUNDS; i++) {
      recordImport('(empty)', await coldImportMs(empty));
      if (configProbe) record('(config first read)', await firstReadMs(configProbe.file));
      for (const b of built) {
        recordImport(b.name, await coldImportMs(b.file));
        recordImport(`${b.name} (sdk)`, await coldImportMs(sdkOnly.get(b.name) ?? empty));
      }
    }
    const of = (key: string) => samples.get(key) ?? [];
    const slowest = built.map((b) => b.name).reduce((a, b) => (median(of(b)) > median(of(a)) ? b : a));
    figures.push({
      name: 'slowest handler cold import',
      value: round(median(of(slowest)), 0),
      unit: 'ms',
      note: `${slowest}, median of ${COLD_IMPORT_ROUNDS} fresh processes, min ${round(Math.min(...of(slowest)), 0)}, CPU median ${round(median(of(`${slowest} cpu`)), 0)}; target ≤ 150`,
    });
    const over = built.filter((b) => median(of(b.name)) > 150);
    figures.push({
      name: 'handlers whose cold import is over 150 ms',
      value: over.length,
      unit: `of ${built.length}`,
      note: built.map((b) => `${b.name} ${round(median(of(b.name)), 0)}`).join(', '),
    });
    figures.push({
      name: "its AWS SDK clients alone (the runtime's SDK)",
      value: round(median(of(`${slowest} (sdk)`)), 0),
      unit: 'ms',
      note: `${sdkImportsOf(built.find((b) => b.name === slowest)?.file ?? empty).join(', ')}; min ${round(Math.min(...of(`${slowest} (sdk)`)), 0)}, CPU median ${round(median(of(`${slowest} (sdk) cpu`)), 0)}`,
    });
    figures.push({
      name: 'empty module cold import',
      value: round(median(of('(empty)')), 1),
      unit: 'ms',
      note: `min ${round(Math.min(...of('(empty)')), 1)}`,
    });
    figures.push({
      name: "config's first read (deferred from import to the first invocation)",
      value: round(median(of('(config first read)')), 1),
      unit: 'ms',
      note: `builds the config's schemas and parses it; min ${round(Math.min(...of('(config first read)')), 1)}; paid once per cold start, by the first invocation that reads the config`,
    });
    const beyond = built.map((b) => ({ name: b.name, ms: median(of(b.name)) - median(of(`${b.name} (sdk)`)) }));
    const worst = beyond.reduce((a, b) => (b.ms > a.ms ? b : a));
    figures.push({
      name: 'largest cold import beyond its SDK clients (the bundle itself)',
      value: round(worst.ms, 0),
      unit: 'ms',
      note: `${worst.name}: median of the bundle − median of its SDK clients alone`,
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function synthesis(figures: Figure[]): void {
  const started = performance.now();
  synthesizeServiceDefinition();
  figures.push({
    name: 'service definition synthesis (in process, no bundling)',
    value: round((performance.now() - started) / 1000),
    unit: 's',
  });
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-synth-'));
  const cdkStarted = performance.now();
  try {
    execFileSync('npx', ['cdk', 'synth', '--quiet', '--output', outdir], { cwd: ROOT, stdio: 'ignore' });
    figures.push({
      name: 'npx cdk synth (offline, with esbuild bundling)',
      value: round((performance.now() - cdkStarted) / 1000),
      unit: 's',
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** One row of the fleet scale table (docs/fleet-bench.md). */
interface FleetScaleRow {
  readonly members: number;
  readonly waves: number;
  readonly transitions: number;
  readonly transitionsSource: 'measured' | 'modelled';
  /** The same release modelled from the single function's run (bench/fleet-scale.ts), as a check of the model. */
  readonly modelTransitions: number;
  readonly costUsd: number;
  readonly historyEvents: number;
  /** Counted from the states a local run entered, by the events AWS records for each; or modelled for N = 100. */
  readonly historyEventsSource: 'counted' | 'modelled';
  readonly metricSeriesPerCheck: number;
  readonly getMetricDataPerCheck: number;
  readonly dataPointsPerCall: number;
  readonly largestPayloadBytes: number;
  readonly largestPayloadSource: 'measured' | 'modelled';
  readonly largestWave: number;
  readonly wallSeconds: number | null;
}

const FLEET_SIZES = [1, 5, 20, 100] as const;
/** The fleets the local runtime rehearses (at most MAX_REHEARSAL_FLEET members: each is functions with workers). */
const MEASURED_FLEETS = [1, 5, 20] as const;

interface MeasuredFleet {
  readonly transitions: number;
  readonly historyEvents: number;
  readonly payloadBytes: number;
  readonly payloadState: string;
  readonly wallSeconds: number;
}

/**
 * The fleet's scale at N = 1, 5, 20 and 100 members against AWS's limits. N = 1, 5 and 20 are measured: a fleet
 * rehearsal of prod (`npm start -- --fleet N`, no fault) on the local engine, counting the states it entered, the
 * history events AWS records for them (bench/fleet-scale.ts), its largest state input or output and its wall time.
 * N = 100 is beyond what one machine rehearses: it is the 20-member run plus 80 more Map iterations (two states and
 * twelve history events each) and the payload growth per member measured between 5 and 20 members.
 */
async function fleetScale(figures: Figure[]): Promise<FleetScaleRow[]> {
  const asl = aslStates(synthesizeServiceDefinition().States as Record<string, AslState>);
  const prod = environmentNamed('prod');
  const bakeMinutes = Math.max(...trafficPlan(prod).map((step) => step.bakeSeconds / 60));
  // A check's range: the step's bake, the rest of its last minute and the metric delay.
  const stepMinutes = bakeMinutes + 1 + prod.bake.metricDelaySeconds / 60;
  const sources = prod.bake.highResolution
    ? { highResolutionPeriodSeconds: prod.bake.highResolution.periodSeconds }
    : {};
  const rehearsed = async (fleet?: number) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
    try {
      const run = await rehearse(
        {
          environment: 'prod',
          speedup: 60,
          ratePerSecond: 200,
          dataDir,
          ...(fleet ? { fleet: { members: fleet }, fault: {} } : {}),
        },
        openLocalRuntime,
      );
      if (run.outcome !== 'released')
        throw new Error(`prod rehearsal (fleet ${fleet}) ended ${run.outcome}: ${run.reason}`);
      return run;
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  // The single function's release: the base of the model the fleet runs are checked against.
  const single = await rehearsed();
  const shape = releaseShape(enteredStates(single.result.events, asl));
  const singlePayload = largestPayload(single.result.events);
  figures.push({
    name: 'single-function prod release: states entered (measured)',
    value: single.stateTransitions,
    unit: 'transitions',
    note: `${shape.trafficPlan.length} in one traffic plan; largest payload ${singlePayload.bytes} B at ${singlePayload.state}`,
  });

  const measured = new Map<number, MeasuredFleet>();
  for (const members of MEASURED_FLEETS) {
    const run = await rehearsed(members);
    const entered = enteredStates(run.result.events, asl);
    const payload = largestPayload(run.result.events);
    measured.set(members, {
      transitions: entered.length,
      historyEvents: runHistoryEvents(entered, asl),
      payloadBytes: payload.bytes,
      payloadState: payload.state,
      wallSeconds: run.wallMs / 1000,
    });
  }
  const [five, twenty] = [measured.get(5), measured.get(20)];
  if (!five || !twenty) throw new Error('the 5- and 20-member rehearsals are the base of the 100-member figures');
  const payloadPerMember = (twenty.payloadBytes - five.payloadBytes) / 15;

  const rows = FLEET_SIZES.map((members): FleetScaleRow => {
    const waves = exampleWaves(members);
    const model = modelFleetRelease(shape, members, waves.length);
    const run = measured.get(members);
    const more = members - 20;
    const cumulative = waveSizes(waves, members);
    const sizes = cumulative.map((size, i) => size - (cumulative[i - 1] ?? 0));
    // The worst check: the last wave's canary, every earlier member at 100% and the last wave's split with blue.
    const last = sizes.at(-1) ?? members;
    const calls = metricCallsPerCheck(members - last, last, stepMinutes, sources);
    const transitions = run?.transitions ?? twenty.transitions + 2 * more;
    return {
      members,
      waves: waves.length,
      transitions,
      transitionsSource: run ? 'measured' : 'modelled',
      modelTransitions: model.transitions,
      costUsd: transitions * USD_PER_TRANSITION,
      historyEvents: run?.historyEvents ?? twenty.historyEvents + 12 * more,
      historyEventsSource: run ? 'counted' : 'modelled',
      metricSeriesPerCheck: calls.series,
      getMetricDataPerCheck: calls.batched,
      dataPointsPerCall: calls.dataPointsPerCall,
      largestPayloadBytes: run?.payloadBytes ?? Math.round(twenty.payloadBytes + payloadPerMember * more),
      largestPayloadSource: run ? 'measured' : 'modelled',
      largestWave: Math.max(...sizes),
      wallSeconds: run?.wallSeconds ?? null,
    };
  });
  for (const row of rows) {
    const n = `fleet N=${row.members}`;
    figures.push(
      {
        name: `${n}: state transitions per release`,
        value: row.transitions,
        unit: 'transitions',
        note: `${row.transitionsSource}; ${row.waves} waves; the single-run model says ${row.modelTransitions}`,
      },
      { name: `${n}: Step Functions cost per release`, value: round(row.costUsd, 5), unit: 'USD' },
      {
        name: `${n}: execution history events`,
        value: row.historyEvents,
        unit: 'events',
        note: `${row.historyEventsSource}; limit ${LIMITS.historyEvents}`,
      },
      {
        name: `${n}: GetMetricData calls per check`,
        value: row.getMetricDataPerCheck,
        unit: 'calls',
        note: `${row.metricSeriesPerCheck} series in one sampleAll, 500 a call`,
      },
      {
        name: `${n}: largest state payload`,
        value: row.largestPayloadBytes,
        unit: 'bytes',
        note: `${row.largestPayloadSource}; limit ${LIMITS.payloadBytes}`,
      },
    );
    if (row.wallSeconds !== null) {
      figures.push({ name: `${n}: local rehearsal wall time`, value: round(row.wallSeconds, 1), unit: 's' });
    }
  }
  // Where each limit is reached: each grows by a fixed amount per member (the waves fixed at three).
  figures.push(
    {
      name: 'fleet members at which the history reaches 25,000 events',
      value: Math.floor(20 + (LIMITS.historyEvents - twenty.historyEvents) / 12),
      unit: 'members',
      note: 'from the 20-member run, 12 events a member, no retries',
    },
    {
      name: 'fleet members at which the largest payload reaches 256 KiB',
      value: Math.floor(20 + (LIMITS.payloadBytes - twenty.payloadBytes) / payloadPerMember),
      unit: 'members',
      note: `from the 5- and 20-member runs: ${round(payloadPerMember, 0)} B a member`,
    },
  );
  return rows;
}

/** The fleet table as docs/fleet-bench.md shows it. */
function fleetTable(rows: readonly FleetScaleRow[]): string[] {
  const pct = (value: number, limit: number) => `${round((value / limit) * 100, 1)}%`;
  const lines = [
    "| N | waves | transitions | cost | history events (of 25,000) | GetMetricData per check (series) | largest payload (of 256 KiB) | largest wave's UpdateAlias at 15/s | rehearsal wall time |",
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.members} | ${r.waves} | ${r.transitions} (${r.transitionsSource}; single-run model ${r.modelTransitions}) | $${r.costUsd.toFixed(5)} | ${r.historyEvents} (${pct(r.historyEvents, LIMITS.historyEvents)}, ${r.historyEventsSource}) | ${r.getMetricDataPerCheck} (${r.metricSeriesPerCheck}) | ${round(r.largestPayloadBytes / 1024, 1)} KiB (${pct(r.largestPayloadBytes, LIMITS.payloadBytes)}, ${r.largestPayloadSource}) | ${r.largestWave} call${r.largestWave === 1 ? '' : 's'}, ${round(r.largestWave / LIMITS.lambdaControlPlaneRps, 1)} s | ${r.wallSeconds === null ? 'not measured' : `${round(r.wallSeconds, 1)} s`} |`,
    );
  }
  return lines;
}

/** The latency the shared nonce store adds per signed request (docs/app-api.md). */
async function nonceStores(figures: Figure[]): Promise<void> {
  const { memoryMs, directoryMs, dynamoDbMs } = await benchNonceStores();
  figures.push(
    { name: 'signed request, per-instance nonce cache', value: round(memoryMs, 3), unit: 'ms', note: 'median' },
    {
      name: 'signed request, local directory nonce store',
      value: round(directoryMs, 3),
      unit: 'ms',
      note: `+${round(directoryMs - memoryMs, 3)} ms`,
    },
    {
      name: 'signed request, DynamoDB nonce store on dynalite',
      value: round(dynamoDbMs, 3),
      unit: 'ms',
      note: `+${round(dynamoDbMs - memoryMs, 3)} ms: one conditional PutItem over loopback HTTP`,
    },
  );
}

const SECTIONS = ['rehearsal', 'throughput', 'gateway-cpu', 'bundles', 'app', 'nonce-store', 'synth', 'fleet'] as const;

/** `npm run bench -- --only bundles,gateway-cpu` runs some sections; the default is all of them. */
function sectionsToRun(args: readonly string[]): Set<string> {
  const at = args.indexOf('--only');
  if (at < 0) return new Set(SECTIONS);
  const asked = (args[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = asked.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (asked.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes a comma-separated list of ${SECTIONS.join(', ')}; got '${args[at + 1] ?? ''}'`);
  }
  return new Set(asked);
}

async function main(): Promise<void> {
  const figures: Figure[] = [];
  const sections = sectionsToRun(process.argv.slice(2));
  if (sections.has('rehearsal')) await rehearsals(figures);
  if (sections.has('throughput')) await gatewayThroughput(figures);
  if (sections.has('gateway-cpu')) await gatewayCpu(figures);
  if (sections.has('bundles')) await handlerBundles(figures);
  if (sections.has('app')) {
    const app = await benchApp();
    for (const [name, value] of Object.entries(app)) {
      figures.push({
        name,
        value: round(value, 3),
        unit: name.endsWith('_ms') ? 'ms' : /us_per_op/.test(name) ? 'µs/op' : name.includes('ratio') ? '×' : 'ops/s',
      });
    }
  }
  if (sections.has('nonce-store')) await nonceStores(figures);
  if (sections.has('synth')) synthesis(figures);
  const fleet = sections.has('fleet') ? await fleetScale(figures) : undefined;

  const width = Math.max(...figures.map((f) => f.name.length));
  console.log(`${'figure'.padEnd(width)}  ${'value'.padStart(10)}  unit`);
  for (const f of figures) {
    console.log(`${f.name.padEnd(width)}  ${String(f.value).padStart(10)}  ${f.unit}${f.note ? `  (${f.note})` : ''}`);
  }
  if (fleet) {
    console.log('\nfleet scale (docs/fleet-bench.md):');
    for (const line of fleetTable(fleet)) console.log(line);
  }
  const results = join(ROOT, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  const document = {
    at: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    sections: [...sections],
    figures,
    ...(fleet ? { fleet } : {}),
  };
  const json = `${JSON.stringify(document, null, 2)}\n`;
  writeFileSync(join(results, 'latest.json'), json);
  writeFileSync(join(results, `bench-${document.at.replace(/[:.]/g, '-')}.json`), json);
  console.log(`\nwrote bench/results/latest.json`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
