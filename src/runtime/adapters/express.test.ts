/** @module Express-style req/res as Google Cloud Functions hand them to a function (Express 4 / Node http behaviour). */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { ExpressRequest, ExpressResponse } from './express.ts';

function request(method = 'GET', url = '/', headers: Record<string, string> = {}, body: unknown = {}, rawBody?: Buffer): ExpressRequest {
  return new ExpressRequest({ method, url, headers: new Headers(headers), ip: '203.0.113.7', protocol: 'http:', body, rawBody });
}

/** Runs `fn(req, res)` and resolves with the Response the function produced. */
function run(fn: (req: ExpressRequest, res: ExpressResponse) => void, req = request()): Promise<Response> {
  return new Promise((resolve, reject) => {
    const res = new ExpressResponse(req, { respond: resolve, fail: reject });
    fn(req, res);
  });
}

describe('res.send', () => {
  test('a string is text/html with charset, length and a weak ETag', async () => {
    const r = await run((_q, res) => res.send('<b>hi</b>'));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.headers.get('content-length'), '9');
    assert.match(r.headers.get('etag') ?? '', /^W\/"9-[A-Za-z0-9+/]{27}"$/);
    assert.equal(await r.text(), '<b>hi</b>');
  });
  test('an object or array is JSON', async () => {
    const r = await run((_q, res) => res.status(201).send({ a: [1, 2] }));
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await r.json(), { a: [1, 2] });
  });
  test('a Buffer is application/octet-stream', async () => {
    const r = await run((_q, res) => res.send(Buffer.from([0, 255])));
    assert.equal(r.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual([...new Uint8Array(await r.arrayBuffer())], [0, 255]);
  });
  test('a number alone sends that status with its text (Express 4)', async () => {
    const r = await run((_q, res) => res.send(404));
    assert.equal(r.status, 404);
    assert.equal(await r.text(), 'Not Found');
  });
  test('an explicit Content-Type is kept and gets a charset', async () => {
    const r = await run((_q, res) => res.set('Content-Type', 'text/csv').send('a,b'));
    assert.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8');
  });
  test('204 drops the body and its headers', async () => {
    const r = await run((_q, res) => res.status(204).send('ignored'));
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('content-type'), null);
    assert.equal(r.body, null);
  });
  test('a conditional GET whose ETag matches is answered 304', async () => {
    const first = await run((_q, res) => res.send('same'));
    const etag = first.headers.get('etag') ?? '';
    const r = await run((_q, res) => res.send('same'), request('GET', '/', { 'if-none-match': etag }));
    assert.equal(r.status, 304);
    assert.equal(r.body, null);
  });
  test('HEAD sends headers without a body', async () => {
    const r = await run((_q, res) => res.send('hello'), request('HEAD'));
    assert.equal(r.headers.get('content-length'), '5');
    assert.equal(r.body, null);
  });
  test('setting a header after the response was sent throws ERR_HTTP_HEADERS_SENT', async () => {
    let thrown: unknown;
    await run((_q, res) => {
      res.send('once');
      try {
        res.set('x-late', '1');
      } catch (e) {
        thrown = e;
      }
    });
    assert.equal((thrown as { code?: string }).code, 'ERR_HTTP_HEADERS_SENT');
  });
});

describe('res helpers', () => {
  test('json, sendStatus, type', async () => {
    assert.equal(await (await run((_q, res) => res.json(null))).text(), 'null');
    const s = await run((_q, res) => res.sendStatus(418));
    assert.equal(s.status, 418);
    assert.equal(s.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await s.text(), "I'm a Teapot");
    const t = await run((_q, res) => res.type('json').send('{"x":1}'));
    assert.equal(t.headers.get('content-type'), 'application/json; charset=utf-8');
  });
  test('redirect defaults to 302 with a text body; Accept: text/html gets the HTML body', async () => {
    const r = await run((_q, res) => res.redirect('/next?a=b c'));
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/next?a=b%20c');
    assert.equal(await r.text(), 'Found. Redirecting to /next?a=b%20c');
    const h = await run((_q, res) => res.redirect(301, 'https://example.com/'), request('GET', '/', { accept: 'text/html' }));
    assert.equal(h.status, 301);
    assert.equal(await h.text(), '<p>Moved Permanently. Redirecting to <a href="https://example.com/">https://example.com/</a></p>');
  });
  test('cookie and clearCookie append Set-Cookie headers (maxAge in ms, path /)', async () => {
    const r = await run((_q, res) => {
      res.cookie('session', 'a b', { maxAge: 60_000, httpOnly: true, sameSite: 'lax', secure: true });
      res.cookie('prefs', { dark: true });
      res.clearCookie('old');
      res.end();
    });
    const cookies = r.headers.getSetCookie();
    assert.equal(cookies.length, 3);
    assert.match(cookies[0] ?? '', /^session=a%20b; Max-Age=60; Path=\/; Expires=.+ GMT; HttpOnly; Secure; SameSite=Lax$/);
    assert.equal(cookies[1], 'prefs=j%3A%7B%22dark%22%3Atrue%7D; Path=/');
    assert.equal(cookies[2], 'old=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  });
  test('set with an object, append, get, vary', async () => {
    const r = await run((_q, res) => {
      res.set({ 'X-A': '1', 'X-B': ['2', '3'] });
      res.append('X-A', '4');
      assert.deepEqual(res.get('x-a'), ['1', '4']);
      res.vary('Origin').vary('Accept');
      res.end('ok');
    });
    assert.equal(r.headers.get('x-a'), '1, 4');
    assert.equal(r.headers.get('x-b'), '2, 3');
    assert.equal(r.headers.get('vary'), 'Origin, Accept');
  });
  test('writeHead, headersSent and statusMessage', async () => {
    let sent = false;
    const r = await run((_q, res) => {
      res.writeHead(202, 'Queued', { 'x-id': '7' });
      sent = res.headersSent;
      res.end();
    });
    assert.equal(sent, true);
    assert.equal(r.status, 202);
    assert.equal(r.statusText, 'Queued');
    assert.equal(r.headers.get('x-id'), '7');
  });
});

describe('streaming', () => {
  test('res.write streams chunks and end() closes the body', async () => {
    const r = await run((_q, res) => {
      res.status(200).set('Content-Type', 'text/plain');
      res.write('one,');
      setImmediate(() => {
        res.write(Buffer.from('two,'));
        res.end('three');
      });
    });
    assert.equal(r.headers.get('content-length'), null);
    assert.equal(await r.text(), 'one,two,three');
  });
  test('a Readable piped into res arrives whole, with backpressure', async () => {
    const chunks = Array.from({ length: 200 }, (_, i) => `chunk-${i};`);
    const r = await run((_q, res) => void pipeline(Readable.from(chunks), res));
    assert.equal(await r.text(), chunks.join(''));
  });
  test("'finish' fires after end", async () => {
    let finished = false;
    const r = await run((_q, res) => {
      res.on('finish', () => (finished = true));
      res.end('x');
    });
    await r.text();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(finished, true);
  });
});

describe('req', () => {
  test('query uses the extended parser; path, get, ip, protocol', () => {
    const req = request('GET', '/items/7?tag=a&tag=b&filter[color]=red&list[]=x&q=a+b', { host: 'example.com:8080', referer: 'https://r/', 'x-forwarded-proto': 'https' });
    assert.deepEqual(req.query, { tag: ['a', 'b'], filter: { color: 'red' }, list: ['x'], q: 'a b' });
    assert.equal(req.path, '/items/7');
    assert.equal(req.get('Referrer'), 'https://r/');
    assert.equal(req.ip, '203.0.113.7');
    assert.equal(req.protocol, 'https');
    assert.equal(req.secure, true);
    assert.equal(req.hostname, 'example.com');
  });
  test('prototype keys in a query are dropped', () => {
    const req = request('GET', '/?__proto__[x]=1&constructor=2&ok=3');
    assert.deepEqual({ ...req.query }, { ok: '3' });
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });
  test('is() and accepts()', () => {
    const req = request('POST', '/', { 'content-type': 'application/json; charset=utf-8', 'content-length': '2', accept: 'text/html;q=0.5, application/json' }, {}, Buffer.from('{}'));
    assert.equal(req.is('json'), 'json');
    assert.equal(req.is('application/*'), 'application/*');
    assert.equal(req.is('text'), false);
    assert.equal(req.accepts('html', 'json'), 'json');
    assert.equal(request().is('json'), null);
  });
  test('req is a Readable that replays the raw body', async () => {
    const req = request('POST', '/', { 'content-type': 'text/plain' }, 'abc', Buffer.from('abc'));
    let text = '';
    for await (const chunk of req) text += String(chunk);
    assert.equal(text, 'abc');
  });
});
