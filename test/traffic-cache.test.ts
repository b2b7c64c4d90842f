// Response caching on a route, end to end: a real node, a function that counts its
// invocations, and requests over loopback HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const source = `
let served = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/count') return new Response(String(served));
    served++;
    if (url.pathname.startsWith('/big/')) return new Response('x'.repeat(40_000) + served);
    if (url.pathname === '/items/private') return new Response(String(served), { headers: { 'cache-control': 'private' } });
    return new Response(String(served), { headers: { 'content-type': 'text/plain', 'x-from': 'function' } });
  },
};
`;

const toml = `name = "cached"
main = "src/index.ts"

[[route_rules]]
path = "/items/*"
cache = { ttl_seconds = 300, key_query = ["page"], key_headers = ["x-tenant"] }

[[route_rules]]
path = "/short/*"
cache = { ttl_seconds = 1 }

[[route_rules]]
path = "/big/*"
cache = { ttl_seconds = 300 }

[[route_rules]]
path = "/shared/*"
cors = { allow_origins = ["https://a.example", "https://b.example"] }
rate_limit = { rate = 0.01, burst = 2 }
cache = { ttl_seconds = 300 }
`;

interface Answer {
  status: number;
  body: string;
  cache: string | null;
  age: string | null;
  from: string | null;
}

describe('response cache', () => {
  let node: Running;
  let token = '';
  const cleanups: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => void cleanups.push(fn) };

  const get = async (path: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const r = await fetch(`${node.url}${path}`, { headers });
    return { status: r.status, body: await r.text(), cache: r.headers.get('x-outpost-cache'), age: r.headers.get('age'), from: r.headers.get('x-from') };
  };
  const invocations = async (): Promise<number> => Number((await get('/cached/count')).body);

  before(async () => {
    const dir = await writeProject(scope, { 'outpost.toml': toml, 'src/index.ts': source });
    const state = await tempDir(scope);
    // 0.1 MiB: three 40 KB responses do not fit.
    node = await startOutpost(scope, ['serve', '--port', '0', '--state', state, '--quiet'], { env: { OUTPOST_RESPONSE_CACHE_MB: '0.1' } });
    token = /admin token \(shown once, keep it\): (\S+)/.exec(node.stderr())?.[1] ?? '';
    assert.ok(token, 'the node printed its admin token');
    const deployed = await runCli(['deploy', dir, '--to', node.url, '--token', token]);
    assert.equal(deployed.code, 0, deployed.stderr);
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  test('a MISS invokes the function; the HIT that follows does not, and carries Age', async () => {
    const miss = await get('/items/1');
    assert.deepEqual([miss.status, miss.cache, miss.from], [200, 'MISS', 'function']);
    const before = await invocations();
    const hit = await get('/items/1');
    assert.deepEqual([hit.status, hit.cache, hit.body, hit.from], [200, 'HIT', miss.body, 'function']);
    assert.match(hit.age ?? '', /^\d+$/);
    assert.equal(await invocations(), before, 'the function was not invoked for the hit');
  });

  test('the configured query parameter and header split entries; others do not', async () => {
    const first = await get('/items/2?page=1');
    assert.equal(first.cache, 'MISS');
    assert.equal((await get('/items/2?page=1&utm_source=mail')).cache, 'HIT', 'an unlisted parameter shares the entry');
    assert.equal((await get('/items/2?page=2')).cache, 'MISS');
    assert.equal((await get('/items/2?page=1', { 'x-tenant': 'acme' })).cache, 'MISS');
    assert.equal((await get('/items/2?page=1', { 'x-tenant': 'acme' })).cache, 'HIT');
    assert.equal((await get('/items/3?page=1')).cache, 'MISS', 'another path');
  });

  test('Cache-Control: private from the function is not stored', async () => {
    await get('/items/private');
    const again = await get('/items/private');
    assert.equal(again.cache, 'MISS');
  });

  test('an entry expires after its TTL', async () => {
    const first = await get('/short/a');
    assert.equal(first.cache, 'MISS');
    assert.equal((await get('/short/a')).cache, 'HIT');
    const later = await eventually(async () => {
      const r = await get('/short/a');
      return r.cache === 'MISS' ? r : undefined;
    }, 5_000, 'a MISS once the 1 s TTL passed');
    assert.notEqual(later.body, first.body, 'the function answered again');
  });

  test('max-age=0 refreshes the entry for a caller with a node token, and is ignored for anyone else', async () => {
    const stored = await get('/items/4');
    const anonymous = await get('/items/4', { 'cache-control': 'max-age=0' });
    assert.deepEqual([anonymous.cache, anonymous.body], ['HIT', stored.body], 'no token: served from the cache');
    const forged = await get('/items/4', { 'cache-control': 'max-age=0', authorization: 'Bearer op_000000000000_forged' });
    assert.deepEqual([forged.cache, forged.body], ['HIT', stored.body], 'an unknown token: served from the cache');
    const refreshed = await get('/items/4', { 'cache-control': 'max-age=0', authorization: `Bearer ${token}` });
    assert.equal(refreshed.cache, 'MISS');
    assert.notEqual(refreshed.body, stored.body, 'the function answered');
    const next = await get('/items/4');
    assert.deepEqual([next.cache, next.body], ['HIT', refreshed.body], 'the fresh response replaced the stored one');
  });

  test('a cached answer and a 429 carry the CORS headers of the request they answer, not of the stored one', async () => {
    const first = await fetch(`${node.url}/shared/x`, { headers: { origin: 'https://a.example' } });
    await first.text();
    assert.deepEqual([first.headers.get('x-outpost-cache'), first.headers.get('access-control-allow-origin')], ['MISS', 'https://a.example']);
    const hit = await fetch(`${node.url}/shared/x`, { headers: { origin: 'https://b.example' } });
    await hit.text();
    assert.deepEqual([hit.headers.get('x-outpost-cache'), hit.headers.get('access-control-allow-origin')], ['HIT', 'https://b.example']);
    const limited = await fetch(`${node.url}/shared/x`, { headers: { origin: 'https://b.example' } });
    await limited.text();
    assert.deepEqual([limited.status, limited.headers.get('access-control-allow-origin')], [429, 'https://b.example'], 'a browser can read the 429');
  });

  test('the node-wide byte budget evicts the least recently used entry', async () => {
    assert.equal((await get('/big/a')).cache, 'MISS');
    assert.equal((await get('/big/b')).cache, 'MISS');
    assert.equal((await get('/big/a')).cache, 'HIT', 'a is now the most recently used');
    assert.equal((await get('/big/c')).cache, 'MISS');
    assert.equal((await get('/big/a')).cache, 'HIT', 'a was kept');
    assert.equal((await get('/big/b')).cache, 'MISS', 'b was evicted to make room for c');
  });
});
