// The Lambda@Edge trigger flow against CloudFront's documented behaviour: request triggers
// answer directly or forward (maybe changed) requests to the origin; response triggers see the
// origin's response; path patterns with inner wildcards are re-checked.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
import { lambdaEdgeAdapter, matchesPathPattern, originBase, originFromUrl } from './lambda-edge-adapter.ts';

let origin = '';
let closeOrigin: () => Promise<void> = async () => undefined;
after(() => closeOrigin());
const seen: Array<{ method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }> = [];

before(async () => {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, { 'content-type': 'text/plain', 'x-origin': 'yes' });
      res.end(`origin saw ${req.method} ${req.url}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeOrigin = () => new Promise<void>((resolve) => server.close(() => resolve()));
});

function setup(platform: Record<string, string> = {}): AdapterSetup {
  return { functionName: 'edge', version: 1, handlerExport: 'handler', env: {}, variables: {}, bindings: [], platform: { region: 'us-east-1', ...platform }, dev: true };
}

const ctx: InvocationContext = {
  requestId: 'r-1',
  signal: new AbortController().signal,
  deadline: Date.now() + 60_000,
  waitUntil: () => undefined,
  passThroughOnException: () => undefined,
};

function route(eventType: 'viewer-request' | 'origin-request' | 'origin-response' | 'viewer-response'): HttpInvocation {
  return { meta: { ip: '203.0.113.9', cf: {} }, event: { kind: 'cloudfront', eventType, origin }, params: {} };
}

type Records = { Records: Array<{ cf: { config: Record<string, unknown>; request: Record<string, unknown> & { headers: Record<string, Array<{ key: string; value: string }>> }; response?: Record<string, unknown> & { headers: Record<string, unknown> } } }> };

test('viewer-request: a returned response answers without calling the origin', async () => {
  const before = seen.length;
  let event: Records | undefined;
  const adapter = lambdaEdgeAdapter.create({
    handler: async (e: Records) => {
      event = e;
      return { status: '302', statusDescription: 'Found', headers: { location: [{ key: 'Location', value: '/new' }] } };
    },
  }, setup());
  const res = await adapter.fetch(new Request('http://d.example/old?x=1', { headers: { 'user-agent': 'ua' } }), route('viewer-request'), ctx);
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), '/new');
  assert.equal(seen.length, before);
  const cf = event?.Records[0]?.cf;
  assert.equal(cf?.config['eventType'], 'viewer-request');
  assert.equal(cf?.request['uri'], '/old');
  assert.equal(cf?.request['querystring'], 'x=1');
  assert.equal(cf?.request['clientIp'], '203.0.113.9');
  assert.deepEqual(cf?.request.headers['user-agent'], [{ key: 'User-Agent', value: 'ua' }]);
});

test('origin-request: a returned request is forwarded with its changes and the original body', async () => {
  const adapter = lambdaEdgeAdapter.create({
    handler: async (e: Records) => {
      const request = e.Records[0]?.cf.request;
      assert.ok(request);
      assert.equal((request['origin'] as { custom: { domainName: string } }).custom.domainName, '127.0.0.1');
      request['uri'] = '/rewritten';
      request.headers['x-added'] = [{ key: 'X-Added', value: '1' }];
      return request;
    },
  }, setup());
  const res = await adapter.fetch(new Request('http://d.example/page?q=2', { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } }), route('origin-request'), ctx);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'origin saw POST /rewritten?q=2');
  const last = seen.at(-1);
  assert.equal(last?.headers['x-added'], '1');
  assert.equal(last?.body, 'payload');
});

test('origin-response: the handler sees the origin status and headers and changes the response', async () => {
  const adapter = lambdaEdgeAdapter.create({
    handler: async (e: Records) => {
      const response = e.Records[0]?.cf.response;
      assert.ok(response);
      assert.equal(response['status'], '404');
      assert.equal(response['statusDescription'], 'Not Found');
      assert.ok(response.headers['x-origin']);
      return { ...response, status: '200', headers: { ...response.headers, 'x-edge': [{ key: 'X-Edge', value: 'seen' }] } };
    },
  }, setup());
  const res = await adapter.fetch(new Request('http://d.example/missing'), route('origin-response'), ctx);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-edge'), 'seen');
  assert.equal(await res.text(), 'origin saw GET /missing', 'without a body in the result, the origin body is kept');
});

test('viewer-response: the status cannot be changed', async () => {
  const adapter = lambdaEdgeAdapter.create({ handler: async (e: Records) => ({ ...e.Records[0]?.cf.response, status: '500' }) }, setup());
  const res = await adapter.fetch(new Request('http://d.example/ok'), route('viewer-response'), ctx);
  assert.equal(res.status, 200);
});

test('an invalid result is a 502 LambdaValidationError, as CloudFront answers', async () => {
  const adapter = lambdaEdgeAdapter.create({ handler: async () => ({ status: '200', headers: { 'x-amz-cf-id': [{ key: 'X-Amz-Cf-Id', value: 'x' }] } }) }, setup());
  const res = await adapter.fetch(new Request('http://d.example/'), route('viewer-request'), ctx);
  assert.equal(res.status, 502);
  assert.equal(res.headers.get('x-cache'), 'LambdaValidationError from cloudfront');
});

test('a widened path pattern is re-checked: non-matching paths skip the handler', async () => {
  let calls = 0;
  const adapter = lambdaEdgeAdapter.create({ handler: async () => { calls++; return { status: '200', body: 'handler' }; } }, setup({ cloudfrontPathPatterns: JSON.stringify(['/img/*.jpg']) }));
  assert.equal(await (await adapter.fetch(new Request('http://d.example/img/a.jpg'), route('viewer-request'), ctx)).text(), 'handler');
  assert.equal(await (await adapter.fetch(new Request('http://d.example/img/a.png'), route('viewer-request'), ctx)).text(), 'origin saw GET /img/a.png');
  assert.equal(calls, 1);
});

test('path patterns and origins', () => {
  assert.ok(matchesPathPattern('/images/*.jpg', '/images/a/b.jpg'));
  assert.ok(matchesPathPattern('/a?c', '/abc'));
  assert.ok(!matchesPathPattern('/a?c', '/abbc'));
  assert.ok(!matchesPathPattern('/Images/*', '/images/x'), 'case-sensitive');
  assert.ok(matchesPathPattern('*', '/anything'));
  assert.deepEqual(originFromUrl('https://origin.example.com/base/').custom, {
    customHeaders: {}, domainName: 'origin.example.com', keepaliveTimeout: 5, path: '/base', port: 443, protocol: 'https', readTimeout: 30, sslProtocols: ['TLSv1.2'],
  });
  assert.equal(originBase(originFromUrl('http://127.0.0.1:8080')), 'http://127.0.0.1:8080');
  assert.equal(originBase({ s3: { domainName: 'bucket.s3.amazonaws.com', path: '/p' } }), 'https://bucket.s3.amazonaws.com/p');
  assert.equal(originBase({ custom: {} }), undefined);
});

test('a direct invoke passes the event to the handler', async () => {
  const adapter = lambdaEdgeAdapter.create({ handler: async (e: unknown) => ({ got: e }) }, setup());
  assert.deepEqual(await adapter.event('invoke', { Records: [] }, ctx), { got: { Records: [] } });
});
