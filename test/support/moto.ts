import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { inject } from 'vitest';

/**
 * moto (https://github.com/getmoto/moto), an independent Python implementation of the AWS APIs, run as `moto_server`
 * on a loopback port for the `moto` test project (vitest.config.ts). Its global setup starts one server for the run;
 * every test file works in an AWS account of its own on it (moto keys its state by the `x-moto-account-id` header),
 * so files that run side by side never see each other's resources, and none needs a reset that would wipe a
 * neighbour's.
 */

/** How to get moto, in one line: every moto test fails with it when `moto_server` is missing. */
export const NO_MOTO =
  "no moto_server on PATH for the moto tests: install moto's server (pip install 'moto[server]', Python 3.9+) " +
  'and put its moto_server on PATH';

/** The region every moto test and Terraform apply works in. */
export const MOTO_REGION = 'eu-west-1';

/** moto's default account: the Terraform applies use it (the provider sends no account header). */
export const MOTO_DEFAULT_ACCOUNT = '123456789012';

/** What the global setup hands to the test files (vitest `provide`/`inject`). */
export interface MotoProvided {
  /** `http://127.0.0.1:<port>`, or undefined when moto could not be found or started. */
  readonly endpoint?: string;
  /** Why there is no endpoint: one line saying how to get moto. */
  readonly missing?: string;
  /** A directory where each test file leaves what it proved, for the run's summary line. */
  readonly reportDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    moto: MotoProvided;
  }
}

/** The first executable named `name` on PATH. */
export function onPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `moto_server` from PATH; where it is missing and pip is, `pip install 'moto[server]'` first (into the user site
 * when not root). Returns the executable, or the one line saying how to get it.
 */
export function ensureMotoServer(log: (line: string) => void): { path: string } | { missing: string } {
  const found = onPath('moto_server');
  if (found) return { path: found };
  const pip = onPath('pip3') ?? onPath('pip');
  if (!pip) return { missing: NO_MOTO };
  const user = process.getuid?.() === 0 ? [] : ['--user'];
  log(`moto: installing moto's server (${pip} install ${user.join(' ')} 'moto[server]')`);
  const run = spawnSync(pip, ['install', '--quiet', ...user, 'moto[server]'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const after = onPath('moto_server');
  if (run.status === 0 && after) return { path: after };
  return { missing: `pip could not install moto[server]; ${NO_MOTO}` };
}

/** A port that was free on 127.0.0.1 a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port on 127.0.0.1');
  return address.port;
}

export interface RunningMoto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts `moto_server` on 127.0.0.1 and a free port, and waits until it answers (its own API, /moto-api/). */
export async function startMoto(executable: string, timeoutMs = 60_000): Promise<RunningMoto> {
  const port = await freePort();
  const child: ChildProcess = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Lambda then checks an image exists in moto's ECR and takes its digest as CodeSha256, as Lambda does;
    // by default moto accepts any image URI and hashes the URI text (moto/settings.py, lambda_stub_ecr).
    env: { ...process.env, MOTO_LAMBDA_STUB_ECR: 'false' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${stderr.trim()}`);
    const up = await fetch(`${endpoint}/moto-api/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Step Functions runs the state machines it is given (its ASL interpreter, with task-token callbacks and real
  // histories) instead of answering static data: moto's own config API, POST /moto-api/config.
  const configured = await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  });
  if (!configured.ok) throw new Error(`moto_server refused its config: ${configured.status}`);
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The global setup's moto, or an error whose message is the one line saying how to get it. */
export function requireMoto(): { endpoint: string; reportDir: string } {
  const moto = inject('moto');
  if (!moto?.endpoint) throw new Error(moto?.missing ?? NO_MOTO);
  return { endpoint: moto.endpoint, reportDir: moto.reportDir };
}

/** A fresh 12-digit account, never moto's default: one per test file (or per subject that wants its own). */
export function freshAccount(): string {
  let account: string;
  do account = String(randomInt(100_000_000_000, 999_999_999_999));
  while (account === MOTO_DEFAULT_ACCOUNT);
  return account;
}

/** The header moto reads the account from (moto/core/responses.py, get_current_account). */
const ACCOUNT_HEADER = 'x-moto-account-id';

interface SdkClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { request: unknown }) => Promise<unknown>,
      ) => (args: { request: unknown }) => Promise<unknown>,
      options: { step: 'build'; name: string },
    ): void;
  };
}

/** The configuration an AWS SDK v3 client needs to talk to moto (static credentials: moto checks none). */
export function motoClientConfig(endpoint: string) {
  return {
    endpoint,
    region: MOTO_REGION,
    credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
    maxAttempts: 1,
  } as const;
}

/** Sends every request of `client` in `account`. */
export function inAccount<C>(client: C, account: string): C {
  (client as unknown as SdkClient).middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers[ACCOUNT_HEADER] = account;
      return next(args);
    },
    { step: 'build', name: 'motoAccount' },
  );
  return client;
}

/**
 * A client factory for one account on the run's moto: `const aws = motoAccount(); new LambdaClient(aws.config)`
 * is wrong (no account header); use `aws.client(LambdaClient)`.
 */
export function motoAccount(account = freshAccount()) {
  const { endpoint } = requireMoto();
  const config = motoClientConfig(endpoint);
  return {
    account,
    endpoint,
    client<C>(Client: new (config: ReturnType<typeof motoClientConfig>) => C): C {
      return inAccount(new Client(config), account);
    },
  };
}

export type MotoAccount = ReturnType<typeof motoAccount>;
