/**
 * @module
 * JSONPath and Reference Path conformance: selection syntax, definite vs indefinite results,
 * context and variable roots, and ResultPath-style writes.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePath, isReferencePath, isValidPath, pathExists, PathNotFoundError, setReferencePath } from './paths.ts';

const store = {
  store: {
    book: [
      { category: 'reference', author: 'Nigel Rees', title: 'Sayings of the Century', price: 8.95 },
      { category: 'fiction', author: 'Evelyn Waugh', title: 'Sword of Honour', price: 12.99 },
      { category: 'fiction', author: 'Herman Melville', title: 'Moby Dick', isbn: '0-553-21311-3', price: 8.99 },
      { category: 'fiction', author: 'J. R. R. Tolkien', title: 'The Lord of the Rings', isbn: '0-395-19395-8', price: 22.99 },
    ],
    bicycle: { color: 'red', price: 19.95 },
  },
  'odd key': { 'a.b': 1 },
};

const at = (path: string): unknown => evaluatePath(path, { input: store });

describe('JSONPath selection', () => {
  it('selects the root and children by dot and bracket notation', () => {
    assert.deepEqual(at('$'), store);
    assert.equal(at('$.store.bicycle.color'), 'red');
    assert.equal(at("$['store']['bicycle']['color']"), 'red');
    assert.equal(at('$["odd key"]["a.b"]'), 1);
  });

  it('indexes arrays, including from the end', () => {
    assert.equal(at('$.store.book[0].author'), 'Nigel Rees');
    assert.equal(at('$.store.book[-1].author'), 'J. R. R. Tolkien');
  });

  it('returns every match for wildcards, unions and slices', () => {
    assert.deepEqual(at('$.store.book[*].author'), ['Nigel Rees', 'Evelyn Waugh', 'Herman Melville', 'J. R. R. Tolkien']);
    assert.deepEqual(at('$.store.bicycle.*'), ['red', 19.95]);
    assert.deepEqual(at('$.store.book[0,2].price'), [8.95, 8.99]);
    assert.deepEqual(at("$.store.bicycle['color','price']"), ['red', 19.95]);
    assert.deepEqual(at('$.store.book[1:3].price'), [12.99, 8.99]);
    assert.deepEqual(at('$.store.book[:2].price'), [8.95, 12.99]);
    assert.deepEqual(at('$.store.book[-2:].price'), [8.99, 22.99]);
    assert.deepEqual(at('$.store.book[::2].price'), [8.95, 8.99]);
  });

  it('scans descendants with ..', () => {
    assert.deepEqual(at('$..price'), [8.95, 12.99, 8.99, 22.99, 19.95]);
    assert.deepEqual(at('$.store..color'), ['red']);
  });

  it('filters with comparisons, existence, regexes and boolean logic', () => {
    assert.deepEqual(at('$.store.book[?(@.price < 10)].title'), ['Sayings of the Century', 'Moby Dick']);
    assert.deepEqual(at('$.store.book[?(@.isbn)].title'), ['Moby Dick', 'The Lord of the Rings']);
    assert.deepEqual(at("$.store.book[?(@.category == 'fiction' && @.price > 20)].title"), ['The Lord of the Rings']);
    assert.deepEqual(at("$.store.book[?(@.price > 20 || @.author == 'Nigel Rees')].price"), [8.95, 22.99]);
    assert.deepEqual(at('$.store.book[?(@.author =~ /.*Melville/)].price'), [8.99]);
    assert.deepEqual(at('$.store.book[?(!(@.price < 10))].price'), [12.99, 22.99]);
    assert.deepEqual(at('$.store.book[?(@.price != 8.95)].price'), [12.99, 8.99, 22.99]);
    assert.deepEqual(at('$.store.book[?(@.price <= 8.99 && @.price >= 8.99)].price'), [8.99]);
  });

  it('yields an empty array for an indefinite path with no match, and throws for a definite one', () => {
    assert.deepEqual(at('$.store.book[?(@.price > 100)]'), []);
    assert.throws(() => at('$.store.car'), PathNotFoundError);
    assert.throws(() => at('$.store.book[10]'), PathNotFoundError);
    assert.equal(pathExists('$.store.car', { input: store }), false);
    assert.equal(pathExists('$.store.bicycle', { input: store }), true);
  });

  it('reads the context object with $$ and variables with $name', () => {
    const scope = { input: {}, context: { Execution: { Id: 'arn:x' } }, variables: new Map([['total', { amount: 3 }]]) };
    assert.equal(evaluatePath('$$.Execution.Id', scope), 'arn:x');
    assert.equal(evaluatePath('$total.amount', scope), 3);
    assert.throws(() => evaluatePath('$missing', scope), PathNotFoundError);
  });

  it('rejects malformed paths', () => {
    for (const bad of ['', 'store', '$.', '$[', '$.a[?(@.b <)]', "$['a", '$.a b']) assert.equal(isValidPath(bad), false, bad);
  });
});

describe('Reference Paths', () => {
  it('accepts only single-node paths', () => {
    assert.equal(isReferencePath('$'), true);
    assert.equal(isReferencePath('$.a.b[0]'), true);
    assert.equal(isReferencePath("$['a']"), true);
    for (const bad of ['$.a[*]', '$..a', '$.a[0:1]', '$.a[?(@.x)]', '$.a[0,1]', '$$.Execution']) assert.equal(isReferencePath(bad), false, bad);
  });

  it('writes into a copy, creating intermediate objects', () => {
    const input = { a: 1 };
    assert.deepEqual(setReferencePath(input, '$.b.c.d', 2), { a: 1, b: { c: { d: 2 } } });
    assert.deepEqual(input, { a: 1 });
    assert.deepEqual(setReferencePath({ list: [{ x: 1 }] }, '$.list[0].y', 2), { list: [{ x: 1, y: 2 }] });
    assert.deepEqual(setReferencePath({ a: 1 }, '$', 'replaced'), 'replaced');
  });

  it('fails when the path runs through a non-object or past the end of an array', () => {
    assert.throws(() => setReferencePath({ a: 'text' }, '$.a.b', 1), PathNotFoundError);
    assert.throws(() => setReferencePath('text', '$.a', 1), PathNotFoundError);
    assert.throws(() => setReferencePath({ list: [] }, '$.list[0]', 1), PathNotFoundError);
  });
});
