/**
 * @module
 * The `Deno.Kv` a Deno function gets from `Deno.openKv()` (Web APIs only: this runs inside the
 * isolate). Reads, lists and atomic commits cross to the host, which owns the database, checks
 * limits and orders keys; this side shapes results as Deno does (KvEntryMaybe, KvListIterator
 * with cursors, AtomicOperation, KvU64). Queues (`enqueue`/`listenQueue`) and `watch` are not
 * supported and say so.
 */
import type { Rpc } from '../rpc.ts';

type KvKeyPart = Uint8Array | string | number | bigint | boolean;
type KvKey = readonly KvKeyPart[];

const U64_MAX = (1n << 64n) - 1n;

/** Deno.KvU64: an unsigned 64-bit integer value, the operand and result of sum/min/max. */
export class KvU64 {
  readonly value: bigint;
  constructor(value: bigint) {
    if (typeof value !== 'bigint') throw new TypeError('Value must be a bigint');
    if (value < 0n) throw new RangeError('Value must be a positive bigint');
    if (value > U64_MAX) throw new RangeError('Value must fit in a 64-bit unsigned integer');
    this.value = value;
    Object.freeze(this);
  }
  valueOf(): bigint {
    return this.value;
  }
  toString(): string {
    return this.value.toString();
  }
  get [Symbol.toStringTag](): string {
    return 'Deno.KvU64';
  }
}

interface WireValue {
  encoding: 'v8' | 'bytes' | 'u64';
  value: unknown;
}

interface WireEntry {
  key: KvKeyPart[];
  value: WireValue;
  versionstamp: string;
  cursor?: string;
}

export interface KvEntryMaybe {
  key: KvKey;
  value: unknown;
  versionstamp: string | null;
}

export type KvCommitResult = { ok: true; versionstamp: string } | { ok: false };

function toWire(value: unknown): WireValue {
  if (value instanceof KvU64) return { encoding: 'u64', value: value.value };
  if (value instanceof Uint8Array && value.constructor === Uint8Array) return { encoding: 'bytes', value };
  // Fail here, with Deno's DataCloneError, rather than when the message is posted.
  structuredClone(value);
  return { encoding: 'v8', value };
}

function fromWire(value: WireValue): unknown {
  if (value.encoding === 'u64') return new KvU64(value.value as bigint);
  return value.value;
}

function entryOf(e: WireEntry): KvEntryMaybe {
  return { key: e.key, value: fromWire(e.value), versionstamp: e.versionstamp };
}

function checkKey(key: unknown): KvKey {
  if (!Array.isArray(key)) throw new TypeError('Key must be an array');
  for (const part of key) {
    if (!(part instanceof Uint8Array) && !['string', 'number', 'bigint', 'boolean'].includes(typeof part)) {
      throw new TypeError(`Invalid key part: ${part === null ? 'null' : typeof part}`);
    }
  }
  return key as KvKey;
}

/** Rethrows host errors as the classes Deno throws (TypeError for bad input). */
async function call(rpc: Rpc, binding: string, method: string, args: unknown[]): Promise<unknown> {
  try {
    return await rpc(binding, method, args);
  } catch (error) {
    const e = error as Error;
    if (e.name === 'TypeError') throw new TypeError(e.message);
    throw error;
  }
}

interface ListSelector {
  prefix?: KvKey;
  start?: KvKey;
  end?: KvKey;
}

interface ListOptions {
  limit?: number;
  cursor?: string;
  reverse?: boolean;
  batchSize?: number;
  consistency?: 'strong' | 'eventual';
}

/** Deno.KvListIterator: pages through the host in batches; `cursor` resumes after the last entry yielded. */
export class KvListIterator implements AsyncIterableIterator<KvEntryMaybe> {
  readonly #fetch: (limit: number, cursor: string | undefined) => Promise<WireEntry[]>;
  readonly #batchSize: number;
  #remaining: number;
  #cursor: string | undefined;
  #buffer: WireEntry[] = [];
  #exhausted = false;
  #started = false;

  constructor(fetchPage: (limit: number, cursor: string | undefined) => Promise<WireEntry[]>, options: ListOptions) {
    this.#fetch = fetchPage;
    this.#remaining = options.limit ?? Infinity;
    this.#batchSize = Math.max(1, Math.min(options.batchSize ?? Math.min(options.limit ?? 100, 500), 1000));
    this.#cursor = options.cursor;
  }

  /** The cursor after the last entry returned; throws before the first one, as Deno does. */
  get cursor(): string {
    if (!this.#started) throw new Error('Cannot get cursor before first iteration');
    return this.#cursor ?? '';
  }

  async next(): Promise<IteratorResult<KvEntryMaybe, undefined>> {
    this.#started = true;
    if (this.#remaining <= 0) return { done: true, value: undefined };
    if (this.#buffer.length === 0 && !this.#exhausted) {
      const want = Math.min(this.#batchSize, this.#remaining);
      const page = await this.#fetch(want, this.#cursor);
      if (page.length < want) this.#exhausted = true;
      this.#buffer = page;
    }
    const next = this.#buffer.shift();
    if (!next) {
      this.#cursor = '';
      return { done: true, value: undefined };
    }
    this.#remaining--;
    this.#cursor = next.cursor ?? '';
    return { done: false, value: entryOf(next) };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<KvEntryMaybe> {
    return this;
  }
}

interface Check {
  key: KvKey;
  versionstamp: string | null;
}

type Mutation =
  | { type: 'set'; key: KvKey; value: unknown; expireIn?: number }
  | { type: 'delete'; key: KvKey }
  | { type: 'sum' | 'min' | 'max'; key: KvKey; value: KvU64 };

/** Deno.AtomicOperation: checks and mutations committed together, or not at all. */
export class AtomicOperation {
  readonly #commit: (checks: Check[], mutations: unknown[]) => Promise<KvCommitResult>;
  readonly #checks: Check[] = [];
  readonly #mutations: unknown[] = [];

  constructor(commit: (checks: Check[], mutations: unknown[]) => Promise<KvCommitResult>) {
    this.#commit = commit;
  }

  check(...checks: Check[]): this {
    for (const c of checks) {
      if (c.versionstamp !== null && (typeof c.versionstamp !== 'string' || !/^[0-9a-f]{20}$/.test(c.versionstamp))) throw new TypeError('invalid versionstamp');
      this.#checks.push({ key: checkKey(c.key), versionstamp: c.versionstamp });
    }
    return this;
  }

  mutate(...mutations: Mutation[]): this {
    for (const m of mutations) {
      const key = checkKey(m.key);
      if (m.type === 'set') this.#mutations.push({ type: 'set', key, value: toWire(m.value), ...(m.expireIn === undefined ? {} : { expireIn: m.expireIn }) });
      else if (m.type === 'delete') this.#mutations.push({ type: 'delete', key });
      else if (m.type === 'sum' || m.type === 'min' || m.type === 'max') {
        if (!(m.value instanceof KvU64)) throw new TypeError(`Failed to perform '${m.type}' mutation on a non-U64 operand`);
        this.#mutations.push({ type: m.type, key, value: toWire(m.value) });
      } else throw new TypeError(`Invalid mutation type: ${String((m as { type?: unknown }).type)}`);
    }
    return this;
  }

  set(key: KvKey, value: unknown, options: { expireIn?: number } = {}): this {
    return this.mutate({ type: 'set', key, value, ...(options.expireIn === undefined ? {} : { expireIn: options.expireIn }) });
  }

  delete(key: KvKey): this {
    return this.mutate({ type: 'delete', key });
  }

  sum(key: KvKey, n: bigint): this {
    return this.mutate({ type: 'sum', key, value: new KvU64(n) });
  }

  min(key: KvKey, n: bigint): this {
    return this.mutate({ type: 'min', key, value: new KvU64(n) });
  }

  max(key: KvKey, n: bigint): this {
    return this.mutate({ type: 'max', key, value: new KvU64(n) });
  }

  enqueue(): this {
    throw new Error('Deno KV queues (enqueue/listenQueue) are not supported by Outpost');
  }

  commit(): Promise<KvCommitResult> {
    return this.#commit(this.#checks, this.#mutations);
  }
}

/** Deno.Kv over one database served by the host. */
export class Kv {
  readonly #rpc: Rpc;
  readonly #binding: string;

  constructor(binding: string, rpc: Rpc) {
    this.#binding = binding;
    this.#rpc = rpc;
  }

  #call(method: string, ...args: unknown[]): Promise<unknown> {
    return call(this.#rpc, this.#binding, method, args);
  }

  async get(key: KvKey, _options?: { consistency?: string }): Promise<KvEntryMaybe> {
    const [entry] = await this.getMany([key]);
    return entry ?? { key, value: null, versionstamp: null };
  }

  async getMany(keys: readonly KvKey[], _options?: { consistency?: string }): Promise<KvEntryMaybe[]> {
    if (!Array.isArray(keys)) throw new TypeError('keys must be an array');
    const found = (await this.#call('get', keys.map(checkKey))) as Array<WireEntry | null>;
    return found.map((e, i) => (e ? entryOf(e) : { key: keys[i] ?? [], value: null, versionstamp: null }));
  }

  async set(key: KvKey, value: unknown, options: { expireIn?: number } = {}): Promise<KvCommitResult> {
    const result = await this.atomic().set(key, value, options).commit();
    if (!result.ok) throw new Error('Failed to set value');
    return result;
  }

  async delete(key: KvKey): Promise<void> {
    await this.atomic().delete(key).commit();
  }

  list(selector: ListSelector, options: ListOptions = {}): KvListIterator {
    if (typeof selector !== 'object' || selector === null) throw new TypeError('selector must be an object');
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) throw new TypeError('limit must be a positive integer');
    const wire: ListSelector = {};
    if (selector.prefix !== undefined) wire.prefix = checkKey(selector.prefix);
    if (selector.start !== undefined) wire.start = checkKey(selector.start);
    if (selector.end !== undefined) wire.end = checkKey(selector.end);
    const reverse = options.reverse === true;
    return new KvListIterator(async (limit, cursor) => {
      const page = (await this.#call('list', wire, { limit, reverse, ...(cursor ? { cursor } : {}) })) as { entries: WireEntry[] };
      return page.entries;
    }, options);
  }

  atomic(): AtomicOperation {
    return new AtomicOperation(async (checks, mutations) => (await this.#call('commit', checks, mutations)) as KvCommitResult);
  }

  async enqueue(): Promise<never> {
    throw new Error('Deno KV queues (enqueue/listenQueue) are not supported by Outpost');
  }

  async listenQueue(): Promise<never> {
    throw new Error('Deno KV queues (enqueue/listenQueue) are not supported by Outpost');
  }

  watch(): never {
    throw new Error('Deno KV watch() is not supported by Outpost');
  }

  close(): void {}

  [Symbol.dispose](): void {}
}

export function createDenoKv(binding: string, rpc: Rpc): object {
  return new Kv(binding, rpc);
}
