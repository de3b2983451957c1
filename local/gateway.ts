import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRawQuery } from '../app/http-event.ts';
import { parseProxyResponse, restProxyEvent } from '../core/model/api-gateway-event.ts';
import type { FunctionVersions } from '../core/ports/ports.ts';

export interface GatewayOptions {
  readonly functions: FunctionVersions;
  readonly functionName: string;
  /** The alias API Gateway's integration targets. */
  readonly alias: string;
  /**
   * Stages besides the default one, by base path: `{ green: 'green' }` serves `/green/…` from the green alias, as
   * the Terraform module's `green` stage does (its stage variable names the alias).
   */
  readonly stages?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly maxBodyBytes?: number;
  readonly port?: number;
}

/** The base path of the stage bound to the green alias (Terraform's `green` stage). */
export const GREEN_STAGE = 'green';

/** Past this many bytes an oversized body is no longer drained: the connection is dropped instead. */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

/**
 * The request's body, or undefined when it passes `limit` bytes. An oversized body is still read to its end (and
 * dropped), so the 413 leaves a keep-alive connection usable instead of resetting it with the bytes left unread.
 */
export async function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > Math.max(limit, MAX_DRAINED_BYTES)) {
      request.socket.destroy();
      return undefined;
    }
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(chunks).toString('utf8');
}

/**
 * An HTTP request as the REST proxy event API Gateway would hand the function (payload 1.0): every value of a
 * repeated parameter kept, and a `+` left a plus sign, as the raw query string has them.
 */
export function proxyEventFor(request: IncomingMessage, body: string): Record<string, unknown> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  return restProxyEvent({
    method: request.method ?? 'GET',
    path: url.pathname,
    query: parseRawQuery(url.search.replace(/^\?/, '')),
    headers: Object.fromEntries(
      Object.entries(request.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
    ),
    body,
    sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
  });
}

/**
 * API Gateway's REST proxy integration on 127.0.0.1: each request becomes a payload 1.0 event for the `live`
 * alias, which the local Lambda routes by weight exactly as Lambda does. A function error answers 502.
 */
export class LocalGateway {
  private server: Server | undefined;

  constructor(private readonly options: GatewayOptions) {}

  async start(): Promise<string> {
    const { functions, functionName, alias, stages } = this.options;
    const timeoutMs = this.options.timeoutMs ?? 29_000;
    const limit = this.options.maxBodyBytes ?? 10 * 1024 * 1024;
    this.server = createServer(async (req, res) => {
      try {
        const body = await readBody(req, limit);
        if (body === undefined) {
          res.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"Request Too Long"}');
          return;
        }
        let target = alias;
        if (stages) {
          // API Gateway strips the stage from the path the function sees.
          const stage = /^\/([^/?]+)(.*)$/.exec(req.url ?? '/');
          const stageAlias = stage?.[1] === undefined ? undefined : stages[stage[1]];
          if (stage && stageAlias) {
            target = stageAlias;
            req.url = stage[2]?.startsWith('/') ? stage[2] : `/${stage[2] ?? ''}`;
          }
        }
        const result = await functions.invoke(functionName, target, proxyEventFor(req, body), timeoutMs);
        if (result.functionError) {
          res.writeHead(502, { 'content-type': 'application/json' }).end('{"message":"Internal server error"}');
          return;
        }
        const response = parseProxyResponse(result.payload);
        res.writeHead(response.statusCode, response.headers).end(response.body);
      } catch (error) {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: error instanceof Error ? error.message : 'gateway error' }));
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }
}
