/** @module Tests for key encoding: every key survives the round trip as one valid NATS KV token, and prefixes stay prefixes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareKeys, decodeToken, encodeToken } from './keys.ts';

const KEYS = ['', 'functions/hello', 'a.b', 'a..b', '.', '=', '=41', 'user:1', 'sp ace', 'ü', '\u{1F600}', '*', '>', 'x\u0000y', 'a/b/'];

test('every key becomes one NATS KV token and decodes back to itself', () => {
  for (const key of KEYS) {
    const token = encodeToken(key);
    assert.match(token, /^[-/_=a-zA-Z0-9]+$/, `${JSON.stringify(key)} → ${token}`);
    assert.equal(decodeToken(token), key);
  }
  assert.equal(new Set(KEYS.map(encodeToken)).size, KEYS.length, 'different keys never share a token');
});

test('the encoding of a prefix is a prefix of the encoding of every key that has it', () => {
  for (const [prefix, key] of [['fn/', 'fn/a.b'], ['emoji:', 'emoji:\u{1F600}'], ['a=', 'a=b'], ['user', 'user:1']] as const) {
    assert.ok(encodeToken(key).startsWith(encodeToken(prefix)), `${prefix} / ${key}`);
  }
});

test('keys compare in UTF-8 byte order, as the embedded store lists them', () => {
  assert.deepEqual(['fn/\uffee', 'fn/\u{1F600}', 'fn/a', 'fn/\u00e9'].sort(compareKeys), ['fn/a', 'fn/\u00e9', 'fn/\uffee', 'fn/\u{1F600}']);
});
