/**
 * Every route of the release API, as `METHOD path`. The handler (`api/release-api.ts`) serves exactly these and
 * the REST API (`infra/release-api.ts`) creates exactly these resources and methods, each behind IAM authorization.
 *
 * Every route that acts on an environment carries it in its path, so an IAM policy on `execute-api:Invoke` can
 * allow or deny it by environment; the handler refuses a release that is not the path's environment's (404). The
 * reads that span environments (`GET /releases`, `GET /releases/{releaseId}`, its steps and changes, `GET /environments`, `GET /insights`) act
 * on none; nor do an image's abandonment and its restoring, which act on the image in every environment. A promotion is named by the environment it releases into: `POST /environments/prod/promotions/{id}`
 * starts a prod release, whatever environment the source release ran in.
 */
export const RELEASE_API_ROUTES = [
  'GET /releases',
  'GET /releases/{releaseId}',
  'GET /releases/{releaseId}/steps',
  'GET /releases/{releaseId}/changes',
  'GET /insights',
  'GET /environments',
  'GET /environments/{environment}/releases',
  'POST /environments/{environment}/releases',
  'POST /environments/{environment}/releases/{releaseId}/approve',
  'POST /environments/{environment}/releases/{releaseId}/reject',
  'POST /environments/{environment}/releases/{releaseId}/fast-forward',
  'POST /environments/{environment}/releases/{releaseId}/pause',
  'POST /environments/{environment}/releases/{releaseId}/resume',
  'POST /environments/{environment}/releases/{releaseId}/abort',
  'POST /environments/{environment}/releases/{releaseId}/retry',
  'POST /environments/{environment}/promotions/{releaseId}',
  'POST /environments/{environment}/rollback',
  'POST /environments/{environment}/overrides',
  'POST /environments/{environment}/clear-hold',
  'POST /images/{digest}/abandon',
  'POST /images/{digest}/restore',
] as const;
export type ReleaseApiRoute = (typeof RELEASE_API_ROUTES)[number];

/** What each path parameter accepts: a release id is an execution name (at most 80 of `[A-Za-z0-9_-]`). */
export const PATH_PARAMETERS = {
  environment: '[A-Za-z0-9_-]{1,64}',
  releaseId: '[A-Za-z0-9_-]{1,80}',
  /** An image digest, its colon as sent or percent-encoded. */
  digest: 'sha256(?::|%3[Aa])[a-f0-9]{32,64}',
} as const;

/** A route's method and path template. */
export function splitRoute(route: ReleaseApiRoute): { method: string; path: string } {
  const [method = '', path = ''] = route.split(' ');
  return { method, path };
}
