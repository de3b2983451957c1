import type { AppConfig } from './app-config.ts';
import { OrderNotFound } from './errors.ts';
import type { ApiRequest } from './http-event.ts';
import { CreateOrderSchema, ListOrdersQuerySchema, ORDER_ID_PATTERN, type OrderBook } from './orders.ts';
import { parseJsonBody, requireJsonContentType, validate } from './request-body.ts';
import type { AuthenticatedClient } from './request-verifier.ts';

export interface RouteContext {
  readonly request: ApiRequest;
  /** Present on signed routes. */
  readonly client: AuthenticatedClient | undefined;
  readonly params: Readonly<Record<string, string>>;
  readonly config: AppConfig;
  readonly orders: OrderBook;
}

export interface RouteResult {
  readonly statusCode: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

export interface Route {
  readonly method: string;
  /** The template used in logs, metrics and errors, e.g. `GET /orders/{id}`. */
  readonly name: string;
  readonly pattern: RegExp;
  readonly signed: boolean;
  handle(context: RouteContext): RouteResult;
}

function identity(config: AppConfig) {
  return {
    version: config.functionVersion,
    ...(config.imageDigest ? { digest: config.imageDigest } : {}),
    commit: config.commit ?? 'unknown',
  };
}

function queryObject(query: ApiRequest['query']): Record<string, string> {
  return Object.fromEntries(query);
}

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    name: 'GET /health',
    pattern: /^\/health$/,
    signed: false,
    handle: ({ config }) => ({ statusCode: 200, body: { status: 'ok', ...identity(config) } }),
  },
  {
    method: 'GET',
    name: 'GET /version',
    pattern: /^\/version$/,
    signed: false,
    handle: ({ config }) => ({
      statusCode: 200,
      body: { ...identity(config), functionName: config.functionName ?? null, node: process.version },
    }),
  },
  {
    method: 'GET',
    name: 'GET /orders',
    pattern: /^\/orders$/,
    signed: true,
    handle: ({ request, orders }) => {
      const query = validate(queryObject(request.query), ListOrdersQuerySchema, 'The query does not match the schema.');
      return { statusCode: 200, body: orders.list(query) };
    },
  },
  {
    method: 'POST',
    name: 'POST /orders',
    pattern: /^\/orders$/,
    signed: true,
    handle: ({ request, orders, client }) => {
      requireJsonContentType(request.headers);
      const input = parseJsonBody(request.body, CreateOrderSchema);
      const order = orders.create(input, client?.clientId ?? 'anonymous');
      return { statusCode: 201, body: order, headers: { location: `/orders/${order.id}` } };
    },
  },
  {
    method: 'GET',
    name: 'GET /orders/{id}',
    pattern: /^\/orders\/(?<id>[^/]+)$/,
    signed: true,
    handle: ({ params, orders }) => {
      const id = params.id ?? '';
      const order = ORDER_ID_PATTERN.test(id) ? orders.get(id) : undefined;
      if (!order) throw new OrderNotFound(`No order ${JSON.stringify(id.slice(0, 64))} on this instance.`);
      return { statusCode: 200, body: order };
    },
  },
];

export interface RouteMatch {
  readonly route: Route | undefined;
  readonly params: Record<string, string>;
  /** Methods the path accepts, when it matched a path but not the method. */
  readonly allowed: readonly string[];
}

export function matchRoute(method: string, path: string, routes: readonly Route[] = ROUTES): RouteMatch {
  const allowed: string[] = [];
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method === method) return { route, params: { ...match.groups }, allowed: [] };
    allowed.push(route.method);
  }
  return { route: undefined, params: {}, allowed };
}
