import { type Command, InvalidArgumentError, Option } from 'commander';
import { environments } from '../config/environments.ts';
import { STRATEGY_PRESETS, strategyPreset } from '../config/traffic-plan.ts';
import type { FaultOptions } from '../local/local-registry.ts';

/**
 * A strict number parser for an option: plain decimals only ("0x1", "1e3", "Infinity", " 2" and "" are refused,
 * though Number() takes them), within bounds.
 */
export function decimal(min: number, max: number, kind: 'number' | 'integer' = 'number') {
  const pattern = kind === 'integer' ? /^\d+$/ : /^\d+(\.\d+)?$/;
  return (value: string): number => {
    const n = Number(value);
    if (!pattern.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(
        `must be a decimal ${kind === 'integer' ? 'whole number' : 'number'} from ${min} to ${max}`,
      );
    }
    return n;
  };
}

export const ENVIRONMENT_NAMES = Object.keys(environments);

export function environmentOption(flags = '--env <name>', description = 'environment'): Option {
  return new Option(flags, description).choices(ENVIRONMENT_NAMES);
}

export function dataDirOption(): Option {
  return new Option(
    '--data-dir <dir>',
    'release history (SQLite), images and keys (default .data/ or $SWITCHYARD_DATA_DIR)',
  );
}

export function speedupOption(): Option {
  return new Option('--speedup <n>', 'virtual seconds per real second (a 10-minute bake takes 10 s at 60)').argParser(
    decimal(1, 3600),
  );
}

export function rateOption(description: string): Option {
  return new Option('--rate <n>', description).argParser(decimal(1, 2000));
}

export function intervalOption(): Option {
  return new Option('--interval <ms>', 'poll interval').argParser(decimal(50, 60_000, 'integer')).default(1000);
}

export function timeoutOption(): Option {
  return new Option('--timeout <seconds>', 'give up (exit 75) if the release is still running then').argParser(
    decimal(1, 7 * 24 * 3600, 'integer'),
  );
}

/** `--strategy`: a preset name or a JSON strategy (the release API validates the JSON). */
export function strategyOption(): Option {
  return new Option(
    '--strategy <name|json>',
    `${Object.keys(STRATEGY_PRESETS).join(', ')}, config or a JSON strategy`,
  ).argParser((value: string) => {
    if (value === 'config') return undefined;
    if (value in STRATEGY_PRESETS) return strategyPreset(value);
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw new InvalidArgumentError(`use config, ${Object.keys(STRATEGY_PRESETS).join(', ')} or a JSON strategy`);
    }
  });
}

/** The rehearsal faults a build can carry (`local push`, `local rehearse`): one definition for both. */
export function faultOptions(): Option[] {
  return [
    new Option('--fail-rate <share>', 'the new build fails this share (0..1) of requests after --fail-after').argParser(
      decimal(0, 1),
    ),
    new Option('--fail-after <n>', 'requests the faulty build serves normally first (it passes verification)')
      .argParser(decimal(0, 1_000_000, 'integer'))
      .default(20),
    new Option('--fail-health', "the new build's /health answers 503"),
    new Option('--latency-ms <ms>', 'the new build answers this much slower').argParser(decimal(0, 60_000, 'integer')),
  ];
}

export interface FaultFlags {
  readonly failRate?: number;
  readonly failAfter?: number;
  readonly failHealth?: boolean;
  readonly latencyMs?: number;
}

export function faultFrom(flags: FaultFlags): FaultOptions | undefined {
  const fault = {
    ...(flags.failRate !== undefined ? { failRate: flags.failRate, failAfterRequests: flags.failAfter ?? 20 } : {}),
    ...(flags.failHealth ? { failHealth: true } : {}),
    ...(flags.latencyMs !== undefined ? { latencyMs: flags.latencyMs } : {}),
  };
  return Object.keys(fault).length > 0 ? fault : undefined;
}

/** Adds several options to a command (commander adds one at a time). */
export function withOptions(command: Command, options: readonly Option[]): Command {
  for (const option of options) command.addOption(option);
  return command;
}
