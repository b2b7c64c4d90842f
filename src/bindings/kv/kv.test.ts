/** @module Tests for the KV binding's host side over a real SQLite store: Workers KV limits and messages, TTLs with an injected clock, getMany and list. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { isOutpostError } from '../../errors.ts';
import { openSqliteStore } from '../../store/sqlite/index.ts';
import type { HostBinding } from '../rpc.ts';
import { KV_LIMITS, kvHost } from './index.ts';

/** 2030-01-01T00:00:00Z in ms; a whole second. */
const T0_MS = Date.UTC(2030, 0, 1);
const T0 = T0_MS / 1000;

interface Env {
  kv: HostBinding;
  clock: { ms: number };
  /** A second binding over the same store, in another namespace. */
  other: HostBinding;
}

async function setup(t: TestContext): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-'));
  const clock = { ms: T0_MS };
  const now = (): number => clock.ms;
  const store = openSqliteStore({ dir, now });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { kv: kvHost(store.kv, 'ns-main', now), other: kvHost(store.kv, 'ns-other', now), clock };
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Asserts the call fails with a KV_LIMIT error whose message is exactly `message`. */
async function refused(call: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(isOutpostError(error, 'KV_LIMIT'), `expected KV_LIMIT, got ${String(error)}`);
    assert.equal(error.message, message);
    assert.equal(error.fault, 'user');
    return true;
  });
}

interface GetResult {
  value: Uint8Array;
  metadata: unknown;
}
interface ListResult {
  keys: Array<{ name: string; expiration?: number; metadata?: unknown }>;
  list_complete: boolean;
  cursor?: string;
  cacheStatus: null;
}

async function get(kv: HostBinding, key: string): Promise<GetResult | null> {
  return (await kv('get', [key])) as GetResult | null;
}
async function list(kv: HostBinding, options: Record<string, unknown> = {}): Promise<ListResult> {
  return (await kv('list', [options])) as ListResult;
}

describe('keys', () => {
  test('a key of 512 UTF-8 bytes is accepted; 513 bytes is refused with the 414 message', async (t) => {
    const { kv } = await setup(t);
    const max = 'k'.repeat(512);
    await kv('put', [max, bytes('v')]);
    assert.equal(new TextDecoder().decode((await get(kv, max))?.value), 'v');
    await refused(kv('put', ['k'.repeat(513), bytes('v')]), 'KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.');
    await refused(kv('get', ['k'.repeat(513)]), 'KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.');
  });

  test('key length is counted in UTF-8 bytes, not characters', async (t) => {
    const { kv } = await setup(t);
    await refused(kv('put', ['é'.repeat(257), bytes('v')]), 'KV PUT failed: 414 UTF-8 encoded length of 514 exceeds key length limit of 512.');
    await kv('put', ['é'.repeat(256), bytes('v')]);
  });

  test('empty, "." and ".." keys are refused for every operation', async (t) => {
    const { kv } = await setup(t);
    await refused(kv('get', ['']), 'KV GET failed: 400 Key names must not be empty.');
    await refused(kv('put', ['', bytes('v')]), 'KV PUT failed: 400 Key names must not be empty.');
    await refused(kv('delete', ['']), 'KV DELETE failed: 400 Key names must not be empty.');
    await refused(kv('put', ['.', bytes('v')]), 'KV PUT failed: 400 Illegal key name ".". Please use a different name.');
    await refused(kv('get', ['..']), 'KV GET failed: 400 Illegal key name "..". Please use a different name.');
    await kv('put', ['...', bytes('dots are fine otherwise')]);
    assert.ok(await get(kv, '...'));
  });
});

describe('values and metadata', () => {
  test('a value of exactly 25 MiB is accepted; one byte more is refused with the 413 message', async (t) => {
    const { kv } = await setup(t);
    await refused(kv('put', ['big', new Uint8Array(KV_LIMITS.valueBytes + 1)]), 'KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.');
    assert.equal(await get(kv, 'big'), null, 'a refused put stores nothing');
    await kv('put', ['big', new Uint8Array(KV_LIMITS.valueBytes)]);
    assert.equal((await get(kv, 'big'))?.value.byteLength, 26_214_400);
  });

  test('a value that is not bytes is refused', async (t) => {
    const { kv } = await setup(t);
    await refused(kv('put', ['k', 'a string']), 'KV PUT failed: 400 Invalid value.');
  });

  test('metadata up to 1024 bytes of JSON is kept; more is refused with the 413 message', async (t) => {
    const { kv } = await setup(t);
    const fits = 'm'.repeat(1022); // JSON adds two quotes: 1024 bytes
    await kv('put', ['k', bytes('v'), { metadata: fits }]);
    assert.deepEqual(await get(kv, 'k'), { value: bytes('v'), metadata: fits });
    await refused(kv('put', ['k2', bytes('v'), { metadata: 'm'.repeat(1023) }]), 'KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024.');
    await refused(kv('put', ['k2', bytes('v'), { metadata: { text: 'ü'.repeat(600) } }]), 'KV PUT failed: 413 Metadata length of 1211 exceeds limit of 1024.');
    assert.equal(await get(kv, 'k2'), null);
  });

  test('get returns the value and metadata (null when none); a missing key is null', async (t) => {
    const { kv } = await setup(t);
    await kv('put', ['plain', bytes('1')]);
    await kv('put', ['tagged', bytes('2'), { metadata: { owner: 'ann', n: 2 } }]);
    assert.deepEqual(await get(kv, 'plain'), { value: bytes('1'), metadata: null });
    assert.deepEqual(await get(kv, 'tagged'), { value: bytes('2'), metadata: { owner: 'ann', n: 2 } });
    assert.equal(await get(kv, 'absent'), null);
  });

  test('delete removes the key', async (t) => {
    const { kv } = await setup(t);
    await kv('put', ['k', bytes('v')]);
    assert.equal(await kv('delete', ['k']), null);
    assert.equal(await get(kv, 'k'), null);
  });

  test('each binding sees only its own namespace', async (t) => {
    const { kv, other } = await setup(t);
    await kv('put', ['shared', bytes('main')]);
    assert.equal(await get(other, 'shared'), null);
    await other('put', ['shared', bytes('other')]);
    assert.equal(new TextDecoder().decode((await get(kv, 'shared'))?.value), 'main');
    assert.deepEqual((await list(other)).keys.map((k) => k.name), ['shared']);
  });
});

describe('expiration', () => {
  test('expirationTtl sets expiration = now + ttl, and the key disappears exactly then', async (t) => {
    const { kv, clock } = await setup(t);
    clock.ms = T0_MS + 999; // mid-second: the current second is T0
    await kv('put', ['session', bytes('v'), { expirationTtl: 120 }]);
    assert.deepEqual((await list(kv)).keys, [{ name: 'session', expiration: T0 + 120 }]);
    clock.ms = (T0 + 119) * 1000;
    assert.ok(await get(kv, 'session'));
    clock.ms = (T0 + 120) * 1000;
    assert.equal(await get(kv, 'session'), null);
  });

  test('expirationTtl below 60 is refused; 60 is accepted', async (t) => {
    const { kv } = await setup(t);
    await refused(kv('put', ['k', bytes('v'), { expirationTtl: 59 }]), 'KV PUT failed: 400 Invalid expiration_ttl of 59. Expiration TTL must be at least 60.');
    await kv('put', ['k', bytes('v'), { expirationTtl: 60 }]);
    assert.deepEqual((await list(kv)).keys, [{ name: 'k', expiration: T0 + 60 }]);
  });

  test('an absolute expiration must be at least 60 s in the future', async (t) => {
    const { kv } = await setup(t);
    const message = (at: number): string => `KV PUT failed: 400 Invalid expiration of ${at}. Expiration times must be at least 60 seconds in the future.`;
    await refused(kv('put', ['k', bytes('v'), { expiration: T0 - 3600 }]), message(T0 - 3600));
    await refused(kv('put', ['k', bytes('v'), { expiration: T0 }]), message(T0));
    await refused(kv('put', ['k', bytes('v'), { expiration: T0 + 59 }]), message(T0 + 59));
    assert.equal(await get(kv, 'k'), null);
    await kv('put', ['k', bytes('v'), { expiration: T0 + 60 }]);
    assert.deepEqual((await list(kv)).keys, [{ name: 'k', expiration: T0 + 60 }]);
  });

  test('a non-numeric ttl is refused', async (t) => {
    const { kv } = await setup(t);
    await refused(kv('put', ['k', bytes('v'), { expirationTtl: 'soon' }]), 'KV PUT failed: 400 Invalid expiration_ttl of soon. Please specify integer greater than 0.');
  });
});

describe('getMany', () => {
  test('up to 100 keys come back in order, null for missing ones', async (t) => {
    const { kv } = await setup(t);
    await kv('put', ['k7', bytes('seven'), { metadata: 7 }]);
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const results = (await kv('getMany', [keys])) as Array<GetResult | null>;
    assert.equal(results.length, 100);
    assert.deepEqual(results[7], { value: bytes('seven'), metadata: 7 });
    assert.equal(results.filter((r) => r === null).length, 99);
  });

  test('101 keys are refused', async (t) => {
    const { kv } = await setup(t);
    const keys = Array.from({ length: 101 }, (_, i) => `k${i}`);
    await refused(kv('getMany', [keys]), 'KV GET failed: 400 You can request a maximum of 100 keys');
  });

  test('one bad key in the batch refuses the batch', async (t) => {
    const { kv } = await setup(t);
    await refused(kv('getMany', [['ok', '']]), 'KV GET failed: 400 Key names must not be empty.');
  });
});

describe('list', () => {
  test('limit above 1000 or below 1 is refused', async (t) => {
    const { kv } = await setup(t);
    const message = (n: number): string => `KV LIST failed: 400 Invalid key_count_limit of ${n}. Please specify an integer greater than 0 and no more than 1000.`;
    await refused(kv('list', [{ limit: 1001 }]), message(1001));
    await refused(kv('list', [{ limit: 0 }]), message(0));
    await refused(kv('list', [{ limit: 2.5 }]), message(2.5));
    assert.equal((await list(kv, { limit: 1000 })).list_complete, true);
  });

  test('list returns list_complete, a cursor to continue, and each key with its expiration and metadata', async (t) => {
    const { kv } = await setup(t);
    await kv('put', ['img:1', bytes('a'), { metadata: { w: 10 }, expirationTtl: 600 }]);
    await kv('put', ['img:2', bytes('b')]);
    await kv('put', ['img:3', bytes('c'), { metadata: 'third' }]);
    await kv('put', ['txt:1', bytes('d')]);

    const first = await list(kv, { prefix: 'img:', limit: 2 });
    assert.deepEqual(first.keys, [{ name: 'img:1', expiration: T0 + 600, metadata: { w: 10 } }, { name: 'img:2' }]);
    assert.equal(first.list_complete, false);
    assert.equal(typeof first.cursor, 'string');
    assert.equal(first.cacheStatus, null);

    const second = await list(kv, { prefix: 'img:', limit: 2, cursor: first.cursor });
    assert.deepEqual(second.keys, [{ name: 'img:3', metadata: 'third' }]);
    assert.equal(second.list_complete, true);
    assert.equal('cursor' in second, false);
  });

  test('with no options, list returns every key in order', async (t) => {
    const { kv } = await setup(t);
    for (const k of ['b', 'a', 'c']) await kv('put', [k, bytes(k)]);
    const all = await list(kv);
    assert.deepEqual(all.keys.map((k) => k.name), ['a', 'b', 'c']);
    assert.equal(all.list_complete, true);
  });
});

test('an unknown operation is refused', async (t) => {
  const { kv } = await setup(t);
  await assert.rejects(kv('increment', ['k']), (error: unknown) => isOutpostError(error, 'KV_LIMIT') && /unknown operation increment/.test(error.message));
});
