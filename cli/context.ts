import { DEFAULT_LOCAL_URL, dataDirFrom } from '../local/local-defaults.ts';
import { ApiClient, localTokenHeaders } from './api-client.ts';
import { UsageError } from './exit-codes.ts';
import { Output } from './output.ts';
import { regionOf, sigV4Signer } from './sigv4.ts';

/** Where the CLI writes and what it reads from its process: swapped for a recorder in tests. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal: colour and redrawn views. */
  readonly isTTY?: boolean;
  /** The terminal's width, so a redrawn view knows how many rows its wrapped lines took. */
  readonly columns?: number;
  /** Resolves when the user interrupts (Ctrl-C), for `local serve`. */
  readonly interrupted?: () => Promise<void>;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
  get columns() {
    return process.stdout.columns;
  },
  interrupted: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
};

/** The options every command takes (the root program's). */
export interface GlobalOptions {
  readonly api?: string;
  readonly local?: boolean;
  readonly json?: boolean;
  readonly debug?: boolean;
  /** False with --no-color. */
  readonly color?: boolean;
}

/** The release API a command talks to: the cloud one (SigV4-signed) or `switchyard local serve`. */
export interface Connection {
  readonly client: ApiClient;
  readonly local: boolean;
  /** Where a person looks at a release: the local console's page, or the Step Functions console's. */
  consoleLink(releaseId: string, cloudUrl: unknown): string;
}

/** One command's run: its options, its output and, on demand, its API connection. */
export class Run {
  readonly out: Output;
  constructor(
    readonly io: CliIo,
    readonly globals: GlobalOptions,
    /** Commands under `switchyard local` talk to the local server without --local. */
    private readonly localGroup = false,
  ) {
    this.out = new Output(io, { json: globals.json === true, color: globals.color !== false });
  }

  get local(): boolean {
    return this.globals.local === true || this.localGroup;
  }

  /** @param dataDir where `local serve` wrote its per-start token; @default $SWITCHYARD_DATA_DIR or `.data/` */
  connect(dataDir?: string): Connection {
    const local = this.local;
    const env = this.io.env;
    const base = this.globals.api ?? (local ? (env.SWITCHYARD_LOCAL_URL ?? DEFAULT_LOCAL_URL) : env.SWITCHYARD_API_URL);
    if (!base) {
      throw new UsageError(
        'no release API: pass --api URL (the stack output ReleaseApiUrl), set SWITCHYARD_API_URL, or use --local',
      );
    }
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new UsageError(
        `--api must be a URL like https://abc123.execute-api.eu-west-1.amazonaws.com/prod, not "${base}"`,
      );
    }
    // The region is settled before any request, so a missing one is a usage error rather than a failed call.
    const region = local ? undefined : regionOf(url, env.AWS_REGION ?? env.AWS_DEFAULT_REGION);
    const client = new ApiClient({
      baseUrl: base,
      ...(region ? { signer: sigV4Signer({ region }) } : {}),
      // The local server answers only requests that carry the token it wrote to its data directory.
      ...(local ? { headers: localTokenHeaders(dataDirFrom(dataDir, env)) } : {}),
    });
    return {
      client,
      local,
      consoleLink: (releaseId, cloudUrl) =>
        local ? `${client.baseUrl}/#${encodeURIComponent(releaseId)}` : String(cloudUrl ?? ''),
    };
  }
}
