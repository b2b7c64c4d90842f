import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fields } from '../project/fields.ts';
import { ProblemList } from '../project/problems.ts';
import type { PolicyPass, PolicyRequest } from './policy.ts';
import { experimentPolicy, readExperiments, variantAt } from './experiments.ts';

function read(raw: Record<string, unknown>): { experiments: ReturnType<typeof readExperiments>; problems: string[] } {
  const problems = new ProblemList('outpost.toml');
  const experiments = readExperiments(new Fields(raw, '', problems));
  return { experiments, problems: problems.items.map((p) => `${p.key}: ${p.message}`) };
}

test('[[experiments]] are read with every problem reported', () => {
  const ok = read({ experiments: [{ name: 'checkout', variants: [{ name: 'control', weight: 50 }, { name: 'new', weight: 50, version: 3 }] }] });
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.experiments, [{ name: 'checkout', variants: [{ name: 'control', weight: 50 }, { name: 'new', weight: 50, version: 3 }] }]);
  const bad = read({
    experiments: [
      { name: 'a', variants: [{ name: 'x', weight: 60 }, { name: 'y', weight: 30 }] },
      { name: 'a', variants: [{ name: 'x', weight: 100 }], colour: 'red' },
      { name: 'Bad Name', variants: [{ name: 'x', weight: 50 }, { name: 'x', weight: 50 }] },
    ],
  });
  assert.deepEqual(bad.problems, [
    'experiments[0].variants: the weights sum to 90, not 100',
    'experiments[1].colour: unknown key, ignored',
    'experiments[1].name: two experiments are named a',
    'experiments[1].variants: an experiment needs at least two variants',
    'experiments[2].name: "Bad Name" is not valid',
    'experiments[2].variants: two variants have the same name',
  ]);
});

test('variants take their ranges in order', () => {
  const variants = [{ name: 'a', weight: 20 }, { name: 'b', weight: 80 }];
  assert.equal(variantAt(variants, 0).name, 'a');
  assert.equal(variantAt(variants, 19.9).name, 'a');
  assert.equal(variantAt(variants, 20).name, 'b');
});

test('a client keeps its variant by cookie; a variant with a version routes to it', () => {
  let draw = 0.9;
  const policy = experimentPolicy({
    experiments: [{ name: 'checkout', variants: [{ name: 'control', weight: 50 }, { name: 'new', weight: 50, version: 3 }] }],
    served: new Map([[2, 'shop@2'], [3, 'shop@3']]),
    random: () => draw,
  });
  const request = (cookie?: string): PolicyRequest => ({ requestId: 'r', method: 'GET', host: 'h', path: '/', search: '', headers: cookie ? { cookie } : {}, ip: '127.0.0.1', functionName: 'shop' });
  const first = policy.decide(request()) as PolicyPass;
  assert.deepEqual(first.requestHeaders, [['x-outpost-experiment-checkout', 'new']]);
  assert.deepEqual(first.experiments, { checkout: 'new' });
  assert.deepEqual(first.version, { key: 'shop@3', version: 3 });
  assert.match(first.responseHeaders?.[0]?.[1] ?? '', /^outpost-exp-checkout=new; Path=\/; Max-Age=\d+; HttpOnly/);
  draw = 0.1;
  const again = policy.decide(request('outpost-exp-checkout=new')) as PolicyPass;
  assert.deepEqual(again.experiments, { checkout: 'new' }, 'the cookie wins over a new draw');
  assert.deepEqual(again.responseHeaders, []);
  const unknown = policy.decide(request('outpost-exp-checkout=gone')) as PolicyPass;
  assert.deepEqual(unknown.experiments, { checkout: 'control' }, 'a stale cookie is reassigned');
  assert.equal(unknown.version, undefined);
});
