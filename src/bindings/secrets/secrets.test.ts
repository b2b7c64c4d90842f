/** @module Tests for the secret vault: encryption at rest, the key file, names-only listing, slot binding and redaction. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { isOutpostError } from '../../errors.ts';
import { openSqliteStore } from '../../store/sqlite/index.ts';
import type { Store } from '../../store/types.ts';
import { redact, redactionList, SecretVault, secretsKeySource } from './index.ts';

async function setup(t: TestContext): Promise<{ dir: string; store: Store }> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-secrets-'));
  const store = openSqliteStore({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, store };
}

test('secrets are encrypted at rest, listed by name only, and decrypt for their own function', async (t) => {
  const { dir, store } = await setup(t);
  const vault = new SecretVault(store.meta, secretsKeySource(dir, {}));
  await vault.put('billing', 'API_KEY', 'sk_live_0123456789');
  await vault.put('billing', 'OTHER', 'x');
  const key = await stat(join(dir, 'secrets.key'));
  assert.equal(key.mode & 0o777, 0o600);
  const raw = JSON.stringify(await store.meta.list('secrets/'));
  assert.ok(!raw.includes('sk_live_0123456789'));
  const db = await readFile(join(dir, 'outpost.db'));
  assert.ok(!db.includes(Buffer.from('sk_live_0123456789')));
  assert.deepEqual((await vault.list('billing')).map((s) => Object.keys(s).sort()), [['name', 'updatedAt'], ['name', 'updatedAt']]);
  const { values, fingerprint } = await vault.values('billing');
  assert.deepEqual(values, { API_KEY: 'sk_live_0123456789', OTHER: 'x' });
  assert.deepEqual((await vault.values('shop')).values, {});
  // A record copied into another function's slot does not decrypt there.
  const sealed = await store.meta.get('secrets/billing/API_KEY');
  await store.meta.put('secrets/shop/API_KEY', sealed?.value);
  await assert.rejects(vault.values('shop'), (e) => isOutpostError(e, 'SECRETS_KEY_INVALID'));
  await vault.delete('billing', 'OTHER');
  assert.notEqual((await vault.values('billing')).fingerprint, fingerprint);
  await assert.rejects(vault.delete('billing', 'OTHER'), (e) => isOutpostError(e, 'SECRET_NOT_FOUND'));
  await assert.rejects(vault.put('billing', 'bad name', 'v'), (e) => isOutpostError(e, 'INVALID_SECRET'));
});

test('the key comes from OUTPOST_SECRETS_KEY when set, and a wrong key is refused', async (t) => {
  const { store } = await setup(t);
  const k1 = Buffer.alloc(32, 1).toString('base64');
  const vault = new SecretVault(store.meta, secretsKeySource(undefined, { OUTPOST_SECRETS_KEY: k1 }));
  await vault.put('f', 'S', 'value-1');
  assert.deepEqual((await vault.values('f')).values, { S: 'value-1' });
  const other = new SecretVault(store.meta, secretsKeySource(undefined, { OUTPOST_SECRETS_KEY: Buffer.alloc(32, 2).toString('base64') }));
  await assert.rejects(other.values('f'), (e) => isOutpostError(e, 'SECRETS_KEY_INVALID'));
  const short = new SecretVault(store.meta, secretsKeySource(undefined, { OUTPOST_SECRETS_KEY: 'abcd' }));
  await assert.rejects(short.put('f', 'S', 'v'), (e) => isOutpostError(e, 'SECRETS_KEY_INVALID'));
});

test('redact replaces every secret value, longest first', () => {
  const list = redactionList({ A: 'hunter2-long' }, { B: 'hunter2-long-er', C: 'ab' });
  assert.equal(redact('x hunter2-long-er y hunter2-long ab', list), 'x [REDACTED] y [REDACTED] ab');
});
