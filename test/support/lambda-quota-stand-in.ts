import { createHash } from 'node:crypto';
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import type { LimiterClock } from '../../adapters/aws/lambda-function-versions.ts';
import type { MemoryFunctionVersions } from '../../adapters/memory/memory-functions.ts';
import type { AliasState } from '../../core/ports/ports.ts';

/**
 * Time that passes only when every caller waits: `sleep` parks the caller, and once nothing else can run (a
 * macrotask turn later) the clock jumps to the earliest wake-up. A rate measured on it is exact, and a minute of
 * throttled calls takes milliseconds.
 */
export class VirtualTime implements LimiterClock {
  private current = 0;
  private readonly sleepers: { at: number; wake: () => void }[] = [];
  private scheduled = false;

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      this.sleepers.push({ at: this.current + Math.max(0, ms), wake });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const earliest = Math.min(...this.sleepers.map((s) => s.at));
      this.current = Math.max(this.current, earliest);
      const due = this.sleepers.filter((s) => s.at <= this.current);
      for (const sleeper of due) this.sleepers.splice(this.sleepers.indexOf(sleeper), 1);
      for (const sleeper of due) sleeper.wake();
      if (this.sleepers.length > 0) this.schedule();
    });
  }
}

/**
 * Lambda's request-rate quotas, as the quotas page states them (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
 * "Lambda API requests"): GetFunction 100 requests per second; GetPolicy 15; "the remainder of the control plane API
 * requests (excludes invocation, GetFunction, and GetPolicy requests)" 15 requests per second, per account and
 * Region, not adjustable. The page does not say how a second is counted: here, over any sliding second, across every
 * caller that shares the account (every concurrent invocation and `otherCallersRps`, whoever else uses the account).
 * A call over the quota fails with TooManyRequestsException ("The request throughput limit was exceeded"), HTTP 429.
 */
export class ControlPlaneQuota {
  static readonly CONTROL_PLANE_RPS = 15;
  static readonly GET_FUNCTION_RPS = 100;

  private readonly admitted = { controlPlane: [] as number[], getFunction: [] as number[] };
  /** Every control-plane call admitted, by virtual time (ms). */
  readonly controlPlaneCalls: number[] = [];
  throttles = 0;

  constructor(
    private readonly time: LimiterClock,
    /** Control-plane calls a second others make in the same account (Terraform, the console). */
    readonly otherCallersRps = 0,
  ) {}

  /** Admits the command, or throws Lambda's throttle. Invocations are not counted: they have quotas of their own. */
  admit(command: object): void {
    const name = command.constructor.name;
    if (name === InvokeCommand.name) return;
    const bucket = name === GetFunctionCommand.name ? 'getFunction' : 'controlPlane';
    const limit =
      bucket === 'getFunction'
        ? ControlPlaneQuota.GET_FUNCTION_RPS
        : ControlPlaneQuota.CONTROL_PLANE_RPS - this.otherCallersRps;
    const now = this.time.now();
    const calls = this.admitted[bucket];
    while (calls.length > 0 && (calls[0] as number) <= now - 1000) calls.shift();
    if (calls.length >= limit) {
      this.throttles++;
      throw new TooManyRequestsException({
        message: 'Rate exceeded',
        Reason: 'CallerRateLimitExceeded',
        $metadata: { httpStatusCode: 429 },
      });
    }
    calls.push(now);
    if (bucket === 'controlPlane') this.controlPlaneCalls.push(now);
  }

  /** The most control-plane calls Switchyard made in any sliding second. */
  peakPerSecond(): number {
    let peak = 0;
    let from = 0;
    for (let to = 0; to < this.controlPlaneCalls.length; to++) {
      while ((this.controlPlaneCalls[from] as number) <= (this.controlPlaneCalls[to] as number) - 1000) from++;
      peak = Math.max(peak, to - from + 1);
    }
    return peak;
  }
}

function notFound(message: string): ResourceNotFoundException {
  return new ResourceNotFoundException({ message, $metadata: { httpStatusCode: 404 } });
}

/** Lambda's RevisionId stands for the alias's state: any change gives a new one. */
function revisionOf(alias: AliasState): string {
  return createHash('sha256')
    .update(JSON.stringify([alias.version, alias.routing?.version, alias.routing?.weight]))
    .digest('hex')
    .slice(0, 16);
}

/**
 * A LambdaClient whose commands reach the in-memory functions (so Verify's invocations and Check health's traffic
 * stay the harness's own) through the account's quota: what the Lambda adapter sends, as Lambda would answer it.
 */
export function quotaLambdaClient(functions: MemoryFunctionVersions, quota: ControlPlaneQuota): LambdaClient {
  const client = new LambdaClient({ region: 'us-east-1' });
  const send = async (command: { input: Record<string, unknown> }): Promise<unknown> => {
    quota.admit(command);
    const input = command.input as Record<string, string | undefined> & {
      RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> };
      Payload?: Uint8Array;
    };
    const fn = String(input.FunctionName);
    if (command instanceof GetAliasCommand) {
      const alias = await functions.getAlias(fn, String(input.Name));
      if (!alias) throw notFound(`Alias not found: ${fn}:${input.Name}`);
      const weights = alias.routing ? { [alias.routing.version]: alias.routing.weight } : {};
      return {
        Name: alias.name,
        FunctionVersion: alias.version,
        RoutingConfig: { AdditionalVersionWeights: weights },
        RevisionId: revisionOf(alias),
      };
    }
    if (command instanceof UpdateAliasCommand) {
      const alias = await functions.getAlias(fn, String(input.Name));
      if (!alias) throw notFound(`Alias not found: ${fn}:${input.Name}`);
      if (input.RevisionId && input.RevisionId !== revisionOf(alias)) {
        throw new PreconditionFailedException({ message: 'RevisionId does not match', $metadata: {} });
      }
      const [routed] = Object.entries(input.RoutingConfig?.AdditionalVersionWeights ?? {});
      const routing = routed ? { version: routed[0], weight: routed[1] } : undefined;
      await functions.updateAlias(fn, String(input.Name), String(input.FunctionVersion), routing);
      return {};
    }
    if (command instanceof CreateAliasCommand) {
      await functions.ensureAlias(fn, String(input.Name), String(input.FunctionVersion));
      return {};
    }
    if (command instanceof GetFunctionCommand || command instanceof GetFunctionConfigurationCommand) {
      if (input.Qualifier && input.Qualifier !== '$LATEST') {
        const version = await functions.publishedVersion(fn, input.Qualifier);
        if (!version) throw notFound(`Function not found: ${fn}:${input.Qualifier}`);
        const digest = await functions.versionImageDigest(fn, input.Qualifier);
        const config = { Version: version.version, Description: version.description, CodeSha256: version.codeSha256 };
        return { Configuration: config, Code: { ResolvedImageUri: `registry/image@${digest}` } };
      }
      const latest = { LastUpdateStatus: 'Successful', State: 'Active', CodeSha256: latestSha.get(fn) };
      return command instanceof GetFunctionCommand ? { Configuration: latest } : latest;
    }
    if (command instanceof UpdateFunctionCodeCommand) {
      const { codeSha256 } = await functions.updateCodeAndWait(fn, String(input.ImageUri));
      latestSha.set(fn, codeSha256);
      return { LastUpdateStatus: 'InProgress' };
    }
    if (command instanceof PublishVersionCommand) {
      const published = await functions.publishVersion(fn, String(input.Description), String(input.CodeSha256));
      return { Version: published.version, Description: published.description, CodeSha256: published.codeSha256 };
    }
    if (command instanceof InvokeCommand) {
      const payload: unknown = JSON.parse(new TextDecoder().decode(input.Payload));
      const out = await functions.invoke(fn, String(input.Qualifier), payload, 30_000);
      return {
        StatusCode: out.statusCode,
        ...(out.functionError ? { FunctionError: out.functionError } : {}),
        Payload: new TextEncoder().encode(JSON.stringify(out.payload)),
      };
    }
    throw new Error(`the quota stand-in does not answer ${command.constructor.name}`);
  };
  const latestSha = new Map<string, string>();
  return Object.assign(client, { send }) as LambdaClient;
}
