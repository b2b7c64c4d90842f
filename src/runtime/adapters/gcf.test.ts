/** @module Body parsing as the Functions Framework's body-parser chain does it (json, text, urlencoded, raw). */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { BodyParseError, parseBody } from './gcf.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('application/json is parsed; rawBody keeps the bytes', () => {
  const { body, rawBody } = parseBody('application/json; charset=utf-8', bytes('{"a":[1,2]}'));
  assert.deepEqual(body, { a: [1, 2] });
  assert.ok(Buffer.isBuffer(rawBody));
  assert.equal(rawBody?.toString(), '{"a":[1,2]}');
});

test('an empty JSON body is {}; a bare JSON scalar or bad JSON is a 400', () => {
  assert.deepEqual(parseBody('application/json', bytes('')).body, {});
  assert.throws(() => parseBody('application/json', bytes('5')), (e: unknown) => e instanceof BodyParseError && e.status === 400);
  assert.throws(() => parseBody('application/json', bytes('{oops')), (e: unknown) => e instanceof BodyParseError && e.status === 400);
  assert.throws(() => parseBody('application/json; charset=latin1', bytes('{}')), (e: unknown) => e instanceof BodyParseError && e.status === 415);
});

test('text/plain is a string, urlencoded an object (extended syntax), anything else a Buffer', () => {
  assert.equal(parseBody('text/plain', bytes('héllo')).body, 'héllo');
  assert.deepEqual(parseBody('application/x-www-form-urlencoded', bytes('a=1&b[c]=2&d=x+y')).body, { a: '1', b: { c: '2' }, d: 'x y' });
  const raw = parseBody('application/octet-stream', new Uint8Array([1, 2, 3])).body;
  assert.ok(Buffer.isBuffer(raw));
  assert.deepEqual([...(raw as Buffer)], [1, 2, 3]);
  assert.ok(Buffer.isBuffer(parseBody('image/png', new Uint8Array([137])).body));
});

test('no body, or a body without a Content-Type, is {}', () => {
  assert.deepEqual(parseBody(null, null), { body: {}, rawBody: undefined });
  assert.deepEqual(parseBody(null, bytes('x')).body, {});
});
