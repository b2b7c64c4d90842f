/**
 * @module
 * Bearer tokens for the control API. Only a hash is stored; the token itself is shown once,
 * when it is created (at a node's first start, or by `outpost tokens create`).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MetaStore } from '../store/types.ts';
import { keys } from './records.ts';

interface TokenRecord {
  id: string;
  hash: string;
  createdAt: string;
  label: string;
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class Tokens {
  readonly #meta: MetaStore;
  #cache: TokenRecord[] | undefined;

  constructor(meta: MetaStore) {
    this.#meta = meta;
    meta.watch(keys.tokenPrefix, () => (this.#cache = undefined));
  }

  async any(): Promise<boolean> {
    return (await this.#all()).length > 0;
  }

  /** Creates a token and returns it; this is the only time it is visible. */
  async create(label: string): Promise<string> {
    const id = randomBytes(6).toString('hex');
    const token = `op_${id}_${randomBytes(24).toString('base64url')}`;
    await this.#meta.put(keys.token(id), { id, hash: hash(token), createdAt: new Date().toISOString(), label } satisfies TokenRecord);
    this.#cache = undefined;
    return token;
  }

  async verify(token: string): Promise<boolean> {
    const id = /^op_([0-9a-f]{12})_/.exec(token)?.[1];
    if (!id) return false;
    const record = (await this.#all()).find((t) => t.id === id);
    if (!record) return false;
    const a = Buffer.from(record.hash, 'hex');
    const b = Buffer.from(hash(token), 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async #all(): Promise<TokenRecord[]> {
    this.#cache ??= (await this.#meta.list<TokenRecord>(keys.tokenPrefix)).map((e) => e.value);
    return this.#cache;
  }
}
