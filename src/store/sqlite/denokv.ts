/**
 * @module
 * Deno KV on the embedded store: one table shared by every database (a database is a column),
 * keys as BLOBs (SQLite compares BLOBs bytewise, which is Deno's key order once keys are
 * encoded), versionstamps from the store's counter. A commit runs its checks and mutations in
 * one `BEGIN IMMEDIATE` transaction, synchronously, so nothing interleaves with it.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { OutpostError } from '../../errors.ts';
import type { DenoKvCheck, DenoKvCommitResult, DenoKvEncoding, DenoKvEntry, DenoKvMutation, DenoKvRange, DenoKvStore } from '../denokv.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS denokv (
  db TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, encoding TEXT NOT NULL,
  version INTEGER NOT NULL, expire_at INTEGER,
  PRIMARY KEY (db, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

interface Row {
  key: Uint8Array;
  value: Uint8Array;
  encoding: string;
  version: number | bigint;
}

const U64_MAX = (1n << 64n) - 1n;

/** Versionstamp: 8 bytes of commit version and 2 of batch index, as 20 hex characters. */
export function versionstamp(version: number | bigint): string {
  return `${BigInt(version).toString(16).padStart(16, '0')}0000`;
}

export function u64Bytes(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value);
  return out;
}

export function u64Value(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0);
}

function toEntry(row: Row): DenoKvEntry {
  return { key: new Uint8Array(row.key), data: new Uint8Array(row.value), encoding: row.encoding as DenoKvEncoding, versionstamp: versionstamp(row.version) };
}

export class SqliteDenoKv implements DenoKvStore {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #get: StatementSync;
  readonly #listAsc: StatementSync;
  readonly #listDesc: StatementSync;
  readonly #put: StatementSync;
  readonly #del: StatementSync;
  readonly #next: StatementSync;

  constructor(db: DatabaseSync, now: () => number) {
    this.#db = db;
    this.#now = now;
    db.exec(SCHEMA);
    const live = '(expire_at IS NULL OR expire_at > ?)';
    this.#get = db.prepare(`SELECT key, value, encoding, version FROM denokv WHERE db = ? AND key = ? AND ${live}`);
    this.#listAsc = db.prepare(`SELECT key, value, encoding, version FROM denokv WHERE db = ? AND key >= ? AND key < ? AND ${live} ORDER BY key ASC LIMIT ?`);
    this.#listDesc = db.prepare(`SELECT key, value, encoding, version FROM denokv WHERE db = ? AND key >= ? AND key < ? AND ${live} ORDER BY key DESC LIMIT ?`);
    this.#put = db.prepare('INSERT INTO denokv (db, key, value, encoding, version, expire_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(db, key) DO UPDATE SET value = excluded.value, encoding = excluded.encoding, version = excluded.version, expire_at = excluded.expire_at');
    this.#del = db.prepare('DELETE FROM denokv WHERE db = ? AND key = ?');
    this.#next = db.prepare("INSERT INTO counters (name, value) VALUES ('denokv', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value");
  }

  #row(database: string, key: Uint8Array, now: number): Row | undefined {
    return this.#get.get(database, key, now) as Row | undefined;
  }

  async get(database: string, keys: readonly Uint8Array[]): Promise<Array<DenoKvEntry | undefined>> {
    const now = this.#now();
    return keys.map((key) => {
      const row = this.#row(database, key, now);
      return row ? toEntry(row) : undefined;
    });
  }

  async list(database: string, range: DenoKvRange): Promise<DenoKvEntry[]> {
    const statement = range.reverse ? this.#listDesc : this.#listAsc;
    return (statement.all(database, range.start, range.end, this.#now(), range.limit) as unknown as Row[]).map(toEntry);
  }

  async commit(database: string, checks: readonly DenoKvCheck[], mutations: readonly DenoKvMutation[]): Promise<DenoKvCommitResult> {
    const now = this.#now();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const check of checks) {
        const row = this.#row(database, check.key, now);
        const current = row ? versionstamp(row.version) : null;
        if (current !== check.versionstamp) {
          this.#db.exec('ROLLBACK');
          return { ok: false };
        }
      }
      const version = (this.#next.get() as { value: number | bigint }).value;
      for (const m of mutations) {
        if (m.type === 'set') {
          this.#put.run(database, m.key, m.value.data, m.value.encoding, version, m.expireAt ?? null);
        } else if (m.type === 'delete') {
          this.#del.run(database, m.key);
        } else {
          const row = this.#row(database, m.key, now);
          let next = m.value;
          if (row) {
            if (row.encoding !== 'u64') {
              throw new OutpostError('DENOKV_TYPE', `Failed to perform '${m.type}' mutation on a non-U64 value in the database`, { fault: 'user' });
            }
            const old = u64Value(row.value);
            next = m.type === 'sum' ? (old + m.value) & U64_MAX : m.type === 'min' ? (old < m.value ? old : m.value) : old > m.value ? old : m.value;
          }
          this.#put.run(database, m.key, u64Bytes(next), 'u64', version, null);
        }
      }
      this.#db.exec('COMMIT');
      return { ok: true, versionstamp: versionstamp(version) };
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}
