/** @module Tests for the next/server compat module: NextRequest, NextResponse, cookies and userAgent as Next documents them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NextRequest, NextResponse, NextURL, userAgent } from './next-server.ts';

describe('NextRequest', () => {
  test('nextUrl, geo and ip come from the URL and the Vercel headers', () => {
    const req = new NextRequest('https://example.com/api/geo?x=1&x=2', {
      headers: { 'x-vercel-ip-country': 'DE', 'x-vercel-ip-city': 'S%C3%A3o%20Paulo', 'x-vercel-ip-country-region': 'BE', 'x-real-ip': '203.0.113.7', 'x-vercel-ip-latitude': '52.5' },
    });
    assert.ok(req instanceof Request);
    assert.ok(req.nextUrl instanceof NextURL);
    assert.equal(req.nextUrl.pathname, '/api/geo');
    assert.deepEqual(req.nextUrl.searchParams.getAll('x'), ['1', '2']);
    assert.equal(req.nextUrl.basePath, '');
    assert.equal(req.nextUrl.clone().href, req.nextUrl.href);
    assert.deepEqual(req.geo, { city: 'São Paulo', country: 'DE', region: 'BE', latitude: '52.5' });
    assert.equal(req.ip, '203.0.113.7');
    const none = new NextRequest('https://example.com/');
    assert.deepEqual(none.geo, {});
    assert.equal(none.ip, undefined);
    assert.deepEqual(new NextRequest('https://e.com/', { geo: { country: 'FR' }, ip: '1.2.3.4' }).geo, { country: 'FR' });
  });

  test('wraps an incoming Request, keeping method, headers and a streamed body', async () => {
    const incoming = new Request('http://h/x', { method: 'POST', body: new Blob(['{"a":1}']).stream(), headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    const req = new NextRequest(incoming);
    assert.equal(req.method, 'POST');
    assert.deepEqual(await req.json(), { a: 1 });
  });

  test('cookies: get, getAll, has, set, delete, clear update the cookie header', () => {
    const req = new NextRequest('https://e.com/', { headers: { cookie: 'theme=dark; session=a%20b; theme=light' } });
    assert.deepEqual(req.cookies.get('theme'), { name: 'theme', value: 'dark' });
    assert.deepEqual(req.cookies.get('session'), { name: 'session', value: 'a b' });
    assert.equal(req.cookies.get('missing'), undefined);
    assert.equal(req.cookies.has('session'), true);
    assert.equal(req.cookies.size, 2);
    assert.deepEqual(req.cookies.getAll().map((c) => c.name), ['theme', 'session']);
    req.cookies.set('lang', 'de');
    assert.match(req.headers.get('cookie') ?? '', /lang=de/);
    assert.equal(req.cookies.delete('theme'), true);
    assert.deepEqual(req.cookies.delete(['nope', 'lang']), [false, true]);
    assert.equal(req.headers.get('cookie'), 'session=a%20b');
    req.cookies.clear();
    assert.equal(req.headers.get('cookie'), null);
  });
});

describe('NextResponse', () => {
  test('json keeps status and headers and is a NextResponse with cookies', async () => {
    const res = NextResponse.json({ ok: true }, { status: 201, headers: { 'x-a': 'b' } });
    assert.ok(res instanceof NextResponse && res instanceof Response);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-a'), 'b');
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await res.json(), { ok: true });
  });

  test('redirect: 307 by default, a status or init, absolute URLs only', () => {
    const r = NextResponse.redirect(new URL('/login', 'https://e.com'));
    assert.equal(r.status, 307);
    assert.equal(r.headers.get('location'), 'https://e.com/login');
    assert.equal(NextResponse.redirect('https://e.com/a', 301).status, 301);
    assert.equal(NextResponse.redirect('https://e.com/a', { status: 308, headers: { 'x-y': 'z' } }).headers.get('x-y'), 'z');
    assert.throws(() => NextResponse.redirect('/relative'), /URL is malformed/);
    assert.throws(() => NextResponse.redirect('https://e.com', 200), RangeError);
  });

  test('rewrite and next set the middleware headers', () => {
    const rw = NextResponse.rewrite(new URL('https://e.com/other?q=1'), { request: { headers: new Headers({ 'x-user': 'u1' }) } });
    assert.equal(rw.headers.get('x-middleware-rewrite'), 'https://e.com/other?q=1');
    assert.equal(rw.headers.get('x-middleware-request-x-user'), 'u1');
    assert.equal(rw.headers.get('x-middleware-override-headers'), 'x-user');
    assert.equal(NextResponse.next().headers.get('x-middleware-next'), '1');
  });

  test('cookies.set / delete write Set-Cookie headers; set replaces by name', () => {
    const res = NextResponse.json({});
    res.cookies.set('session', 'a b', { httpOnly: true, secure: true, sameSite: 'lax', maxAge: 60 });
    res.cookies.set({ name: 'theme', value: 'dark', path: '/app' });
    res.cookies.set('theme', 'light');
    const lines = res.headers.getSetCookie();
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^session=a%20b; Path=\/; Expires=[^;]+GMT; Max-Age=60; Secure; HttpOnly; SameSite=Lax$/);
    assert.equal(lines[1], 'theme=light; Path=/');
    assert.equal(res.cookies.get('session')?.value, 'a b');
    res.cookies.delete('theme');
    assert.match(res.headers.getSetCookie()[1] ?? '', /^theme=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT$/);
    const passed = new NextResponse('x', { headers: [['set-cookie', 'a=1; Path=/']] });
    assert.equal(passed.cookies.get('a')?.value, '1');
  });
});

test('userAgent reads browser, os, engine and bots', () => {
  const chrome = userAgent(new Request('http://h/', { headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36' } }));
  assert.deepEqual(chrome.browser, { name: 'Chrome', version: '126.0.0.0' });
  assert.equal(chrome.os.name, 'Windows');
  assert.equal(chrome.engine.name, 'Blink');
  assert.equal(chrome.isBot, false);
  assert.equal(userAgent(new Request('http://h/', { headers: { 'user-agent': 'Googlebot/2.1' } })).isBot, true);
});
