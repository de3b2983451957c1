import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { CONTROL_PLANE_RPS } from '../../config/fleet.ts';
import { AliasConflict, DeploymentFailed } from '../../core/model/errors.ts';
import type {
  AliasRouting,
  AliasState,
  FunctionVersions,
  InvokeResult,
  PublishedVersion,
} from '../../core/ports/ports.ts';
import { hasErrorName } from './error-names.ts';

let defaultClient: LambdaClient | undefined;
/**
 * Adaptive retries: standard mode's backoff "as well as automatic client-side rate limiting", which the SDKs reserve
 * for clients that reach a single resource with throttling to expect (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html):
 * here, the account's one Lambda control-plane quota.
 */
function lambdaClient(): LambdaClient {
  defaultClient ??= new LambdaClient({ retryMode: 'adaptive' });
  return defaultClient;
}

/** The clock a limiter waits on: the system's, or a test's virtual one. */
export interface LimiterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const SYSTEM_CLOCK: LimiterClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The error names Lambda throttles a control-plane call with. */
const THROTTLE_NAMES = ['TooManyRequestsException', 'ThrottlingException', 'Throttling'] as const;

/** Throttles one invocation may meet on a single call before the error goes to the handler (and the state's Retry). */
const MAX_THROTTLE_RETRIES = 8;

/**
 * Spaces this invocation's control-plane calls to its share of the account's quota (config/fleet.ts
 * CONTROL_PLANE_RPS), however many of its calls are in flight; a throttle (another caller took the room) halves the
 * pace and backs off, and each success wins a tenth of it back, as adaptive retry modes do.
 */
export class ControlPlaneLimiter {
  private nextSlot: number | undefined;
  private rate: number;

  constructor(
    private readonly maxRps: number,
    private readonly clock: LimiterClock = SYSTEM_CLOCK,
  ) {
    if (!(maxRps > 0)) throw new RangeError(`a control-plane rate must be above 0, got ${maxRps}`);
    this.rate = maxRps;
  }

  /**
   * Waits for this call's slot. The first slot is one interval in: the invocation before this one (the previous
   * Map iteration, the previous state) may have used its last slot just now.
   */
  async acquire(): Promise<void> {
    const now = this.clock.now();
    const slot = Math.max(now, this.nextSlot ?? now + 1000 / this.rate);
    this.nextSlot = slot + 1000 / this.rate;
    if (slot > now) await this.clock.sleep(slot - now);
  }

  succeeded(): void {
    this.rate = Math.min(this.maxRps, this.rate + this.maxRps / 10);
  }

  /** Halves the pace (to a tenth of the share at least) and waits out an exponential backoff before the retry. */
  async throttled(attempt: number): Promise<void> {
    this.rate = Math.max(this.maxRps / 10, this.rate / 2);
    const backoff = Math.min(20_000, 250 * 2 ** (attempt - 1));
    await this.clock.sleep(backoff / 2 + Math.random() * (backoff / 2));
  }
}

/** How long and how often to poll `LastUpdateStatus` after `UpdateFunctionCode` (seconds, as SDK waiters take). */
export interface UpdateWaitOptions {
  /** @default 300 — an image update normally settles within a minute. */
  readonly maxWaitTime: number;
  /** @default 1 */
  readonly minDelay: number;
  /** @default 10 */
  readonly maxDelay: number;
}

export interface LambdaFunctionVersionsOptions {
  /** @default one `LambdaClient` per module, with the default credential chain and region. */
  readonly client?: LambdaClient;
  /** @default { maxWaitTime: 300, minDelay: 1, maxDelay: 10 } */
  readonly updateWait?: Partial<UpdateWaitOptions>;
  /**
   * Control-plane calls a second this invocation may make (config/fleet.ts CONTROL_PLANE_RPS).
   * @default CONTROL_PLANE_RPS.alone, the whole budget: an invocation that runs alone in its release
   */
  readonly controlPlaneRps?: number;
  /** @default the system clock */
  readonly clock?: LimiterClock;
}

const DEFAULT_UPDATE_WAIT: UpdateWaitOptions = { maxWaitTime: 300, minDelay: 1, maxDelay: 10 };

/**
 * An invoke that did not answer in time. Lambda keeps running an invocation whose caller gave up, so a cold start
 * ("the Init phase is limited to 10 seconds … Lambda retries the Init phase at the time of the first function
 * invocation with the configured function timeout",
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html) leaves a warm environment behind:
 * the state machine retries it (it is in TRANSIENT_AWS_ERROR_NAMES) rather than failing the version for good.
 */
export class InvokeTimedOut extends Error {
  override readonly name = 'InvokeTimedOut';
}

/** `…/repo@sha256:abc` → `sha256:abc`. */
export function digestOfImageUri(imageUri: string | undefined): string | undefined {
  const at = imageUri?.lastIndexOf('@') ?? -1;
  return imageUri && at >= 0 ? imageUri.slice(at + 1) : undefined;
}

function decodePayload(bytes: Uint8Array | undefined): unknown {
  if (!bytes || bytes.length === 0) return undefined;
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Lambda versions and aliases through `@aws-sdk/client-lambda`. */
export class LambdaFunctionVersions implements FunctionVersions {
  private readonly client: LambdaClient;
  private readonly updateWait: UpdateWaitOptions;
  private readonly limiter: ControlPlaneLimiter;

  constructor(options: LambdaFunctionVersionsOptions = {}) {
    this.client = options.client ?? lambdaClient();
    this.updateWait = { ...DEFAULT_UPDATE_WAIT, ...options.updateWait };
    this.limiter = new ControlPlaneLimiter(options.controlPlaneRps ?? CONTROL_PLANE_RPS.alone, options.clock);
  }

  /**
   * One call counted against "the rest of the control plane" (every Lambda API call but invocations, GetFunction and
   * GetPolicy: 15 requests per second per account and Region, not adjustable,
   * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): in this invocation's slot, and tried
   * again after a throttle, so a throttle reaches the caller only when it outlasts every retry.
   */
  private async controlPlane<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.limiter.acquire();
      try {
        const out = await call();
        this.limiter.succeeded();
        return out;
      } catch (error) {
        if (!hasErrorName(error, ...THROTTLE_NAMES) || attempt > MAX_THROTTLE_RETRIES) throw error;
        await this.limiter.throttled(attempt);
      }
    }
  }

  async getAlias(functionName: string, alias: string): Promise<AliasState | undefined> {
    try {
      const out = await this.controlPlane(() =>
        this.client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })),
      );
      if (!out.FunctionVersion) return undefined;
      const [routed] = Object.entries(out.RoutingConfig?.AdditionalVersionWeights ?? {});
      return {
        name: out.Name ?? alias,
        version: out.FunctionVersion,
        ...(routed ? { routing: { version: routed[0], weight: routed[1] } } : {}),
        ...(out.RevisionId ? { revisionId: out.RevisionId } : {}),
      };
    } catch (error) {
      if (hasErrorName(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  }

  async versionImageDigest(functionName: string, version: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetFunctionCommand({ FunctionName: functionName, Qualifier: version }));
      return digestOfImageUri(out.Code?.ResolvedImageUri ?? out.Code?.ImageUri);
    } catch (error) {
      if (hasErrorName(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  }

  /**
   * One GetFunction call for the version: its description and code hash. GetFunction has its own quota (100 requests
   * per second), apart from the 15 of the rest of the control plane
   * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), and its cost does not grow with the
   * number of versions, as paging ListVersionsByFunction (at most 50 versions a page) from version 1 would.
   */
  async publishedVersion(functionName: string, version: string): Promise<PublishedVersion | undefined> {
    try {
      const out = await this.client.send(new GetFunctionCommand({ FunctionName: functionName, Qualifier: version }));
      const config = out.Configuration;
      if (!config?.Version || config.Version === '$LATEST') return undefined;
      return { version: config.Version, description: config.Description ?? '', codeSha256: config.CodeSha256 ?? '' };
    } catch (error) {
      if (hasErrorName(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  }

  async updateCodeAndWait(functionName: string, imageUri: string): Promise<{ codeSha256: string }> {
    await this.controlPlane(() =>
      this.client.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ImageUri: imageUri })),
    );
    try {
      await waitUntilFunctionUpdatedV2({ client: this.client, ...this.updateWait }, { FunctionName: functionName });
    } catch (error) {
      // The waiter's error is a JSON dump; read the status once more to report Lambda's own reason.
      const config = await this.controlPlane(() =>
        this.client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName })),
      );
      if (config.LastUpdateStatus === 'Failed') {
        throw new DeploymentFailed(
          `updating ${functionName} to ${imageUri} failed: ${config.LastUpdateStatusReason ?? 'no reason given'}`,
          { imageUri, reasonCode: config.LastUpdateStatusReasonCode ?? null },
        );
      }
      throw error;
    }
    const config = await this.controlPlane(() =>
      this.client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName })),
    );
    if (!config.CodeSha256) throw new DeploymentFailed(`${functionName} reports no CodeSha256 after its update`);
    return { codeSha256: config.CodeSha256 };
  }

  async publishVersion(functionName: string, description: string, codeSha256: string): Promise<PublishedVersion> {
    const out = await this.controlPlane(() =>
      this.client.send(
        new PublishVersionCommand({ FunctionName: functionName, Description: description, CodeSha256: codeSha256 }),
      ),
    );
    if (!out.Version) throw new DeploymentFailed(`PublishVersion of ${functionName} returned no version`);
    return {
      version: out.Version,
      description: out.Description ?? description,
      codeSha256: out.CodeSha256 ?? codeSha256,
    };
  }

  /**
   * Reads the alias's RevisionId, then updates it with that id, so a change made to the alias in between (by hand,
   * or by another process) is refused rather than overwritten: UpdateAlias's `RevisionId` means "Only update the
   * alias if the revision ID matches the ID that's specified. Use this option to avoid modifying an alias that has
   * changed since you last read it", and a mismatch answers `PreconditionFailedException` ("The RevisionId provided
   * does not match the latest RevisionId for the Lambda function or alias … Call GetFunction or GetAlias to retrieve
   * the latest RevisionId", https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html). That refusal is
   * AliasConflict: not a transient error, so the state machine does not retry it over someone's change; the state's
   * Catch ends the release (Record failure before traffic moved, Roll back after). A caller that has just read the
   * alias passes that read (`expected`), and its RevisionId is used instead of a second GetAlias: one control-plane
   * call per move, not two.
   */
  async updateAlias(
    functionName: string,
    alias: string,
    version: string,
    routing?: AliasRouting,
    expected?: AliasState,
  ): Promise<void> {
    const read = expected?.revisionId
      ? { FunctionVersion: expected.version, RevisionId: expected.revisionId }
      : await this.controlPlane(() =>
          this.client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })),
        );
    try {
      await this.controlPlane(() =>
        this.client.send(
          new UpdateAliasCommand({
            FunctionName: functionName,
            Name: alias,
            FunctionVersion: version,
            // An empty map is how Lambda clears routing; leaving RoutingConfig out would keep the old split.
            RoutingConfig: { AdditionalVersionWeights: routing ? { [routing.version]: routing.weight } : {} },
            ...(read.RevisionId ? { RevisionId: read.RevisionId } : {}),
          }),
        ),
      );
    } catch (error) {
      if (!hasErrorName(error, 'PreconditionFailedException')) throw error;
      throw new AliasConflict(
        `alias ${alias} of ${functionName} changed while it was being moved to version ${version} ` +
          `(it was at version ${read.FunctionVersion ?? 'unknown'}, revision ${read.RevisionId ?? 'unknown'}); ` +
          'the other change was kept, not overwritten: check the alias before starting again',
        { functionName, alias, targetVersion: version, readVersion: read.FunctionVersion ?? null },
      );
    }
  }

  async ensureAlias(functionName: string, alias: string, version: string): Promise<void> {
    try {
      await this.updateAlias(functionName, alias, version);
    } catch (error) {
      if (!hasErrorName(error, 'ResourceNotFoundException')) throw error;
      await this.controlPlane(() =>
        this.client.send(new CreateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: version })),
      );
    }
  }

  async invoke(functionName: string, qualifier: string, payload: unknown, timeoutMs: number): Promise<InvokeResult> {
    const signal = AbortSignal.timeout(timeoutMs);
    let out: InvokeCommandOutput;
    try {
      out = await this.client.send(
        new InvokeCommand({
          FunctionName: functionName,
          Qualifier: qualifier,
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      // The SDK's HTTP handler reports the aborted call as an `AbortError` (its cause the signal's TimeoutError).
      if (signal.aborted) {
        throw new InvokeTimedOut(`${functionName}:${qualifier} did not answer within ${timeoutMs} ms`);
      }
      throw error;
    }
    return {
      statusCode: out.StatusCode ?? 0,
      ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
      payload: decodePayload(out.Payload),
    };
  }
}
