/**
 * @module
 * Tests for the Lambda@Edge adapter, written against the CloudFront developer guide's
 * "Lambda@Edge event structure", "Generating HTTP responses in request triggers" and
 * "Restrictions on Lambda@Edge" pages.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_DISTRIBUTION_ID,
  fromCloudFrontRequestResult,
  fromCloudFrontResponseResult,
  statusDescription,
  titleCaseHeader,
  toCloudFrontEvent,
  toCloudFrontResponseEvent,
} from './lambda-edge.ts';
import type { CloudFrontRequestOutcome } from './lambda-edge.ts';
import { decodeBase64, encodeBase64 } from './lambda-http.ts';
import type { HttpRequestInfo, HttpResult } from './lambda-http.ts';

const text = new TextEncoder();
const utf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const allBytes = (): Uint8Array => Uint8Array.from({ length: 256 }, (_, i) => i);

function request(overrides: Partial<HttpRequestInfo> = {}): HttpRequestInfo {
  return {
    method: 'GET',
    url: 'https://d111111abcdef8.cloudfront.net/picture.jpg?size=large&x=1',
    headers: [
      ['host', 'd111111abcdef8.cloudfront.net'],
      ['user-agent', 'curl/7.66.0'],
      ['accept', '*/*'],
      ['x-a', 'one'],
      ['x-a', 'two'],
      ['connection', 'keep-alive'],
      ['x-forwarded-proto', 'https'],
    ],
    body: null,
    sourceIp: '203.0.113.178',
    requestId: '4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==',
    requestTimeEpochMs: Date.UTC(2020, 0, 13, 20, 12, 38),
    ...overrides,
  };
}

/** The single record's `cf` object. */
function cf(event: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const records = event['Records'] as Array<{ cf: Record<string, Record<string, unknown>> }>;
  assert.equal(records.length, 1);
  const first = records[0];
  assert.ok(first);
  return first.cf;
}

function asResponse(outcome: CloudFrontRequestOutcome): HttpResult {
  assert.equal(outcome.kind, 'response');
  if (outcome.kind !== 'response') throw new Error('unreachable');
  return outcome.response;
}

function asRequest(outcome: CloudFrontRequestOutcome): Extract<CloudFrontRequestOutcome, { kind: 'request' }>['request'] {
  assert.equal(outcome.kind, 'request', outcome.kind === 'response' ? utf8(outcome.response.body) : '');
  if (outcome.kind !== 'request') throw new Error('unreachable');
  return outcome.request;
}

function header(result: HttpResult, name: string): string[] {
  return result.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

describe('titleCaseHeader', () => {
  it('capitalises each hyphen-separated part, as Lambda@Edge does for a missing key', () => {
    assert.equal(titleCaseHeader('content-type'), 'Content-Type');
    assert.equal(titleCaseHeader('x-forwarded-for'), 'X-Forwarded-For');
    assert.equal(titleCaseHeader('HOST'), 'Host');
  });
});

describe('toCloudFrontEvent', () => {
  it('builds a viewer-request event with the documented config and request fields', () => {
    const event = toCloudFrontEvent(request(), { eventType: 'viewer-request' });
    const { config, request: req } = cf(event);
    assert.deepEqual(config, {
      distributionDomainName: 'd111111abcdef8.cloudfront.net',
      distributionId: DEFAULT_DISTRIBUTION_ID,
      eventType: 'viewer-request',
      requestId: '4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==',
    });
    assert.ok(req);
    assert.equal(req['clientIp'], '203.0.113.178');
    assert.equal(req['method'], 'GET');
    assert.equal(req['uri'], '/picture.jpg');
    assert.equal(req['querystring'], 'size=large&x=1');
    assert.equal('origin' in req, false);
    assert.equal('body' in req, false);
  });

  it('shapes headers as lower-case name → [{ key, value }], one entry per repeated value', () => {
    const req = cf(toCloudFrontEvent(request(), { eventType: 'viewer-request' }))['request'];
    assert.ok(req);
    assert.deepEqual(req['headers'], {
      host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }],
      'user-agent': [{ key: 'User-Agent', value: 'curl/7.66.0' }],
      accept: [{ key: 'Accept', value: '*/*' }],
      'x-a': [
        { key: 'X-A', value: 'one' },
        { key: 'X-A', value: 'two' },
      ],
      // connection and x-forwarded-proto are on CloudFront's disallowed list: not exposed.
    });
  });

  it('treats header names such as constructor and __proto__ as ordinary names', () => {
    const req = cf(
      toCloudFrontEvent(request({ headers: [['constructor', 'a'], ['constructor', 'b'], ['__proto__', 'p']] }), { eventType: 'viewer-request' }),
    )['request'];
    const headers = req?.['headers'] as Record<string, unknown>;
    assert.deepEqual(headers['constructor'], [
      { key: 'Constructor', value: 'a' },
      { key: 'Constructor', value: 'b' },
    ]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value, [{ key: '__proto__', value: 'p' }]);
  });

  it('has an empty querystring (not absent) when the URL has none', () => {
    const req = cf(toCloudFrontEvent(request({ url: 'https://d.example/' }), { eventType: 'viewer-request' }))['request'];
    assert.equal(req?.['querystring'], '');
    assert.equal(req?.['uri'], '/');
  });

  it('uses the given distribution and adds the origin for origin-request events', () => {
    const origin = {
      custom: { customHeaders: {}, domainName: 'example.org', keepaliveTimeout: 5, path: '', port: 443, protocol: 'https' as const, readTimeout: 30, sslProtocols: ['TLSv1.2'] },
    };
    const { config, request: req } = cf(
      toCloudFrontEvent(request(), { eventType: 'origin-request', distributionId: 'E2QWRUHEXAMPLE', distributionDomainName: 'd123.cloudfront.net', origin }),
    );
    assert.equal(config?.['eventType'], 'origin-request');
    assert.equal(config?.['distributionId'], 'E2QWRUHEXAMPLE');
    assert.equal(config?.['distributionDomainName'], 'd123.cloudfront.net');
    assert.deepEqual(req?.['origin'], origin);
  });

  it('defaults the origin of an origin-request event to a custom origin at the request URL', () => {
    const req = cf(toCloudFrontEvent(request({ url: 'http://127.0.0.1:8787/a' }), { eventType: 'origin-request' }))['request'];
    const origin = req?.['origin'] as { custom: Record<string, unknown> };
    assert.equal(origin.custom['domainName'], '127.0.0.1');
    assert.equal(origin.custom['port'], 8787);
    assert.equal(origin.custom['protocol'], 'http');
    assert.equal(origin.custom['path'], '');
  });

  it('exposes the body as base64 with include-body, bytes 0..255 intact', () => {
    const bytes = allBytes();
    const req = cf(toCloudFrontEvent(request({ method: 'POST', body: bytes }), { eventType: 'viewer-request', includeBody: true }))['request'];
    const body = req?.['body'] as Record<string, unknown>;
    assert.equal(body['inputTruncated'], false);
    assert.equal(body['action'], 'read-only');
    assert.equal(body['encoding'], 'base64');
    assert.deepEqual(decodeBase64(String(body['data'])), bytes);
  });

  it('truncates an exposed body at 40 KB for viewer requests and 1 MB for origin requests', () => {
    const big = new Uint8Array(1024 * 1024 + 10).fill(65);
    const viewer = cf(toCloudFrontEvent(request({ method: 'POST', body: big }), { eventType: 'viewer-request', includeBody: true }))['request'];
    const vb = viewer?.['body'] as Record<string, unknown>;
    assert.equal(vb['inputTruncated'], true);
    assert.equal(decodeBase64(String(vb['data']))?.length, 40 * 1024);
    const origin = cf(toCloudFrontEvent(request({ method: 'POST', body: big }), { eventType: 'origin-request', includeBody: true }))['request'];
    const ob = origin?.['body'] as Record<string, unknown>;
    assert.equal(ob['inputTruncated'], true);
    assert.equal(decodeBase64(String(ob['data']))?.length, 1024 * 1024);
  });
});

describe('toCloudFrontResponseEvent', () => {
  const originResponse: HttpResult = {
    status: 200,
    headers: [
      ['Content-Type', 'text/html; charset=utf-8'],
      ['set-cookie', 'theme=light'],
      ['set-cookie', 'sessionToken=abc123; Expires=Wed, 09 Jun 2021 10:18:14 GMT'],
      ['x-cache', 'Miss from cloudfront'],
    ],
    body: text.encode('<html></html>'),
  };

  it('has cf.request and cf.response with a string status and description, and no body', () => {
    const { config, request: req, response } = cf(toCloudFrontResponseEvent(request(), originResponse, { eventType: 'viewer-response' }));
    assert.equal(config?.['eventType'], 'viewer-response');
    assert.equal(req?.['uri'], '/picture.jpg');
    assert.equal('origin' in (req ?? {}), false);
    assert.deepEqual(response, {
      headers: {
        'content-type': [{ key: 'Content-Type', value: 'text/html; charset=utf-8' }],
        'set-cookie': [
          { key: 'Set-Cookie', value: 'theme=light' },
          { key: 'Set-Cookie', value: 'sessionToken=abc123; Expires=Wed, 09 Jun 2021 10:18:14 GMT' },
        ],
      },
      status: '200',
      statusDescription: 'OK',
    });
  });

  it('includes the origin in origin-response events', () => {
    const { config, request: req, response } = cf(
      toCloudFrontResponseEvent(request(), { ...originResponse, status: 404 }, { eventType: 'origin-response' }),
    );
    assert.equal(config?.['eventType'], 'origin-response');
    assert.ok(req?.['origin']);
    assert.equal(response?.['status'], '404');
    assert.equal(response?.['statusDescription'], 'Not Found');
  });

  it('knows the standard reason phrases', () => {
    assert.equal(statusDescription(301), 'Moved Permanently');
    assert.equal(statusDescription(599), '');
  });
});

describe('fromCloudFrontRequestResult', () => {
  it('forwards a returned request, with keys as given and missing keys title-cased', () => {
    const event = toCloudFrontEvent(request(), { eventType: 'viewer-request' });
    const req = cf(event)['request'] as Record<string, unknown>;
    const headers = req['headers'] as Record<string, Array<{ key?: string; value: string }>>;
    headers['x-added'] = [{ value: 'yes' }];
    req['uri'] = '/index.html';
    req['querystring'] = 'v=2';
    const forwarded = asRequest(fromCloudFrontRequestResult(req));
    assert.equal(forwarded.method, 'GET');
    assert.equal(forwarded.uri, '/index.html');
    assert.equal(forwarded.querystring, 'v=2');
    assert.deepEqual(forwarded.headers, [
      ['Host', 'd111111abcdef8.cloudfront.net'],
      ['User-Agent', 'curl/7.66.0'],
      ['Accept', '*/*'],
      ['X-A', 'one'],
      ['X-A', 'two'],
      ['X-Added', 'yes'],
    ]);
    assert.equal(forwarded.body, undefined);
  });

  it('leaves the body alone for read-only and replaces it for action replace', () => {
    const base = { method: 'POST', uri: '/', querystring: '', headers: {} };
    const readOnly = asRequest(fromCloudFrontRequestResult({ ...base, body: { action: 'read-only', encoding: 'base64', data: 'AAAA', inputTruncated: false } }));
    assert.equal(readOnly.body, undefined);
    const bytes = allBytes();
    const replaced = asRequest(fromCloudFrontRequestResult({ ...base, body: { action: 'replace', encoding: 'base64', data: encodeBase64(bytes) } }));
    assert.deepEqual(replaced.body, bytes);
    const replacedText = asRequest(fromCloudFrontRequestResult({ ...base, body: { action: 'replace', encoding: 'text', data: 'héllo' } }));
    assert.equal(utf8(replacedText.body ?? new Uint8Array()), 'héllo');
  });

  it('passes a changed origin through for origin-request functions', () => {
    const origin = { s3: { domainName: 'bucket.s3.amazonaws.com', path: '', authMethod: 'none', customHeaders: {} } };
    const forwarded = asRequest(fromCloudFrontRequestResult({ method: 'GET', uri: '/', querystring: '', headers: {}, origin }, 'origin-request'));
    assert.deepEqual(forwarded.origin, origin);
  });

  it('answers directly with a generated response (string status, text body)', () => {
    const response = asResponse(
      fromCloudFrontRequestResult({
        status: '302',
        statusDescription: 'Found',
        headers: { location: [{ key: 'Location', value: 'https://example.com/' }], 'cache-control': [{ value: 'max-age=100' }] },
      }),
    );
    assert.equal(response.status, 302);
    assert.deepEqual(response.headers, [
      ['Location', 'https://example.com/'],
      ['Cache-Control', 'max-age=100'],
    ]);
    assert.equal(response.body.length, 0);
  });

  it('answers with a numeric status and a base64 body, bytes 0..255 intact', () => {
    const bytes = allBytes();
    const response = asResponse(
      fromCloudFrontRequestResult({
        status: 200,
        headers: { 'content-type': [{ key: 'Content-Type', value: 'application/octet-stream' }] },
        body: encodeBase64(bytes),
        bodyEncoding: 'base64',
      }),
    );
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, bytes);
  });

  it('treats a body without bodyEncoding as text', () => {
    const response = asResponse(fromCloudFrontRequestResult({ status: '200', body: '<h1>hi</h1>' }));
    assert.equal(utf8(response.body), '<h1>hi</h1>');
  });

  const invalid: Array<[string, unknown, ('viewer-request' | 'origin-request')?]> = [
    ['a non-object', 'nope'],
    ['null', null],
    ['a status below 200', { status: '100' }],
    ['a status above 599', { status: 600 }],
    ['a non-numeric status', { status: 'OK' }],
    ['an unknown bodyEncoding', { status: 200, body: 'x', bodyEncoding: 'gzip' }],
    ['invalid base64', { status: 200, body: '!!', bodyEncoding: 'base64' }],
    ['headers not in list form', { status: 200, headers: { 'content-type': 'text/plain' } }],
    ['a header without a value', { status: 200, headers: { a: [{ key: 'A' }] } }],
    ['a key that does not match its name', { status: 200, headers: { a: [{ key: 'B', value: 'x' }] } }],
    ['a disallowed header', { status: 200, headers: { connection: [{ key: 'Connection', value: 'close' }] } }],
    ['a 204 with a body from a viewer request', { status: 204, body: 'x' }],
    ['a generated response over 40 KB from a viewer request', { status: 200, body: 'x'.repeat(40 * 1024 + 1) }],
    ['a request without uri', { method: 'GET', headers: {} }],
    ['a uri without a leading slash', { method: 'GET', uri: 'index.html', headers: {} }],
    ['a querystring with a space', { method: 'GET', uri: '/', querystring: 'a=b c', headers: {} }],
    ['a querystring with a fragment', { method: 'GET', uri: '/', querystring: 'a=b#c', headers: {} }],
    ['an unknown body action', { method: 'POST', uri: '/', headers: {}, body: { action: 'append', data: '' } }],
    ['an origin with both custom and s3', { method: 'GET', uri: '/', headers: {}, origin: { custom: {}, s3: {} } }, 'origin-request'],
  ];
  for (const [what, value, eventType] of invalid) {
    it(`answers ${what} with a 502 that says why`, () => {
      const response = asResponse(fromCloudFrontRequestResult(value, eventType));
      assert.equal(response.status, 502);
      assert.deepEqual(header(response, 'x-cache'), ['LambdaValidationError from cloudfront']);
      assert.match(utf8(response.body), /^502 Bad Gateway: the Lambda@Edge function returned an invalid result: /);
    });
  }

  it('allows a larger generated response from an origin request (1 MB quota)', () => {
    const response = asResponse(fromCloudFrontRequestResult({ status: 200, body: 'x'.repeat(100 * 1024) }, 'origin-request'));
    assert.equal(response.status, 200);
    assert.equal(response.body.length, 100 * 1024);
    const tooBig = asResponse(fromCloudFrontRequestResult({ status: 200, body: 'x'.repeat(1024 * 1024 + 1) }, 'origin-request'));
    assert.equal(tooBig.status, 502);
  });

  it('allows a 204 with a body from an origin request (the restriction is viewer-request only)', () => {
    assert.equal(asResponse(fromCloudFrontRequestResult({ status: 204, body: 'x' }, 'origin-request')).status, 204);
    assert.equal(asResponse(fromCloudFrontRequestResult({ status: 204 }, 'viewer-request')).status, 204);
  });
});

describe('fromCloudFrontResponseResult', () => {
  const originResponse: HttpResult = {
    status: 200,
    headers: [['content-type', 'text/plain']],
    body: text.encode('from origin'),
  };

  it('keeps the origin body when the function only changes headers', () => {
    const event = toCloudFrontResponseEvent(request(), originResponse, { eventType: 'origin-response' });
    const response = cf(event)['response'] as Record<string, unknown>;
    const headers = response['headers'] as Record<string, Array<{ key?: string; value: string }>>;
    headers['strict-transport-security'] = [{ key: 'Strict-Transport-Security', value: 'max-age=63072000' }];
    const result = fromCloudFrontResponseResult(response, originResponse);
    assert.equal(result.status, 200);
    assert.deepEqual(result.headers, [
      ['Content-Type', 'text/plain'],
      ['Strict-Transport-Security', 'max-age=63072000'],
    ]);
    assert.equal(utf8(result.body), 'from origin');
  });

  it('lets an origin-response function replace status and body', () => {
    const result = fromCloudFrontResponseResult(
      { status: '404', statusDescription: 'Not Found', headers: {}, body: 'gone', bodyEncoding: 'text' },
      originResponse,
      'origin-response',
    );
    assert.equal(result.status, 404);
    assert.equal(utf8(result.body), 'gone');
  });

  it('keeps the original status for viewer-response functions, which cannot change it', () => {
    const result = fromCloudFrontResponseResult({ status: '500', headers: {} }, originResponse, 'viewer-response');
    assert.equal(result.status, 200);
  });

  it('round-trips a base64 body', () => {
    const bytes = allBytes();
    const result = fromCloudFrontResponseResult({ status: 200, headers: {}, body: encodeBase64(bytes), bodyEncoding: 'base64' });
    assert.deepEqual(result.body, bytes);
  });

  it('answers invalid results with a 502', () => {
    for (const bad of [null, 'x', { headers: {} }, { status: 200, headers: { 'x-amzn-trace-id': [{ value: 'x' }] } }]) {
      const result = fromCloudFrontResponseResult(bad, originResponse);
      assert.equal(result.status, 502);
      assert.deepEqual(header(result, 'x-cache'), ['LambdaValidationError from cloudfront']);
    }
  });
});
