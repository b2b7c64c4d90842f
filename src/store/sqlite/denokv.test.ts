/** @module Tests for the embedded Deno KV store: one transaction per commit, survives a restart, ranges by bytes. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { isOutpostError } from '../../errors.ts';
import { openSqliteStore } from './index.ts';
import { u64Bytes } from './denokv.ts';

const k = (...bytes: number[]): Uint8Array => new Uint8Array(bytes);
const v = (text: string) => ({ encoding: 'bytes' as const, data: new TextEncoder().encode(text) });

async function dir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'outpost-denokv-store-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('a commit that fails part-way applies none of its mutations', async (t) => {
  const store = openSqliteStore({ dir: await dir(t) });
  t.after(() => store.close());
  await store.denokv.commit('db', [], [{ type: 'set', key: k(1), value: v('text') }]);
  await assert.rejects(
    store.denokv.commit('db', [], [{ type: 'set', key: k(2), value: v('first') }, { type: 'sum', key: k(1), value: 1n }]),
    (e: unknown) => isOutpostError(e, 'DENOKV_TYPE'),
  );
  assert.deepEqual(await store.denokv.get('db', [k(2)]), [undefined]);
  // The store is usable afterwards (the failed transaction was rolled back).
  const ok = await store.denokv.commit('db', [], [{ type: 'sum', key: k(3), value: 4n }]);
  assert.equal(ok.ok, true);
  assert.deepEqual((await store.denokv.get('db', [k(3)]))[0]?.data, u64Bytes(4n));
});

test('data and versionstamps survive a restart; ranges compare bytes', async (t) => {
  const d = await dir(t);
  let store = openSqliteStore({ dir: d });
  const first = await store.denokv.commit('db', [], [{ type: 'set', key: k(1, 2), value: v('a') }, { type: 'set', key: k(1, 3), value: v('b') }, { type: 'set', key: k(2), value: v('c') }]);
  await store.close();
  store = openSqliteStore({ dir: d });
  t.after(() => store.close());
  const listed = await store.denokv.list('db', { start: k(1), end: k(1, 0xff), limit: 10, reverse: false });
  assert.deepEqual(listed.map((e) => [...e.key]), [[1, 2], [1, 3]]);
  assert.equal(listed[0]?.versionstamp, first.ok ? first.versionstamp : '');
  const next = await store.denokv.commit('db', [{ key: k(2), versionstamp: first.ok ? first.versionstamp : '' }], [{ type: 'delete', key: k(2) }]);
  assert.equal(next.ok, true);
  assert.ok(next.ok && first.ok && next.versionstamp > first.versionstamp);
});
