/**
 * @module
 * Every intrinsic function, the argument syntax (escapes, numbers, paths, nesting) and the
 * States.IntrinsicFailure cases.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatesError } from './failure.ts';
import { evaluateIntrinsic, IntrinsicSyntaxError, parseIntrinsic } from './intrinsics.ts';
import type { IntrinsicEnv } from './intrinsics.ts';

const input = {
  name: 'World',
  n: 3,
  list: [1, 2, 2, 3, { a: 1 }, { a: 1 }],
  text: '{"x":[1,2]}',
  obj: { a: 1, nested: { b: 1 } },
  obj2: { nested: { c: 2 }, z: true },
  csv: 'a,b,,c',
  arn: 'arn:aws:imagebuilder:us-east-1:123:image/my-recipe.1.0.0/1',
};

function env(random = 0.25): IntrinsicEnv {
  return {
    scope: { input, context: { Execution: { Name: 'exec-1' } }, variables: new Map([['greeting', 'Hi']]) },
    random: () => random,
    uuid: () => '11111111-2222-4333-8444-555555555555',
  };
}

const run = (text: string, e = env()): unknown => evaluateIntrinsic(text, e);

function failsWith(text: string, pattern: RegExp): void {
  assert.throws(() => run(text), (error: unknown) => error instanceof StatesError && error.error === 'States.IntrinsicFailure' && pattern.test(error.cause));
}

describe('intrinsic argument syntax', () => {
  it('parses literals, paths and nested calls', () => {
    const call = parseIntrinsic("States.Array('a\\'b', 1.5, -2, true, false, null, $.x, $$.y, States.UUID())");
    assert.equal(call.name, 'States.Array');
    assert.deepEqual(call.args[0], { kind: 'string', value: "a'b", raw: "a\\'b" });
    assert.deepEqual(call.args.map((a) => a.kind), ['string', 'number', 'number', 'boolean', 'boolean', 'null', 'path', 'path', 'call']);
  });

  it('rejects unknown functions, wrong arity, bad literals and mismatched placeholders', () => {
    for (const bad of [
      'States.Nope()',
      'States.ArrayLength()',
      'States.UUID(1)',
      "States.Format('{} {}', 1)",
      "States.Format('x)",
      'States.Array(1,)',
      'States.Array(1 2)',
      'States.Array(foo)',
    ]) {
      assert.throws(() => parseIntrinsic(bad), IntrinsicSyntaxError, bad);
    }
  });

  it('allows paths containing commas and parentheses inside brackets', () => {
    assert.deepEqual(run("States.Array($['odd,key'], $.list[?(@ == 3)])", { ...env(), scope: { input: { 'odd,key': 1, list: [3, 4] } } }), [1, [3]]);
  });

  it('nests up to 10 calls', () => {
    const deep = 'States.Array('.repeat(10) + ')'.repeat(10);
    assert.doesNotThrow(() => parseIntrinsic(deep));
    assert.throws(() => parseIntrinsic('States.Array('.repeat(11) + ')'.repeat(11)), IntrinsicSyntaxError);
  });
});

describe('intrinsic functions', () => {
  it('States.Format fills placeholders and honours escapes', () => {
    assert.equal(run("States.Format('Hello, {}! n={} ok={} none={}', $.name, $.n, true, null)"), 'Hello, World! n=3 ok=true none=null');
    assert.equal(run("States.Format('\\{literal\\} {} \\\\ it\\'s', $greeting)"), "{literal} Hi \\ it's");
    assert.equal(run("States.Format('{}', $$.Execution.Name)"), 'exec-1');
    failsWith("States.Format('{}', $.obj)", /strings, numbers/);
  });

  it('States.StringToJson and States.JsonToString round-trip', () => {
    assert.deepEqual(run('States.StringToJson($.text)'), { x: [1, 2] });
    assert.equal(run('States.JsonToString($.obj)'), '{"a":1,"nested":{"b":1}}');
    failsWith("States.StringToJson('{nope')", /not valid JSON/);
  });

  it('States.Array builds arrays', () => {
    assert.deepEqual(run("States.Array('a', $.n, States.Array())"), ['a', 3, []]);
  });

  it('States.ArrayPartition chunks arrays', () => {
    assert.deepEqual(run('States.ArrayPartition(States.Array(1,2,3,4,5), 2)'), [[1, 2], [3, 4], [5]]);
    failsWith('States.ArrayPartition($.list, 0)', /greater than 0/);
  });

  it('States.ArrayContains compares deeply', () => {
    assert.equal(run('States.ArrayContains($.list, 3)'), true);
    assert.equal(run('States.ArrayContains($.list, $.obj)'), false);
    assert.equal(run("States.ArrayContains($.list, States.StringToJson('{\"a\":1}'))"), true);
  });

  it('States.ArrayRange counts by a step, inclusive, at most 1000 items', () => {
    assert.deepEqual(run('States.ArrayRange(1, 9, 2)'), [1, 3, 5, 7, 9]);
    assert.deepEqual(run('States.ArrayRange(5, 0, -2)'), [5, 3, 1]);
    assert.deepEqual(run('States.ArrayRange(1, 0, 1)'), []);
    failsWith('States.ArrayRange(1, 2, 0)', /not be 0/);
    failsWith('States.ArrayRange(0, 1000, 1)', /1000/);
    failsWith('States.ArrayRange(0.5, 3, 1)', /integer/);
  });

  it('States.ArrayGetItem, ArrayLength and ArrayUnique', () => {
    assert.equal(run('States.ArrayGetItem($.list, 1)'), 2);
    failsWith('States.ArrayGetItem($.list, 99)', /out of bounds/);
    assert.equal(run('States.ArrayLength($.list)'), 6);
    assert.deepEqual(run('States.ArrayUnique($.list)'), [1, 2, 3, { a: 1 }]);
    failsWith('States.ArrayLength($.name)', /must be an array/);
  });

  it('States.Base64Encode and Base64Decode', () => {
    assert.equal(run("States.Base64Encode('Data to encode')"), 'RGF0YSB0byBlbmNvZGU=');
    assert.equal(run("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')"), 'Data to encode');
    failsWith("States.Base64Decode('***')", /not base64/);
  });

  it('States.Hash supports MD5 and the SHA family', () => {
    assert.equal(run("States.Hash('input data', 'MD5')"), '812f45842bc6d66ee14572ce20db8e86');
    assert.equal(run("States.Hash('input data', 'SHA-1')"), 'aaff4a450a104cd177d28d18d74485e8cae074b7');
    assert.equal(run("States.Hash('input data', 'SHA-256')"), 'b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3');
    assert.equal((run("States.Hash('x', 'SHA-384')") as string).length, 96);
    assert.equal((run("States.Hash('x', 'SHA-512')") as string).length, 128);
    failsWith("States.Hash('x', 'SHA-3')", /algorithm/);
  });

  it('States.JsonMerge merges shallowly, later keys winning', () => {
    assert.deepEqual(run('States.JsonMerge($.obj, $.obj2, false)'), { a: 1, nested: { c: 2 }, z: true });
    failsWith('States.JsonMerge($.obj, $.obj2, true)', /shallow/);
    failsWith('States.JsonMerge($.obj, $.list, false)', /objects/);
  });

  it('States.MathRandom uses the injected random, or a seed, within [start, end)', () => {
    assert.equal(run('States.MathRandom(1, 999)', env(0.5)), 500);
    assert.equal(run('States.MathRandom(0, 10)', env(0.999)), 9);
    const seeded = run('States.MathRandom(1, 1000, 42)', env(0));
    assert.equal(seeded, run('States.MathRandom(1, 1000, 42)', env(0.9)));
    failsWith('States.MathRandom(5, 5)', /greater than the start/);
  });

  it('States.MathAdd adds integers', () => {
    assert.equal(run('States.MathAdd(111, -1)'), 110);
    assert.equal(run('States.MathAdd($.n, 4)'), 7);
    failsWith("States.MathAdd('1', 2)", /numbers/);
  });

  it('States.StringSplit splits on any delimiter character', () => {
    assert.deepEqual(run("States.StringSplit('This.is+a,test=string', '.+,=')"), ['This', 'is', 'a', 'test', 'string']);
    assert.deepEqual(run("States.StringSplit($.csv, ',')"), ['a', 'b', 'c']);
    assert.deepEqual(
      run("States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 1), '.'), 0)"),
      'my-recipe',
    );
  });

  it('States.UUID uses the injected generator', () => {
    assert.equal(run('States.UUID()'), '11111111-2222-4333-8444-555555555555');
  });

  it('reports a missing path as States.IntrinsicFailure', () => {
    failsWith('States.ArrayLength($.nope)', /could not be found/);
  });
});
