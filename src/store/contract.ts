/** @module The store contract suite: what every storage backend must do, run by each backend's test file. */
/*
 * Written once against the interfaces in types.ts. A backend's test file calls storeContract()
 * with a function that opens its store in a given directory with a given clock; each test gets
 * its own fresh temp directory and a clock it controls, so TTLs are checked to the second
 * without waiting.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { isOutpostError } from '../errors.ts';
import type { KvListKey, MetaChange, Store } from './types.ts';

export type OpenStore = (opts: { dir: string; now: () => number }) => Promise<Store> | Store;

/** A clock the test moves by hand (milliseconds since the epoch). */
interface Clock {
  ms: number;
}

/** 2030-01-01T00:00:00Z, a whole second, so `seconds * 1000` is exact. */
const EPOCH_MS = Date.UTC(2030, 0, 1);

interface Fixture {
  store: Store;
  clock: Clock;
  dir: string;
}

/** Waits (without sleeping) until `ready()` holds; backends may deliver watch events asynchronously. */
async function until(ready: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ready()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function isConflict(error: unknown): boolean {
  return isOutpostError(error, 'STORE_CONFLICT');
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined): string | undefined => (data === undefined ? undefined : new TextDecoder().decode(data));

export function storeContract(name: string, open: OpenStore): void {
  /** A store in its own temp dir, with its own clock; closed and removed after the test. */
  async function fresh(t: TestContext): Promise<Fixture> {
    const dir = await mkdtemp(join(tmpdir(), 'outpost-'));
    const clock: Clock = { ms: EPOCH_MS };
    const store = await open({ dir, now: () => clock.ms });
    t.after(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    return { store, clock, dir };
  }

  describe(`store contract: ${name}`, () => {
    describe('MetaStore', () => {
      test('get of a missing key is undefined; put then get returns the value and its revision', async (t) => {
        const { store } = await fresh(t);
        assert.equal(await store.meta.get('functions/none'), undefined);
        const value = { name: 'hello', versions: [1, 2], active: true, note: null, nested: { a: 'ü' } };
        const revision = await store.meta.put('functions/hello', value);
        assert.ok(Number.isInteger(revision) && revision > 0, `revision ${revision}`);
        assert.deepEqual(await store.meta.get('functions/hello'), { key: 'functions/hello', value, revision });
      });

      test('revisions increase with every write, across keys', async (t) => {
        const { store } = await fresh(t);
        const r1 = await store.meta.put('a', 1);
        const r2 = await store.meta.put('b', 2);
        const r3 = await store.meta.put('a', 3);
        assert.ok(r1 < r2 && r2 < r3, `${r1} < ${r2} < ${r3}`);
        assert.equal((await store.meta.get('a'))?.revision, r3);
        assert.equal((await store.meta.get('b'))?.revision, r2);
        await store.meta.delete('a');
        const r4 = await store.meta.put('a', 4);
        assert.ok(r4 > r3, 'a key written again after a delete gets a higher revision than before');
      });

      test('list returns the keys under a prefix in key order, and nothing outside it', async (t) => {
        const { store } = await fresh(t);
        for (const key of ['fn/c', 'fn', 'fn/a/2', 'fm/z', 'fn/a/10', 'fn0/x', 'fo', 'fn/b', 'fn/', 'fn/\u00e9', 'fn/\uffee', 'fnz']) {
          await store.meta.put(key, key);
        }
        const listed = await store.meta.list<string>('fn/');
        assert.deepEqual(listed.map((e) => e.key), ['fn/', 'fn/a/10', 'fn/a/2', 'fn/b', 'fn/c', 'fn/\u00e9', 'fn/\uffee']);
        for (const e of listed) assert.equal(e.value, e.key);
        assert.equal((await store.meta.list('')).length, 12);
        assert.deepEqual(await store.meta.list('nothing/'), []);
      });

      test('list includes keys with characters outside the Basic Multilingual Plane', async (t) => {
        const { store } = await fresh(t);
        await store.meta.put('tags/\u{1F600}', 1);
        await store.meta.put('tags/a', 2);
        assert.deepEqual((await store.meta.list('tags/')).map((e) => e.key).sort(), ['tags/a', 'tags/\u{1F600}']);
      });

      test('list reports each entry with its current revision', async (t) => {
        const { store } = await fresh(t);
        const r1 = await store.meta.put('v/1', 'x');
        const r2 = await store.meta.put('v/2', 'y');
        assert.deepEqual(await store.meta.list('v/'), [
          { key: 'v/1', value: 'x', revision: r1 },
          { key: 'v/2', value: 'y', revision: r2 },
        ]);
      });

      test('compare-and-set: expectRevision 0 creates only when the key does not exist', async (t) => {
        const { store } = await fresh(t);
        const r1 = await store.meta.put('lock', 'first', { expectRevision: 0 });
        await assert.rejects(store.meta.put('lock', 'second', { expectRevision: 0 }), isConflict);
        assert.deepEqual(await store.meta.get('lock'), { key: 'lock', value: 'first', revision: r1 });
      });

      test('compare-and-set: the current revision wins, a stale one is refused and changes nothing', async (t) => {
        const { store } = await fresh(t);
        const r1 = await store.meta.put('cfg', { v: 1 });
        const r2 = await store.meta.put('cfg', { v: 2 }, { expectRevision: r1 });
        assert.ok(r2 > r1);
        await assert.rejects(store.meta.put('cfg', { v: 3 }, { expectRevision: r1 }), (error: unknown) => {
          assert.ok(isConflict(error), `expected STORE_CONFLICT, got ${String(error)}`);
          return true;
        });
        assert.deepEqual(await store.meta.get('cfg'), { key: 'cfg', value: { v: 2 }, revision: r2 });
        await assert.rejects(store.meta.put('missing', 1, { expectRevision: r2 }), isConflict);
        assert.equal(await store.meta.get('missing'), undefined);
      });

      test('a refused write does not use up a revision or notify watchers', async (t) => {
        const { store } = await fresh(t);
        const seen: MetaChange[] = [];
        t.after(store.meta.watch('k', (c) => seen.push(c)));
        const r1 = await store.meta.put('k', 1);
        await assert.rejects(store.meta.put('k', 2, { expectRevision: 0 }), isConflict);
        const r2 = await store.meta.put('k', 3);
        await until(() => seen.length >= 2, 'two put events');
        assert.deepEqual(seen.map((c) => c.value), [1, 3]);
        assert.ok(r2 > r1);
      });

      test('delete removes the key; with a stale revision it throws and keeps the value', async (t) => {
        const { store } = await fresh(t);
        const r1 = await store.meta.put('d', 'one');
        const r2 = await store.meta.put('d', 'two');
        await assert.rejects(store.meta.delete('d', { expectRevision: r1 }), isConflict);
        assert.deepEqual(await store.meta.get('d'), { key: 'd', value: 'two', revision: r2 });
        await store.meta.delete('d', { expectRevision: r2 });
        assert.equal(await store.meta.get('d'), undefined);
        assert.deepEqual(await store.meta.list('d'), []);
        await store.meta.delete('never-existed');
        assert.equal(await store.meta.get('never-existed'), undefined);
      });

      test('watch sees puts and deletes under its prefix only, until unsubscribed', async (t) => {
        const { store } = await fresh(t);
        const seen: MetaChange[] = [];
        const unsubscribe = store.meta.watch('routes/', (c) => seen.push(c));
        const sentinel: MetaChange[] = [];
        t.after(store.meta.watch('routes/', (c) => sentinel.push(c)));

        const r1 = await store.meta.put('routes/a', { path: '/a' });
        await store.meta.put('other/x', 1);
        await store.meta.put('routesX', 1);
        await store.meta.delete('routes/a');
        await until(() => seen.length >= 2, 'a put and a delete event');
        assert.equal(seen.length, 2);
        assert.deepEqual(seen[0], { key: 'routes/a', op: 'put', value: { path: '/a' }, revision: r1 });
        assert.equal(seen[1]?.key, 'routes/a');
        assert.equal(seen[1]?.op, 'delete');
        assert.ok((seen[1]?.revision ?? 0) > r1, 'the delete carries a later revision');

        unsubscribe();
        await store.meta.put('routes/b', 2);
        await until(() => sentinel.length >= 3, 'the second watcher to see routes/b');
        assert.equal(seen.length, 2, 'no events after unsubscribe');
      });
    });

    describe('BlobStore', () => {
      const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

      test('put, get, has, localPath and delete round-trip every byte value', async (t) => {
        const { store } = await fresh(t);
        const key = 'bundles/fn/0123abcd.js';
        await store.blobs.put(key, ALL_BYTES);
        assert.equal(await store.blobs.has(key), true);
        assert.deepEqual(new Uint8Array((await store.blobs.get(key)) ?? []), ALL_BYTES);
        const local = await store.blobs.localPath(key);
        assert.ok(local, 'localPath gives a file');
        assert.deepEqual(new Uint8Array(await readFile(local)), ALL_BYTES);
        await store.blobs.delete(key);
        assert.equal(await store.blobs.has(key), false);
        assert.equal(await store.blobs.get(key), undefined);
        assert.equal(await store.blobs.localPath(key), undefined);
      });

      test('missing blobs are undefined, not errors', async (t) => {
        const { store } = await fresh(t);
        assert.equal(await store.blobs.get('nope/never'), undefined);
        assert.equal(await store.blobs.has('nope/never'), false);
        assert.equal(await store.blobs.localPath('nope/never'), undefined);
        await store.blobs.delete('nope/never');
      });

      test('an empty blob is stored as zero bytes', async (t) => {
        const { store } = await fresh(t);
        await store.blobs.put('empty.bin', new Uint8Array());
        assert.equal(await store.blobs.has('empty.bin'), true);
        assert.equal((await store.blobs.get('empty.bin'))?.byteLength, 0);
      });

      test('keys that climb out with .. or are absolute are refused and write nothing', async (t) => {
        const { store, dir } = await fresh(t);
        const marker = `escaped-${basename(dir)}`;
        const keys = [`../${marker}`, `a/../../${marker}`, `../../${marker}`, `/tmp/${marker}`, join(dir, marker), '..', 'a/..', '../'];
        for (const key of keys) {
          await assert.rejects(store.blobs.put(key, ALL_BYTES), `put(${JSON.stringify(key)}) should be refused`);
          await assert.rejects(store.blobs.get(key), `get(${JSON.stringify(key)}) should be refused`);
        }
        for (const where of [dir, dirname(dir), tmpdir(), '/tmp']) assert.equal(existsSync(join(where, marker)), false, `nothing written in ${where}`);
      });
    });

    describe('KvStore', () => {
      test('put and get a value with metadata; missing keys are undefined', async (t) => {
        const { store } = await fresh(t);
        await store.kv.put('ns', 'user:1', { value: bytes('alice'), metadata: { role: 'admin', n: 1 } });
        const got = await store.kv.get('ns', 'user:1');
        assert.ok(got);
        assert.equal(text(got.value), 'alice');
        assert.deepEqual(got.metadata, { role: 'admin', n: 1 });
        assert.equal(got.expiration, undefined);
        assert.equal(await store.kv.get('ns', 'user:2'), undefined);
      });

      test('binary values round-trip every byte value', async (t) => {
        const { store } = await fresh(t);
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        await store.kv.put('ns', 'bin', { value: all });
        assert.deepEqual(new Uint8Array((await store.kv.get('ns', 'bin'))?.value ?? []), all);
      });

      test('a second put replaces value, metadata and expiration', async (t) => {
        const { store, clock } = await fresh(t);
        const later = clock.ms / 1000 + 3600;
        await store.kv.put('ns', 'k', { value: bytes('one'), metadata: { v: 1 }, expiration: later });
        await store.kv.put('ns', 'k', { value: bytes('two') });
        const got = await store.kv.get('ns', 'k');
        assert.ok(got);
        assert.equal(text(got.value), 'two');
        assert.equal(got.metadata, undefined);
        assert.equal(got.expiration, undefined);
      });

      test('a key with expiration T is visible at T-1 s and gone at T', async (t) => {
        const { store, clock } = await fresh(t);
        const T = clock.ms / 1000 + 120;
        await store.kv.put('ns', 'session', { value: bytes('v'), expiration: T, metadata: 'm' });
        clock.ms = (T - 1) * 1000;
        const before = await store.kv.get('ns', 'session');
        assert.equal(text(before?.value), 'v');
        assert.equal(before?.expiration, T);
        assert.deepEqual((await store.kv.list('ns', { limit: 10 })).keys, [{ name: 'session', expiration: T, metadata: 'm' }]);
        clock.ms = T * 1000 - 1;
        assert.equal(text((await store.kv.get('ns', 'session'))?.value), 'v', 'still there 1 ms before T');
        clock.ms = T * 1000;
        assert.equal(await store.kv.get('ns', 'session'), undefined);
        assert.deepEqual((await store.kv.list('ns', { limit: 10 })).keys, []);
      });

      test('expired keys are left out of list while live ones remain', async (t) => {
        const { store, clock } = await fresh(t);
        const now = clock.ms / 1000;
        await store.kv.put('ns', 'a-short', { value: bytes('1'), expiration: now + 60 });
        await store.kv.put('ns', 'b-long', { value: bytes('2'), expiration: now + 600 });
        await store.kv.put('ns', 'c-forever', { value: bytes('3') });
        clock.ms = (now + 60) * 1000;
        const listed = await store.kv.list('ns', { limit: 1000 });
        assert.deepEqual(listed.keys.map((k) => k.name), ['b-long', 'c-forever']);
        assert.equal(listed.complete, true);
      });

      test('list pages through 2,500 keys with limit and cursor: each key once, in order, complete only at the end', async (t) => {
        const { store } = await fresh(t);
        const names = Array.from({ length: 2500 }, (_, i) => `item:${String(i).padStart(5, '0')}`);
        const shuffled = [...names].sort((a, b) => (a.split('').reverse().join('') < b.split('').reverse().join('') ? -1 : 1));
        for (const n of shuffled) await store.kv.put('ns', n, { value: bytes(n) });
        await store.kv.put('ns', 'itemz', { value: bytes('outside the prefix') });
        await store.kv.put('ns', 'aaa', { value: bytes('outside the prefix') });

        const seen: string[] = [];
        const pages: Array<{ count: number; complete: boolean; cursor: boolean }> = [];
        let cursor: string | undefined;
        for (let guard = 0; guard < 10; guard++) {
          const page = await store.kv.list('ns', { prefix: 'item:', limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
          seen.push(...page.keys.map((k) => k.name));
          pages.push({ count: page.keys.length, complete: page.complete, cursor: typeof page.cursor === 'string' && page.cursor !== '' });
          if (page.complete) break;
          cursor = page.cursor;
          assert.ok(cursor, 'an incomplete page carries a cursor');
        }
        assert.deepEqual(pages, [
          { count: 1000, complete: false, cursor: true },
          { count: 1000, complete: false, cursor: true },
          { count: 500, complete: true, cursor: false },
        ]);
        assert.deepEqual(seen, names);
      });

      test('list with a prefix and a small limit', async (t) => {
        const { store } = await fresh(t);
        for (const k of ['user:3', 'user:1', 'order:1', 'user:2', 'users', 'user;']) await store.kv.put('ns', k, { value: bytes(k), metadata: { k } });
        const first = await store.kv.list('ns', { prefix: 'user:', limit: 2 });
        assert.deepEqual(first.keys, [{ name: 'user:1', metadata: { k: 'user:1' } }, { name: 'user:2', metadata: { k: 'user:2' } }]);
        assert.equal(first.complete, false);
        assert.ok(first.cursor);
        const second = await store.kv.list('ns', { prefix: 'user:', limit: 2, cursor: first.cursor });
        assert.deepEqual(second.keys.map((k) => k.name), ['user:3']);
        assert.equal(second.complete, true);
        const all = await store.kv.list('ns', { limit: 1000 });
        assert.deepEqual(all.keys.map((k) => k.name), ['order:1', 'user:1', 'user:2', 'user:3', 'user;', 'users']);
      });

      test('list with a prefix includes keys with astral characters', async (t) => {
        const { store } = await fresh(t);
        await store.kv.put('ns', 'emoji:\u{1F600}', { value: bytes('x') });
        await store.kv.put('ns', 'emoji:a', { value: bytes('y') });
        assert.deepEqual((await store.kv.list('ns', { prefix: 'emoji:', limit: 10 })).keys.map((k) => k.name).sort(), ['emoji:a', 'emoji:\u{1F600}']);
      });

      test('namespaces are isolated from each other', async (t) => {
        const { store } = await fresh(t);
        await store.kv.put('alpha', 'shared', { value: bytes('a') });
        await store.kv.put('beta', 'shared', { value: bytes('b') });
        await store.kv.put('beta', 'only-beta', { value: bytes('b2') });
        assert.equal(text((await store.kv.get('alpha', 'shared'))?.value), 'a');
        assert.equal(text((await store.kv.get('beta', 'shared'))?.value), 'b');
        assert.equal(await store.kv.get('alpha', 'only-beta'), undefined);
        const names = (keys: KvListKey[]): string[] => keys.map((k) => k.name);
        assert.deepEqual(names((await store.kv.list('alpha', { limit: 10 })).keys), ['shared']);
        await store.kv.delete('beta', 'shared');
        assert.equal(text((await store.kv.get('alpha', 'shared'))?.value), 'a');
        assert.deepEqual((await store.kv.namespaces()).sort(), ['alpha', 'beta']);
      });

      test('delete removes a key; deleting a missing key is not an error', async (t) => {
        const { store } = await fresh(t);
        await store.kv.put('ns', 'k', { value: bytes('v') });
        await store.kv.delete('ns', 'k');
        assert.equal(await store.kv.get('ns', 'k'), undefined);
        assert.deepEqual((await store.kv.list('ns', { limit: 10 })).keys, []);
        await store.kv.delete('ns', 'k');
      });
    });
  });
}
