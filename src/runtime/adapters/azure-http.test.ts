/** @module Azure v3 context.res / v4 HttpResponseInit conversion and the v3 request body, per Microsoft's documented behaviour. */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import { v3Response } from './azure-http.ts';
import { resolveV3, v3Body } from './azure-v3.ts';
import { v4Response } from './azure-v4.ts';
import { HttpResponse, responseFromInit } from '../../compat/azure-functions.ts';

describe('v3 context.res', () => {
  test('an object body is JSON; a string body is text/plain', async () => {
    const json = v3Response({ body: { ok: true } }, 'GET');
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await json.json(), { ok: true });
    const text = v3Response({ status: 201, body: 'made' }, 'POST');
    assert.equal(text.status, 201);
    assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await text.text(), 'made');
  });
  test('headers win over the default type; statusCode and string statuses work; isRaw passes the body as is', async () => {
    const r = v3Response({ statusCode: '202', headers: { 'Content-Type': 'application/xml' }, body: '<a/>', isRaw: true }, 'GET');
    assert.equal(r.status, 202);
    assert.equal(r.headers.get('content-type'), 'application/xml');
    assert.equal(await r.text(), '<a/>');
  });
  test('a Buffer body is octet-stream; cookies become Set-Cookie', async () => {
    const r = v3Response({ body: Buffer.from([1, 2]), cookies: [{ name: 'a', value: 'b', httpOnly: true, sameSite: 'Strict', maxAge: 60, path: '/' }] }, 'GET');
    assert.equal(r.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(r.headers.getSetCookie(), ['a=b; Max-Age=60; Path=/; HttpOnly; SameSite=Strict']);
    assert.deepEqual([...new Uint8Array(await r.arrayBuffer())], [1, 2]);
  });
  test('no output is 204 No Content; an invalid status throws', () => {
    assert.equal(v3Response(undefined, 'GET').status, 204);
    assert.throws(() => v3Response({ status: 'teapot' }, 'GET'), TypeError);
  });
});

describe('v3 request body', () => {
  test('JSON is parsed when it parses, kept as a string when not; rawBody is the text', () => {
    assert.deepEqual(v3Body('application/json', new TextEncoder().encode('{"name":"Choi"}')).body, { name: 'Choi' });
    const bad = v3Body('application/json', new TextEncoder().encode('{nope'));
    assert.equal(bad.body, '{nope');
    assert.equal(bad.rawBody, '{nope');
    assert.ok(Buffer.isBuffer(v3Body('application/octet-stream', new Uint8Array([1])).body));
    assert.equal(v3Body('text/plain', new TextEncoder().encode('hi')).body, 'hi');
    assert.equal(v3Body(null, null).body, undefined);
  });
});

describe('v3 entry point', () => {
  const fn = (): void => {};
  const run = (): void => {};
  test('module.exports = fn, the only export, run/index, or entryPoint', () => {
    assert.equal(resolveV3({ default: fn }, 'default'), fn);
    assert.equal(resolveV3({ default: { handler: fn } }, 'default'), fn);
    assert.equal(resolveV3({ default: { helper: fn, run } }, 'default'), run);
    assert.equal(resolveV3({ main: fn }, 'main'), fn);
    assert.throws(() => resolveV3({ default: { a: 1 } }, 'default'), /exports no function/);
    assert.throws(() => resolveV3({ default: fn }, 'missing'), /entryPoint "missing"/);
  });
});

describe('v4 responses', () => {
  const registry = { responseFromInit };
  test('jsonBody is JSON with application/json; status defaults to 200', async () => {
    const r = v4Response({ jsonBody: { id: '7' } }, registry, 'GET');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.deepEqual(await r.json(), { id: '7' });
  });
  test('an HttpResponse instance with cookies; nothing returned is 204; a string result throws', async () => {
    const r = v4Response(new HttpResponse({ status: 201, body: 'made', headers: { 'x-a': '1' }, cookies: [{ name: 'c', value: 'd' }] }), registry, 'POST');
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('x-a'), '1');
    assert.deepEqual(r.headers.getSetCookie(), ['c=d']);
    assert.equal(await r.text(), 'made');
    assert.equal(v4Response(undefined, registry, 'GET').status, 204);
    assert.throws(() => v4Response('nope', registry, 'GET'), /must be an object/);
  });
});
