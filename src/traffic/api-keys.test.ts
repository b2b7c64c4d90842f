/** @module Tests for API keys: quota periods, throttle and quota, keys stored on the node, serverless config. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isOutpostError } from '../errors.ts';
import { Fields } from '../project/fields.ts';
import { ProblemList } from '../project/problems.ts';
import { openSqliteStore } from '../store/index.ts';
import { apiKeyPolicy, ApiKeyStore, periodEnd, readServerlessApiKeys } from './api-keys.ts';
import { nodeState } from './index.ts';
import type { PolicyNode } from './index.ts';
import type { PolicyDecision, PolicyRequest } from './policy.ts';

function request(key?: string): PolicyRequest {
  return { requestId: 'r', method: 'GET', host: 'h', path: '/x', search: '', headers: key === undefined ? {} : { 'x-api-key': key }, ip: '127.0.0.1', functionName: 'fn' };
}

function node(clock: { now: number }): PolicyNode {
  return { state: nodeState(), invoke: () => Promise.reject(new Error('not used')), now: () => clock.now };
}

function status(decision: PolicyDecision): number {
  return decision && 'reply' in decision ? decision.reply.status : 200;
}

test('quota periods end at the next UTC midnight, Monday, or first of the month', () => {
  const wednesday = Date.UTC(2026, 0, 7, 15, 30); // Wed 7 Jan 2026
  assert.equal(periodEnd('DAY', wednesday), Date.UTC(2026, 0, 8));
  assert.equal(periodEnd('WEEK', wednesday), Date.UTC(2026, 0, 12));
  assert.equal(periodEnd('WEEK', Date.UTC(2026, 0, 12, 1)), Date.UTC(2026, 0, 19), 'on a Monday the week ends next Monday');
  assert.equal(periodEnd('MONTH', wednesday), Date.UTC(2026, 1, 1));
});

test('a config key passes; throttle refills with the clock; the quota resets with the period', async () => {
  const clock = { now: Date.UTC(2026, 0, 7, 23, 59, 0) };
  const policy = apiKeyPolicy({ keys: [{ name: 'partner', value: 'v-1' }], usagePlan: { throttle: { rate: 1, burst: 2 }, quota: { limit: 3, period: 'DAY' } } }, node(clock), undefined);
  assert.equal(status(await policy.decide(request())), 403);
  assert.equal(status(await policy.decide(request('v-2'))), 403);
  assert.equal(status(await policy.decide(request('v-1'))), 200);
  assert.equal(status(await policy.decide(request('v-1'))), 200);
  const throttled = await policy.decide(request('v-1'));
  assert.equal(status(throttled), 429);
  assert.ok(throttled && 'reply' in throttled);
  assert.equal(throttled.reply.headers?.['retry-after'], '1');
  assert.equal(throttled.reply.body, JSON.stringify({ message: 'Too Many Requests' }));
  clock.now += 1000;
  assert.equal(status(await policy.decide(request('v-1'))), 200, 'third of the quota');
  clock.now += 5000;
  const over = await policy.decide(request('v-1'));
  assert.ok(over && 'reply' in over);
  assert.equal(over.reply.body, JSON.stringify({ message: 'Limit Exceeded' }));
  assert.equal(over.reply.headers?.['retry-after'], '54', 'until midnight UTC');
  clock.now += 60_000;
  assert.equal(status(await policy.decide(request('v-1'))), 200, 'a new day');
});

test('node keys: created once with a value shown once, stored hashed, refused after delete', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-apikeys-'));
  const store = openSqliteStore({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const keys = new ApiKeyStore(store.meta);
  const { value } = await keys.create('ops');
  assert.match(value, /^opk_[A-Za-z0-9_-]{43}$/);
  const stored = JSON.stringify((await store.meta.list('apikeys/')).map((e) => e.value));
  assert.doesNotMatch(stored, new RegExp(value), 'the value itself is not stored');
  await assert.rejects(keys.create('ops'), (e: unknown) => isOutpostError(e, 'API_KEY_EXISTS'));
  await assert.rejects(keys.create('bad name'), (e: unknown) => isOutpostError(e, 'INVALID_API_KEY_NAME'));
  const clock = { now: 0 };
  const onlyOps = apiKeyPolicy({ keys: [{ name: 'ops' }] }, node(clock), keys);
  const onlyOthers = apiKeyPolicy({ keys: [{ name: 'partner' }] }, node(clock), keys);
  assert.equal(status(await onlyOps.decide(request(value))), 200);
  assert.equal(status(await onlyOthers.decide(request(value))), 403, 'a route that names other keys refuses it');
  await keys.delete('ops');
  assert.equal(status(await onlyOps.decide(request(value))), 403);
  await assert.rejects(keys.delete('ops'), (e: unknown) => isOutpostError(e, 'API_KEY_NOT_FOUND'));
});

test('serverless apiKeys (names, values, grouped by plan) and the usagePlan', () => {
  const problems = new ProblemList('serverless.yml');
  const spec = readServerlessApiKeys(
    new Fields(
      { apiKeys: [{ free: ['a', { name: 'b', value: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' }] }], usagePlan: [{ free: { quota: { limit: 100, period: 'WEEK' }, throttle: { rateLimit: 2, burstLimit: 4 } } }] },
      'provider.apiGateway',
      problems,
    ),
  );
  assert.deepEqual(spec, { keys: [{ name: 'a' }, { name: 'b', value: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' }], usagePlan: { throttle: { rate: 2, burst: 4 }, quota: { limit: 100, period: 'WEEK' } } });
  assert.equal(problems.items.length, 0);
});
