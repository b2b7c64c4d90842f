import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadProject } from '../../project/index.ts';
import { expectProblems, tempProject } from '../../project/testing.ts';
import type { Rpc } from '../rpc.ts';
import { RateLimitNamespaces, rateLimitHost } from './index.ts';
import { createRateLimiter } from './ratelimit.guest.ts';

const MAIN = 'export default { fetch: () => new Response("ok") };\n';

test('wrangler [[ratelimits]] becomes a ratelimit binding', async (t) => {
  const dir = await tempProject(t, {
    'wrangler.toml': 'name = "w"\nmain = "index.js"\n[[ratelimits]]\nname = "LIMITER"\nnamespace_id = "1001"\nsimple = { limit = 100, period = 60 }\n',
    'index.js': MAIN,
  });
  const spec = await loadProject(dir, { dev: true });
  assert.deepEqual(spec.functions[0]?.bindings, [{ type: 'ratelimit', name: 'LIMITER', namespace: '1001', limit: 100, periodSeconds: 60 }]);
});

test('a bad [[ratelimits]] entry is reported at its key', async (t) => {
  const dir = await tempProject(t, {
    'wrangler.toml': 'name = "w"\nmain = "index.js"\n[[ratelimits]]\nname = "A"\nnamespace_id = "abc"\nsimple = { limit = 0, period = 30 }\n[[ratelimits]]\nname = "B"\nnamespace_id = 7\n',
    'index.js': MAIN,
  });
  await expectProblems(() => loadProject(dir, { dev: true }), [
    { file: 'wrangler.toml', key: 'ratelimits[0].namespace_id', message: /positive integer/ },
    { file: 'wrangler.toml', key: 'ratelimits[0].simple.limit' },
    { file: 'wrangler.toml', key: 'ratelimits[0].simple.period', message: /not a supported period/ },
    { file: 'wrangler.toml', key: 'ratelimits[1].simple' },
  ]);
});

test('limit() succeeds up to the limit per key, then refills over the period', async () => {
  let now = 0;
  const namespaces = new RateLimitNamespaces(() => now);
  const host = rateLimitHost(namespaces, { type: 'ratelimit', name: 'L', namespace: '1', limit: 2, periodSeconds: 10 });
  const rpc: Rpc = (_binding, method, args) => host(method, args);
  const limiter = createRateLimiter('L', rpc) as { limit(o: unknown): Promise<{ success: boolean }> };
  const results = [];
  for (let i = 0; i < 3; i++) results.push((await limiter.limit({ key: 'a' })).success);
  assert.deepEqual(results, [true, true, false]);
  assert.deepEqual(await limiter.limit({ key: 'b' }), { success: true }, 'keys are counted apart');
  now += 5_000; // one of the two requests per 10 s is back
  assert.equal((await limiter.limit({ key: 'a' })).success, true);
  await assert.rejects(limiter.limit({}), TypeError);
  await assert.rejects(limiter.limit('a'), TypeError);
});

test('bindings naming the same namespace share its counts; another namespace does not', async () => {
  const namespaces = new RateLimitNamespaces(() => 0);
  const one = rateLimitHost(namespaces, { type: 'ratelimit', name: 'A', namespace: '1001', limit: 1, periodSeconds: 60 });
  const two = rateLimitHost(namespaces, { type: 'ratelimit', name: 'B', namespace: '1001', limit: 1, periodSeconds: 60 });
  const other = rateLimitHost(namespaces, { type: 'ratelimit', name: 'C', namespace: '1002', limit: 1, periodSeconds: 60 });
  assert.equal(await one('limit', ['k']), true);
  assert.equal(await two('limit', ['k']), false);
  assert.equal(await other('limit', ['k']), true);
});
