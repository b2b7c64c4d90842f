/** @module Tests for CORS: origin patterns, preflight answers, response headers, config readers and OPTIONS twins. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fields } from '../project/fields.ts';
import { ProblemList } from '../project/problems.ts';
import type { CorsSpec, RoutePolicySpec, RouteSpec } from '../project/spec.ts';
import { addPreflightRoutes, corsPolicy, originAllowed, readCorsRule, readSamRestCors, readServerlessRestCors } from './cors.ts';
import type { PolicyRequest } from './policy.ts';

const spec: CorsSpec = {
  allowOrigins: ['https://app.example.com', 'https://*.preview.example.com'],
  allowMethods: ['GET', 'POST'],
  allowHeaders: ['content-type'],
  exposeHeaders: ['x-trace'],
  allowCredentials: false,
};

function request(method: string, headers: Record<string, string>): PolicyRequest {
  return { requestId: 'r', method, host: 'h', path: '/x', search: '', headers, ip: '127.0.0.1', functionName: 'fn' };
}

test('origins match exactly, by * or by a subdomain pattern (not the bare domain, not a look-alike)', () => {
  assert.equal(originAllowed(spec, 'https://app.example.com'), true);
  assert.equal(originAllowed(spec, 'https://a.preview.example.com'), true);
  assert.equal(originAllowed(spec, 'https://preview.example.com'), false);
  assert.equal(originAllowed(spec, 'https://evilpreview.example.com'), false);
  assert.equal(originAllowed(spec, 'http://a.preview.example.com'), false);
  assert.equal(originAllowed({ ...spec, allowOrigins: ['*'] }, 'https://anything.example'), true);
});

test('a preflight is answered; a header not allowed gets no allow headers', async () => {
  const policy = corsPolicy({ ...spec, maxAgeSeconds: 60 });
  const ok = await policy.decide(request('OPTIONS', { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'Content-Type' }));
  assert.ok(ok && 'reply' in ok);
  assert.equal(ok.reply.status, 204);
  assert.equal(ok.reply.headers?.['access-control-allow-methods'], 'GET,POST');
  assert.equal(ok.reply.headers?.['access-control-max-age'], '60');
  const refused = await policy.decide(request('OPTIONS', { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-secret' }));
  assert.ok(refused && 'reply' in refused);
  assert.equal(refused.reply.headers?.['access-control-allow-origin'], undefined);
});

test('* origins with credentials echo the origin; requests without Origin are left alone', async () => {
  const policy = corsPolicy({ ...spec, allowOrigins: ['*'], allowCredentials: true });
  const decision = await policy.decide(request('GET', { origin: 'https://x.example' }));
  assert.deepEqual(decision && 'responseHeaders' in decision ? decision.responseHeaders : undefined, [
    ['access-control-allow-origin', 'https://x.example'],
    ['vary', 'origin'],
    ['access-control-allow-credentials', 'true'],
    ['access-control-expose-headers', 'x-trace'],
  ]);
  assert.equal(await policy.decide(request('GET', {})), undefined);
});

test('config readers: outpost.toml, serverless REST and SAM quoted values', () => {
  const problems = new ProblemList('outpost.toml');
  const policies: RoutePolicySpec = {};
  readCorsRule(new Fields({ cors: { allow_origins: ['https://a.example'], allow_methods: ['get'], max_age: 5, allow_orign: 1 } }, 'route_rules[0]', problems), policies);
  assert.deepEqual(policies.cors, { allowOrigins: ['https://a.example'], allowMethods: ['GET'], allowHeaders: [], exposeHeaders: [], allowCredentials: false, maxAgeSeconds: 5 });
  assert.equal(problems.items[0]?.key, 'route_rules[0].cors.allow_orign', 'an unknown key is reported');
  const rest = readServerlessRestCors({ origin: 'https://a.example, https://b.example', headers: ['X-Token'] }, 'cors', problems);
  assert.deepEqual(rest?.allowOrigins, ['https://a.example', 'https://b.example']);
  assert.deepEqual(rest?.allowHeaders, ['x-token']);
  const sam = readSamRestCors({ AllowOrigin: "'https://a.example'", AllowMethods: "'GET,PUT'", MaxAge: "'600'" }, 'Cors', problems);
  assert.deepEqual(sam?.allowOrigins, ['https://a.example']);
  assert.deepEqual(sam?.allowMethods, ['GET', 'PUT']);
  assert.equal(sam?.maxAgeSeconds, 600);
});

test('routes with CORS and a method get one OPTIONS twin per path', () => {
  const cors = { ...spec };
  const routes: RouteSpec[] = [
    { path: '/a', method: 'GET', event: { kind: 'fetch' }, policies: { cors } },
    { path: '/a', method: 'POST', event: { kind: 'fetch' }, policies: { cors } },
    { path: '/b', method: 'GET', event: { kind: 'fetch' } },
  ];
  addPreflightRoutes(routes);
  assert.deepEqual(routes.filter((r) => r.method === 'OPTIONS').map((r) => r.path), ['/a']);
});
