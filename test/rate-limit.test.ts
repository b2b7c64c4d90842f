// Rate limits end to end: a route's token bucket answering 429 through the gateway, and the
// Workers Rate Limiting binding shared by two functions of one node.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const echo = `export default { fetch: (request) => new Response('served ' + new URL(request.url).pathname) };\n`;

const limitedToml = `name = "limited"
main = "src/index.ts"

[[route_rules]]
path = "/api/*"
rate_limit = { rate = 0.5, burst = 3 }

[[route_rules]]
path = "/tenant/*"
rate_limit = { rate = 0.01, burst = 2, key = "header:x-tenant" }
`;

const limiterSource = `
export default {
  async fetch(request, env) {
    const key = new URL(request.url).searchParams.get('key');
    return Response.json(await env.LIMITER.limit({ key }));
  },
};
`;

const limiterToml = (name: string, namespace: string): string => `name = "${name}"
main = "src/index.ts"

[[ratelimits]]
name = "LIMITER"
namespace_id = "${namespace}"
simple = { limit = 3, period = 60 }
`;

describe('rate limits', () => {
  let node: Running;
  const cleanups: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => void cleanups.push(fn) };

  before(async () => {
    const root = await tempDir(scope);
    await writeProject(scope, { 'outpost.toml': limitedToml, 'src/index.ts': echo }, `${root}/limited`);
    await writeProject(scope, { 'wrangler.toml': limiterToml('one', '1001'), 'src/index.ts': limiterSource }, `${root}/one`);
    await writeProject(scope, { 'wrangler.toml': limiterToml('two', '1001'), 'src/index.ts': limiterSource }, `${root}/two`);
    await writeProject(scope, { 'wrangler.toml': limiterToml('three', '1002'), 'src/index.ts': limiterSource }, `${root}/three`);
    node = await startOutpost(scope, ['dev', root, '--port', '0']);
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  // In dev the client address is taken from cf-connecting-ip, so two clients can be simulated.
  const call = (path: string, headers: Record<string, string>): Promise<Response> => fetch(`${node.url}${path}`, { headers });

  test('after `burst` requests the route answers 429 with Retry-After until a token refills', async () => {
    const client = { 'cf-connecting-ip': '203.0.113.1' };
    for (let i = 0; i < 3; i++) {
      const r = await call('/api/x', client);
      assert.equal(r.status, 200, `request ${i + 1} of the burst`);
      assert.equal(await r.text(), 'served /api/x');
    }
    const refused = await call('/api/x', client);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '2', 'one token every 2 s');
    assert.equal(refused.headers.get('ratelimit-limit'), '3');
    assert.equal(refused.headers.get('x-outpost-error'), 'RATE_LIMITED');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    await node.waitFor(/\[429\] .*throttled/);

    const other = await call('/api/x', { 'cf-connecting-ip': '203.0.113.2' });
    assert.equal(other.status, 200, 'another client address has its own bucket');
    await other.text();

    // At one request every 2 s, the client gets through again once a token is back.
    await eventually(async () => {
      const r = await call('/api/x', client);
      await r.arrayBuffer();
      return r.status === 200 ? true : undefined;
    }, 8_000, 'a request passing after the refill');
  });

  test('keyed by a header: each value has its own bucket, whatever the address', async () => {
    const statuses = async (tenant: string, ip: string): Promise<number> => {
      const r = await call('/tenant/x', { 'x-tenant': tenant, 'cf-connecting-ip': ip });
      await r.arrayBuffer();
      return r.status;
    };
    assert.deepEqual([await statuses('acme', '198.51.100.1'), await statuses('acme', '198.51.100.2'), await statuses('acme', '198.51.100.3')], [200, 200, 429]);
    assert.equal(await statuses('globex', '198.51.100.3'), 200);
  });

  test('the rate limiting binding says success: false past its limit, counted across functions sharing a namespace', async () => {
    const limit = async (fn: string, key: string): Promise<boolean> => {
      const r = await call(`/${fn}/?key=${key}`, {});
      assert.equal(r.status, 200);
      return ((await r.json()) as { success: boolean }).success;
    };
    assert.deepEqual([await limit('one', 'k'), await limit('one', 'k'), await limit('two', 'k')], [true, true, true]);
    assert.equal(await limit('two', 'k'), false, 'the fourth request within the period, through the other function');
    assert.equal(await limit('one', 'k'), false);
    assert.equal(await limit('one', 'other-key'), true, 'another key has its own count');
    assert.equal(await limit('three', 'k'), true, 'another namespace has its own counts');
  });
});
