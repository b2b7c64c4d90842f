/** @module Tests for the Deno KV key codec: byte order is Deno's documented key order, and keys round-trip. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareBytes, decodeKey, encodeKey, KvKeyError, prefixRange } from './keys.ts';
import type { KvKey } from './keys.ts';

const sorted = (keys: KvKey[]): KvKey[] => [...keys].sort((a, b) => compareBytes(encodeKey(a), encodeKey(b)));

describe('Deno KV keys', () => {
  test('types order Uint8Array < string < number < bigint < boolean', () => {
    const keys: KvKey[] = [[true], [false], [10n], [-5], ['a'], [new Uint8Array([9])], [0n], [Infinity]];
    assert.deepEqual(sorted(keys), [[new Uint8Array([9])], ['a'], [-5], [Infinity], [0n], [10n], [false], [true]]);
  });

  test('numbers: -Infinity < -100 < -1 < -0.5 < -0 < 0 < 0.5 < 1 < 100 < Infinity < NaN', () => {
    const order = [-Infinity, -100, -1, -0.5, -0, 0, 0.5, 1, 100, Infinity, NaN];
    const shuffled = [...order].reverse().map((n) => [n]);
    assert.deepEqual(sorted(shuffled).map((k) => k[0]), order);
  });

  test('bigints order mathematically, across byte lengths and signs', () => {
    const order = [-(2n ** 70n), -65536n, -256n, -255n, -1n, 0n, 1n, 255n, 256n, 2n ** 64n];
    assert.deepEqual(sorted([...order].reverse().map((n) => [n])).map((k) => k[0]), order);
  });

  test('strings order by UTF-8 bytes; a shorter key sorts before its extensions', () => {
    const keys: KvKey[] = [['b'], ['a', 'b'], ['a'], ['a\u0000'], ['é'], ['z'], ['a', 1]];
    assert.deepEqual(sorted(keys), [['a'], ['a', 'b'], ['a', 1], ['a\u0000'], ['b'], ['z'], ['é']]);
  });

  test('keys round-trip through the encoding, including zero bytes', () => {
    const key: KvKey = [new Uint8Array([0, 1, 0, 255]), 'x\u0000y', -0.25, 12345678901234567890n, -3n, true, false, 0];
    assert.deepEqual(decodeKey(encodeKey(key)), key);
  });

  test('a prefix range holds the keys under the prefix but not the prefix itself', () => {
    const { start, end } = prefixRange(encodeKey(['users']));
    const inside = (k: KvKey): boolean => compareBytes(encodeKey(k), start) >= 0 && compareBytes(encodeKey(k), end) < 0;
    assert.equal(inside(['users']), false);
    assert.equal(inside(['users', 'alice']), true);
    assert.equal(inside(['users', 1, 'x']), true);
    assert.equal(inside(['usersx']), false);
    assert.equal(inside(['user']), false);
  });

  test('bad parts and oversized keys are TypeErrors', () => {
    assert.throws(() => encodeKey([null]), KvKeyError);
    assert.throws(() => encodeKey([{}]), TypeError);
    assert.throws(() => encodeKey('nope'), TypeError);
    assert.throws(() => encodeKey(['x'.repeat(3000)]), /Key too large/);
  });
});
