import { type Command, InvalidArgumentError, Option } from 'commander';
import { environments } from '../config/environments.ts';
import { STRATEGY_PRESETS, strategyPreset } from '../config/traffic-plan.ts';
import type { FaultOptions } from '../local/local-registry.ts';
import { choiceOption, decimalOption, OptionError } from './option-values.ts';

/** Commander's refusal of a value, with the one-line message of `cli/option-values.ts`. */
function refused(error: unknown): never {
  throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
}

/**
 * A strict number parser for the option `name`: plain decimals only ("0x1", "1e3", "Infinity", " 2" and "" are
 * refused, though Number() takes them), within bounds, and whole numbers where `kind` says so.
 */
export function decimal(name: string, min: number, max: number, kind: 'number' | 'integer' = 'number') {
  return (value: string): number => {
    try {
      const n = decimalOption(name, value, min, max) as number;
      if (kind === 'integer' && !Number.isInteger(n)) {
        throw new OptionError(`--${name} must be a whole number from ${min} to ${max}; got "${value}"`);
      }
      return n;
    } catch (error) {
      return refused(error);
    }
  };
}

/** A value from a fixed set, refused in the same one-line form as numbers. */
export function oneOf(name: string, choices: readonly string[]) {
  return (value: string): string => {
    try {
      return choiceOption(name, value, choices);
    } catch (error) {
      return refused(error);
    }
  };
}

export const ENVIRONMENT_NAMES = Object.keys(environments);

export const RELEASE_STATUSES = ['running', 'released', 'rolled-back', 'failed', 'aborted'];

export function environmentOption(flags = '--env <name>', description = 'environment'): Option {
  const name = flags.replace(/^--([a-z-]+).*$/, '$1');
  return new Option(flags, `${description}: ${ENVIRONMENT_NAMES.join(', ')}`).argParser(oneOf(name, ENVIRONMENT_NAMES));
}

export function dataDirOption(): Option {
  return new Option(
    '--data-dir <dir>',
    'release history (SQLite), images and keys (default .data/ or $SWITCHYARD_DATA_DIR)',
  );
}

export function speedupOption(): Option {
  return new Option('--speedup <n>', 'virtual seconds per real second (a 10-minute bake takes 10 s at 60)').argParser(
    decimal('speedup', 1, 3600),
  );
}

export function rateOption(description: string): Option {
  return new Option('--rate <n>', description).argParser(decimal('rate', 1, 2000));
}

export function intervalOption(): Option {
  return new Option('--interval <ms>', 'poll interval')
    .argParser(decimal('interval', 50, 60_000, 'integer'))
    .default(1000);
}

export function timeoutOption(): Option {
  return new Option('--timeout <seconds>', 'give up (exit 75) if the release is still running then').argParser(
    decimal('timeout', 1, 7 * 24 * 3600, 'integer'),
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
      decimal('fail-rate', 0, 1),
    ),
    new Option('--fail-after <n>', 'requests the faulty build serves normally first (it passes verification)')
      .argParser(decimal('fail-after', 0, 1_000_000, 'integer'))
      .default(20),
    new Option('--fail-health', "the new build's /health answers 503"),
    new Option('--latency-ms <ms>', 'the new build answers this much slower').argParser(
      decimal('latency-ms', 0, 60_000, 'integer'),
    ),
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

/** `--status`: one of the release statuses. */
export function statusOption(): Option {
  return new Option('--status <status>', `only these: ${RELEASE_STATUSES.join(', ')}`).argParser(
    oneOf('status', RELEASE_STATUSES),
  );
}
