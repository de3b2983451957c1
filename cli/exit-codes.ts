/**
 * Exit codes: scripts branch on these (docs/operate.md lists them). 64-78 follow BSD's sysexits.h: 64 usage,
 * 65 data refused, 69 service unavailable, 70 internal error, 75 temporary failure, 77 not permitted / credentials.
 */
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
  temporaryFailure: 75,
  notAuthorized: 77,
} as const;

export const EXIT_CODES_HELP = `Exit codes: 0 ok / released, 1 rolled back, 2 release failed, 3 aborted, 4 not found, 5 conflict (environment
busy, nothing to approve, release not running), 64 usage, 65 request refused as invalid (400), 69 service
unavailable (API unreachable or failing, port or data directory in use), 70 internal error, 75 temporary failure (throttled, still
running when --timeout ran out: try again), 77 not authorized or no AWS credentials.`;

/** A failure the CLI explains in one line and maps to an exit code. */
export class CliFailure extends Error {
  override readonly name: string = 'CliFailure';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export class UsageError extends CliFailure {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

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
  if (status === 429 || status === 503) return EXIT.temporaryFailure;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.software;
}
