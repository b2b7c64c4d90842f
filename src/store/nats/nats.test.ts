/**
 * @module
 * The NATS JetStream store: the contract suites every backend passes, then what only a shared
 * store has to show (two stores on one NATS acting as two nodes of a fleet). One nats-server
 * for the whole file; each store takes its own bucket prefix.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import type { TestContext } from 'node:test';
import type { KvChange } from '../kv-changes.ts';
import { isOutpostError } from '../../errors.ts';
import { u64Bytes } from '../sqlite/denokv.ts';
import { storeContract } from '../contract.ts';
import { queueStoreContract } from '../queues.contract.ts';
import { objectStoreContract } from '../objects.contract.ts';
import { sqlStoreContract } from '../sql.contract.ts';
import { openNatsStore } from './index.ts';
import { sharedNatsServer } from './testing.ts';

const server = sharedNatsServer();
after(() => server.stop());
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A temp dir removed after the test, and store options whose prefix no other test uses. */
async function fleet(t: TestContext, name: string): Promise<{ dir: string; options: { servers: string[]; region: string; prefix: string } }> {
  const dir = await mkdtemp(join(tmpdir(), `outpost-nats-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { dir, options: { servers: [await server.url()], region: 'test', prefix: basename(dir).replace(/[^a-zA-Z0-9_-]/g, '_') } };
}

/** Polls (without sleeping) until `ready` holds; watch events arrive asynchronously. */
async function until(ready: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ready())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Each contract test gets a fresh temp dir; its name makes the store's own bucket prefix. */
const open = async ({ dir, now }: { dir: string; now: () => number }) =>
  openNatsStore({ servers: [await server.url()], name: 'test', region: 'test', cacheDir: dir, prefix: basename(dir).replace(/[^a-zA-Z0-9_-]/g, '_'), now });

storeContract('nats', open);
queueStoreContract('nats', open);
objectStoreContract('nats', open);
sqlStoreContract('nats (D1 stays on the node)', open);

test('nats: KV change capture records puts and deletes with old and new images; a second node follows the feed set', async (t) => {
  const { dir, options } = await fleet(t, 'feeds');
  const first = await openNatsStore({ ...options, name: 'node-1', cacheDir: join(dir, '1') });
  t.after(() => first.close());
  await first.kv.setChangeFeeds('data', ['feed']);
  const second = await openNatsStore({ ...options, name: 'node-2', cacheDir: join(dir, '2') });
  t.after(() => second.close());
  assert.deepEqual(await second.kv.changeFeeds(), { data: ['feed'] }, 'a node started later loads the feed sets');

  await second.kv.put('data', 'a', { value: bytes('1'), metadata: { v: 1 } });
  await first.kv.put('data', 'a', { value: bytes('1'), metadata: { v: 1 } }); // unchanged: no record
  await first.kv.put('data', 'a', { value: bytes('2') });
  await second.kv.delete('data', 'a');
  await second.kv.delete('data', 'a'); // nothing to delete: no record
  await first.kv.put('other', 'x', { value: bytes('not captured') });
  const changes = (await first.queues.peek('feed', { limit: 10 })).map((m) => JSON.parse(new TextDecoder().decode(m.body)) as KvChange);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  assert.deepEqual(changes.map((c) => [c.op, c.key, c.old?.value, c.new?.value]), [
    ['put', 'a', undefined, b64('1')],
    ['put', 'a', b64('1'), b64('2')],
    ['delete', 'a', b64('2'), undefined],
  ]);
  assert.deepEqual(changes[0]?.new?.metadata, { v: 1 });
  const seqs = changes.map((c) => c.sequence);
  assert.deepEqual([...seqs].sort(), seqs, 'sequence numbers increase');

  await first.kv.setChangeFeeds('data', []);
  await until(async () => (await second.kv.changeFeeds())['data'] === undefined, 'node-2 to see the cleared feed set');
  await second.kv.put('data', 'b', { value: bytes('after') });
  assert.equal((await first.queues.peek('feed', { limit: 10 })).length, 3, 'a cleared feed set stops capture on every node');
});

test('nats: data, revisions and blobs survive a close and reopen; localPath caches each version of a blob', async (t) => {
  const { dir, options } = await fleet(t, 'reopen');
  const first = await openNatsStore({ ...options, name: 'n', cacheDir: dir });
  const revision = await first.meta.put('functions/hello', { version: 3 });
  await first.blobs.put('bundles/abc.js', bytes('export default {}'));
  await first.queues.createQueue('jobs');
  await first.queues.send('jobs', [{ body: bytes('job') }]);
  await first.close();

  const second = await openNatsStore({ ...options, name: 'n', cacheDir: join(dir, 'other') });
  t.after(() => second.close());
  assert.deepEqual(await second.meta.get('functions/hello'), { key: 'functions/hello', value: { version: 3 }, revision });
  const path = await second.blobs.localPath('bundles/abc.js');
  assert.ok(path !== undefined && path.startsWith(join(dir, 'other')), 'the blob is materialised in this node\'s cache');
  assert.equal(await readFile(path, 'utf8'), 'export default {}');
  await second.blobs.put('bundles/abc.js', bytes('rewritten'));
  assert.equal(await readFile((await second.blobs.localPath('bundles/abc.js')) ?? '', 'utf8'), 'rewritten', 'a rewritten key is not served from the old cached copy');
  assert.equal((await second.queues.receive('jobs', { max: 1 }))[0]?.body.byteLength, 3);
  assert.ok((await second.meta.put('functions/other', 1)) > revision);
  await assert.rejects(second.kv.put('ns', 'big', { value: new Uint8Array(2 * 1024 * 1024) }), (e: unknown) => isOutpostError(e, 'STORE_VALUE_TOO_LARGE'), 'a value over max_payload is refused with a code that says how to fix it');
});

test('nats: Deno KV commits are atomic across nodes — a failed commit applies nothing, one of two racing checks wins', async (t) => {
  const { dir, options } = await fleet(t, 'denokv');
  const a = await openNatsStore({ ...options, name: 'a', cacheDir: join(dir, 'a') });
  t.after(() => a.close());
  const b = await openNatsStore({ ...options, name: 'b', cacheDir: join(dir, 'b') });
  t.after(() => b.close());
  const k = (...bs: number[]): Uint8Array => new Uint8Array(bs);
  const v = (s: string) => ({ encoding: 'bytes' as const, data: bytes(s) });

  await a.denokv.commit('db', [], [{ type: 'set', key: k(1), value: v('text') }]);
  await assert.rejects(b.denokv.commit('db', [], [{ type: 'set', key: k(2), value: v('first') }, { type: 'sum', key: k(1), value: 1n }]), (e: unknown) => isOutpostError(e, 'DENOKV_TYPE'));
  assert.deepEqual(await a.denokv.get('db', [k(2)]), [undefined], 'nothing of the failed commit is visible on either node');

  // Both nodes read the same versionstamp, then race a check-and-set on it: exactly one wins.
  const [seenA] = await a.denokv.get('db', [k(1)]);
  const [seenB] = await b.denokv.get('db', [k(1)]);
  assert.equal(seenA?.versionstamp, seenB?.versionstamp);
  const results = await Promise.all([
    a.denokv.commit('db', [{ key: k(1), versionstamp: seenA?.versionstamp ?? null }], [{ type: 'set', key: k(1), value: v('from a') }, { type: 'set', key: k(3), value: v('a') }]),
    b.denokv.commit('db', [{ key: k(1), versionstamp: seenB?.versionstamp ?? null }], [{ type: 'set', key: k(1), value: v('from b') }, { type: 'set', key: k(3), value: v('b') }]),
  ]);
  assert.deepEqual(results.map((r) => r.ok).sort(), [false, true]);
  const winner = results[0]?.ok ? 'a' : 'b';
  for (const store of [a, b]) {
    const [one, three] = await store.denokv.get('db', [k(1), k(3)]);
    assert.equal(Buffer.from(one?.data ?? []).toString(), `from ${winner}`);
    assert.equal(Buffer.from(three?.data ?? []).toString(), winner, 'both writes of the winning commit, on every node');
  }

  // Sums from both nodes add up; ranges compare bytes; versionstamps grow.
  await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).denokv.commit('db', [], [{ type: 'sum', key: k(9), value: 1n }])));
  assert.deepEqual((await b.denokv.get('db', [k(9)]))[0]?.data, u64Bytes(10n));
  const listed = await a.denokv.list('db', { start: k(1), end: k(4), limit: 10, reverse: true });
  assert.deepEqual(listed.map((e) => [...e.key]), [[3], [1]]);
  const last = await a.denokv.commit('db', [], [{ type: 'delete', key: k(3) }]);
  assert.ok(last.ok && results.every((r) => !r.ok || r.versionstamp < last.versionstamp));
  assert.deepEqual(await b.denokv.get('db', [k(3)]), [undefined]);
});

test('nats: two nodes share a queue — a send on one is received on the other, concurrent receives never share a message, any node settles', async (t) => {
  const { dir, options } = await fleet(t, 'queues');
  const a = await openNatsStore({ ...options, name: 'a', cacheDir: join(dir, 'a') });
  t.after(() => a.close());
  const b = await openNatsStore({ ...options, name: 'b', cacheDir: join(dir, 'b') });
  t.after(() => b.close());
  await a.queues.createQueue('work');
  const woken: string[] = [];
  t.after(b.queues.subscribe((q) => woken.push(q)));
  await b.queues.receive('work', { max: 1 }); // b's view of the queue is open before a sends

  const sent = await a.queues.send('work', Array.from({ length: 40 }, (_, i) => ({ body: bytes(String(i)) })));
  await until(async () => woken.includes('work'), 'node b to be woken by node a\'s send');
  const [fromA, fromB] = await Promise.all([a.queues.receive('work', { max: 40 }), b.queues.receive('work', { max: 40 })]);
  const ids = [...fromA, ...fromB].map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'no message leased to both nodes');
  const rest = [...(await a.queues.receive('work', { max: 40 })), ...(await b.queues.receive('work', { max: 40 }))];
  const all = [...fromA, ...fromB, ...rest];
  assert.deepEqual(all.map((m) => m.id).sort(), sent.map((s) => s.id).sort(), 'every message received exactly once');

  // Receipts from one node settle on the other.
  assert.equal((await a.queues.ack('work', [...fromB, ...rest].map((m) => m.receipt))).length, fromB.length + rest.length);
  assert.equal((await b.queues.ack('work', fromA.map((m) => m.receipt))).length, fromA.length);
  assert.deepEqual(await a.queues.stats('work'), { name: 'work', visible: 0, inFlight: 0, delayed: 0, dead: 0 });
  assert.deepEqual(await b.queues.receive('work', { max: 10, visibilityTimeoutSeconds: 0 }), []);
});

test('nats: D1 change capture sends a database\'s row changes to the fleet\'s queue', async (t) => {
  const { dir, options } = await fleet(t, 'd1feeds');
  const store = await openNatsStore({ ...options, name: 'node-1', cacheDir: dir });
  t.after(() => store.close());
  const db = store.sql.database('orders');
  await db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)');
  await store.sql.setChangeFeeds('orders', ['order-changes']);
  await db.run({ sql: 'INSERT INTO orders (id, item) VALUES (?, ?)', params: [1, 'tea'] });
  await until(async () => (await store.queues.peek('order-changes', { limit: 10 }).catch(() => [])).length === 1, 'the captured insert on the queue');
  const [message] = await store.queues.peek('order-changes', { limit: 10 });
  const change = JSON.parse(new TextDecoder().decode(message?.body)) as { table: string; op: string; new: Record<string, unknown> };
  assert.equal(change.table, 'orders');
  assert.equal(change.op, 'insert');
  assert.deepEqual(change.new, { id: { N: '1' }, item: { S: 'tea' } });
});
