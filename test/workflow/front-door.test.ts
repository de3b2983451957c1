import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpFrontDoor } from '../../adapters/http/http-front-door.ts';
import { GREEN_STAGE, LocalGateway } from '../../local/gateway.ts';
import { ReleaseWorld } from './harness.ts';

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** A world whose Verify green reaches the green stage over HTTP, at the URL `stageUrl()` gives once it runs. */
function worldThroughHttp(stageUrl: () => string | undefined) {
  return new ReleaseWorld({
    environment: 'staging',
    frontDoor: () => new HttpFrontDoor({ greenStageUrl: stageUrl, whereToConfigure: 'test' }),
  });
}

/** The local gateway over the world's functions, its green stage mapped to `greenStageAlias`. */
async function gatewayFor(world: ReleaseWorld, greenStageAlias: string): Promise<string> {
  const gateway = new LocalGateway({
    functions: world.functions,
    functionName: world.functionName,
    alias: 'live',
    stages: { [GREEN_STAGE]: greenStageAlias },
  });
  running.push(gateway);
  return `${await gateway.start()}/${GREEN_STAGE}`;
}

/**
 * A web ACL stand-in in front of the gateway: it refuses requests to `refusedPath` with WAF's default block
 * response (403) and passes the rest through.
 */
async function wafInFrontOf(upstream: string, refusedPath: string): Promise<string> {
  const server: Server = createServer(async (req, res) => {
    const path = req.url ?? '/';
    if (path.startsWith(refusedPath)) {
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Forbidden"}');
      return;
    }
    const answer = await fetch(`${upstream}${path}`, {
      method: req.method ?? 'GET',
      headers: Object.fromEntries(
        Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
      ),
    });
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  running.push({
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function checksOf(world: ReleaseWorld, kind: 'verified' | 'verification-failed') {
  const record = await world.store.getRelease('release-1');
  const event = record?.events.find((e) => e.kind === kind);
  const evidence = event?.kind === 'verified' || event?.kind === 'verification-failed' ? event.evidence : undefined;
  return evidence?.checks ?? [];
}

describe('Verify green through the front door (API gateway green stage)', () => {
  it('sends the health check and every smoke request through the green stage, each its own check', async () => {
    let url: string | undefined;
    const world = await worldThroughHttp(() => url).seed();
    url = await gatewayFor(world, 'green');

    const result = await world.run(world.apiRequest());

    expect(result.status).toBe('SUCCEEDED');
    const checks = await checksOf(world, 'verified');
    expect(checks.map((c) => c.name)).toEqual([
      'health',
      'version',
      'list-orders',
      'unsigned-request-refused',
      'front-door:health',
      'front-door:version',
      'front-door:list-orders',
      'front-door:unsigned-request-refused',
    ]);
    expect(checks.find((c) => c.name === 'front-door:health')?.observed).toBe(
      `200 reporting version 2 via ${url}/health`,
    );
  });

  it('fails verification, live untouched, when the green stage is mapped to another alias', async () => {
    let url: string | undefined;
    const world = await worldThroughHttp(() => url).seed();
    url = await gatewayFor(world, 'live');

    const result = await world.run(world.apiRequest());

    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain(
      `front-door:health (expected 200 reporting version 2, got 200 reporting version 1 via ${url}/health)`,
    );
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    // The direct checks passed: only the front door caught it.
    const checks = await checksOf(world, 'verification-failed');
    expect(checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['front-door:health']);
  });

  it('fails verification, live untouched, when the WAF refuses a smoke request the app accepts', async () => {
    let url: string | undefined;
    const world = await worldThroughHttp(() => url).seed();
    const stage = await gatewayFor(world, 'green');
    url = `${await wafInFrontOf(stage.replace(/\/green$/, ''), '/green/orders')}/${GREEN_STAGE}`;

    const result = await world.run(world.apiRequest());

    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain(`front-door:list-orders (expected 200, got 403 via ${url}/orders)`);
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
  });

  it('fails verification naming the missing setting when the environment has no green stage URL', async () => {
    const world = await worldThroughHttp(() => undefined).seed();

    const result = await world.run(world.apiRequest());

    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain(
      'front-door:health (expected 200 reporting version 2, got not sent: no green stage URL is configured for staging (test))',
    );
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  });
});
