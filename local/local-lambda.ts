import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { VersionInvoker } from '../adapters/memory/memory-functions.ts';
import type { MemoryVersionMetrics } from '../adapters/memory/memory-metrics.ts';
import type { Clock, InvokeResult } from '../core/ports/ports.ts';

export interface LocalLambdaOptions {
  /** Finds the bundle a version runs and its image's environment (the content-addressed image store). */
  readonly imageFor: (imageUri: string) => Promise<{ bundlePath: string; environment: Record<string, string> }>;
  readonly metrics: MemoryVersionMetrics;
  readonly clock: Clock;
  /** Environment each version's worker sees (keys file, Powertools settings). */
  readonly environment?: Record<string, string>;
  /** Where the workers' stdout and stderr (the application's logs and EMF metrics) go. */
  readonly logFile?: string;
  /**
   * The log file's cap: past it the file becomes `<logFile>.1` and a new one starts, so the logs never take much
   * more than twice this. @default LAMBDA_LOG_MAX_BYTES
   */
  readonly logMaxBytes?: number;
}

/** 8 MiB: about half an hour of `local serve` idling (4.5 KB/s), and the whole of a rehearsal. */
export const LAMBDA_LOG_MAX_BYTES = 8 * 1024 * 1024;

interface Pending {
  resolve: (result: InvokeResult & { durationMs?: number }) => void;
  timer: NodeJS.Timeout;
}

interface VersionWorker {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly pending: Map<string, Pending>;
}

/**
 * Runs published versions in worker threads, one worker per function version, and records what CloudWatch would:
 * per-version invocations, errors (function errors and 5xx responses the application reports), duration.
 */
export class LocalLambda {
  private readonly workers = new Map<string, Promise<VersionWorker>>();

  constructor(private readonly options: LocalLambdaOptions) {}

  /** The invoker the in-memory Lambda hands each call to. */
  invoker(): VersionInvoker {
    return (request) => this.invoke(request);
  }

  private workerFor(functionName: string, version: string, imageUri: string): Promise<VersionWorker> {
    const key = `${functionName}:${version}`;
    const existing = this.workers.get(key);
    if (existing) return existing;
    const started = this.startWorker(functionName, version, imageUri);
    this.workers.set(key, started);
    return started;
  }

  private async startWorker(functionName: string, version: string, imageUri: string): Promise<VersionWorker> {
    const image = await this.options.imageFor(imageUri);
    const worker = new Worker(new URL('./lambda-worker.mjs', import.meta.url), {
      // Each worker appends its own logs to the file (lambda-worker.mjs), so no log line crosses threads.
      workerData: {
        bundlePath: image.bundlePath,
        logFile: this.options.logFile,
        logMaxBytes: this.options.logMaxBytes ?? LAMBDA_LOG_MAX_BYTES,
      },
      // The worker and the bundle are plain JavaScript: without this, the parent's TypeScript loader (tsx) would
      // run in the worker too and transform the bundle before importing it, three times the worker's start-up.
      execArgv: [],
      env: {
        ...this.options.environment,
        ...image.environment,
        AWS_LAMBDA_FUNCTION_NAME: functionName,
        AWS_LAMBDA_FUNCTION_VERSION: version,
        POWERTOOLS_TRACE_ENABLED: 'false',
      },
      stdout: true,
      stderr: true,
    });
    // Anything written past the worker's own capture (a native module, say) is drained, never left to back up.
    worker.stdout.resume();
    worker.stderr.resume();
    const pending = new Map<string, Pending>();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.on(
        'message',
        (message: {
          ready?: boolean;
          closed?: boolean;
          id?: string;
          payload?: unknown;
          error?: unknown;
          durationMs?: number;
        }) => {
          if (message.ready) return resolve();
          if (message.closed) return;
          const waiting = message.id ? pending.get(message.id) : undefined;
          if (!waiting || !message.id) return;
          pending.delete(message.id);
          clearTimeout(waiting.timer);
          const durationMs = message.durationMs ?? 0;
          waiting.resolve(
            message.error
              ? { statusCode: 200, functionError: 'Unhandled', payload: message.error, durationMs }
              : { statusCode: 200, payload: message.payload, durationMs },
          );
        },
      );
    });
    worker.unref();
    return { worker, ready, pending };
  }

  async invoke(request: {
    functionName: string;
    version: string;
    imageUri: string;
    payload: unknown;
    timeoutMs: number;
    qualifier: string;
  }): Promise<InvokeResult> {
    const { worker, ready, pending } = await this.workerFor(request.functionName, request.version, request.imageUri);
    await ready;
    const at = this.options.clock.now();
    const started = performance.now();
    const id = randomUUID();
    const result = await new Promise<InvokeResult & { durationMs?: number }>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve({
          statusCode: 200,
          functionError: 'Unhandled',
          payload: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${request.timeoutMs} ms` },
        });
      }, request.timeoutMs);
      pending.set(id, { resolve, timer });
      worker.postMessage({
        id,
        event: request.payload,
        context: { awsRequestId: id, functionName: request.functionName, functionVersion: request.version },
      });
    });
    const status = (result.payload as { statusCode?: unknown } | null)?.statusCode;
    this.options.metrics.record({
      functionName: request.functionName,
      resource: request.qualifier,
      version: request.version,
      at,
      durationMs: result.durationMs ?? performance.now() - started,
      error: result.functionError !== undefined || (typeof status === 'number' && status >= 500),
      throttled: false,
      functionError: result.functionError !== undefined,
    });
    const { durationMs: _duration, ...invokeResult } = result;
    return invokeResult;
  }

  /** Each worker writes what it still holds and closes its log file before it is stopped. */
  async close(): Promise<void> {
    const workers = await Promise.all(this.workers.values());
    await Promise.all(
      workers.map(async ({ worker, ready }) => {
        const closed = ready.then(
          () =>
            new Promise<void>((resolve) => {
              const onMessage = (message: { closed?: boolean }) => {
                if (!message.closed) return;
                worker.off('message', onMessage);
                resolve();
              };
              worker.on('message', onMessage);
              worker.postMessage({ close: true });
            }),
        );
        // A worker that never became ready, or does not answer within a second, is stopped all the same.
        await Promise.race([closed.catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
        await worker.terminate();
      }),
    );
    this.workers.clear();
  }
}
