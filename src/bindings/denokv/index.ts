/**
 * @module
 * The host side of Deno KV (`Deno.openKv()`): validates keys, values and limits as Deno KV
 * does, encodes keys to ordered bytes, serialises values (V8 structured clone, as Deno stores
 * them) and serves each call from the store's DenoKvStore in the one database this function's
 * binding names — a function cannot name another database.
 */
import { deserialize, serialize } from 'node:v8';
import { OutpostError } from '../../errors.ts';
import type { DenoKvCheck, DenoKvEntry, DenoKvMutation, DenoKvStore, DenoKvValue } from '../../store/denokv.ts';
import { u64Bytes, u64Value } from '../../store/sqlite/denokv.ts';
import type { HostBinding } from '../rpc.ts';
import { decodeKey, encodeKey, KvKeyError, prefixRange, successor } from './keys.ts';

/** Deno KV's documented limits. */
export const DENOKV_LIMITS = Object.freeze({
  valueBytes: 65_536,
  getManyKeys: 10,
  checks: 100,
  mutations: 1000,
  listBatch: 1000,
});

/** A value as it crosses the isolate boundary (structured clone keeps bigint and Uint8Array). */
export type WireValue = { encoding: 'v8'; value: unknown } | { encoding: 'bytes'; value: Uint8Array } | { encoding: 'u64'; value: bigint };

export interface WireEntry {
  key: unknown[];
  value: WireValue;
  versionstamp: string;
  /** list() only: resumes the listing after this entry. */
  cursor?: string;
}

const U64_MAX = (1n << 64n) - 1n;

function typeError(message: string): TypeError {
  return new TypeError(message);
}

function toStored(value: unknown): DenoKvValue {
  const v = value as Partial<WireValue> | undefined;
  let stored: DenoKvValue;
  if (v?.encoding === 'u64') {
    if (typeof v.value !== 'bigint' || v.value < 0n || v.value > U64_MAX) throw typeError('Value must be a 64-bit unsigned integer');
    stored = { encoding: 'u64', data: u64Bytes(v.value) };
  } else if (v?.encoding === 'bytes' && v.value instanceof Uint8Array) {
    stored = { encoding: 'bytes', data: v.value };
  } else if (v?.encoding === 'v8') {
    stored = { encoding: 'v8', data: serialize(v.value) };
  } else throw typeError('invalid value');
  if (stored.data.byteLength > DENOKV_LIMITS.valueBytes) throw typeError(`Value too large (max ${DENOKV_LIMITS.valueBytes} bytes)`);
  return stored;
}

function toWireValue(entry: DenoKvValue): WireValue {
  if (entry.encoding === 'u64') return { encoding: 'u64', value: u64Value(entry.data) };
  if (entry.encoding === 'bytes') return { encoding: 'bytes', value: entry.data };
  return { encoding: 'v8', value: deserialize(entry.data) as unknown };
}

function toWireEntry(entry: DenoKvEntry): WireEntry {
  return { key: decodeKey(entry.key), value: toWireValue(entry), versionstamp: entry.versionstamp };
}

function versionstampOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || !/^[0-9a-f]{20}$/.test(value)) throw typeError('invalid versionstamp');
  return value;
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function fromBase64url(text: unknown): Uint8Array {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) throw typeError('invalid cursor');
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

interface Selector {
  prefix?: unknown;
  start?: unknown;
  end?: unknown;
}

/** A list selector → the byte range [start, end) it covers. */
export function selectorRange(selector: Selector): { start: Uint8Array; end: Uint8Array } {
  const has = (k: keyof Selector): boolean => selector[k] !== undefined;
  if (has('prefix')) {
    const range = prefixRange(encodeKey(selector.prefix));
    if (has('start') && has('end')) throw typeError('Selector can not specify both \'start\' and \'end\' key when specifying \'prefix\'.');
    const start = has('start') ? encodeKey(selector.start) : range.start;
    const end = has('end') ? encodeKey(selector.end) : range.end;
    return { start, end };
  }
  if (has('start') && has('end')) return { start: encodeKey(selector.start), end: encodeKey(selector.end) };
  throw typeError('Selector must specify either \'prefix\' or both \'start\' and \'end\' key.');
}

function parseMutation(raw: unknown, now: number): DenoKvMutation {
  const m = raw as { type?: unknown; key?: unknown; value?: unknown; expireIn?: unknown };
  const key = encodeKey(m.key);
  switch (m.type) {
    case 'set': {
      const mutation: DenoKvMutation = { type: 'set', key, value: toStored(m.value) };
      if (m.expireIn !== undefined && m.expireIn !== null) {
        if (typeof m.expireIn !== 'number' || !Number.isFinite(m.expireIn) || m.expireIn <= 0) throw typeError('expireIn must be a positive number of milliseconds');
        mutation.expireAt = now + Math.floor(m.expireIn);
      }
      return mutation;
    }
    case 'delete':
      return { type: 'delete', key };
    case 'sum':
    case 'min':
    case 'max': {
      const v = m.value as Partial<WireValue> | undefined;
      if (v?.encoding !== 'u64' || typeof v.value !== 'bigint') throw typeError(`Failed to perform '${m.type}' mutation on a non-U64 operand`);
      return { type: m.type, key, value: v.value };
    }
    default:
      throw typeError(`unknown mutation type ${String(m.type)}`);
  }
}

export function denoKvHost(store: DenoKvStore, database: string, now: () => number): HostBinding {
  const serve = async (method: string, args: unknown[]): Promise<unknown> => {
    switch (method) {
      case 'get': {
        const keys = args[0];
        if (!Array.isArray(keys)) throw typeError('keys must be an array');
        if (keys.length > DENOKV_LIMITS.getManyKeys) throw typeError(`Too many ranges (max ${DENOKV_LIMITS.getManyKeys})`);
        const encoded = keys.map(encodeKey);
        const found = await store.get(database, encoded);
        return found.map((e) => (e ? toWireEntry(e) : null));
      }
      case 'list': {
        const selector = (args[0] ?? {}) as Selector;
        const options = (args[1] ?? {}) as { limit?: unknown; reverse?: unknown; cursor?: unknown };
        const limit = options.limit === undefined ? DENOKV_LIMITS.listBatch : Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > DENOKV_LIMITS.listBatch) throw typeError(`limit must be an integer between 1 and ${DENOKV_LIMITS.listBatch}`);
        const reverse = options.reverse === true;
        let { start, end } = selectorRange(selector);
        if (options.cursor !== undefined && options.cursor !== '') {
          const after = fromBase64url(options.cursor);
          if (reverse) end = after;
          else start = successor(after);
        }
        const entries = await store.list(database, { start, end, limit, reverse });
        // Each entry carries the cursor that resumes the listing after it.
        return { entries: entries.map((e) => ({ ...toWireEntry(e), cursor: base64url(e.key) })) };
      }
      case 'commit': {
        const rawChecks = args[0];
        const rawMutations = args[1];
        if (!Array.isArray(rawChecks) || !Array.isArray(rawMutations)) throw typeError('invalid atomic operation');
        if (rawChecks.length > DENOKV_LIMITS.checks) throw typeError(`Too many checks (max ${DENOKV_LIMITS.checks})`);
        if (rawMutations.length > DENOKV_LIMITS.mutations) throw typeError(`Too many mutations (max ${DENOKV_LIMITS.mutations})`);
        const checks: DenoKvCheck[] = rawChecks.map((c: { key?: unknown; versionstamp?: unknown }) => ({ key: encodeKey(c.key), versionstamp: versionstampOf(c.versionstamp) }));
        const at = now();
        const mutations = rawMutations.map((m) => parseMutation(m, at));
        return store.commit(database, checks, mutations);
      }
      default:
        throw new OutpostError('DENOKV_UNSUPPORTED', `Deno KV has no operation ${method}`, { fault: 'user' });
    }
  };
  return async (method, args) => {
    try {
      return await serve(method, args);
    } catch (error) {
      if (error instanceof KvKeyError) throw new TypeError(error.message);
      if (error instanceof OutpostError && error.code === 'DENOKV_TYPE') throw new TypeError(error.message);
      throw error;
    }
  };
}
