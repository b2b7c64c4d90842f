import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FunctionManifest } from '../control/records.ts';
import type { ResponseCacheSpec, RouteSpec } from '../project/spec.ts';
import { loadProject } from '../project/index.ts';
import { expectProblems, tempProject } from '../project/testing.ts';
import { nodeState } from './index.ts';
import type { PolicyNode } from './index.ts';
import type { PolicyDecision, PolicyRequest, RoutePolicy } from './policy.ts';
import { ResponseStore, responseCacheBudget, responseCachePolicy } from './response-cache.ts';

const TOKEN = 'op_000000000000_secret';

function setup(cache: Partial<ResponseCacheSpec> = {}): { policy: RoutePolicy; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const node: PolicyNode = {
    state: nodeState(),
    invoke: () => Promise.reject(new Error('not used')),
    now: () => clock.now,
    verifyToken: async (token) => token === TOKEN,
  };
  const route: RouteSpec = { path: '/items/*', event: { kind: 'fetch' }, policies: { cache: { ttlSeconds: 10, keyQuery: [], keyHeaders: [], statuses: [200], ...cache } } };
  const policy = responseCachePolicy({ functionName: 'fn', manifest: {} as FunctionManifest, route, node });
  assert.ok(policy);
  return { policy, clock };
}

function request(path: string, more: Partial<PolicyRequest> = {}): PolicyRequest {
  const q = path.indexOf('?');
  return { requestId: 'r', method: 'GET', host: 'h', path: q === -1 ? path : path.slice(0, q), search: q === -1 ? '' : path.slice(q), headers: {}, ip: '10.0.0.1', functionName: 'fn', ...more };
}

/** Runs the policy; on a pass, answers with `response` through its observer as the gateway would. */
async function ask(policy: RoutePolicy, req: PolicyRequest, response: { status?: number; headers?: string[]; body?: string } = {}): Promise<{ cache: string; status: number; body: string; headers: Record<string, string> }> {
  const decision: PolicyDecision = await policy.decide(req);
  if (decision && 'reply' in decision) {
    const { reply } = decision;
    return { cache: reply.headers?.['x-outpost-cache'] ?? '', status: reply.status, body: Buffer.from(reply.body ?? '').toString(), headers: reply.headers ?? {} };
  }
  const cache = decision?.responseHeaders?.find(([n]) => n === 'x-outpost-cache')?.[1] ?? 'none';
  const headers = [...(response.headers ?? []), 'x-outpost-cache', cache];
  decision?.onResponse?.(response.status ?? 200, headers, Buffer.from(response.body ?? 'fresh'));
  return { cache, status: response.status ?? 200, body: response.body ?? 'fresh', headers: {} };
}

test('a GET is stored and answered from the store until its TTL, with Age', async () => {
  const { policy, clock } = setup();
  assert.equal((await ask(policy, request('/items/1'), { body: 'one', headers: ['content-type', 'text/plain'] })).cache, 'MISS');
  clock.now += 3_500;
  const hit = await ask(policy, request('/items/1'));
  assert.deepEqual([hit.cache, hit.body, hit.headers['age'], hit.headers['content-type']], ['HIT', 'one', '3', 'text/plain']);
  assert.equal((await ask(policy, { ...request('/items/1'), method: 'HEAD' })).cache, 'HIT', 'HEAD is answered from the GET entry');
  clock.now += 6_500;
  assert.equal((await ask(policy, request('/items/1'))).cache, 'MISS', 'expired after ttl_seconds');
});

test('only the named query parameters and headers split entries', async () => {
  const { policy } = setup({ keyQuery: ['page'], keyHeaders: ['accept-language'] });
  await ask(policy, request('/items?page=1&utm=a'));
  assert.equal((await ask(policy, request('/items?utm=b&page=1'))).cache, 'HIT', 'other parameters do not matter');
  assert.equal((await ask(policy, request('/items?page=2'))).cache, 'MISS');
  assert.equal((await ask(policy, request('/items?page=1', { headers: { 'accept-language': 'fr' } }))).cache, 'MISS');
  assert.equal((await ask(policy, request('/other?page=1'))).cache, 'MISS', 'the path is part of the key');
});

test('what is not stored: other methods, statuses, no-store, private, cookies', async () => {
  const { policy } = setup();
  assert.equal(await policy.decide(request('/items/p', { method: 'POST' })), undefined);
  await ask(policy, request('/items/a'), { status: 500 });
  await ask(policy, request('/items/b'), { headers: ['cache-control', 'no-store'] });
  await ask(policy, request('/items/c'), { headers: ['Cache-Control', 'private, max-age=60'] });
  await ask(policy, request('/items/d'), { headers: ['set-cookie', 'session=1'] });
  for (const p of ['a', 'b', 'c', 'd']) assert.equal((await ask(policy, request(`/items/${p}`))).cache, 'MISS', p);
  const { policy: notFound } = setup({ statuses: [200, 404] });
  await ask(notFound, request('/items/gone'), { status: 404 });
  assert.equal((await ask(notFound, request('/items/gone'))).status, 404, 'statuses = [200, 404] stores 404s');
});

test('max-age=0 refreshes the entry only for a caller with a node token', async () => {
  const { policy } = setup();
  await ask(policy, request('/items/1'), { body: 'v1' });
  const anonymous = await ask(policy, request('/items/1', { headers: { 'cache-control': 'max-age=0' } }), { body: 'v2' });
  assert.deepEqual([anonymous.cache, anonymous.body], ['HIT', 'v1'], 'ignored without a token');
  const wrong = await ask(policy, request('/items/1', { headers: { 'cache-control': 'max-age=0', authorization: 'Bearer op_000000000000_nope' } }), { body: 'v2' });
  assert.equal(wrong.cache, 'HIT', 'ignored with a token the node does not know');
  const refreshed = await ask(policy, request('/items/1', { headers: { 'cache-control': 'max-age=0', authorization: `Bearer ${TOKEN}` } }), { body: 'v3' });
  assert.deepEqual([refreshed.cache, refreshed.body], ['MISS', 'v3']);
  assert.equal((await ask(policy, request('/items/1'))).body, 'v3', 'the fresh response replaced the old one');
});

test('the store evicts least recently used entries to stay within its bytes', () => {
  const store = new ResponseStore(1_000);
  const entry = (size: number) => ({ status: 200, headers: [], body: new Uint8Array(size), storedAt: 0, expiresAt: 10 });
  assert.equal(store.set('a', entry(300)), true);
  store.set('b', entry(300));
  store.get('a', 1); // a is now the most recently used
  store.set('c', entry(300));
  assert.ok(store.bytes <= 1_000);
  assert.ok(store.get('a', 1) && store.get('c', 1));
  assert.equal(store.get('b', 1), undefined, 'b was least recently used');
  assert.equal(store.set('huge', entry(2_000)), false, 'larger than the whole budget: not stored');
  assert.equal(store.get('a', 20), undefined, 'expired');
});

test('the budget comes from OUTPOST_RESPONSE_CACHE_MB', () => {
  assert.equal(responseCacheBudget({ OUTPOST_RESPONSE_CACHE_MB: '0.5' }), 512 * 1024);
  assert.equal(responseCacheBudget({}), 64 * 1024 * 1024);
});

test('outpost.toml route rules: cache with defaults, and bad values reported at their key', async (t) => {
  const dir = await tempProject(t, {
    'outpost.toml': 'name = "c"\nmain = "index.js"\n[[route_rules]]\npath = "/a/*"\ncache = { key_headers = ["Accept-Language"] }\n[[route_rules]]\npath = "/b/*"\ncache = { ttl_seconds = 5, key_query = ["page"], statuses = [200, 404] }\n',
    'index.js': 'export default { fetch: () => new Response("ok") };\n',
  });
  const routes = (await loadProject(dir, { dev: true })).functions[0]?.routes;
  assert.deepEqual(routes?.map((r) => r.policies?.cache), [
    { ttlSeconds: 300, keyQuery: [], keyHeaders: ['accept-language'], statuses: [200] },
    { ttlSeconds: 5, keyQuery: ['page'], keyHeaders: [], statuses: [200, 404] },
  ]);
  const bad = await tempProject(t, {
    'outpost.toml': 'name = "c"\nmain = "index.js"\n[[route_rules]]\npath = "/a/*"\ncache = { ttl_seconds = 0, statuses = ["200"] }\n',
    'index.js': 'export default { fetch: () => new Response("ok") };\n',
  });
  await expectProblems(() => loadProject(bad, { dev: true }), [
    { file: 'outpost.toml', key: 'route_rules[0].cache.ttl_seconds', message: /out of range/ },
    { file: 'outpost.toml', key: 'route_rules[0].cache.statuses' },
  ]);
});

test('SAM REST API caching: CacheClusterEnabled, MethodSettings and RequestParameters marked Caching', async (t) => {
  const dir = await tempProject(t, {
    'template.yaml': `
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      CodeUri: src/
      Handler: app.handler
      Events:
        List:
          Type: Api
          Properties:
            Path: /pets
            Method: get
            RestApiId: !Ref Cached
            RequestParameters:
              - method.request.querystring.page: { Required: false, Caching: true }
              - method.request.querystring.debug: { Required: false }
              - method.request.header.Accept-Language: { Caching: true }
        Off: { Type: Api, Properties: { Path: /live, Method: get, RestApiId: !Ref Cached } }
        NoCluster: { Type: Api, Properties: { Path: /other, Method: get, RestApiId: !Ref Uncached } }
  Cached:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      CacheClusterEnabled: true
      CacheClusterSize: '0.5'
      MethodSettings:
        - { ResourcePath: '/*', HttpMethod: '*', CachingEnabled: true, CacheTtlInSeconds: 60 }
        - { ResourcePath: '/~1live', HttpMethod: GET, CachingEnabled: false }
  Uncached:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      MethodSettings: [{ ResourcePath: '/*', HttpMethod: '*', CachingEnabled: true }]
`,
    'src/app.js': 'export const handler = async () => ({ statusCode: 200 });\n',
  });
  const routes = (await loadProject(dir, { dev: true })).functions[0]?.routes ?? [];
  const caches = Object.fromEntries(routes.map((r) => [r.path, r.policies?.cache]));
  assert.deepEqual(caches['/pets'], { ttlSeconds: 60, keyQuery: ['page'], keyHeaders: ['accept-language'], statuses: [200] });
  assert.equal(caches['/live'], undefined, 'CachingEnabled: false on the method');
  assert.equal(caches['/other'], undefined, 'no cache cluster on the API');
});
