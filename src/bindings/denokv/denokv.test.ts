/**
 * @module Tests for Deno KV as a function sees it: the guest `Deno.Kv` talking to the host
 * binding over a structured-clone boundary (as between the isolate and the host), backed by the
 * embedded store in a temp dir with a clock the test moves.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { openSqliteStore } from '../../store/sqlite/index.ts';
import type { Store } from '../../store/types.ts';
import { Kv, KvU64 } from './denokv.guest.ts';
import type { KvEntryMaybe } from './denokv.guest.ts';
import { denoKvHost } from './index.ts';

interface Fixture {
  kv: Kv;
  store: Store;
  clock: { ms: number };
  /** Another function's view: same store, its own database. */
  other: Kv;
  /** A second client of the same database (a concurrent writer). */
  twin: Kv;
}

async function fixture(t: TestContext): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-denokv-'));
  const clock = { ms: Date.UTC(2030, 0, 1) };
  const store = openSqliteStore({ dir, now: () => clock.ms });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const client = (database: string): Kv => {
    const host = denoKvHost(store.denokv, database, () => clock.ms);
    // structuredClone on both legs: what crosses the worker boundary.
    return new Kv('__deno_kv', async (_binding, method, args) => structuredClone(await host(method, structuredClone(args))));
  };
  return { kv: client('app'), store, clock, other: client('other-app'), twin: client('app') };
}

async function all(iter: AsyncIterable<KvEntryMaybe>): Promise<KvEntryMaybe[]> {
  const out: KvEntryMaybe[] = [];
  for await (const e of iter) out.push(e);
  return out;
}

describe('Deno KV (guest ↔ host ↔ sqlite)', () => {
  test('set/get/getMany/delete with structured values, bytes and KvU64', async (t) => {
    const { kv } = await fixture(t);
    const missing = await kv.get(['nope']);
    assert.deepEqual(missing, { key: ['nope'], value: null, versionstamp: null });
    const value = { n: 1, when: new Date(0), tags: new Set(['a']), map: new Map([[1, 'x']]), big: 10n, nested: { arr: [1, 'two'] } };
    const r = await kv.set(['users', 'alice'], value);
    assert.equal(r.ok, true);
    assert.match(r.ok ? r.versionstamp : '', /^[0-9a-f]{20}$/);
    const got = await kv.get(['users', 'alice']);
    assert.deepEqual(got.value, value);
    assert.equal(got.versionstamp, r.ok ? r.versionstamp : '');
    await kv.set(['bytes'], new Uint8Array([1, 2, 3]));
    await kv.set(['counter'], new KvU64(7n));
    const [bytes, counter, none] = await kv.getMany([['bytes'], ['counter'], ['none']]);
    assert.deepEqual(bytes?.value, new Uint8Array([1, 2, 3]));
    assert.ok(counter?.value instanceof KvU64);
    assert.equal((counter?.value as KvU64).value, 7n);
    assert.equal(none?.versionstamp, null);
    await kv.delete(['users', 'alice']);
    assert.equal((await kv.get(['users', 'alice'])).value, null);
  });

  test('versionstamps increase with every commit', async (t) => {
    const { kv } = await fixture(t);
    const stamps: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await kv.set(['k', i % 2], i);
      if (r.ok) stamps.push(r.versionstamp);
    }
    assert.equal(stamps.length, 5);
    assert.deepEqual([...stamps].sort(), stamps);
    assert.equal(new Set(stamps).size, 5);
  });

  test('list: prefix, start/end, prefix+start, prefix+end, reverse, limit and cursor', async (t) => {
    const { kv } = await fixture(t);
    for (const id of ['a', 'b', 'c', 'd', 'e']) await kv.set(['users', id], id.toUpperCase());
    await kv.set(['users'], 'the prefix itself');
    await kv.set(['usersx', 'z'], 'not under the prefix');
    await kv.set(['posts', 1], 'other');
    const keys = (entries: KvEntryMaybe[]): unknown[] => entries.map((e) => e.key[e.key.length - 1]);
    assert.deepEqual(keys(await all(kv.list({ prefix: ['users'] }))), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(keys(await all(kv.list({ prefix: ['users'] }, { reverse: true }))), ['e', 'd', 'c', 'b', 'a']);
    assert.deepEqual(keys(await all(kv.list({ start: ['users', 'b'], end: ['users', 'd'] }))), ['b', 'c']);
    assert.deepEqual(keys(await all(kv.list({ prefix: ['users'], start: ['users', 'c'] }))), ['c', 'd', 'e']);
    assert.deepEqual(keys(await all(kv.list({ prefix: ['users'], end: ['users', 'c'] }))), ['a', 'b']);
    assert.deepEqual(keys(await all(kv.list({ prefix: ['users'] }, { limit: 2 }))), ['a', 'b']);

    const first = kv.list({ prefix: ['users'] }, { limit: 2 });
    assert.throws(() => first.cursor, /before first iteration/);
    await all(first);
    const rest = await all(kv.list({ prefix: ['users'] }, { cursor: first.cursor }));
    assert.deepEqual(keys(rest), ['c', 'd', 'e']);
    const back = kv.list({ prefix: ['users'] }, { limit: 2, reverse: true });
    await all(back);
    assert.deepEqual(keys(await all(kv.list({ prefix: ['users'] }, { cursor: back.cursor, reverse: true }))), ['c', 'b', 'a']);
    // Small batches page through the host without losing or repeating entries.
    assert.deepEqual(keys(await all(kv.list({ prefix: ['users'] }, { batchSize: 2 }))), ['a', 'b', 'c', 'd', 'e']);
    await assert.rejects(all(kv.list({ start: ['users'] } as never)), TypeError);
  });

  test('keys order by type then value in list results', async (t) => {
    const { kv } = await fixture(t);
    const parts = [true, 2n, 1.5, 'b', new Uint8Array([1]), false, -1n, 'a', -3];
    for (const p of parts) await kv.set(['k', p], 1);
    const listed = (await all(kv.list({ prefix: ['k'] }))).map((e) => e.key[1]);
    assert.deepEqual(listed, [new Uint8Array([1]), 'a', 'b', -3, 1.5, -1n, 2n, false, true]);
  });

  test('atomic: checks compare versionstamps; a concurrent writer makes the check fail and nothing is written', async (t) => {
    const { kv, twin } = await fixture(t);
    await kv.set(['balance', 'alice'], 100);
    const read = await kv.get(['balance', 'alice']);
    // Another client writes between our read and our commit.
    await twin.set(['balance', 'alice'], 50);
    const result = await kv.atomic().check(read).set(['balance', 'alice'], 90).set(['log', 1], 'debit').commit();
    assert.deepEqual(result, { ok: false });
    assert.equal((await kv.get(['balance', 'alice'])).value, 50);
    assert.equal((await kv.get(['log', 1])).value, null, 'no mutation of a failed commit is applied');

    const fresh = await kv.get(['balance', 'alice']);
    const ok = await kv.atomic().check(fresh).check({ key: ['new'], versionstamp: null }).set(['balance', 'alice'], 40).set(['new'], 1).delete(['log', 1]).commit();
    assert.equal(ok.ok, true);
    const [balance, created] = await kv.getMany([['balance', 'alice'], ['new']]);
    assert.equal(balance?.value, 40);
    assert.equal(balance?.versionstamp, ok.ok ? ok.versionstamp : '');
    assert.equal(created?.versionstamp, ok.ok ? ok.versionstamp : '', 'every mutation of one commit shares its versionstamp');
    assert.deepEqual(await kv.atomic().check({ key: ['new'], versionstamp: null }).set(['new'], 2).commit(), { ok: false }, 'versionstamp null means the key must not exist');
  });

  test('atomic: concurrent increments with check-and-retry lose no update', async (t) => {
    const { kv, twin } = await fixture(t);
    const increment = async (client: Kv): Promise<void> => {
      for (;;) {
        const cur = await client.get(['n']);
        const r = await client.atomic().check(cur).set(['n'], ((cur.value as number | null) ?? 0) + 1).commit();
        if (r.ok) return;
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? kv : twin)));
    assert.equal((await kv.get(['n'])).value, 20);
  });

  test('sum, min and max on KvU64; sum wraps at 2^64; a non-U64 value is a TypeError', async (t) => {
    const { kv } = await fixture(t);
    await kv.atomic().sum(['visits'], 5n).commit();
    await kv.atomic().sum(['visits'], 3n).commit();
    assert.equal(((await kv.get(['visits'])).value as KvU64).value, 8n);
    await kv.atomic().min(['visits'], 2n).commit();
    assert.equal(((await kv.get(['visits'])).value as KvU64).value, 2n);
    await kv.atomic().max(['visits'], 9n).commit();
    assert.equal(((await kv.get(['visits'])).value as KvU64).value, 9n);
    await kv.set(['wrap'], new KvU64((1n << 64n) - 1n));
    await kv.atomic().sum(['wrap'], 2n).commit();
    assert.equal(((await kv.get(['wrap'])).value as KvU64).value, 1n);
    await kv.set(['text'], 'hello');
    await assert.rejects(kv.atomic().sum(['text'], 1n).commit(), (e: Error) => e instanceof TypeError && /non-U64/.test(e.message));
    assert.throws(() => new KvU64(-1n), RangeError);
    assert.throws(() => kv.atomic().mutate({ type: 'sum', key: ['x'], value: 1 as never }), TypeError);
  });

  test('expireIn: the value disappears once its time has passed', async (t) => {
    const { kv, clock } = await fixture(t);
    await kv.set(['session'], 'token', { expireIn: 60_000 });
    await kv.set(['keep'], 'forever');
    assert.equal((await kv.get(['session'])).value, 'token');
    clock.ms += 59_999;
    assert.equal((await kv.get(['session'])).value, 'token');
    clock.ms += 2;
    assert.equal((await kv.get(['session'])).value, null);
    assert.deepEqual((await all(kv.list({ start: [''], end: ['zzz'] }))).map((e) => e.key), [['keep']]);
    assert.deepEqual(await kv.atomic().check({ key: ['session'], versionstamp: null }).set(['session'], 'new').commit().then((r) => r.ok), true);
  });

  test('each database is separate (one per function)', async (t) => {
    const { kv, other } = await fixture(t);
    await kv.set(['shared-name'], 'mine');
    assert.equal((await other.get(['shared-name'])).value, null);
    assert.deepEqual(await all(other.list({ prefix: [] })), []);
  });

  test('limits and unsupported features say so', async (t) => {
    const { kv } = await fixture(t);
    await assert.rejects(kv.set(['big'], 'x'.repeat(70_000)), /Value too large/);
    await assert.rejects(kv.getMany(Array.from({ length: 11 }, (_, i) => [i])), TypeError);
    await assert.rejects(kv.set([{} as never], 1), TypeError);
    await assert.rejects(kv.set(['fn'], () => 1), (e: Error) => e.name === 'DataCloneError');
    await assert.rejects(kv.enqueue(), /not supported/);
    assert.throws(() => kv.watch(), /not supported/);
  });
});
