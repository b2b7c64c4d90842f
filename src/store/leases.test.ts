import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteStore } from './index.ts';
import { acquireLease } from './leases.ts';

test('one owner at a time; a lapsed lease is taken over and its old holder finds out; a restart on the same node takes its lease back at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-leases-'));
  const store = openSqliteStore({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  let now = 1_000;
  const options = (owner: string, node?: string) => ({ meta: store.meta, owner, node, ttlMs: 100, now: () => now });

  const a = await acquireLease(options('a', 'host:/state-a'), 'leases/x');
  assert.ok(a);
  assert.equal(await acquireLease(options('b', 'host:/state-b'), 'leases/x'), undefined, 'held by a');
  now += 50;
  assert.equal(await a.renew(), true);
  now += 90; // within the renewed lease
  assert.equal(await acquireLease(options('b', 'host:/state-b'), 'leases/x'), undefined);
  now += 20; // a stopped renewing: lapsed
  const b = await acquireLease(options('b', 'host:/state-b'), 'leases/x');
  assert.ok(b);
  assert.equal(await a.renew(), false, 'a learns it lost the lease');
  assert.equal(a.lost, true);

  // b's node restarts: the new process (owner b2) takes the live lease of its predecessor.
  const b2 = await acquireLease(options('b2', 'host:/state-b'), 'leases/x');
  assert.ok(b2);
  assert.equal(await b.renew(), false);
  await b2.release();
  assert.ok(await acquireLease(options('c', 'host:/state-c'), 'leases/x'), 'a released lease is free at once');
});
