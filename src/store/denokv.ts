/**
 * @module
 * The storage interface behind Deno KV (`Deno.openKv()`): ordered binary keys per database,
 * values with their encoding, versionstamps, expiry, and atomic commits whose checks and
 * mutations apply together or not at all. Keys arrive already encoded (bindings/denokv/keys.ts
 * maps Deno's key tuples to bytes whose byte order is Deno's key order), so a backend only
 * compares bytes.
 */

/** How a value's bytes are to be read: V8 structured-clone data, raw bytes, or a 64-bit unsigned integer (8 bytes, big-endian). */
export type DenoKvEncoding = 'v8' | 'bytes' | 'u64';

export interface DenoKvValue {
  encoding: DenoKvEncoding;
  data: Uint8Array;
}

export interface DenoKvEntry extends DenoKvValue {
  key: Uint8Array;
  /** 20 hex characters; increases with every commit to the store. */
  versionstamp: string;
}

export interface DenoKvRange {
  /** Inclusive lower bound. */
  start: Uint8Array;
  /** Exclusive upper bound. */
  end: Uint8Array;
  limit: number;
  reverse: boolean;
}

export interface DenoKvCheck {
  key: Uint8Array;
  /** null: the key must not exist. */
  versionstamp: string | null;
}

export type DenoKvMutation =
  | { type: 'set'; key: Uint8Array; value: DenoKvValue; /** epoch ms */ expireAt?: number }
  | { type: 'delete'; key: Uint8Array }
  | { type: 'sum' | 'min' | 'max'; key: Uint8Array; value: bigint };

export type DenoKvCommitResult = { ok: true; versionstamp: string } | { ok: false };

export interface DenoKvStore {
  /** One entry per key, undefined where the key is missing or expired. */
  get(database: string, keys: readonly Uint8Array[]): Promise<Array<DenoKvEntry | undefined>>;
  /** Entries with start <= key < end, in key order (or reversed), at most `limit`. */
  list(database: string, range: DenoKvRange): Promise<DenoKvEntry[]>;
  /**
   * Applies every mutation if every check holds, in one transaction. A failed check changes
   * nothing and returns `{ ok: false }`. sum/min/max on a value that is not a u64 throws
   * OutpostError DENOKV_TYPE.
   */
  commit(database: string, checks: readonly DenoKvCheck[], mutations: readonly DenoKvMutation[]): Promise<DenoKvCommitResult>;
}
