import type { AppConfig } from './app-config.ts';
import type { ClientKeyStore } from './client-keys.ts';
import { MethodNotAllowed, RouteNotFound } from './errors.ts';
import { type FaultConfig, injectFault } from './fault-injection.ts';
import type { ApiRequest } from './http-event.ts';
import { jsonResponse, type ProxyResponse } from './http-response.ts';
import type { NonceStore } from './nonce-cache.ts';
import type { OrderBook } from './orders.ts';
import { enforceBodyLimit } from './request-body.ts';
import { type AuthenticatedClient, verifySignedRequest } from './request-verifier.ts';
import { matchRoute, ROUTES, type Route } from './routes.ts';

/** Replaced by esbuild `define`: false in production bundles, the fault config in rehearsal bundles. */
declare const __SWITCHYARD_FAULT__: FaultConfig | false | undefined;

export interface AppDeps {
  readonly config: AppConfig;
  readonly keys: ClientKeyStore;
  readonly nonces: NonceStore;
  readonly orders: OrderBook;
  readonly nowSeconds: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly routes?: readonly Route[];
}

/** A hook to report progress (the route and client) before a later step fails. */
export interface ApiProgress {
  routeName?: string;
  client?: AuthenticatedClient;
}

/**
 * Route, size limit, signature, then the route's own validation and logic. Refusals are thrown as HttpErrors and
 * shaped by the caller; `progress` tells the caller how far the request got.
 */
export async function handleApiRequest(
  request: ApiRequest,
  deps: AppDeps,
  progress: ApiProgress = {},
): Promise<ProxyResponse> {
  const { route, params, allowed } = matchRoute(request.method, request.path, deps.routes ?? ROUTES);
  if (!route) {
    if (allowed.length > 0) {
      throw new MethodNotAllowed(
        `${request.method} is not allowed on ${request.path}.`,
        { allowed },
        {
          allow: allowed.join(', '),
        },
      );
    }
    throw new RouteNotFound(`No route for ${request.method} ${request.path.slice(0, 200)}.`);
  }
  progress.routeName = route.name;

  if (typeof __SWITCHYARD_FAULT__ !== 'undefined' && __SWITCHYARD_FAULT__) {
    await injectFault(__SWITCHYARD_FAULT__, route.name, deps);
  }

  enforceBodyLimit(request.body, deps.config.maxBodyBytes);
  const client = route.signed ? await verifySignedRequest(request, deps) : undefined;
  progress.client = client;

  const result = route.handle({ request, client, params, config: deps.config, orders: deps.orders });
  return jsonResponse(result.statusCode, result.body, request.requestId, result.headers);
}
