/** @module Tests for the Cache API's host store: what Workers store and refuse, expiry with an injected clock, Vary, conditional matches and LRU eviction. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOutpostError } from '../../errors.ts';
import { freshness, NodeCache } from './index.ts';

const T0 = Date.UTC(2030, 0, 1);
const body = (text: string): Uint8Array => new TextEncoder().encode(text);
const get = (url: string, headers: string[] = []) => ({ url, method: 'GET', headers });
const ok = (headers: string[], text = 'hello', status = 200) => ({ status, headers, body: body(text) });

test('put follows Cache-Control, Expires, Set-Cookie and the default TTLs', () => {
  const clock = { ms: T0 };
  const cache = new NodeCache({ now: () => clock.ms });
  assert.equal(cache.put('', get('http://a/1'), ok(['cache-control', 'max-age=60'])), true);
  assert.equal(cache.put('', get('http://a/2'), ok(['cache-control', 'no-store'])), false);
  assert.equal(cache.put('', get('http://a/3'), ok(['cache-control', 'private, max-age=60'])), false);
  assert.equal(cache.put('', get('http://a/4'), ok(['cache-control', 'max-age=60', 'set-cookie', 'a=b'])), false);
  assert.equal(cache.put('', get('http://a/5'), ok(['cache-control', 'private=Set-Cookie, max-age=60', 'set-cookie', 'a=b'])), true);
  assert.deepEqual(cache.match('', get('http://a/5'))?.headers.filter((h) => h.toLowerCase() === 'set-cookie'), []);
  assert.equal(cache.put('', get('http://a/6'), ok([], 'x', 500)), false, 'a 500 without max-age is not stored');
  assert.equal(freshness(200, [], T0), 7200);
  assert.equal(freshness(404, [], T0), 180);
  assert.equal(freshness(200, ['cache-control', 'max-age=10, s-maxage=99'], T0), 99);
  assert.equal(freshness(200, ['expires', new Date(T0 + 30_000).toUTCString()], T0), 30);
  assert.throws(() => cache.put('', { url: 'http://a/7', method: 'POST', headers: [] }, ok([])), (e) => isOutpostError(e, 'CACHE_INVALID'));
  assert.throws(() => cache.put('', get('http://a/8'), ok([], 'x', 206)), (e) => isOutpostError(e, 'CACHE_INVALID'));
  assert.throws(() => cache.put('', get('http://a/9'), ok(['vary', '*'])), (e) => isOutpostError(e, 'CACHE_INVALID'));
  const hit = cache.match('', get('http://a/1'));
  assert.equal(hit?.status, 200);
  assert.ok(hit?.headers.includes('cf-cache-status'));
  assert.equal(cache.match('', { url: 'http://a/1', method: 'POST', headers: [] }), undefined);
  assert.equal(cache.match('named:x', get('http://a/1')), undefined, 'caches are separate by name');
  clock.ms += 60_000;
  assert.equal(cache.match('', get('http://a/1')), undefined, 'expired exactly at max-age');
});

test('match honours Vary and answers conditional requests with 304', () => {
  const cache = new NodeCache({ now: () => T0 });
  cache.put('', get('http://a/v', ['accept-encoding', 'gzip']), ok(['cache-control', 'max-age=60', 'vary', 'Accept-Encoding', 'etag', '"v1"', 'last-modified', new Date(T0 - 60_000).toUTCString()]));
  assert.equal(cache.match('', get('http://a/v', ['accept-encoding', 'br'])), undefined);
  assert.equal(cache.match('', get('http://a/v', ['accept-encoding', 'gzip']))?.status, 200);
  assert.equal(cache.match('', get('http://a/v', ['accept-encoding', 'gzip', 'if-none-match', 'W/"v1"']))?.status, 304);
  assert.equal(cache.match('', get('http://a/v', ['accept-encoding', 'gzip', 'if-none-match', '"v2"']))?.status, 200);
  assert.equal(cache.match('', get('http://a/v', ['accept-encoding', 'gzip', 'if-modified-since', new Date(T0).toUTCString()]))?.status, 304);
  assert.equal(cache.delete('', get('http://a/v')), true);
  assert.equal(cache.delete('', get('http://a/v')), false);
});

test('the cache stays under its size, evicting the least recently used entry', () => {
  const cache = new NodeCache({ now: () => T0, maxBytes: 3000 });
  const big = 'x'.repeat(900);
  for (const n of [1, 2, 3]) cache.put('', get(`http://a/${n}`), ok(['cache-control', 'max-age=60'], big));
  assert.ok(cache.match('', get('http://a/1')), 'touch 1 so 2 is the oldest');
  cache.put('', get('http://a/4'), ok(['cache-control', 'max-age=60'], big));
  assert.ok(cache.bytes <= 3000);
  assert.equal(cache.match('', get('http://a/2')), undefined);
  assert.ok(cache.match('', get('http://a/1')));
  assert.ok(cache.match('', get('http://a/4')));
  assert.equal(cache.put('', get('http://a/huge'), ok(['cache-control', 'max-age=60'], 'y'.repeat(5000))), false);
});
