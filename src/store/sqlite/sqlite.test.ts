/** @module Runs the store contract against the embedded SQLite store, and checks its data survives a close and reopen. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { storeContract } from '../contract.ts';
import { queueStoreContract } from '../queues.contract.ts';
import { objectStoreContract } from '../objects.contract.ts';
import { openSqliteStore } from './index.ts';

storeContract('sqlite', ({ dir, now }) => openSqliteStore({ dir, now }));
queueStoreContract('sqlite', ({ dir, now }) => openSqliteStore({ dir, now }));
objectStoreContract('sqlite', ({ dir, now }) => openSqliteStore({ dir, now }));

test('sqlite: metadata, blobs and KV survive close and reopen of the same dir', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const now = (): number => Date.UTC(2030, 0, 1);

  const first = openSqliteStore({ dir, now });
  const revision = await first.meta.put('functions/hello', { version: 3 });
  await first.blobs.put('bundles/abc.js', new TextEncoder().encode('export default {}'));
  await first.kv.put('ns', 'greeting', { value: new TextEncoder().encode('hi'), metadata: { lang: 'en' }, expiration: now() / 1000 + 3600 });
  await first.close();

  const second = openSqliteStore({ dir, now });
  t.after(() => second.close());
  assert.deepEqual(await second.meta.get('functions/hello'), { key: 'functions/hello', value: { version: 3 }, revision });
  assert.equal(new TextDecoder().decode(await second.blobs.get('bundles/abc.js')), 'export default {}');
  const kv = await second.kv.get('ns', 'greeting');
  assert.ok(kv);
  assert.equal(new TextDecoder().decode(kv.value), 'hi');
  assert.deepEqual(kv.metadata, { lang: 'en' });
  assert.equal(kv.expiration, now() / 1000 + 3600);
  assert.ok((await second.meta.put('functions/other', 1)) > revision, 'revisions keep increasing after a reopen');
  assert.equal(second.description, `sqlite:${dir}`);
});
