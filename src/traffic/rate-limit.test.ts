import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FunctionManifest } from '../control/records.ts';
import type { RateLimitSpec, RouteSpec } from '../project/spec.ts';
import { loadProject } from '../project/index.ts';
import { expectProblems, tempProject } from '../project/testing.ts';
import { nodeState } from './index.ts';
import type { PolicyNode } from './index.ts';
import type { PolicyRequest, RoutePolicy } from './policy.ts';
import { rateLimitPolicy } from './rate-limit.ts';

function setup(spec: RateLimitSpec, state = nodeState()): { policy: RoutePolicy; clock: { now: number } } {
  const clock = { now: 0 };
  const node: PolicyNode = { state, invoke: () => Promise.reject(new Error('not used')), now: () => clock.now };
  const route: RouteSpec = { path: '/api/*', event: { kind: 'fetch' }, policies: { rateLimit: spec } };
  const policy = rateLimitPolicy({ functionName: 'fn', manifest: {} as FunctionManifest, route, node });
  assert.ok(policy);
  return { policy, clock };
}

function request(more: Partial<PolicyRequest> = {}): PolicyRequest {
  return { requestId: 'req-1', method: 'GET', host: 'h', path: '/api/x', search: '', headers: {}, ip: '10.0.0.1', functionName: 'fn', ...more };
}

async function allowed(policy: RoutePolicy, req: PolicyRequest = request()): Promise<boolean> {
  const d = await policy.decide(req);
  return !(d && 'reply' in d);
}

test('burst requests pass, the next is answered 429 with Retry-After and RateLimit headers', async () => {
  const { policy, clock } = setup({ rate: 1, burst: 2, key: { by: 'ip' } });
  assert.deepEqual([await allowed(policy), await allowed(policy)], [true, true]);
  const d = await policy.decide(request());
  assert.ok(d && 'reply' in d);
  assert.equal(d.reply.status, 429);
  assert.equal(d.reply.outcome, 'throttled');
  assert.equal(d.reply.headers?.['retry-after'], '1');
  assert.equal(d.reply.headers?.['ratelimit-limit'], '2');
  assert.equal(d.reply.headers?.['x-outpost-error'], 'RATE_LIMITED');
  assert.equal(JSON.parse(String(d.reply.body)).error.requestId, 'req-1');
  assert.equal(await allowed(policy, request({ ip: '10.0.0.2' })), true, 'another address has its own bucket');
  clock.now += 1_000;
  assert.equal(await allowed(policy), true, 'refilled at the rate');
});

test('keys from a header or from a claim the authorizer returned', async () => {
  const byHeader = setup({ rate: 0, burst: 1, key: { by: 'header', name: 'x-tenant' } }).policy;
  assert.equal(await allowed(byHeader, request({ headers: { 'x-tenant': 'a' } })), true);
  assert.equal(await allowed(byHeader, request({ headers: { 'x-tenant': 'a' }, ip: 'other' })), false, 'same header value, any address');
  assert.equal(await allowed(byHeader, request({ headers: { 'x-tenant': 'b' } })), true);
  assert.equal(await allowed(byHeader), true, 'requests without the header share one bucket…');
  assert.equal(await allowed(byHeader, request({ ip: 'other' })), false, '…so leaving it out does not escape the limit');

  const byClaim = setup({ rate: 0, burst: 1, key: { by: 'claim', name: 'sub' } }).policy;
  assert.equal(await allowed(byClaim, request({ authorizer: { jwt: { claims: { sub: 'u1' } } } })), true);
  assert.equal(await allowed(byClaim, request({ authorizer: { jwt: { claims: { sub: 'u1' } } } })), false);
  assert.equal(await allowed(byClaim, request({ authorizer: { sub: 'u2' } })), true, 'flat authorizer context');
  assert.equal(await allowed(byClaim, request({ authorizer: { claims: { sub: 'u3' } } })), true, 'Cognito-style claims');
});

test('counts survive a recompile with the same limit and restart with a new one', async () => {
  const state = nodeState();
  assert.equal(await allowed(setup({ rate: 0, burst: 1, key: { by: 'ip' } }, state).policy), true);
  assert.equal(await allowed(setup({ rate: 0, burst: 1, key: { by: 'ip' } }, state).policy), false, 'same route and limit: same buckets');
  assert.equal(await allowed(setup({ rate: 0, burst: 2, key: { by: 'ip' } }, state).policy), true, 'a changed limit starts afresh');
});

test('outpost.toml route rules: rate_limit with its key, and bad values reported at their key', async (t) => {
  const main = 'export default { fetch: () => new Response("ok") };\n';
  const dir = await tempProject(t, {
    'outpost.toml': 'name = "r"\nmain = "index.js"\n[[route_rules]]\npath = "/a/*"\nrate_limit = { rate = 5 }\n[[route_rules]]\npath = "/b/*"\nrate_limit = { rate = 1, burst = 10, key = "header:X-Api-Client" }\n[[route_rules]]\npath = "/c/*"\nrate_limit = { rate = 2, key = "claim:sub" }\n',
    'index.js': main,
  });
  const routes = (await loadProject(dir, { dev: true })).functions[0]?.routes;
  assert.deepEqual(routes?.map((r) => r.policies?.rateLimit), [
    { rate: 5, burst: 5, key: { by: 'ip' } },
    { rate: 1, burst: 10, key: { by: 'header', name: 'x-api-client' } },
    { rate: 2, burst: 2, key: { by: 'claim', name: 'sub' } },
  ]);
  const bad = await tempProject(t, {
    'outpost.toml': 'name = "r"\nmain = "index.js"\n[[route_rules]]\npath = "/a/*"\nrate_limit = { burst = 0, key = "cookie:x" }\n',
    'index.js': main,
  });
  await expectProblems(() => loadProject(bad, { dev: true }), [
    { file: 'outpost.toml', key: 'route_rules[0].rate_limit.rate', message: /missing/ },
    { file: 'outpost.toml', key: 'route_rules[0].rate_limit.burst' },
    { file: 'outpost.toml', key: 'route_rules[0].rate_limit.key' },
  ]);
});

test('SAM throttling settings become per-route limits shared by every caller', async (t) => {
  const dir = await tempProject(t, {
    'template.yaml': `
Transform: AWS::Serverless-2016-10-31
Globals:
  HttpApi:
    DefaultRouteSettings: { ThrottlingBurstLimit: 7 }
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      CodeUri: src/
      Handler: app.handler
      Events:
        Items: { Type: HttpApi, Properties: { Path: /items, Method: GET, ApiId: !Ref Http } }
        Orders: { Type: HttpApi, Properties: { Path: /orders, Method: POST, ApiId: !Ref Http } }
        Own: { Type: HttpApi, Properties: { Path: /own, Method: GET, ApiId: !Ref Http, RouteSettings: { ThrottlingRateLimit: 1 } } }
        Rest: { Type: Api, Properties: { Path: '/pets/{id}', Method: get, RestApiId: !Ref Rest } }
        Plain: { Type: Api, Properties: { Path: /plain, Method: get } }
        Implicit: { Type: HttpApi, Properties: { Path: /implicit, Method: GET } }
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }
      RouteSettings:
        'POST /orders': { ThrottlingRateLimit: 5 }
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      MethodSettings:
        - { ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }
        - { ResourcePath: '/~1pets~1{id}', HttpMethod: GET, ThrottlingBurstLimit: 20 }
`,
    'src/app.js': 'export const handler = async () => ({ statusCode: 200 });\n',
  });
  const routes = (await loadProject(dir, { dev: true })).functions[0]?.routes ?? [];
  const limits = Object.fromEntries(routes.map((r) => [r.path, r.policies?.rateLimit]));
  assert.deepEqual(limits['/items'], { rate: 50, burst: 100, key: { by: 'route' } });
  assert.deepEqual(limits['/orders'], { rate: 5, burst: 100, key: { by: 'route' } }, 'the API RouteSettings for the route key override the default');
  assert.deepEqual(limits['/own'], { rate: 1, burst: 100, key: { by: 'route' } }, "the event's own RouteSettings win");
  assert.deepEqual(limits['/pets/{id}'], { rate: 100, burst: 20, key: { by: 'route' } }, 'the method entry overrides the stage-wide one');
  assert.equal(limits['/plain'], undefined, 'no throttling configured for the implicit REST API');
  assert.deepEqual(limits['/implicit'], { rate: 10_000, burst: 7, key: { by: 'route' } }, 'Globals.HttpApi applies to the implicit API; the unset rate takes AWS default');
});

test('a route keyed by "route" counts every caller in one bucket', async () => {
  const { policy } = setup({ rate: 0, burst: 1, key: { by: 'route' } });
  assert.equal(await allowed(policy, request({ ip: 'a' })), true);
  assert.equal(await allowed(policy, request({ ip: 'b' })), false);
});
