import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from './program.ts';

export { DEFAULT_LOCAL_URL } from '../local/local-defaults.ts';
export type { CliIo } from './context.ts';
export { EXIT, outcomeExitCode, statusExitCode } from './exit-codes.ts';
export { main };

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
      process.stderr.write(`switchyard: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(70);
    },
  );
}
