/** @module Tests for D1 change events: capture in the SQL store (triggers in the database, typed cells, tables created later, changes left by a crash), the DynamoDB Streams record shape, and the outpost.toml `[[d1_triggers]]` key. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { loadProject } from '../project/index.ts';
import { expectProblems, tempProject } from '../project/testing.ts';
import type { SqlChange } from '../store/sql-changes.ts';
import { openSqliteStore } from '../store/sqlite/index.ts';
import type { Store } from '../store/types.ts';
import { d1StreamRecord } from './d1-changes.ts';

const NOW = Date.UTC(2026, 0, 1);

async function store(t: { after(fn: () => unknown): void }): Promise<{ store: Store; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-d1changes-'));
  const s = openSqliteStore({ dir, now: () => NOW });
  t.after(async () => {
    await s.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  return { store: s, dir };
}

async function changes(s: Store, queue: string): Promise<SqlChange[]> {
  return (await s.queues.peek(queue, { limit: 100 })).map((m) => JSON.parse(new TextDecoder().decode(m.body)) as SqlChange);
}

test('capture: inserts, updates and deletes with typed cells, in order; a failed batch records nothing', async (t) => {
  const { store: s } = await store(t);
  const db = s.sql.database('app');
  await db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, r REAL, b BLOB, z)');
  await db.run({ sql: "INSERT INTO t VALUES ('before', 1, 1, NULL, NULL)", params: [] }); // not captured yet
  await s.sql.setChangeFeeds('app', ['feed']);
  assert.deepEqual(await s.sql.changeFeeds(), { app: ['feed'] });
  await db.run({ sql: 'INSERT INTO t VALUES (?, ?, ?, ?, ?)', params: ['k', 7n, 1.5, new Uint8Array([0xff, 0]), null] });
  await assert.rejects(db.batch([{ sql: "UPDATE t SET n = 8 WHERE id = 'k'", params: [] }, { sql: 'INSERT INTO t (id) VALUES (?)', params: ['k'] }]));
  await db.run({ sql: "UPDATE t SET n = 9 WHERE id = 'k'", params: [] });
  await db.run({ sql: "DELETE FROM t WHERE id = 'k'", params: [] });
  const got = await changes(s, 'feed');
  assert.deepEqual(got.map((c) => [c.table, c.op, c.keys]), [['t', 'insert', { id: { S: 'k' } }], ['t', 'update', { id: { S: 'k' } }], ['t', 'delete', { id: { S: 'k' } }]]);
  assert.deepEqual(got[0]?.new, { id: { S: 'k' }, n: { N: '7' }, r: { N: '1.5' }, b: { B: Buffer.from([0xff, 0]).toString('base64') }, z: { NULL: true } });
  assert.deepEqual(got[1]?.old?.['n'], { N: '7' });
  assert.deepEqual(got[1]?.new?.['n'], { N: '9' });
  assert.equal(got[2]?.new, undefined);
  const seqs = got.map((c) => c.sequence);
  assert.deepEqual([...seqs].sort(), seqs);
  // Capture off: triggers and capture tables are gone.
  await s.sql.setChangeFeeds('app', []);
  assert.deepEqual(await s.sql.changeFeeds(), {});
  const names = (await db.run({ sql: "SELECT name FROM sqlite_master WHERE name LIKE '\\_outpost%' ESCAPE '\\'", params: [] })).rows;
  assert.deepEqual(names, []);
});

test('capture: changes a crash left in the database are moved when the feed is set again', async (t) => {
  const { store: s, dir } = await store(t);
  const db = s.sql.database('app');
  await s.sql.setChangeFeeds('app', ['feed']);
  await db.exec('CREATE TABLE t (v)');
  await s.close();
  // A write committed with its change record, and a crash before the record was moved.
  const raw = new DatabaseSync(join(dir, 'd1', 'app.sqlite'));
  raw.exec("INSERT INTO t VALUES ('kept')");
  raw.close();
  const again = openSqliteStore({ dir, now: () => NOW });
  t.after(() => again.close());
  await again.sql.setChangeFeeds('app', ['feed']);
  assert.deepEqual((await changes(again, 'feed')).map((c) => c.new), [{ v: { S: 'kept' } }]);
});

test('D1 stream record: DynamoDB Streams shape, one stream per table', () => {
  const change: SqlChange = { database: 'app', table: 'users', op: 'update', keys: { id: { N: '1' } }, sequence: '000000000000000000003', at: NOW, old: { id: { N: '1' }, name: { S: 'a' } }, new: { id: { N: '1' }, name: { S: 'b' } } };
  const r = d1StreamRecord(change, 'us-east-1');
  assert.equal(r.eventName, 'MODIFY');
  assert.equal(r.eventSourceARN, 'arn:aws:dynamodb:us-east-1:000000000000:table/app.users/stream/outpost');
  assert.deepEqual(r.dynamodb.Keys, { id: { N: '1' } });
  assert.deepEqual(r.dynamodb.OldImage, change.old);
  assert.equal(r.dynamodb.ApproximateCreationDateTime, NOW / 1000);
  assert.equal(d1StreamRecord({ ...change, op: 'insert' }, 'r').eventName, 'INSERT');
  assert.equal(d1StreamRecord({ ...change, op: 'delete' }, 'r').eventName, 'REMOVE');
});

test('outpost.toml: [[d1_triggers]] becomes d1 triggers, checked like every key', async (t) => {
  const root = await tempProject(t, {
    'outpost.toml': 'name = "w"\nmain = "index.js"\n[[d1_triggers]]\ndatabase = "app"\nmax_batch_size = 10\n',
    'index.js': 'export default { fetch() { return new Response("") } }\n',
  });
  const spec = await loadProject(root, { dev: true });
  assert.deepEqual(spec.functions[0]?.triggers, [{ type: 'd1', database: 'app', maxBatchSize: 10 }]);
  const bad = await tempProject(t, { 'outpost.toml': 'name = "w"\nmain = "index.js"\n[[d1_triggers]]\nmax_retries = -1\n', 'index.js': 'export default {}\n' });
  await expectProblems(() => loadProject(bad, { dev: true }), [
    { file: 'outpost.toml', key: 'd1_triggers[0].database' },
    { file: 'outpost.toml', key: 'd1_triggers[0].max_retries' },
  ]);
});
