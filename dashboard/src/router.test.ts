/// <reference types="node" />
// Hash routes and their links, including execution ARNs (which contain colons).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { href, parseRoute } from './router.ts';
import type { Route } from './router.ts';

test('every route survives href → parseRoute; unknown hashes show the functions list', () => {
  const routes: Route[] = [
    { page: 'functions' },
    { page: 'function', name: 'api' },
    { page: 'queues' },
    { page: 'workflows' },
    { page: 'state-machine', name: 'orders' },
    { page: 'execution', arn: 'arn:aws:states:us-east-1:000000000000:execution:orders:run/1' },
    { page: 'usage' },
  ];
  for (const r of routes) assert.deepEqual(parseRoute(href(r)), r);
  assert.deepEqual(parseRoute(''), { page: 'functions' });
  assert.deepEqual(parseRoute('#/nowhere'), { page: 'functions' });
});
