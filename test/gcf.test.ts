// Google Cloud Functions / Firebase HTTPS functions run unchanged: v1 (`functions.https.onRequest`)
// and v2 (`onRequest` from firebase-functions/v2/https, with options) exports, Functions Framework
// `functions.http(name, fn)` registrations, Express-style req/res (bodies parsed by content
// type, send variants, redirects, cookies, streaming writes), params read from .env, and the
// logger writing to the function's log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const INDEX = `
import functions from 'firebase-functions';
import { onRequest } from 'firebase-functions/v2/https';
import { defineString } from 'firebase-functions/params';
import * as logger from 'firebase-functions/logger';
import * as ff from '@google-cloud/functions-framework';

const greeting = defineString('GREETING', { default: 'hello' });

export const echo = onRequest((req, res) => {
  res.json({
    method: req.method, path: req.path, url: req.url, query: req.query, body: req.body,
    isBuffer: Buffer.isBuffer(req.body), raw: req.rawBody ? req.rawBody.toString('base64') : null,
    header: req.get('X-Test') ?? null, ip: req.ip,
  });
});

export const sends = functions.https.onRequest((req, res) => {
  switch (req.query.kind) {
    case 'string': return void res.send('<p>hi</p>');
    case 'buffer': return void res.send(Buffer.from([1, 2, 3]));
    case 'object': return void res.status(201).send({ made: true });
    case 'status': return void res.sendStatus(404);
    case 'redirect': return void res.redirect(301, '/echo/there');
    case 'cookie':
      res.cookie('sid', 'abc', { httpOnly: true, maxAge: 1000 });
      return void res.set('X-Extra', 'yes').end();
    case 'empty': return void res.status(204).end();
    default: res.status(400).type('txt').send('unknown kind');
  }
});

export const region = functions.region('europe-west1').runWith({ memory: '256MB' }).https.onRequest(async (req, res) => {
  await new Promise((r) => setTimeout(r, 5));
  res.send(greeting.value() + ' ' + (process.env.GCLOUD_PROJECT ?? 'no-project'));
});

export const stream = onRequest((req, res) => {
  res.set('Content-Type', 'text/plain');
  let n = 0;
  const tick = () => {
    if (n === 5) return void res.end('done');
    res.write('part' + n++ + ';');
    setTimeout(tick, 2);
  };
  tick();
});

export const withCors = onRequest({ cors: true, region: 'us-central1' }, (req, res) => {
  logger.info('cors call', { origin: req.get('origin') ?? null });
  res.send('cors ok');
});

export const boom = onRequest(() => {
  throw new Error('kaboom');
});

ff.http('framework', (req, res) => {
  res.send('framework ' + req.method + ' ' + req.path);
});
`;

let node: Running;
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
before(async () => {
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  const dir = await writeProject(t, {
    'firebase.json': '{ "functions": { "source": "functions" } }',
    '.firebaserc': '{ "projects": { "default": "demo-outpost" } }',
    'functions/package.json': JSON.stringify({ name: 'gcf-e2e', type: 'module', main: 'index.js', dependencies: { 'firebase-functions': '^6.0.0', '@google-cloud/functions-framework': '^3.0.0' } }),
    'functions/.env': 'GREETING=hej\n',
    'functions/index.js': INDEX,
  });
  node = await startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(t)]);
});

describe('request', () => {
  test('JSON body is parsed; the function sees the path after its name', async () => {
    const r = await fetch(`${node.url}/echo/a/b?x=1&x=2&o[k]=v`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body: '{"n":[1]}' });
    assert.equal(r.status, 200);
    const j = (await r.json()) as Record<string, unknown>;
    assert.equal(j['method'], 'POST');
    assert.equal(j['path'], '/a/b');
    assert.equal(j['url'], '/a/b?x=1&x=2&o[k]=v');
    assert.deepEqual(j['query'], { x: ['1', '2'], o: { k: 'v' } });
    assert.deepEqual(j['body'], { n: [1] });
    assert.equal(j['raw'], Buffer.from('{"n":[1]}').toString('base64'));
    assert.equal(j['header'], 'yes');
    assert.equal(j['ip'], '127.0.0.1');
  });
  test('text, urlencoded and binary bodies', async () => {
    const text = (await (await fetch(`${node.url}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'plain' })).json()) as Record<string, unknown>;
    assert.equal(text['body'], 'plain');
    const form = (await (await fetch(`${node.url}/echo`, { method: 'POST', body: new URLSearchParams({ a: '1', 'b[c]': '2' }) })).json()) as Record<string, unknown>;
    assert.deepEqual(form['body'], { a: '1', b: { c: '2' } });
    const bin = (await (await fetch(`${node.url}/echo`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([0, 1, 254]) })).json()) as Record<string, unknown>;
    assert.equal(bin['isBuffer'], true);
    assert.equal(bin['raw'], Buffer.from([0, 1, 254]).toString('base64'));
  });
  test('no body is {}; malformed JSON is a 400 before the function runs', async () => {
    const get = (await (await fetch(`${node.url}/echo`)).json()) as Record<string, unknown>;
    assert.deepEqual(get['body'], {});
    const bad = await fetch(`${node.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Bad Request/);
  });
});

describe('response', () => {
  const get = (kind: string): Promise<Response> => fetch(`${node.url}/sends?kind=${kind}`, { redirect: 'manual' });
  test('send: string → text/html, Buffer → octet-stream, object → JSON with status', async () => {
    const s = await get('string');
    assert.equal(s.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await s.text(), '<p>hi</p>');
    const b = await get('buffer');
    assert.equal(b.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual([...new Uint8Array(await b.arrayBuffer())], [1, 2, 3]);
    const o = await get('object');
    assert.equal(o.status, 201);
    assert.deepEqual(await o.json(), { made: true });
  });
  test('sendStatus, redirect, 204, unknown → 400', async () => {
    const s = await get('status');
    assert.equal(s.status, 404);
    assert.equal(await s.text(), 'Not Found');
    const r = await get('redirect');
    assert.equal(r.status, 301);
    assert.equal(r.headers.get('location'), '/echo/there');
    assert.equal(await r.text(), 'Moved Permanently. Redirecting to /echo/there');
    const e = await get('empty');
    assert.equal(e.status, 204);
    assert.equal(await e.text(), '');
    assert.equal((await get('other')).status, 400);
  });
  test('cookies and headers', async () => {
    const r = await get('cookie');
    assert.equal(r.headers.get('x-extra'), 'yes');
    assert.match(r.headers.getSetCookie()[0] ?? '', /^sid=abc; Max-Age=1; Path=\/; Expires=.+; HttpOnly$/);
  });
  test('streaming writes arrive in order', async () => {
    const r = await fetch(`${node.url}/stream`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'part0;part1;part2;part3;part4;done');
  });
  test('an exception before the response is a 500', async () => {
    const r = await fetch(`${node.url}/boom`);
    assert.equal(r.status, 500);
    assert.match(await r.text(), /kaboom/);
  });
});

describe('styles and platform', () => {
  test('v1 region().runWith() chain, params from .env, project id from .firebaserc', async () => {
    const r = await fetch(`${node.url}/region`);
    assert.equal(await r.text(), 'hej demo-outpost');
  });
  test('v2 onRequest({ cors: true }) answers preflight and reflects the origin; logger writes to the log', async () => {
    const pre = await fetch(`${node.url}/withCors`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type');
    const r = await fetch(`${node.url}/withCors`, { headers: { origin: 'https://app.example' } });
    assert.equal(await r.text(), 'cors ok');
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example');
    await node.waitFor(/cors call \{"origin":"https:\/\/app.example"\}/);
  });
  test('Functions Framework functions.http(name, fn) is served at /name', async () => {
    const r = await fetch(`${node.url}/framework/x`, { method: 'DELETE' });
    assert.equal(await r.text(), 'framework DELETE /x');
  });
});
