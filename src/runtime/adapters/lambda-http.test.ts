/**
 * @module
 * Tests for the API Gateway adapters, written against AWS's documented shapes: the REST API
 * "Input/Output format of a Lambda function for proxy integration" and the HTTP API
 * "payload format version 2.0" pages of the API Gateway developer guide.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_API_ID,
  HTTP_API_ERROR_BODY,
  REST_API_ERROR_BODY,
  decodeBase64,
  encodeBase64,
  formatRequestTime,
  fromHttpApiResult,
  fromRestApiResult,
  isTextBody,
  toHttpApiEvent,
  toRestApiEvent,
} from './lambda-http.ts';
import type { ApiRoute, HttpRequestInfo, HttpResult } from './lambda-http.ts';

const text = new TextEncoder();
const utf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const allBytes = (): Uint8Array => Uint8Array.from({ length: 256 }, (_, i) => i);
// 2020-03-12T19:03:58.000Z, the instant in AWS's own payload 2.0 example.
const T = Date.UTC(2020, 2, 12, 19, 3, 58);

function request(overrides: Partial<HttpRequestInfo> = {}): HttpRequestInfo {
  return {
    method: 'GET',
    url: 'http://127.0.0.1:8787/users/1?a=1&a=2&b=x%20y',
    headers: [
      ['host', 'api.example.com:8787'],
      ['user-agent', 'curl/8.5.0'],
      ['x-a', 'one'],
      ['x-a', 'two'],
      ['cookie', 'session=abc; theme=dark'],
    ],
    body: null,
    sourceIp: '203.0.113.7',
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    requestTimeEpochMs: T,
    ...overrides,
  };
}

const restRoute: ApiRoute = { resource: '/users/{id}', pathParameters: { id: '1' }, stage: 'dev' };
const httpRoute: ApiRoute = { resource: '/users/{id}', pathParameters: { id: '1' }, stage: '$default' };

function header(result: HttpResult, name: string): string[] {
  return result.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

describe('base64 helpers', () => {
  it('round-trips every byte value', () => {
    const bytes = allBytes();
    const encoded = encodeBase64(bytes);
    assert.equal(encoded.length, 344);
    assert.deepEqual(decodeBase64(encoded), bytes);
  });

  it('matches known vectors, with padding, for lengths 0..3 (RFC 4648 §10)', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, b64] of vectors) {
      assert.equal(encodeBase64(text.encode(plain)), b64);
      assert.equal(utf8(decodeBase64(b64) ?? new Uint8Array([0xff])), plain);
    }
  });

  it('handles large bodies without blowing the stack', () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 1);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
    const decoded = decodeBase64(encodeBase64(big));
    assert.ok(decoded !== null);
    assert.equal(decoded.length, big.length);
    assert.deepEqual(decoded, big);
  });

  it('accepts line breaks, missing padding and the URL-safe alphabet; rejects junk', () => {
    assert.equal(utf8(decodeBase64('Zm9v\r\nYmFy') ?? new Uint8Array()), 'foobar');
    assert.equal(utf8(decodeBase64('Zm8') ?? new Uint8Array()), 'fo');
    assert.deepEqual(decodeBase64('-_8='), new Uint8Array([0xfb, 0xff]));
    assert.equal(decodeBase64('Zm9v!'), null);
    assert.equal(decodeBase64('Z'), null);
    assert.equal(decodeBase64('Zg==Zg=='), null);
    assert.equal(decodeBase64('Zg==='), null);
  });
});

describe('text or base64 body', () => {
  it('treats textual content types with valid UTF-8 as text', () => {
    assert.equal(isTextBody(text.encode('{"a":1}'), 'application/json'), true);
    assert.equal(isTextBody(text.encode('<a/>'), 'application/atom+xml'), true);
    assert.equal(isTextBody(text.encode('a=1'), 'application/x-www-form-urlencoded'), true);
    assert.equal(isTextBody(text.encode('héllo'), undefined), true);
    assert.equal(isTextBody(text.encode('x'), 'application/vnd.custom; charset=utf-8'), true);
  });

  it('treats binary types, invalid UTF-8 and content-encoded bodies as binary', () => {
    assert.equal(isTextBody(text.encode('plain ascii'), 'application/octet-stream'), false);
    assert.equal(isTextBody(text.encode('GIF89a'), 'image/gif'), false);
    assert.equal(isTextBody(new Uint8Array([0xff, 0xfe]), 'text/plain'), false);
    assert.equal(isTextBody(text.encode('{}'), 'application/json', 'gzip'), false);
    assert.equal(isTextBody(text.encode('{}'), 'application/json', 'identity'), true);
  });
});

describe('formatRequestTime', () => {
  it("uses API Gateway's dd/MMM/yyyy:HH:mm:ss +0000 format in UTC", () => {
    assert.equal(formatRequestTime(T), '12/Mar/2020:19:03:58 +0000');
    assert.equal(formatRequestTime(Date.UTC(2015, 3, 9, 2, 4, 6)), '09/Apr/2015:02:04:06 +0000');
  });
});

describe('toRestApiEvent (payload 1.0)', () => {
  it('has the documented top-level fields', () => {
    const event = toRestApiEvent(request(), restRoute);
    assert.deepEqual(Object.keys(event).sort(), [
      'body',
      'headers',
      'httpMethod',
      'isBase64Encoded',
      'multiValueHeaders',
      'multiValueQueryStringParameters',
      'path',
      'pathParameters',
      'queryStringParameters',
      'requestContext',
      'resource',
      'stageVariables',
    ]);
    assert.equal(event['resource'], '/users/{id}');
    assert.equal(event['path'], '/users/1');
    assert.equal(event['httpMethod'], 'GET');
    assert.deepEqual(event['pathParameters'], { id: '1' });
    assert.equal(event['stageVariables'], null);
    assert.equal(event['body'], null);
    assert.equal(event['isBase64Encoded'], false);
  });

  it('keeps the last value of a repeated header in headers and all of them in multiValueHeaders', () => {
    const event = toRestApiEvent(request(), restRoute);
    const headers = event['headers'] as Record<string, string>;
    const multi = event['multiValueHeaders'] as Record<string, string[]>;
    assert.equal(headers['x-a'], 'two');
    assert.deepEqual(multi['x-a'], ['one', 'two']);
    assert.deepEqual(multi['user-agent'], ['curl/8.5.0']);
    // Payload 1.0 has no `cookies`: the cookie header stays a header.
    assert.equal(headers['cookie'], 'session=abc; theme=dark');
    assert.equal(event['cookies'], undefined);
  });

  it('decodes query strings, last value single, all values multi', () => {
    const event = toRestApiEvent(request(), restRoute);
    assert.deepEqual(event['queryStringParameters'], { a: '2', b: 'x y' });
    assert.deepEqual(event['multiValueQueryStringParameters'], { a: ['1', '2'], b: ['x y'] });
  });

  it('sends null (not {}) for absent query strings, path parameters and headers', () => {
    const event = toRestApiEvent(request({ url: 'http://127.0.0.1:8787/', headers: [] }), {
      resource: '/',
      pathParameters: {},
      stage: 'dev',
    });
    assert.equal(event['queryStringParameters'], null);
    assert.equal(event['multiValueQueryStringParameters'], null);
    assert.equal(event['pathParameters'], null);
    assert.equal(event['headers'], null);
    assert.equal(event['multiValueHeaders'], null);
    const identity = (event['requestContext'] as Record<string, Record<string, unknown>>)['identity'];
    assert.equal(identity?.['userAgent'], null);
  });

  it('fills requestContext as documented', () => {
    const ctx = toRestApiEvent(request(), restRoute)['requestContext'] as Record<string, unknown>;
    assert.equal(ctx['accountId'], DEFAULT_ACCOUNT_ID);
    assert.equal(ctx['apiId'], DEFAULT_API_ID);
    assert.equal(ctx['resourcePath'], '/users/{id}');
    assert.equal(ctx['httpMethod'], 'GET');
    assert.equal(ctx['path'], '/dev/users/1');
    assert.equal(ctx['stage'], 'dev');
    assert.equal(ctx['requestId'], 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef');
    assert.equal(ctx['requestTime'], '12/Mar/2020:19:03:58 +0000');
    assert.equal(ctx['requestTimeEpoch'], T);
    assert.equal(ctx['protocol'], 'HTTP/1.1');
    assert.equal(ctx['domainName'], 'api.example.com');
    assert.equal(ctx['domainPrefix'], 'api');
    assert.match(String(ctx['resourceId']), /^[0-9a-z]{6}$/);
    assert.match(String(ctx['extendedRequestId']), /^[A-Za-z0-9+/]{14}==?$/);
    // Stable for the same input, so handlers that log it see consistent ids.
    assert.deepEqual(toRestApiEvent(request(), restRoute)['requestContext'], ctx);
    assert.deepEqual(ctx['identity'], {
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: '203.0.113.7',
      user: null,
      userAgent: 'curl/8.5.0',
      userArn: null,
    });
    assert.equal(ctx['authorizer'], undefined);
  });

  it('uses a given api id, account id and authorizer', () => {
    const ctx = toRestApiEvent(request(), {
      ...restRoute,
      apiId: 'gy415nuibc',
      accountId: '123456789012',
      authorizer: { principalId: 'user|a1b2c3' },
    })['requestContext'] as Record<string, unknown>;
    assert.equal(ctx['apiId'], 'gy415nuibc');
    assert.equal(ctx['accountId'], '123456789012');
    assert.deepEqual(ctx['authorizer'], { principalId: 'user|a1b2c3' });
  });

  it('passes a JSON body as text', () => {
    const event = toRestApiEvent(
      request({ method: 'POST', body: text.encode('{\r\n\t"a": 1\r\n}'), headers: [['content-type', 'application/json']] }),
      restRoute,
    );
    assert.equal(event['body'], '{\r\n\t"a": 1\r\n}');
    assert.equal(event['isBase64Encoded'], false);
  });

  it('passes a binary body as base64 that decodes to the same bytes', () => {
    const bytes = allBytes();
    const event = toRestApiEvent(
      request({ method: 'PUT', body: bytes, headers: [['content-type', 'application/octet-stream']] }),
      restRoute,
    );
    assert.equal(event['isBase64Encoded'], true);
    assert.deepEqual(decodeBase64(String(event['body'])), bytes);
  });
});

describe('toHttpApiEvent (payload 2.0)', () => {
  it('has the documented fields and omits what is absent', () => {
    const event = toHttpApiEvent(request(), httpRoute);
    assert.equal(event['version'], '2.0');
    assert.equal(event['routeKey'], 'GET /users/{id}');
    assert.equal(event['rawPath'], '/users/1');
    assert.equal(event['rawQueryString'], 'a=1&a=2&b=x%20y');
    assert.deepEqual(event['pathParameters'], { id: '1' });
    assert.equal(event['isBase64Encoded'], false);
    assert.equal('body' in event, false);
    assert.equal('stageVariables' in event, false);
    assert.equal('multiValueHeaders' in event, false);
    assert.equal('multiValueQueryStringParameters' in event, false);
  });

  it('joins repeated headers and query parameters with commas', () => {
    const event = toHttpApiEvent(request(), httpRoute);
    const headers = event['headers'] as Record<string, string>;
    assert.equal(headers['x-a'], 'one,two');
    assert.equal(headers['user-agent'], 'curl/8.5.0');
    assert.deepEqual(event['queryStringParameters'], { a: '1,2', b: 'x y' });
  });

  it('moves cookies out of the headers into the cookies array', () => {
    const event = toHttpApiEvent(
      request({ headers: [['cookie', 'session=abc; theme=dark'], ['cookie', 'lang=en']] }),
      httpRoute,
    );
    assert.deepEqual(event['cookies'], ['session=abc', 'theme=dark', 'lang=en']);
    assert.equal((event['headers'] as Record<string, string>)['cookie'], undefined);
  });

  it('omits cookies, queryStringParameters and pathParameters when there are none', () => {
    const event = toHttpApiEvent(request({ url: 'http://127.0.0.1:8787/', headers: [['host', 'x']] }), {
      resource: '$default',
      pathParameters: {},
      stage: '$default',
    });
    assert.equal('cookies' in event, false);
    assert.equal('queryStringParameters' in event, false);
    assert.equal('pathParameters' in event, false);
    assert.equal(event['rawQueryString'], '');
    assert.equal(event['routeKey'], '$default');
    assert.deepEqual(event['headers'], { host: 'x' });
  });

  it('fills requestContext as documented', () => {
    const authorizer = { jwt: { claims: { sub: 'u1' }, scopes: ['read'] } };
    const event = toHttpApiEvent(request({ method: 'POST' }), { ...httpRoute, routeKey: 'ANY /users/{id}', authorizer });
    assert.equal(event['routeKey'], 'ANY /users/{id}');
    assert.deepEqual(event['requestContext'], {
      accountId: DEFAULT_ACCOUNT_ID,
      apiId: DEFAULT_API_ID,
      authorizer,
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'POST', path: '/users/1', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'curl/8.5.0' },
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      routeKey: 'ANY /users/{id}',
      stage: '$default',
      time: '12/Mar/2020:19:03:58 +0000',
      timeEpoch: T,
    });
  });

  it('passes text bodies as text and binary bodies as base64', () => {
    const form = toHttpApiEvent(
      request({ method: 'POST', body: text.encode('a=1&b=%C3%A9'), headers: [['content-type', 'application/x-www-form-urlencoded']] }),
      httpRoute,
    );
    assert.equal(form['body'], 'a=1&b=%C3%A9');
    assert.equal(form['isBase64Encoded'], false);
    const bytes = allBytes();
    const bin = toHttpApiEvent(request({ method: 'POST', body: bytes, headers: [['content-type', 'image/png']] }), httpRoute);
    assert.equal(bin['isBase64Encoded'], true);
    assert.deepEqual(decodeBase64(String(bin['body'])), bytes);
  });
});

describe('names that collide with Object.prototype', () => {
  const hostile = request({
    url: 'http://127.0.0.1:8787/?constructor=1&__proto__=2&toString=3&constructor=4',
    headers: [
      ['constructor', 'c'],
      ['__proto__', 'p'],
      ['constructor', 'd'],
    ],
  });

  it('are ordinary own keys in payload 1.0 maps', () => {
    const event = toRestApiEvent(hostile, restRoute);
    const query = event['queryStringParameters'] as Record<string, string>;
    const multiQuery = event['multiValueQueryStringParameters'] as Record<string, string[]>;
    const headers = event['headers'] as Record<string, string>;
    const multi = event['multiValueHeaders'] as Record<string, string[]>;
    assert.deepEqual(Object.keys(query), ['constructor', '__proto__', 'toString']);
    assert.equal(query['constructor'], '4');
    assert.equal(Object.getOwnPropertyDescriptor(query, '__proto__')?.value, '2');
    assert.deepEqual(multiQuery['constructor'], ['1', '4']);
    assert.equal(headers['constructor'], 'd');
    assert.deepEqual(multi['constructor'], ['c', 'd']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(multi, '__proto__')?.value, ['p']);
    assert.equal(Object.getPrototypeOf(query), Object.prototype);
    // And they survive the JSON trip to the isolate.
    assert.deepEqual(JSON.parse(JSON.stringify(event))['multiValueHeaders']['constructor'], ['c', 'd']);
  });

  it('are ordinary own keys in payload 2.0 maps', () => {
    const event = toHttpApiEvent(hostile, httpRoute);
    const query = event['queryStringParameters'] as Record<string, string>;
    const headers = event['headers'] as Record<string, string>;
    assert.equal(query['constructor'], '1,4');
    assert.equal(query['toString'], '3');
    assert.equal(headers['constructor'], 'c,d');
    assert.equal(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value, 'p');
  });
});

describe('fromRestApiResult', () => {
  it('maps statusCode, headers and body; defaults content-type to application/json', () => {
    const result = fromRestApiResult({ statusCode: 201, headers: { 'X-Custom': 'v', 'Content-Length': 5 }, body: 'hello' });
    assert.equal(result.status, 201);
    assert.deepEqual(header(result, 'x-custom'), ['v']);
    assert.deepEqual(header(result, 'content-length'), ['5']);
    assert.deepEqual(header(result, 'content-type'), ['application/json']);
    assert.equal(utf8(result.body), 'hello');
  });

  it('merges headers and multiValueHeaders; multiValueHeaders win for the same name', () => {
    const result = fromRestApiResult({
      statusCode: 200,
      headers: { 'Content-Type': 'text/html', 'X-Both': 'from-headers', 'set-cookie': 'ignored=1' },
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'], 'x-both': ['m1', 'm2'] },
      body: '<p>hi</p>',
    });
    assert.deepEqual(header(result, 'set-cookie'), ['a=1', 'b=2']);
    assert.deepEqual(header(result, 'x-both'), ['m1', 'm2']);
    assert.deepEqual(header(result, 'content-type'), ['text/html']);
  });

  it('decodes a base64 body to the exact bytes', () => {
    const bytes = allBytes();
    const result = fromRestApiResult({
      statusCode: 200,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: encodeBase64(bytes),
      isBase64Encoded: true,
    });
    assert.deepEqual(result.body, bytes);
  });

  it('accepts a missing body, null maps and a numeric-string status', () => {
    const result = fromRestApiResult({ statusCode: '204', headers: null, multiValueHeaders: null });
    assert.equal(result.status, 204);
    assert.equal(result.body.length, 0);
  });

  const malformed: Array<[string, unknown]> = [
    ['a string', 'hello'],
    ['null', null],
    ['undefined', undefined],
    ['an array', [200]],
    ['no statusCode', { body: 'x' }],
    ['a non-numeric statusCode', { statusCode: 'OK' }],
    ['an out-of-range statusCode', { statusCode: 99 }],
    ['an object body', { statusCode: 200, body: { a: 1 } }],
    ['an unknown key (cookies is payload 2.0 only)', { statusCode: 200, cookies: ['a=1'] }],
    ['headers that are not an object', { statusCode: 200, headers: 'x' }],
    ['a header with an object value', { statusCode: 200, headers: { a: { b: 1 } } }],
    ['multiValueHeaders that are not arrays', { statusCode: 200, multiValueHeaders: { a: 'b' } }],
    ['a non-boolean isBase64Encoded', { statusCode: 200, body: 'x', isBase64Encoded: 'yes' }],
    ['invalid base64', { statusCode: 200, body: '%%%', isBase64Encoded: true }],
  ];
  for (const [what, value] of malformed) {
    it(`answers ${what} with 502 Internal server error`, () => {
      const result = fromRestApiResult(value);
      assert.equal(result.status, 502);
      assert.equal(utf8(result.body), REST_API_ERROR_BODY);
      assert.deepEqual(header(result, 'content-type'), ['application/json']);
      assert.deepEqual(header(result, 'x-amzn-errortype'), ['InternalServerErrorException']);
    });
  }
});

describe('fromHttpApiResult', () => {
  it('infers 200 application/json with the JSON of an object that has no statusCode', () => {
    const result = fromHttpApiResult({ message: 'Hello from Lambda!' });
    assert.equal(result.status, 200);
    assert.deepEqual(result.headers, [['content-type', 'application/json']]);
    assert.equal(utf8(result.body), '{"message":"Hello from Lambda!"}');
  });

  it('infers for strings, numbers, arrays and null (JSON text as the body)', () => {
    assert.equal(utf8(fromHttpApiResult('Hello from Lambda!').body), '"Hello from Lambda!"');
    assert.equal(utf8(fromHttpApiResult(42).body), '42');
    assert.equal(utf8(fromHttpApiResult([1, 2]).body), '[1,2]');
    assert.equal(utf8(fromHttpApiResult(null).body), 'null');
    assert.equal(utf8(fromHttpApiResult(undefined).body), 'null');
    assert.equal(fromHttpApiResult('x').status, 200);
  });

  it('uses statusCode, headers and body of a structured result', () => {
    const result = fromHttpApiResult({ statusCode: 404, headers: { 'content-type': 'text/html' }, body: '<h1>no</h1>' });
    assert.equal(result.status, 404);
    assert.deepEqual(result.headers, [['content-type', 'text/html']]);
    assert.equal(utf8(result.body), '<h1>no</h1>');
  });

  it('defaults content-type to text/plain; charset=utf-8 when a structured result has none', () => {
    const result = fromHttpApiResult({ statusCode: 200, body: 'hi' });
    assert.deepEqual(header(result, 'content-type'), ['text/plain; charset=utf-8']);
  });

  it('sends set-cookie from both headers and cookies, one header per cookie', () => {
    const result = fromHttpApiResult({
      statusCode: 200,
      headers: { 'Set-Cookie': 'fromHeader=1', 'content-type': 'application/json' },
      cookies: ['a=1; Path=/', 'b=2; HttpOnly'],
      body: '{}',
    });
    assert.deepEqual(header(result, 'set-cookie'), ['fromHeader=1', 'a=1; Path=/', 'b=2; HttpOnly']);
  });

  it('decodes a base64 body to the exact bytes', () => {
    const bytes = allBytes();
    const result = fromHttpApiResult({
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      body: encodeBase64(bytes),
      isBase64Encoded: true,
    });
    assert.deepEqual(result.body, bytes);
  });

  const malformed: Array<[string, unknown]> = [
    ['a non-numeric statusCode', { statusCode: 'abc' }],
    ['an out-of-range statusCode', { statusCode: 700 }],
    ['an object body', { statusCode: 200, body: { a: 1 } }],
    ['cookies that are not an array', { statusCode: 200, cookies: 'a=1' }],
    ['a non-string cookie', { statusCode: 200, cookies: [1] }],
    ['headers that are not an object', { statusCode: 200, headers: ['a', 'b'] }],
    ['invalid base64', { statusCode: 200, body: '*', isBase64Encoded: true }],
  ];
  for (const [what, value] of malformed) {
    it(`answers ${what} with 502 Internal Server Error`, () => {
      const result = fromHttpApiResult(value);
      assert.equal(result.status, 502);
      assert.equal(utf8(result.body), HTTP_API_ERROR_BODY);
    });
  }
});

describe('end to end through a handler', () => {
  it('round-trips bytes 0..255 from request to handler to response (REST)', () => {
    const bytes = allBytes();
    const event = toRestApiEvent(
      request({ method: 'POST', body: bytes, headers: [['content-type', 'application/octet-stream']] }),
      restRoute,
    );
    // An echo handler, as a user would write it with Buffer — here with our own decoder.
    const echoed = { statusCode: 200, body: event['body'], isBase64Encoded: event['isBase64Encoded'] };
    assert.deepEqual(fromRestApiResult(echoed).body, bytes);
  });

  it('round-trips bytes 0..255 from request to handler to response (HTTP API)', () => {
    const bytes = allBytes();
    const event = toHttpApiEvent(request({ method: 'POST', body: bytes, headers: [] }), httpRoute);
    assert.equal(event['isBase64Encoded'], true); // not valid UTF-8, so base64 even without a content type
    const echoed = { statusCode: 200, body: event['body'], isBase64Encoded: event['isBase64Encoded'] };
    assert.deepEqual(fromHttpApiResult(echoed).body, bytes);
  });
});
