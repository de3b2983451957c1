import { parseArgs } from 'node:util';
import { strategyPreset } from '../config/traffic-plan.ts';
import { type RehearsalReport, rehearse } from './rehearsal.ts';

const USAGE = `Usage: npm start -- [options]

Rehearses a whole release on the local runtime: deploys a first version, sends signed traffic, pushes a new build
and runs the synthesized state machine on it.

  --env NAME            dev | staging | prod (default prod)
  --strategy NAME       config | all-at-once | canary | linear (default: the environment's)
  --fail-rate N         the new build fails this share (0..1) of requests, after its first --fail-after
  --fail-after N        requests the faulty build serves normally first (default 20: it passes verification)
  --fail-health         the new build's health check answers 503
  --fail-at-minute N    the new build starts failing --fail-rate (default 0.5) of its requests N virtual minutes
                        after its first one (Verify green): a fault late in the bake
  --latency-ms N        the new build answers N ms slower
  --first-release       the environment's first release: the function is as Terraform's first apply left it
                        (version 1 of the released image, never verified), so there is no blue
  --speedup N           virtual seconds per real second (default 60: a 10-minute bake takes 10 s)
  --rate N              load generator requests per second (default 200)
  --data-dir DIR        release history and images (default .data, or $SWITCHYARD_DATA_DIR)
  --json                print the report as JSON

Exit codes: 0 released, 1 rolled back, 2 release failed, 3 aborted, 64 bad options.`;

function numberOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
  return n;
}

function summarise(report: RehearsalReport): string[] {
  const lines = [''];
  const live = report.live
    ? `version ${report.live.version}${report.live.routing ? ` (+${report.live.routing.weight * 100}% on ${report.live.routing.version})` : ''}`
    : 'none';
  const title = {
    released: 'RELEASED',
    'rolled-back': 'ROLLED BACK',
    failed: 'RELEASE FAILED',
    aborted: 'ABORTED',
  }[report.outcome];
  lines.push(`${title}: release ${report.releaseId} in ${report.environment}`);
  lines.push(
    `  live: ${live} (${report.blueVersion === null ? 'first release: no blue' : `blue was version ${report.blueVersion}`})`,
  );
  if (report.reason) lines.push(`  reason: ${report.reason}`);
  const check = report.lastCheck;
  if (check) {
    lines.push(
      `  last check: ${check.verdict} — ${check.sample.invocations} calls, ${check.sample.errors} errors, ` +
        `rate ${check.sample.errorRatePercent ?? 'n/a'}% (limit ${check.thresholds.maxErrorRatePercent}%, ` +
        `min ${check.thresholds.minInvocations} calls, max ${check.thresholds.maxErrors} errors), ` +
        `window ${check.window.start.slice(11, 19)}–${check.window.end.slice(11, 19)}`,
    );
    for (const reason of check.reasons) lines.push(`    · ${reason}`);
  }
  const traffic = report.traffic.map((t) => `v${t.version}: ${t.invocations} calls, ${t.errors} errors`).join('; ');
  lines.push(`  traffic through live: ${traffic || 'none'}`);
  lines.push(
    `  ${report.stateTransitions} states entered, ${report.load.sent} requests sent, ${(report.wallMs / 1000).toFixed(1)} s wall time`,
  );
  return lines;
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        env: { type: 'string', default: 'prod' },
        strategy: { type: 'string' },
        'fail-rate': { type: 'string' },
        'fail-after': { type: 'string' },
        'fail-health': { type: 'boolean' },
        'fail-at-minute': { type: 'string' },
        'first-release': { type: 'boolean' },
        'latency-ms': { type: 'string' },
        speedup: { type: 'string' },
        rate: { type: 'string' },
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 64;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let options: Parameters<typeof rehearse>[0];
  try {
    const failAtMinute = numberOption('fail-at-minute', values['fail-at-minute'] as string | undefined, 0, 24 * 60);
    const failRate =
      numberOption('fail-rate', values['fail-rate'] as string | undefined, 0, 1) ??
      (failAtMinute !== undefined ? 0.5 : undefined);
    const latencyMs = numberOption('latency-ms', values['latency-ms'] as string | undefined, 0, 60_000);
    const failAfter =
      numberOption('fail-after', values['fail-after'] as string | undefined, 0, 1_000_000) ??
      (failAtMinute !== undefined ? 0 : 20);
    const speedup = numberOption('speedup', values.speedup as string | undefined, 1, 3600) ?? 60;
    const fault = {
      ...(failRate !== undefined ? { failRate, failAfterRequests: failAfter } : {}),
      ...(failAtMinute !== undefined ? { failAfterMs: Math.round((failAtMinute * 60_000) / speedup) } : {}),
      ...(values['fail-health'] ? { failHealth: true } : {}),
      ...(latencyMs !== undefined ? { latencyMs } : {}),
    };
    const strategy = strategyPreset(values.strategy as string | undefined);
    options = {
      environment: String(values.env),
      speedup,
      ratePerSecond: numberOption('rate', values.rate as string | undefined, 1, 2000) ?? 200,
      ...(strategy ? { strategy } : {}),
      ...(values['first-release'] ? { firstRelease: true } : {}),
      ...(Object.keys(fault).length > 0 ? { fault } : {}),
      ...(values['data-dir'] ? { dataDir: String(values['data-dir']) } : {}),
      ...(values.json ? {} : { print: (line: string) => console.log(line) }),
    };
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 64;
  }
  const report = await rehearse(options);
  if (values.json) {
    const { result, load, ...rest } = report;
    console.log(
      JSON.stringify(
        { ...rest, status: result.status, error: result.error, load: { sent: load.sent, byStatus: load.byStatus } },
        null,
        2,
      ),
    );
  } else {
    for (const line of summarise(report)) console.log(line);
  }
  return { released: 0, 'rolled-back': 1, failed: 2, aborted: 3 }[report.outcome];
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(70);
  },
);
