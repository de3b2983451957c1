import * as z from 'zod';
import { environmentNamed, UnknownEnvironment } from '../config/environments.ts';
import type { EnvironmentConfig } from '../config/schema.ts';
import { DORA_BANDS } from '../core/insight/dora.ts';
import { environmentInsights } from '../core/insight/insights.ts';
import { executionConsoleUrl } from '../core/model/console-url.ts';
import {
  InvalidCursor,
  InvalidRelease,
  NoPendingApproval,
  ReleaseConflict,
  ReleaseLocked,
  ReleaseNotFound,
  ReleaseNotRunning,
  ReleaseRefused,
  TransientFailure,
} from '../core/model/errors.ts';
import { environmentOfReleaseId, idempotentReleaseId, newReleaseId } from '../core/model/release-id.ts';
import { abortRelease } from '../core/operations/abort.ts';
import { requestFastForward } from '../core/operations/fast-forward.ts';
import { pauseRelease, resumeRelease } from '../core/operations/pause.ts';
import { promoteToNext } from '../core/operations/promotion.ts';
import { retryRelease } from '../core/operations/retry.ts';
import { type StartedRelease, type StartInput, startNamedRelease } from '../core/operations/start-release.ts';
import { abandonImage, clearHold, holdAfterRollback, restoreImage } from '../core/policy/policy-changes.ts';
import type { ReleaseRecord } from '../core/ports/ports.ts';
import type { ReleaseOperations } from '../core/ports/release-operations.ts';
import { decideApproval } from '../core/steps/approval.ts';
import { logger } from '../logging/logger.ts';
import { abandonedImages, environmentStatuses } from './environment-status.ts';
import { releaseDetail, summarize } from './release-view.ts';
import {
  AbortBody,
  ApproveBody,
  type FieldError,
  fieldErrors,
  InsightsQuery,
  ListQuery,
  OverrideReleaseBody,
  PauseBody,
  PromoteToNextBody,
  ReasonBody,
  RejectBody,
  ResumeBody,
  RetryBody,
  StartReleaseBody,
} from './request-schemas.ts';
import { PATH_PARAMETERS, RELEASE_API_ROUTES, type ReleaseApiRoute, splitRoute } from './routes.ts';

/** The API Gateway REST proxy event (payload 1.0) fields the release API reads. */
const ProxyEventSchema = z.object({
  httpMethod: z.string(),
  path: z.string(),
  queryStringParameters: z.record(z.string(), z.string()).nullish(),
  headers: z.record(z.string(), z.string()).nullish(),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().nullish(),
  requestContext: z
    .object({
      identity: z.object({ userArn: z.string().nullish(), caller: z.string().nullish() }).partial().nullish(),
    })
    .nullish(),
});
type ProxyEvent = z.infer<typeof ProxyEventSchema>;

export interface ProxyResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function json(statusCode: number, body: unknown): ProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** A 400 naming each bad field. */
class BadRequest extends Error {
  override readonly name = 'BadRequest';
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super(message);
  }
}

/** A 404 for things other than releases (environments). */
class NotFound extends Error {
  override readonly name = 'NotFound';
}

/** A 403: the environment's config forbids this caller the action (separation of duties). */
class Forbidden extends Error {
  override readonly name = 'Forbidden';
  constructor(
    message: string,
    readonly error: string,
  ) {
    super(message);
  }
}

function parseBody<T>(schema: z.ZodType<T>, event: ProxyEvent): T {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  let value: unknown = {};
  if (raw.trim()) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new BadRequest('the request body is not valid JSON', [{ field: '(body)', message: 'not valid JSON' }]);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BadRequest('invalid request body', fieldErrors(parsed.error));
  return parsed.data;
}

/** The environment a path names; 404 for one that is not configured. */
function environmentOrThrow(name: string, ops: ReleaseOperations): EnvironmentConfig {
  try {
    return environmentNamed(name, ops.environments);
  } catch (error) {
    if (!(error instanceof UnknownEnvironment)) throw error;
    throw new NotFound(error.message);
  }
}

/** The caller, as API Gateway's IAM authorization established it: who started, approved or rolled back. */
function callerOf(event: ProxyEvent): string {
  const identity = event.requestContext?.identity;
  return identity?.userArn || identity?.caller || 'unknown-caller';
}

/** The path parameters of a matched route, by name. */
type PathParameters = Readonly<Partial<Record<keyof typeof PATH_PARAMETERS, string>>>;

type RouteRun = (event: ProxyEvent, params: PathParameters, ops: ReleaseOperations) => Promise<ProxyResult>;

interface ReleaseInEnvironment {
  readonly env: EnvironmentConfig;
  readonly releaseId: string;
  readonly record: ReleaseRecord | undefined;
}

/**
 * The release a path names, checked to belong to the path's environment: by its record's environment, or, for a
 * release not recorded yet (an execution still in Validate release), by the environment its id begins with. A
 * release of another environment is answered as missing (404): a caller whose IAM policy allows one environment's
 * paths can neither act on nor learn about another's through a mismatched path.
 */
async function releaseInEnvironment(params: PathParameters, ops: ReleaseOperations): Promise<ReleaseInEnvironment> {
  const env = environmentOrThrow(params.environment ?? '', ops);
  const releaseId = params.releaseId ?? '';
  const record = await ops.store.getRelease(releaseId);
  const environment = record ? record.environment : environmentOfReleaseId(releaseId);
  if (environment !== env.name) throw new ReleaseNotFound(`no release ${releaseId} in ${env.name}`);
  return { env, releaseId, record };
}

/** 202 for a release started now; 200 for one that existed already (the same key, promotion or retry). */
function startedReply(ops: ReleaseOperations, release: StartedRelease): ProxyResult {
  const { releaseId, executionArn, environment, imageDigest, replayed } = release;
  return json(replayed ? 200 : 202, {
    releaseId,
    executionArn,
    consoleUrl: executionConsoleUrl(ops.region, executionArn),
    environment,
    imageDigest,
    ...(replayed ? { replayed: true } : {}),
  });
}

/**
 * Starts a release; `override` (the override route only, with its own IAM permission) lets it start in a freeze or
 * outside the environment's windows, recorded in its history with the caller and the reason.
 */
async function startRelease(
  event: ProxyEvent,
  environment: string,
  ops: ReleaseOperations,
  override = false,
): Promise<ProxyResult> {
  const body = override ? parseBody(OverrideReleaseBody, event) : parseBody(StartReleaseBody, event);
  const headerKey = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'idempotency-key')?.[1];
  const idempotencyKey = body.idempotencyKey ?? headerKey;
  if (idempotencyKey !== undefined && !/^[A-Za-z0-9._:-]{1,64}$/.test(idempotencyKey)) {
    throw new BadRequest('invalid idempotency key', [
      { field: 'idempotencyKey', message: 'must be 1-64 letters, digits or . _ : -' },
    ]);
  }
  const env = environmentOrThrow(environment, ops);
  const repositoryName = body.repositoryName ?? env.repositoryName;
  if (repositoryName !== env.repositoryName) {
    const message = `repository "${repositoryName}" is not configured for ${env.name}; expected "${env.repositoryName}"`;
    throw new BadRequest(message, [{ field: 'repositoryName', message }]);
  }
  let imageDigest = body.imageDigest;
  if (body.imageTag !== undefined) {
    imageDigest = await ops.registry.resolveTag(repositoryName, body.imageTag);
    if (!imageDigest) {
      const message = `no image tagged "${body.imageTag}" in ${repositoryName}`;
      throw new BadRequest(message, [{ field: 'imageTag', message }]);
    }
  }
  const releaseId = idempotencyKey ? idempotentReleaseId(env.name, idempotencyKey) : newReleaseId(env.name);
  const input: StartInput = {
    trigger: 'api',
    environment: env.name,
    imageDigest,
    repositoryName,
    ...(body.imageTag !== undefined ? { imageTag: body.imageTag } : {}),
    ...(body.strategy ? { strategy: body.strategy } : {}),
    requestedBy: callerOf(event).slice(0, 256),
    ...(body.reason ? { reason: body.reason } : {}),
    ...(override && body.reason ? { override: { reason: body.reason } } : {}),
    ...(body.passHold ? { passHold: true } : {}),
  };
  return startedReply(ops, await startNamedRelease(env, releaseId, input, idempotencyKey !== undefined, ops));
}

/** Releases newest first: every environment's, or (`environment` from the path) one environment's. */
async function listReleases(event: ProxyEvent, environment: string | undefined, ops: ReleaseOperations) {
  const env = environment === undefined ? undefined : environmentOrThrow(environment, ops);
  const parsed = ListQuery.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw new BadRequest('invalid query', fieldErrors(parsed.error));
  const page = await ops.store.listReleases({ ...parsed.data, ...(env ? { environment: env.name } : {}) });
  return json(200, {
    releases: page.releases.map((r) => summarize(r, ops.region)),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  });
}

async function showRelease(releaseId: string, ops: ReleaseOperations): Promise<ProxyResult> {
  const [record, execution] = await Promise.all([ops.store.getRelease(releaseId), ops.describeExecution(releaseId)]);
  if (!record && !execution) throw new ReleaseNotFound(`no release ${releaseId}`);
  const environment = record?.environment ?? environmentOfReleaseId(releaseId) ?? null;
  return json(
    200,
    releaseDetail(releaseId, record, execution, {
      environment,
      executionArn: ops.executionArnFor(releaseId),
      region: ops.region,
    }),
  );
}

/** Each state the execution went through with its input and output (the console's state inspector). */
async function releaseSteps(releaseId: string, ops: ReleaseOperations): Promise<ProxyResult> {
  const execution = await ops.describeExecution(releaseId);
  if (!execution) throw new ReleaseNotFound(`no execution ${releaseId}`);
  return json(200, { releaseId, steps: execution.steps });
}

/** The release's diff, blue against green, as it was computed when the release started (docs/insight.md). */
async function releaseChanges(releaseId: string, ops: ReleaseOperations): Promise<ProxyResult> {
  const [record, changes] = await Promise.all([
    ops.store.getRelease(releaseId),
    ops.insight?.getReleaseChanges(releaseId),
  ]);
  if (!record) throw new ReleaseNotFound(`no release ${releaseId}`);
  if (!changes) {
    throw new NotFound(
      `release ${releaseId} has no recorded changes: it started before change sets were kept, or it is a fleet release or an environment rollback`,
    );
  }
  return json(200, { releaseId, environment: record.environment, changes });
}

/** The DORA metrics per environment (docs/insight.md), over 7, 30 and 90 days or the one window asked for. */
async function insights(event: ProxyEvent, ops: ReleaseOperations): Promise<ProxyResult> {
  const parsed = InsightsQuery.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw new BadRequest('invalid query', fieldErrors(parsed.error));
  const names = parsed.data.env ? [environmentOrThrow(parsed.data.env, ops).name] : Object.keys(ops.environments);
  const now = ops.clock.now();
  return json(200, {
    at: now.toISOString(),
    bands: DORA_BANDS,
    environments: await environmentInsights(ops, names, now, parsed.data.days),
  });
}

/** Who asked for an API release (start, promotion or retry); undefined for a release an image push started. */
function requesterOf(record: ReleaseRecord): string | undefined {
  return record.trigger.startsWith('api:') ? record.trigger.slice('api:'.length) : undefined;
}

async function answerApproval(event: ProxyEvent, params: PathParameters, approved: boolean, ops: ReleaseOperations) {
  const comment = approved ? parseBody(ApproveBody, event).comment : parseBody(RejectBody, event).reason;
  const { env, releaseId, record } = await releaseInEnvironment(params, ops);
  if (!record) throw new ReleaseNotFound(`no release ${releaseId}`);
  const by = callerOf(event);
  if (approved && env.approverMustDifferFromRequester && requesterOf(record) === by.slice(0, 256)) {
    throw new Forbidden(
      `${env.name} requires separation of duties: ${by} requested release ${releaseId} and cannot approve it`,
      'ApproverIsRequester',
    );
  }
  const result = await decideApproval(
    releaseId,
    { approved, by, ...(comment ? { comment } : {}) },
    { store: ops.store, clock: ops.clock, tasks: ops.tasks },
  );
  return json(200, { ...result, by });
}

async function fastForward(event: ProxyEvent, params: PathParameters, ops: ReleaseOperations) {
  const { releaseId } = await releaseInEnvironment(params, ops);
  const { reason } = parseBody(ReasonBody, event);
  const by = callerOf(event);
  await requestFastForward(releaseId, by, reason, { store: ops.store, clock: ops.clock });
  return json(202, {
    releaseId,
    by,
    reason,
    message: 'the next Check health skips the rest of the bake, unless it finds the release unhealthy',
  });
}

async function abort(event: ProxyEvent, params: PathParameters, ops: ReleaseOperations) {
  const { releaseId } = await releaseInEnvironment(params, ops);
  const { reason } = parseBody(AbortBody, event);
  const { by } = await abortRelease({ releaseId, by: callerOf(event), reason }, ops);
  return json(202, {
    releaseId,
    by,
    message: 'execution stopped; reconciling puts live back on the verified version and frees the lock',
  });
}

async function pause(event: ProxyEvent, params: PathParameters, ops: ReleaseOperations) {
  const { releaseId } = await releaseInEnvironment(params, ops);
  const { reason } = parseBody(PauseBody, event);
  const outcome = await pauseRelease({ releaseId, by: callerOf(event), reason }, ops);
  return json(202, {
    ...outcome,
    message: `the bake holds from the next Check health (checks go on; an unhealthy one still rolls back); rolled back at ${outcome.rollsBackAfter} unless resumed`,
  });
}

async function resume(event: ProxyEvent, params: PathParameters, ops: ReleaseOperations) {
  const { releaseId } = await releaseInEnvironment(params, ops);
  parseBody(ResumeBody, event);
  const outcome = await resumeRelease({ releaseId, by: callerOf(event) }, ops);
  return json(200, { ...outcome, message: 'the bake goes on from the next Check health' });
}

/** Promotes the source release named in the path into the path's environment (its source's `promotesTo`). */
async function promote(event: ProxyEvent, params: PathParameters, ops: ReleaseOperations) {
  const { reason, acceptWarnings } = parseBody(PromoteToNextBody, event);
  const environment = environmentOrThrow(params.environment ?? '', ops).name;
  const request = { releaseId: params.releaseId ?? '', by: callerOf(event), reason, acceptWarnings, environment };
  return startedReply(ops, await promoteToNext(request, ops));
}

async function retry(event: ProxyEvent, params: PathParameters, ops: ReleaseOperations) {
  const { releaseId } = await releaseInEnvironment(params, ops);
  const { reason } = parseBody(RetryBody, event);
  return startedReply(ops, await retryRelease({ releaseId, by: callerOf(event), reason }, ops));
}

async function rollback(event: ProxyEvent, environment: string, ops: ReleaseOperations) {
  const env = environmentOrThrow(environment, ops);
  const { reason } = parseBody(ReasonBody, event);
  if (env.fleet) {
    // A fleet's members move at the control-plane budget (up to about 30 s for 100), longer than API Gateway waits
    // for an answer: 202 now, the members in the background, the progress in the rollback's record.
    const started = await ops.startEnvironmentRollback(env.name, callerOf(event), reason);
    await holdAfterRollback(env.name, started.by, reason, started.operationId, ops);
    return json(202, { ...started, status: 'running', progress: `/releases/${started.operationId}` });
  }
  const result = await ops.rollbackEnvironment(env.name, callerOf(event), reason);
  const hold = await holdAfterRollback(env.name, result.by, reason, `${result.from} → ${result.to}`, ops);
  return json(200, { ...result, hold: { active: hold.active, reason: hold.history.at(-1)?.reason } });
}

/** Lets pushes release into an environment again after its rollback's hold (recorded with who and why). */
async function clearEnvironmentHold(event: ProxyEvent, environment: string, ops: ReleaseOperations) {
  const env = environmentOrThrow(environment, ops);
  const { reason } = parseBody(ReasonBody, event);
  const entry = await clearHold(env.name, callerOf(event), reason, ops);
  return json(200, { environment: env.name, held: entry.active, history: entry.history });
}

/** Abandons (or restores) an image in every environment: no release of the digest starts while it is abandoned. */
async function changeImage(event: ProxyEvent, digest: string, abandon: boolean, ops: ReleaseOperations) {
  const { reason } = parseBody(ReasonBody, event);
  const entry = await (abandon ? abandonImage : restoreImage)(digest, callerOf(event), reason, ops);
  return json(200, { imageDigest: digest, abandoned: entry.active, history: entry.history });
}

/** What each route runs. */
const RUNS: Record<ReleaseApiRoute, RouteRun> = {
  'GET /releases': (e, _p, ops) => listReleases(e, undefined, ops),
  'GET /releases/{releaseId}': (_e, p, ops) => showRelease(p.releaseId ?? '', ops),
  'GET /releases/{releaseId}/steps': (_e, p, ops) => releaseSteps(p.releaseId ?? '', ops),
  'GET /releases/{releaseId}/changes': (_e, p, ops) => releaseChanges(p.releaseId ?? '', ops),
  'GET /insights': (e, _p, ops) => insights(e, ops),
  'GET /environments': async (_e, _p, ops) => {
    const [environments, abandoned] = await Promise.all([environmentStatuses(ops), abandonedImages(ops)]);
    return json(200, { environments, abandonedImages: abandoned });
  },
  'GET /environments/{environment}/releases': (e, p, ops) => listReleases(e, p.environment ?? '', ops),
  'POST /environments/{environment}/releases': (e, p, ops) => startRelease(e, p.environment ?? '', ops),
  'POST /environments/{environment}/releases/{releaseId}/approve': (e, p, ops) => answerApproval(e, p, true, ops),
  'POST /environments/{environment}/releases/{releaseId}/reject': (e, p, ops) => answerApproval(e, p, false, ops),
  'POST /environments/{environment}/releases/{releaseId}/fast-forward': fastForward,
  'POST /environments/{environment}/releases/{releaseId}/pause': pause,
  'POST /environments/{environment}/releases/{releaseId}/resume': resume,
  'POST /environments/{environment}/releases/{releaseId}/abort': abort,
  'POST /environments/{environment}/releases/{releaseId}/retry': retry,
  'POST /environments/{environment}/promotions/{releaseId}': promote,
  'POST /environments/{environment}/rollback': (e, p, ops) => rollback(e, p.environment ?? '', ops),
  'POST /environments/{environment}/overrides': (e, p, ops) => startRelease(e, p.environment ?? '', ops, true),
  'POST /environments/{environment}/clear-hold': (e, p, ops) => clearEnvironmentHold(e, p.environment ?? '', ops),
  'POST /images/{digest}/abandon': (e, p, ops) => changeImage(e, p.digest ?? '', true, ops),
  'POST /images/{digest}/restore': (e, p, ops) => changeImage(e, p.digest ?? '', false, ops),
};

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly parameters: readonly (keyof typeof PATH_PARAMETERS)[];
  readonly run: RouteRun;
}

/** The routes of `api/routes.ts`, each path template turned into a pattern that captures its parameters. */
const ROUTES: readonly Route[] = RELEASE_API_ROUTES.map((route) => {
  const { method, path } = splitRoute(route);
  const parameters = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as keyof typeof PATH_PARAMETERS);
  const source = path.replace(/\{(\w+)\}/g, (_, name: keyof typeof PATH_PARAMETERS) => `(${PATH_PARAMETERS[name]})`);
  return { method, pattern: new RegExp(`^${source}$`), parameters, run: RUNS[route] };
});

/** Maps the named errors of the core (and the API's own) to status codes with a body that says why. */
function errorResponse(error: unknown): ProxyResult {
  if (error instanceof BadRequest) return json(400, { message: error.message, errors: error.errors });
  if (error instanceof Forbidden) return json(403, { message: error.message, error: error.error });
  if (error instanceof InvalidCursor) {
    return json(400, { message: error.message, errors: [{ field: 'cursor', message: error.message }] });
  }
  if (error instanceof InvalidRelease) {
    const field = typeof error.details.field === 'string' ? error.details.field : '(body)';
    return json(400, { message: error.message, errors: [{ field, message: error.message }] });
  }
  if (error instanceof ReleaseNotFound || error instanceof NotFound || error instanceof UnknownEnvironment) {
    return json(404, { message: error.message });
  }
  if (error instanceof ReleaseLocked) {
    return json(409, {
      message: error.message,
      error: error.name,
      runningRelease: error.details.runningRelease,
      ...(error.details.executionArn ? { executionArn: error.details.executionArn } : {}),
    });
  }
  // A freeze, a closed window, an abandoned image or a hold: the body names which, and when or why.
  if (error instanceof ReleaseRefused)
    return json(409, { message: error.message, error: error.name, ...error.details });
  if (error instanceof NoPendingApproval || error instanceof ReleaseNotRunning) {
    return json(409, { message: error.message, error: error.name });
  }
  // The name the API has always answered a refused promotion or retry with.
  if (error instanceof ReleaseConflict) return json(409, { message: error.message, error: 'Conflict' });
  // Throttled or failing AWS calls: worth asking again; a fleet rollback names the members it could not move.
  if (error instanceof TransientFailure) {
    const failed = Array.isArray(error.details.failed) ? { failed: error.details.failed } : {};
    return json(503, { message: error.message, error: error.name, ...failed });
  }
  logger.error('release API request failed', { error: error instanceof Error ? error : String(error) });
  return json(500, { message: 'internal error; see the release API logs' });
}

/** The release API: an API Gateway REST proxy event in, a proxy response out. */
export function releaseApiHandler(ops: ReleaseOperations): (event: unknown) => Promise<ProxyResult> {
  return async (raw) => {
    const parsed = ProxyEventSchema.safeParse(raw);
    if (!parsed.success) return json(400, { message: 'not an API Gateway proxy event' });
    const event = parsed.data;
    const path = event.path.replace(/\/+$/, '') || '/';
    const matching = ROUTES.map((route) => ({ route, match: route.pattern.exec(path) })).filter((m) => m.match);
    if (matching.length === 0) return json(404, { message: `no route ${path}` });
    const found = matching.find((m) => m.route.method === event.httpMethod.toUpperCase());
    if (!found?.match) {
      return {
        ...json(405, { message: `${event.httpMethod} is not allowed on ${path}` }),
        headers: { 'content-type': 'application/json', allow: matching.map((m) => m.route.method).join(', ') },
      };
    }
    try {
      const values = found.match.slice(1).map(decodeURIComponent);
      const params = Object.fromEntries(found.route.parameters.map((name, i) => [name, values[i]]));
      return await found.route.run(event, params, ops);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
