/** @module Tests for KV change events: capture in the store (same transaction, old and new images, sequence), the DynamoDB Streams record shape, and the outpost.toml `[[kv_triggers]]` key. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadProject } from '../project/index.ts';
import { expectProblems, tempProject } from '../project/testing.ts';
import { openSqliteStore } from '../store/sqlite/index.ts';
import type { KvChange } from '../store/kv-changes.ts';
import type { Store } from '../store/types.ts';
import { kvConsumerSettings, kvQueueName, streamRecord } from './kv-changes.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const NOW = Date.UTC(2026, 0, 1);

async function store(t: { after(fn: () => unknown): void }, dir?: string): Promise<{ store: Store; dir: string }> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'outpost-kvchanges-')));
  const s = openSqliteStore({ dir: d, now: () => NOW });
  t.after(async () => {
    await s.close().catch(() => {}); // a test may have closed it to reopen the dir
    if (!dir) await rm(d, { recursive: true, force: true });
  });
  return { store: s, dir: d };
}

async function changes(s: Store, queue: string): Promise<KvChange[]> {
  return (await s.queues.peek(queue, { limit: 100 })).map((m) => JSON.parse(new TextDecoder().decode(m.body)) as KvChange);
}

test('capture: a subscribed namespace records puts and deletes with old and new images, in order', async (t) => {
  const { store: s } = await store(t);
  await s.queues.createQueue('feed');
  await s.kv.put('other', 'x', { value: bytes('not captured') });
  await s.kv.setChangeFeeds('data', ['feed']);
  await s.kv.put('data', 'a', { value: bytes('1'), metadata: { v: 1 } });
  await s.kv.put('data', 'a', { value: bytes('1'), metadata: { v: 1 } }); // unchanged: no record
  await s.kv.put('data', 'a', { value: bytes('2') });
  await s.kv.delete('data', 'a');
  await s.kv.delete('data', 'a'); // nothing to delete: no record
  await s.kv.put('other', 'y', { value: bytes('still not captured') });
  const got = await changes(s, 'feed');
  assert.deepEqual(
    got.map((c) => [c.op, c.key, c.old?.value, c.new?.value]),
    [
      ['put', 'a', undefined, Buffer.from('1').toString('base64')],
      ['put', 'a', Buffer.from('1').toString('base64'), Buffer.from('2').toString('base64')],
      ['delete', 'a', Buffer.from('2').toString('base64'), undefined],
    ],
  );
  assert.deepEqual(got[0]?.new?.metadata, { v: 1 });
  assert.deepEqual(got[1]?.old?.metadata, { v: 1 });
  const seqs = got.map((c) => c.sequence);
  assert.deepEqual([...seqs].sort(), seqs, 'sequence numbers increase (as strings too)');
  assert.equal(seqs[0]?.length, 21);
  assert.equal(got[0]?.at, NOW);
  assert.equal(got[0]?.namespace, 'data');
});

test('capture: feeds are persisted, fan out to every queue, recreate a deleted queue, and stop when cleared', async (t) => {
  const { store: first, dir } = await store(t);
  await first.queues.createQueue('q1');
  await first.queues.createQueue('q2');
  await first.kv.setChangeFeeds('data', ['q1', 'q2']);
  await first.close();
  const reopened = openSqliteStore({ dir, now: () => NOW });
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.kv.changeFeeds(), { data: ['q1', 'q2'] });
  await reopened.kv.put('data', 'k', { value: bytes('v') });
  assert.equal((await changes(reopened, 'q1')).length, 1);
  assert.equal((await changes(reopened, 'q2')).length, 1);
  await reopened.queues.deleteQueue('q2');
  await reopened.kv.put('data', 'k', { value: bytes('w') });
  assert.equal((await changes(reopened, 'q2')).length, 1, 'a write never fails because its feed queue is gone');
  await reopened.kv.setChangeFeeds('data', []);
  assert.deepEqual(await reopened.kv.changeFeeds(), {});
  await reopened.kv.put('data', 'k', { value: bytes('x') });
  assert.equal((await changes(reopened, 'q1')).length, 2);
});

test('capture: the write and its record commit together — a write wakes the queue only after both are stored', async (t) => {
  const { store: s } = await store(t);
  await s.queues.createQueue('feed');
  await s.kv.setChangeFeeds('data', ['feed']);
  const seen: Array<{ value: string | undefined; records: number }> = [];
  s.queues.subscribe((q) => {
    if (q !== 'feed') return;
    // Runs synchronously after the commit: both are visible, never one without the other.
    void Promise.all([s.kv.get('data', 'k'), s.queues.stats('feed')]).then(([v, stats]) => seen.push({ value: v && new TextDecoder().decode(v.value), records: stats.visible }));
  });
  await s.kv.put('data', 'k', { value: bytes('v') });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, [{ value: 'v', records: 1 }]);
});

test('stream record: INSERT, MODIFY and REMOVE in the DynamoDB Streams shape; text as S, bytes as B', () => {
  const insert: KvChange = { namespace: 'data', key: 'a', op: 'put', sequence: '000000000000000000001', at: NOW, new: { value: Buffer.from('hello').toString('base64'), metadata: { tag: 1 } } };
  const r = streamRecord(insert, 'us-east-1');
  assert.deepEqual(r, {
    eventID: r.eventID,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'outpost:kv',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: NOW / 1000,
      Keys: { key: { S: 'a' } },
      NewImage: { key: { S: 'a' }, value: { S: 'hello' }, metadata: { S: '{"tag":1}' } },
      SequenceNumber: '000000000000000000001',
      SizeBytes: 1 + (1 + 5 + 9),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/data/stream/outpost',
  });
  assert.match(r.eventID, /^[0-9a-f]{32}$/);
  const binary = Buffer.from([0xff, 0xfe, 0x00]).toString('base64');
  const modify = streamRecord({ ...insert, sequence: '000000000000000000002', old: { value: Buffer.from('hello').toString('base64') }, new: { value: binary, expiration: 2_000_000_000 } }, 'eu-west-1');
  assert.equal(modify.eventName, 'MODIFY');
  assert.deepEqual(modify.dynamodb.NewImage, { key: { S: 'a' }, value: { B: binary }, expiration: { N: '2000000000' } });
  assert.deepEqual(modify.dynamodb.OldImage, { key: { S: 'a' }, value: { S: 'hello' } });
  assert.notEqual(modify.eventID, r.eventID);
  const remove = streamRecord({ namespace: 'data', key: 'a', op: 'delete', sequence: '000000000000000000003', at: NOW, old: { value: binary } }, 'us-east-1');
  assert.equal(remove.eventName, 'REMOVE');
  assert.equal(remove.dynamodb.NewImage, undefined);
  assert.deepEqual(remove.dynamodb.OldImage, { key: { S: 'a' }, value: { B: binary } });
});

test('consumer settings: DynamoDB-like defaults', () => {
  assert.deepEqual(kvConsumerSettings({ type: 'kv', namespace: 'n' }, 30_000), { maxBatchSize: 100, maxBatchTimeoutMs: 0, maxReceives: 4, retryDelaySeconds: 0, visibilityTimeoutSeconds: 60 });
  assert.equal(kvQueueName('fn'), '__kv__fn');
});

test('outpost.toml: [[kv_triggers]] becomes kv triggers, checked like every key', async (t) => {
  const root = await tempProject(t, {
    'outpost.toml': 'name = "w"\nmain = "index.js"\n[[kv_triggers]]\nnamespace = "data"\nmax_batch_size = 10\nmax_batch_timeout = 2\nmax_retries = 1\nretry_delay = 5\n',
    'index.js': 'export default { fetch() { return new Response("") } }\n',
  });
  const spec = await loadProject(root, { dev: true });
  assert.deepEqual(spec.functions[0]?.triggers, [{ type: 'kv', namespace: 'data', maxBatchSize: 10, maxBatchTimeoutSeconds: 2, maxRetries: 1, retryDelaySeconds: 5 }]);
  const bad = await tempProject(t, { 'outpost.toml': 'name = "w"\nmain = "index.js"\n[[kv_triggers]]\nmax_batch_size = 0\n', 'index.js': 'export default {}\n' });
  await expectProblems(() => loadProject(bad, { dev: true }), [
    { file: 'outpost.toml', key: 'kv_triggers[0].namespace' },
    { file: 'outpost.toml', key: 'kv_triggers[0].max_batch_size' },
  ]);
});
