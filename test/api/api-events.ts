import { restProxyEvent } from '../../core/model/api-gateway-event.ts';
import { environmentOfReleaseId } from '../../core/model/release-id.ts';
import type { ApiReply } from './release-api.contract.ts';

/** The REST proxy event API Gateway sends for a call signed by `caller` (IAM authorization). */
export function signedEvent(
  method: string,
  path: string,
  body: unknown,
  caller: string,
  headers: Record<string, string> = {},
): Record<string, unknown> {
  const [pathname = '/', search = ''] = path.split('?');
  const event = restProxyEvent({
    method,
    path: pathname,
    query: Object.fromEntries(new URLSearchParams(search)),
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
  });
  (event.requestContext as { identity: Record<string, unknown> }).identity.userArn = caller;
  return event;
}

export async function invoke(
  handler: (event: unknown) => Promise<{ statusCode: number; body: string }>,
  event: Record<string, unknown>,
): Promise<ApiReply> {
  const result = await handler(event);
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : {} };
}

export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting; last value: ${JSON.stringify(value).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The path of a release under its own environment (the one its id begins with), as every action on it is sent. */
export function releasePath(releaseId: string): string {
  return `/environments/${environmentOfReleaseId(releaseId) ?? 'unknown'}/releases/${releaseId}`;
}
