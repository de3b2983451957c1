import { Command, CommanderError } from 'commander';
import { DataDirInUse } from '../local/data-dir-owner.ts';
import { DEFAULT_LOCAL_URL } from '../local/local-defaults.ts';
import { ApiRefusal } from './api-calls.ts';
import { ApiUnreachable } from './api-client.ts';
import type { Bind } from './commands/binding.ts';
import { registerEnvironmentCommands } from './commands/environments.ts';
import { registerInsightCommands } from './commands/insight.ts';
import { registerLocalCommands } from './commands/local.ts';
import { registerPolicyCommands } from './commands/policy.ts';
import { registerReleaseCommands } from './commands/release.ts';
import { type CliIo, type GlobalOptions, processIo, Run } from './context.ts';
import { CliFailure, EXIT, EXIT_CODES_HELP } from './exit-codes.ts';
import { MissingCredentials, UnknownRegion } from './sigv4.ts';

/** Commander's two-line "error: …\n(Did you mean …?)" as one line. */
function oneLine(text: string): string {
  return (
    text
      .trim()
      .replace(/^error: /, '')
      // A refused value's own message names the option and what it takes (cli/option-values.ts).
      .replace(/^option '[^']+' argument '.*' is invalid\. (?=--)/s, '')
      .replace(/\s*\n\s*/g, ' ')
  );
}

function isUnderLocal(command: Command): boolean {
  for (let c: Command | null = command; c; c = c.parent) if (c.name() === 'local') return true;
  return false;
}

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('switchyard')
    .description('Safe releases of a container-image Lambda API: start, watch, promote, abort and roll back.')
    .option(
      '--api <url>',
      'the release API (the stack output ReleaseApiUrl; default $SWITCHYARD_API_URL), SigV4-signed',
    )
    .option('--local', `use switchyard local serve (default ${DEFAULT_LOCAL_URL}, or --api)`)
    .option('--json', 'machine-readable output (no colour)')
    .option('--no-color', 'no colour (also NO_COLOR=1)')
    .option('--debug', 'print stack traces of internal errors')
    .showSuggestionAfterError(true)
    .showHelpAfterError(false)
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
      outputError: (text, write) => write(`switchyard: ${oneLine(text)} (see --help)\n`),
    });
  const bind: Bind =
    (action) =>
    async (...received) => {
      const command = received.at(-1) as Command;
      const options = received.at(-2) as never;
      const args = received.slice(0, -2) as string[];
      const run = new Run(io, command.optsWithGlobals<GlobalOptions>(), isUnderLocal(command));
      setExit(await action(run, args, options));
    };
  registerReleaseCommands(program, bind);
  registerInsightCommands(program, bind);
  registerEnvironmentCommands(program, bind);
  registerLocalCommands(program, bind);
  registerPolicyCommands(program, bind);
  for (const command of allCommands(program)) {
    command.exitOverride().showSuggestionAfterError(true);
    command.configureOutput(program.configureOutput());
  }
  return program;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap((c) => allCommands(c))];
}

/** One line and an exit code for anything a command throws; a stack trace only with --debug. */
function explain(error: unknown, io: CliIo, debug: boolean, json: boolean, local: boolean): number {
  if (error instanceof ApiRefusal && json) {
    io.out(JSON.stringify({ status: error.status, ...error.body }, null, 2));
    return error.exitCode;
  }
  const say = (message: string, code: number) => {
    io.err(`switchyard: ${message}`);
    if (debug && error instanceof Error && error.stack) io.err(error.stack);
    return code;
  };
  if (error instanceof CliFailure) return say(error.message, error.exitCode);
  if (error instanceof UnknownRegion) return say(error.message, EXIT.usage);
  // Another process owns the data directory: refused before anything was touched, like a port in use.
  if (error instanceof DataDirInUse) return say(error.message, EXIT.unavailable);
  if (error instanceof MissingCredentials) return say(error.message, EXIT.notAuthorized);
  if (error instanceof ApiUnreachable) {
    return say(`${error.message}${local ? ' (is switchyard local serve running?)' : ''}`, EXIT.unavailable);
  }
  const message = error instanceof Error ? error.message : String(error);
  return say(`internal error: ${message}${debug ? '' : ' (--debug shows the stack trace)'}`, EXIT.software);
}

/** Runs one command line (without the node and script arguments); returns its exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  const debug = argv.includes('--debug');
  const json = argv.includes('--json');
  const local = argv.includes('--local') || argv[0] === 'local';
  try {
    if (argv.length === 0) {
      io.err(program.helpInformation().replace(/\n$/, ''));
      return EXIT.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      // A group without its subcommand ("switchyard release") prints its help: a usage error.
      return error.code === 'commander.executeSubCommandAsync' ? EXIT.software : EXIT.usage;
    }
    return explain(error, io, debug, json, local);
  }
}
