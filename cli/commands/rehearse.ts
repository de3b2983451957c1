import { type Command, Option } from 'commander';
import { STRATEGY_PRESETS, strategyPreset } from '../../config/traffic-plan.ts';
import { MAX_REHEARSAL_FLEET } from '../../local/fleet-limits.ts';
import { REHEARSAL_SPEEDUP, rehearsalRate } from '../../local/local-defaults.ts';
import type { RehearsalOptions, RehearsalReport } from '../../local/rehearsal.ts';
import type { Run } from '../context.ts';
import { outcomeExitCode } from '../exit-codes.ts';
import {
  dataDirOption,
  decimal,
  environmentOption,
  type FaultFlags,
  faultFrom,
  faultOptions,
  oneOf,
  rateOption,
  speedupOption,
} from '../options.ts';
import { clockTime, type Output } from '../output.ts';
import {
  environmentsWithPolicy,
  rehearsalPolicy,
  virtualStart,
  WINDOW_OPENS_AFTER_MINUTES,
} from '../rehearsal-policy.ts';
import type { Bind } from './binding.ts';

type Parsed = FaultFlags & Record<string, unknown>;

const STRATEGY_NAMES = ['config', ...Object.keys(STRATEGY_PRESETS)];

function preset(value: string) {
  return strategyPreset(oneOf('strategy', STRATEGY_NAMES)(value));
}

const STRATEGIES = STRATEGY_NAMES.join(', ');

/**
 * The rehearsal's options, one line each: the option and the rehearsal setting it fills (faults are gathered by
 * `faultFrom`). `npm start -- …` and `switchyard local rehearse …` read this one table.
 */
const rehearsalOptions = (): readonly { readonly option: Option; readonly into?: keyof RehearsalOptions }[] => [
  { option: environmentOption('--env <name>', 'environment to rehearse').default('prod'), into: 'environment' },
  { option: new Option('--strategy <name>', `traffic strategy: ${STRATEGIES}`).argParser(preset), into: 'strategy' },
  ...faultOptions().map((option) => ({ option })),
  {
    option: new Option(
      '--fail-at-minute <n>',
      'the new build starts failing --fail-rate (default 0.5) of its requests N virtual minutes after its first one: a fault late in the bake',
    ).argParser(decimal('fail-at-minute', 0, 24 * 60)),
  },
  {
    option: new Option(
      '--downstream-fail-rate <share>',
      'a downstream dependency of both versions fails this share (0..1) of requests from the first traffic shift: the environment is unhealthy, not the release',
    ).argParser(decimal('downstream-fail-rate', 0, 1)),
  },
  {
    option: new Option('--downstream-minutes <n>', 'virtual minutes the downstream outage lasts')
      .argParser(decimal('downstream-minutes', 0, 24 * 60))
      .default(3),
  },
  {
    option: new Option(
      '--first-release',
      "the environment's first release: the function as Terraform's first apply left it (version 1, never verified), so no blue",
    ),
    into: 'firstRelease',
  },
  {
    option: new Option(
      '--fleet <members>',
      `rehearse the environment as a fleet of N member functions (1-${MAX_REHEARSAL_FLEET}) released in waves, with the fault (default --fail-rate 0.5) in one member: it ends ROLLED BACK, every member back on blue`,
    ).argParser((value: string) => ({ members: decimal('fleet', 1, MAX_REHEARSAL_FLEET, 'integer')(value) })),
    into: 'fleet',
  },
  { option: speedupOption().default(REHEARSAL_SPEEDUP), into: 'speedup' },
  {
    // No fixed default: the rate follows the speedup (rehearsalRate), one environment affords more than `local serve`.
    option: rateOption(
      'load generator requests per second (default: 200, and 200 a virtual minute above ×60: 400 at ×120)',
    ),
    into: 'ratePerSecond',
  },
  { option: dataDirOption(), into: 'dataDir' },
  {
    option: new Option(
      '--wait-for-window',
      `the environment's release window opens ${WINDOW_OPENS_AFTER_MINUTES} virtual minutes after the start: the release waits in "Await release window" and starts at the opening`,
    ).conflicts('frozen'),
  },
  {
    option: new Option('--frozen', 'a change freeze is in force in the environment: the release is refused, naming it'),
  },
];

/** A live alias as the summary shows it: its version, and the share it routes to another. */
function liveText(live: RehearsalReport['live']): string {
  if (!live) return 'none';
  return `version ${live.version}${live.routing ? ` (+${live.routing.weight * 100}% on ${live.routing.version})` : ''}`;
}

function summary(out: Output, report: RehearsalReport): string[] {
  const lines = ['', `${out.status(report.outcome)}: release ${report.releaseId} in ${report.environment}`];
  if (report.targets.length > 1) {
    const fault = report.faultyTarget ? `; the fault was in ${report.faultyTarget}` : '';
    const halted = report.trippedBy ? `; halted by ${report.trippedBy}` : '';
    lines.push(`  fleet: ${report.targets.length} members${fault}${halted}`);
    for (const m of report.targets) {
      lines.push(
        `    ${m.name} (wave ${m.wave + 1}): live on ${liveText(m.live)}, blue ${m.blueVersion ?? 'none'}, ${m.phase}`,
      );
    }
  } else {
    const blue = report.blueVersion === null ? 'first release: no blue' : `blue was version ${report.blueVersion}`;
    lines.push(`  live: ${liveText(report.live)} (${blue})`);
  }
  if (report.reason) lines.push(`  reason: ${report.reason}`);
  const check = report.lastCheck;
  if (check) {
    lines.push(
      `  last check: ${out.verdict(check.verdict)} — ${check.sample.invocations} calls, ${check.sample.errors} errors, ` +
        `rate ${check.sample.errorRatePercent === null ? 'n/a' : `${check.sample.errorRatePercent}%`} (limit ${check.thresholds.maxErrorRatePercent}%, ` +
        `min ${check.thresholds.minInvocations} calls, max ${check.thresholds.maxErrors} errors), ` +
        `window ${clockTime(check.window.start, true).slice(0, 8)}–${clockTime(check.window.end, true)}`,
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

async function rehearseCommand(run: Run, o: Parsed): Promise<number> {
  const { rehearse } = await import('../../local/rehearsal.ts');
  const { openLocalRuntime } = await import('../../wiring/local.ts');
  const settings: Record<string, unknown> = {};
  for (const { option, into } of rehearsalOptions()) {
    const value = o[option.attributeName()];
    if (into && value !== undefined) settings[into] = value;
  }
  const failAtMinute = typeof o.failAtMinute === 'number' ? o.failAtMinute : undefined;
  const speedup = typeof o.speedup === 'number' ? o.speedup : REHEARSAL_SPEEDUP;
  const late =
    failAtMinute === undefined
      ? undefined
      : {
          ...faultFrom({ ...o, failRate: o.failRate ?? 0.5 }),
          failAfterMs: Math.round((failAtMinute * 60_000) / speedup),
        };
  const fault = late ?? faultFrom(o);
  const downstream =
    typeof o.downstreamFailRate === 'number'
      ? { failRate: o.downstreamFailRate, minutes: typeof o.downstreamMinutes === 'number' ? o.downstreamMinutes : 3 }
      : undefined;
  const policyKind = o.waitForWindow ? 'wait-for-window' : o.frozen ? 'frozen' : undefined;
  const environment = typeof o.env === 'string' ? o.env : 'prod';
  const policy = policyKind
    ? rehearsalPolicy(policyKind, virtualStart(typeof o.dataDir === 'string' ? o.dataDir : undefined))
    : undefined;
  if (policy && !run.out.json) {
    const window = policy.windows?.[0];
    const freeze = policy.freezes?.[0];
    run.out.line(
      window
        ? `Release policy: ${environment} may release from cron "${window.opens}" UTC for ${window.durationMinutes} minutes; outside it releases wait`
        : `Release policy: ${environment} is frozen until ${freeze?.until}: ${freeze?.reason}`,
    );
  }
  const options = {
    ratePerSecond: rehearsalRate(speedup),
    ...(policy ? { environments: environmentsWithPolicy(environment, policy) } : {}),
    ...settings,
    ...(fault ? { fault } : {}),
    ...(downstream ? { downstreamOutage: downstream } : {}),
    ...(run.out.json ? {} : { print: (line: string) => run.out.line(line) }),
  } as RehearsalOptions;
  const report = await rehearse(options, openLocalRuntime);
  if (run.out.json) {
    const { result, load, ...rest } = report;
    run.out.data({
      ...rest,
      status: result.status,
      error: result.error,
      load: { sent: load.sent, byStatus: load.byStatus },
    });
  } else for (const line of summary(run.out, report)) run.out.line(line);
  return outcomeExitCode(report.outcome);
}

export function registerRehearse(local: Command, bind: Bind): void {
  const command = local
    .command('rehearse')
    .description(
      'a whole release on one machine (what npm start runs): first version, signed load, a new build, the state machine',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 released, 1 rolled back, 2 release failed, 3 aborted, 64 bad options, 69 data directory in use.',
    );
  for (const { option } of rehearsalOptions()) command.addOption(option);
  command.action(bind((run, _args, o: Parsed) => rehearseCommand(run, o)));
}
