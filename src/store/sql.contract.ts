/** @module The SqlStore contract suite: what every backend's SQL databases must do, run by each backend's test file. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { isOutpostError } from '../errors.ts';
import type { OpenStore } from './contract.ts';
import type { Store } from './types.ts';

export function sqlStoreContract(name: string, open: OpenStore): void {
  async function fresh(t: TestContext): Promise<Store> {
    const dir = await mkdtemp(join(tmpdir(), 'outpost-sql-'));
    const store = await open({ dir, now: () => Date.UTC(2030, 0, 1) });
    t.after(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    return store;
  }

  describe(`${name}: SqlStore`, () => {
    test('statements bind parameters and report columns, rows, changes and the last row id', async (t) => {
      const db = (await fresh(t)).sql.database('app');
      assert.deepEqual(await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB); CREATE INDEX t_v ON t (v)').then((r) => r.count), 2);
      const ins = await db.run({ sql: 'INSERT INTO t (v, b) VALUES (?, ?)', params: ["a'; DROP TABLE t; --", new Uint8Array([7])] });
      assert.deepEqual([ins.changes, ins.lastRowId, ins.columns], [1, 1, []]);
      const sel = await db.run({ sql: 'SELECT v, b FROM t WHERE id = ?', params: [1] });
      assert.deepEqual(sel.columns, ['v', 'b']);
      assert.deepEqual(sel.rows, [["a'; DROP TABLE t; --", new Uint8Array([7])]]);
      assert.equal(sel.changes, 0);
      assert.deepEqual((await db.script('SELECT 1 AS one; SELECT 2 AS two')).map((r) => r.rows), [[[1]], [[2]]]);
    });

    test('a batch is all or nothing', async (t) => {
      const db = (await fresh(t)).sql.database('app');
      await db.exec('CREATE TABLE t (v TEXT UNIQUE)');
      await assert.rejects(db.batch([{ sql: 'INSERT INTO t VALUES (?)', params: ['x'] }, { sql: 'INSERT INTO t VALUES (?)', params: ['x'] }]), (e) => isOutpostError(e, 'SQL_ERROR') && (e.details as { kind?: string }).kind === 'SQLITE_CONSTRAINT');
      assert.deepEqual((await db.run({ sql: 'SELECT COUNT(*) FROM t', params: [] })).rows, [[0]]);
    });

    test('databases are separate, listed once used, and names are checked', async (t) => {
      const store = await fresh(t);
      await store.sql.database('one').exec('CREATE TABLE only_in_one (x)');
      await assert.rejects(store.sql.database('two').run({ sql: 'SELECT * FROM only_in_one', params: [] }), (e) => isOutpostError(e, 'SQL_ERROR'));
      assert.deepEqual(await store.sql.list(), ['one', 'two']);
      assert.throws(() => store.sql.database('../outpost'), (e) => isOutpostError(e, 'INVALID_DATABASE'));
    });
  });
}
