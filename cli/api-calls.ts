import { environmentOfReleaseId } from '../core/model/release-id.ts';
import type { Connection } from './context.ts';
import { CliFailure, EXIT, statusExitCode } from './exit-codes.ts';

/** The release API refused a request: one line (with its field errors) and the status's exit code. */
export class ApiRefusal extends CliFailure {
  override readonly name = 'ApiRefusal';
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    const fields = ((body.errors as { field: string; message: string }[] | undefined) ?? []).map(
      (e) => `${e.field}: ${e.message}`,
    );
    const running = body.runningRelease ? [`running release: ${String(body.runningRelease)}`] : [];
    const extra = [...fields, ...running];
    super(
      `error ${status}: ${String(body.message ?? 'request failed')}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`,
      statusExitCode(status),
    );
  }
}

/** Calls the release API; a non-2xx answer becomes an `ApiRefusal`. */
export async function call(
  connection: Connection,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await connection.client.request(method, path, body);
  if (response.status < 200 || response.status >= 300) throw new ApiRefusal(response.status, response.body);
  return response.body;
}

const segment = encodeURIComponent;

/** A promotion named before ids began with their target environment: `rel-staging-…-to-prod` runs in prod. */
const OLD_PROMOTION = /-to-[a-z]+$/;

/**
 * The environment a release runs in, for the path of every action on it: the one its id begins with, or, for an id
 * that names none (a release an image push started) or an old-scheme promotion, the one the release API reports.
 */
export async function environmentOfRelease(connection: Connection, releaseId: string): Promise<string> {
  const fromId = environmentOfReleaseId(releaseId);
  if (fromId && !OLD_PROMOTION.test(releaseId)) return fromId;
  const detail = await call(connection, 'GET', `/releases/${segment(releaseId)}`);
  if (typeof detail.environment !== 'string' || detail.environment === 'unknown') {
    throw new CliFailure(`release ${releaseId} names no environment`, EXIT.notFound);
  }
  return detail.environment;
}

/** `/environments/{env}/releases`: where a release starts, and the list of one environment's releases. */
export const environmentReleasesPath = (environment: string) => `/environments/${segment(environment)}/releases`;

/** `/environments/{env}/releases/{id}/{action}`: an action on one release, under its own environment. */
export async function releaseActionPath(connection: Connection, releaseId: string, action: string): Promise<string> {
  const environment = await environmentOfRelease(connection, releaseId);
  return `${environmentReleasesPath(environment)}/${segment(releaseId)}/${action}`;
}

/** `/environments/{env}/promotions/{id}`: the promotion of a release into `environment`. */
export const promotionPath = (environment: string, releaseId: string) =>
  `/environments/${segment(environment)}/promotions/${segment(releaseId)}`;
