import { describe, expect, it } from 'vitest';
import { MalformedRequest, UnsupportedEvent } from '../../app/errors.ts';
import { parseApiGatewayEvent, parseRawQuery } from '../../app/http-event.ts';
import { restEvent } from './request-builders.ts';

function httpApiEvent(overrides: Record<string, unknown> = {}, stage = '$default') {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: stage === '$default' ? '/orders' : `/${stage}/orders`,
    rawQueryString: 'status=shipped&limit=2&tag=a%20b&tag=c%2Bd&flag',
    headers: { 'X-Api-Key': 'k', 'content-type': 'application/json' },
    requestContext: { requestId: 'req-2', stage, http: { method: 'post', sourceIp: '10.0.0.1' } },
    body: 'eyJhIjoxfQ==',
    isBase64Encoded: true,
    ...overrides,
  };
}

describe('parseApiGatewayEvent', () => {
  it('reads the REST proxy sample (payload 1.0): method, path, multi-value query and headers, body', () => {
    const request = parseApiGatewayEvent(restEvent({ path: '/my/path', query: { a: ['1', '2'] }, body: 'hi' }));
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/my/path');
    expect(request.query).toEqual([
      ['a', '1'],
      ['a', '2'],
    ]);
    expect(request.headers.origin).toBe('https://aws.amazon.com');
    expect(request.headers.header2).toBe('value1,value2');
    expect(Buffer.from(request.body).toString()).toBe('hi');
    expect(request.requestId).toBe('id=');
    expect(request.sourceIp).toBe('192.168.0.1/32');
  });

  it('falls back to single-value query parameters when multi-value ones are absent', () => {
    const event = { ...restEvent(), multiValueQueryStringParameters: null, queryStringParameters: { q: 'x' } };
    expect(parseApiGatewayEvent(event).query).toEqual([['q', 'x']]);
  });

  it('reads an HTTP API event (payload 2.0), decoding a base64 body and the raw query', () => {
    const request = parseApiGatewayEvent(httpApiEvent());
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/orders');
    expect(request.query).toEqual([
      ['status', 'shipped'],
      ['limit', '2'],
      ['tag', 'a b'],
      ['tag', 'c+d'],
      ['flag', ''],
    ]);
    expect(request.headers['x-api-key']).toBe('k');
    expect(Buffer.from(request.body).toString()).toBe('{"a":1}');
    expect(request.sourceIp).toBe('10.0.0.1');
  });

  it('strips a named stage from an HTTP API rawPath, since clients sign the route path', () => {
    expect(parseApiGatewayEvent(httpApiEvent({}, 'prod')).path).toBe('/orders');
    expect(parseApiGatewayEvent(httpApiEvent({ rawPath: '/prod' }, 'prod')).path).toBe('/');
    expect(parseApiGatewayEvent(httpApiEvent({ rawPath: '/production/x' }, 'prod')).path).toBe('/production/x');
  });

  it('treats a missing body as empty', () => {
    const request = parseApiGatewayEvent(httpApiEvent({ body: undefined, rawQueryString: '' }));
    expect(request.body.byteLength).toBe(0);
    expect(request.query).toEqual([]);
  });

  it('refuses a query with a broken percent-encoding', () => {
    expect(() => parseRawQuery('a=%E0%A4%A')).toThrow(MalformedRequest);
  });

  it('refuses events that are not API Gateway proxy events', () => {
    expect(() => parseApiGatewayEvent({ source: 'aws.ecr' })).toThrow(UnsupportedEvent);
    expect(() => parseApiGatewayEvent(null)).toThrow(UnsupportedEvent);
  });
});
