/** @module Tests for @vercel/functions and @vercel/edge compat: geolocation, ipAddress, waitUntil through the request context. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { geolocation, ipAddress, waitUntil, countryFlag } from './vercel-functions.ts';
import { next, rewrite } from './vercel-edge.ts';

test('geolocation and ipAddress read the headers Vercel sets', () => {
  const req = new Request('http://h/', {
    headers: { 'x-vercel-ip-country': 'JP', 'x-vercel-ip-city': 'T%C5%8Dky%C5%8D', 'x-vercel-ip-country-region': '13', 'x-vercel-ip-latitude': '35.6', 'x-vercel-ip-longitude': '139.7', 'x-vercel-id': 'hnd1::abc', 'x-real-ip': '198.51.100.4', 'x-vercel-ip-postal-code': '100-0001' },
  });
  assert.deepEqual(geolocation(req), { city: 'Tōkyō', country: 'JP', flag: '🇯🇵', countryRegion: '13', region: 'hnd1', latitude: '35.6', longitude: '139.7', postalCode: '100-0001' });
  assert.equal(ipAddress(req), '198.51.100.4');
  assert.deepEqual(geolocation(new Request('http://h/')), {});
  assert.equal(ipAddress(new Request('http://h/')), undefined);
  assert.equal(countryFlag('de'), '🇩🇪');
  assert.equal(countryFlag('XYZ'), undefined);
});

test('waitUntil hands the promise to the current request context, and refuses outside one', () => {
  const key = Symbol.for('@vercel/request-context');
  const g = globalThis as Record<symbol, unknown>;
  const seen: Promise<unknown>[] = [];
  g[key] = { get: () => ({ waitUntil: (p: Promise<unknown>) => seen.push(p) }) };
  try {
    const p = Promise.resolve(1);
    waitUntil(p);
    assert.deepEqual(seen, [p]);
  } finally {
    delete g[key];
  }
  assert.throws(() => waitUntil(Promise.resolve()), /while a request is being handled/);
});

test('@vercel/edge next() and rewrite() are middleware responses', () => {
  assert.equal(next().headers.get('x-middleware-next'), '1');
  assert.equal(rewrite(new URL('https://e.com/b')).headers.get('x-middleware-rewrite'), 'https://e.com/b');
  assert.equal(next({ request: { headers: new Headers({ a: '1' }) } }).headers.get('x-middleware-request-a'), '1');
});
