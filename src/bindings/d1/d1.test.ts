/** @module Tests for the D1 binding's host side over a real SQLite store: result shapes, bound parameters, batch atomicity, D1's error messages, one file per database. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { openSqliteStore } from '../../store/sqlite/index.ts';
import { splitStatements } from '../../store/sqlite/sql.ts';
import type { HostBinding } from '../rpc.ts';
import { d1Host } from './index.ts';
import type { D1WireResult } from './index.ts';

async function setup(t: TestContext): Promise<{ dir: string; a: HostBinding; b: HostBinding }> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-d1-'));
  const store = openSqliteStore({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, a: d1Host(store.sql, 'alpha'), b: d1Host(store.sql, 'beta') };
}

const run = async (db: HostBinding, sql: string, params: unknown[] = []): Promise<D1WireResult> => (await db('run', [{ sql, params }])) as D1WireResult;

test('statements run with bound parameters and report D1 meta', async (t) => {
  const { dir, a } = await setup(t);
  const exec = (await a('exec', ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, ok INTEGER);\n-- a comment; with a semicolon\nCREATE INDEX t_v ON t (v);'])) as { count: number; duration: number };
  assert.equal(exec.count, 2);
  assert.equal(typeof exec.duration, 'number');
  assert.ok(existsSync(join(dir, 'd1', 'alpha.sqlite')));
  const ins = await run(a, 'INSERT INTO t (v, ok) VALUES (?, ?)', ["x'); DROP TABLE t; --", true]);
  assert.equal(ins.meta.changes, 1);
  assert.equal(ins.meta.last_row_id, 1);
  assert.equal(ins.meta.changed_db, true);
  const sel = await run(a, 'SELECT v, ok FROM t WHERE id = ?1', [1]);
  assert.deepEqual(sel.columns, ['v', 'ok']);
  assert.deepEqual(sel.rows, [["x'); DROP TABLE t; --", 1]]);
  assert.equal(sel.meta.changes, 0);
  assert.equal(sel.meta.rows_read, 1);
  const ret = await run(a, 'UPDATE t SET v = ? RETURNING id', ['y']);
  assert.deepEqual(ret.rows, [[1]]);
  assert.equal(ret.meta.changes, 1);
  await assert.rejects(run(a, 'SELECT ?', [{}]), /^OutpostError: D1_TYPE_ERROR: Type 'object' not supported/);
});

test('batch is one transaction; errors read as D1 writes them; databases are separate files', async (t) => {
  const { a, b } = await setup(t);
  await a('exec', ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)']);
  await assert.rejects(
    a('batch', [[{ sql: 'INSERT INTO t (v) VALUES (?)', params: ['one'] }, { sql: 'INSERT INTO t (v) VALUES (?)', params: ['one'] }]]),
    (e: Error) => e.message === 'D1_ERROR: UNIQUE constraint failed: t.v: SQLITE_CONSTRAINT',
  );
  assert.deepEqual((await run(a, 'SELECT COUNT(*) FROM t')).rows, [[0]]);
  const results = (await a('batch', [[{ sql: 'INSERT INTO t (v) VALUES (?)', params: ['one'] }, { sql: 'SELECT v FROM t', params: [] }]])) as D1WireResult[];
  assert.deepEqual(results.map((r) => r.rows), [[], [['one']]]);
  await assert.rejects(run(b, 'SELECT * FROM t'), (e: Error) => e.message === 'D1_ERROR: no such table: t: SQLITE_ERROR');
  await assert.rejects(a('exec', ['SELEC 1']), /^OutpostError: D1_EXEC_ERROR: near "SELEC": syntax error: SQLITE_ERROR/);
  await assert.rejects(a('exec', ["ATTACH 'other.sqlite' AS o"]), /not authorized/);
  await assert.rejects(a('exec', ["VACUUM INTO 'copy.sqlite'"]), /not authorized|authorization denied/);
  await assert.rejects(a('exec', ['PRAGMA writable_schema = ON']), /not authorized/);
  assert.deepEqual((await run(a, 'PRAGMA table_info(t)')).rows.map((r) => r[1]), ['id', 'v']);
});

test('splitStatements respects quotes, comments and trigger bodies', () => {
  assert.deepEqual(splitStatements("SELECT ';'; -- x;\nSELECT \"a;b\" /* ; */;"), ["SELECT ';'", 'SELECT "a;b"']);
  const trigger = 'CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET v = 1; DELETE FROM t; END; SELECT 1';
  assert.equal(splitStatements(trigger).length, 2);
});
