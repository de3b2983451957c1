import { parseProxyResponse, restProxyEvent } from './api-gateway-event.ts';
import { errorMessage, VerificationFailed } from './errors.ts';
import type { FrontDoor, FunctionVersions, ReleaseStore, RequestSigner, SmokeSigners } from './ports.ts';
import { type ReleaseContext, type TargetContext, targetLabel } from './release-context.ts';

export interface CheckEvidence {
  readonly name: string;
  readonly passed: boolean;
  readonly expected: string;
  readonly observed: string;
  readonly durationMs: number;
}

export interface VerificationResult {
  readonly passed: true;
  readonly qualifier: string;
  readonly checks: CheckEvidence[];
}

export interface VerifyGreenDeps {
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly clock: { now(): Date };
  /** The smoke-test client's signer per environment; without one, signed smoke requests fail verification. */
  readonly smokeSigners: SmokeSigners;
  /** The green stage of the application's API (API Gateway + WAF): the same requests sent through the front door. */
  readonly frontDoor: FrontDoor;
  /** A throttled or briefly failing invoke is retried by the state machine, not judged as a failed check. */
  readonly isTransient?: (error: unknown) => boolean;
}

function bodyField(body: string, field: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === 'object' ? Reflect.get(parsed, field) : undefined;
  } catch {
    return undefined;
  }
}

/** Names the front-door checks in the evidence, beside the direct ones. */
export const FRONT_DOOR_CHECK_PREFIX = 'front-door:';

/**
 * Calls the green version directly (by version qualifier, so nothing else can answer): the health route must
 * answer 200 and name the version, then each smoke request must get its expected status. Once those pass, the
 * same health check and smoke requests go through the front door (API Gateway's green stage and the WAF), so a
 * WAF rule or an API mapping that breaks the app fails here, before live moves; the health check through it must
 * name the green version, which catches a stage mapped to another alias. Every check carries its evidence; any
 * failure throws VerificationFailed naming the check.
 */
export async function verifyGreen(
  release: ReleaseContext,
  target: TargetContext,
  greenVersion: string,
  deps: VerifyGreenDeps,
): Promise<VerificationResult> {
  const { verification } = release;
  const { functionName } = target;
  const checks: CheckEvidence[] = [];

  const call = async (
    method: string,
    path: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs = verification.timeoutMs,
  ) => {
    const started = Date.now();
    try {
      const result = await deps.functions.invoke(
        functionName,
        greenVersion,
        restProxyEvent({ method, path, body, headers }),
        timeoutMs,
      );
      const response = result.functionError
        ? { statusCode: 502, headers: {}, body: `function error: ${result.functionError}` }
        : parseProxyResponse(result.payload);
      return { response, durationMs: Date.now() - started };
    } catch (error) {
      if (deps.isTransient?.(error)) throw error;
      return {
        response: { statusCode: 0, headers: {}, body: `invoke failed: ${errorMessage(error)}` },
        durationMs: Date.now() - started,
      };
    }
  };

  // The first call to a new version meets its cold start; a timeout is retried by the state machine (transient).
  const health = await call('GET', verification.healthPath, '', {}, verification.firstCallTimeoutMs);
  const reportedVersion = bodyField(health.response.body, 'version');
  checks.push({
    name: 'health',
    passed: health.response.statusCode === 200 && String(reportedVersion) === greenVersion,
    expected: `200 reporting version ${greenVersion}`,
    observed: `${health.response.statusCode} reporting version ${String(reportedVersion ?? 'none')}`,
    durationMs: health.durationMs,
  });

  const viaFrontDoor = async (method: string, path: string, body: string, headers: Record<string, string>) => {
    const started = Date.now();
    try {
      const response = await deps.frontDoor.sendToGreen(
        release.environment,
        { method, path, body, headers },
        verification.timeoutMs,
      );
      return { response, observedAt: ` via ${response.url}`, durationMs: Date.now() - started };
    } catch (error) {
      if (deps.isTransient?.(error)) throw error;
      return {
        response: { statusCode: 0, body: `not sent: ${errorMessage(error)}` },
        observedAt: '',
        durationMs: Date.now() - started,
      };
    }
  };

  let signer: RequestSigner | undefined;
  let unsigned = 'no smoke-test signing key is configured';
  const smokeRequests = async (
    prefix: string,
    send: (
      method: string,
      path: string,
      body: string,
      headers: Record<string, string>,
    ) => Promise<{ response: { statusCode: number; body: string }; observedAt?: string; durationMs: number }>,
  ) => {
    for (const smoke of verification.smoke) {
      const body = smoke.body === undefined ? '' : JSON.stringify(smoke.body);
      const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
      if (smoke.signed && !signer) {
        checks.push({
          name: `${prefix}${smoke.name}`,
          passed: false,
          expected: `${smoke.expectStatus}`,
          observed: `not sent: ${unsigned}`,
          durationMs: 0,
        });
        continue;
      }
      // Signed afresh for each send: the app refuses a nonce it has seen.
      if (smoke.signed && signer) {
        Object.assign(headers, await signer.sign({ method: smoke.method, path: smoke.path, query: {}, body }));
      }
      const { response, observedAt, durationMs } = await send(smoke.method, smoke.path, body, headers);
      checks.push({
        name: `${prefix}${smoke.name}`,
        passed: response.statusCode === smoke.expectStatus,
        expected: `${smoke.expectStatus}`,
        observed: `${response.statusCode}${response.statusCode === 0 ? ` (${response.body})` : (observedAt ?? '')}`,
        durationMs,
      });
    }
  };

  if (checks.every((c) => c.passed)) {
    if (verification.smoke.some((smoke) => smoke.signed)) {
      try {
        signer = await deps.smokeSigners.signerFor(release.environment);
      } catch (error) {
        if (deps.isTransient?.(error)) throw error;
        unsigned = `the smoke-test signing key could not be read: ${errorMessage(error)}`;
      }
    }
    await smokeRequests('', async (method, path, body, headers) => call(method, path, body, headers));
  }

  // The environment's green stage fronts the environment's own function; a fleet member is verified directly.
  if (checks.every((c) => c.passed) && target.frontDoor) {
    const health = await viaFrontDoor('GET', verification.healthPath, '', {});
    const reported = bodyField(health.response.body, 'version');
    checks.push({
      name: `${FRONT_DOOR_CHECK_PREFIX}health`,
      passed: health.response.statusCode === 200 && String(reported) === greenVersion,
      expected: `200 reporting version ${greenVersion}`,
      observed:
        health.response.statusCode === 0
          ? health.response.body
          : `${health.response.statusCode} reporting version ${String(reported ?? 'none')}${health.observedAt}`,
      durationMs: health.durationMs,
    });
    if (checks.every((c) => c.passed)) await smokeRequests(FRONT_DOOR_CHECK_PREFIX, viaFrontDoor);
  }

  const failed = checks.filter((c) => !c.passed);
  const at = deps.clock.now().toISOString();
  const { member, prefix } = targetLabel(release, target);
  const evidence = { checks, ...(member ? { member } : {}) };
  if (failed.length > 0) {
    const names = failed.map((c) => `${c.name} (expected ${c.expected}, got ${c.observed})`).join(', ');
    await deps.store.update(
      release.releaseId,
      { targets: { [target.name]: { phase: 'failed' } } },
      { at, kind: 'verification-failed', summary: `${prefix}green version ${greenVersion} failed: ${names}`, evidence },
    );
    throw new VerificationFailed(`verification of version ${greenVersion} failed: ${names}`, { checks });
  }
  await deps.store.update(
    release.releaseId,
    { targets: { [target.name]: { phase: 'verified' } } },
    {
      at,
      kind: 'verified',
      summary: `${prefix}green version ${greenVersion} passed ${checks.length} checks`,
      evidence,
    },
  );
  return { passed: true, qualifier: greenVersion, checks };
}
