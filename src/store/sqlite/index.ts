/**
 * @module
 * The embedded store: node:sqlite (WAL) for metadata and KV, files for blobs, all under one
 * state directory. Needs no other service; a restarted node finds everything where it was.
 *
 * node:sqlite is synchronous. The calls here are indexed point reads and small writes that
 * finish in microseconds from the page cache, so they run inline; bulk work does not go here.
 */
import { mkdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { OutpostError } from '../../errors.ts';
import { SqliteQueues } from './queues.ts';
import { formatSequence } from '../kv-changes.ts';
import type { KvChange, KvChangeImage } from '../kv-changes.ts';
import { SqliteObjects } from './objects.ts';
import { ObjectChangeCapture } from './object-changes.ts';
import { SqliteDenoKv } from './denokv.ts';
import { SqliteSql } from './sql.ts';
import type { BlobStore, KvListResult, KvStore, KvValue, MetaChange, MetaEntry, MetaStore, Store } from '../types.ts';

const SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, revision INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kv (
  ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, metadata TEXT, expiration INTEGER,
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
`;

/**
 * The smallest string greater than every string starting with `prefix`, in SQLite's byte
 * order (UTF-8 order is code point order): the prefix with its last code point incremented.
 * For the empty prefix, a string above every valid key.
 */
export function prefixEnd(prefix: string): string {
  const points = [...prefix];
  while (points.length > 0) {
    const last = (points.pop() as string).codePointAt(0) as number;
    if (last < 0x10ffff) return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
  }
  return '\u{10ffff}\u{10ffff}';
}

function conflict(key: string, expected: number, actual: number): OutpostError {
  return new OutpostError('STORE_CONFLICT', `${key} changed concurrently (expected revision ${expected}, found ${actual})`, {
    status: 409,
    fault: 'user',
    hint: 'retry the operation',
  });
}

class SqliteMeta implements MetaStore {
  readonly #db: DatabaseSync;
  readonly #listeners = new Set<{ prefix: string; listener: (c: MetaChange) => void }>();
  readonly #get: StatementSync;
  readonly #upsert: StatementSync;
  readonly #del: StatementSync;
  readonly #list: StatementSync;
  readonly #next: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#get = db.prepare('SELECT value, revision FROM meta WHERE key = ?');
    this.#upsert = db.prepare('INSERT INTO meta (key, value, revision) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, revision = excluded.revision');
    this.#del = db.prepare('DELETE FROM meta WHERE key = ?');
    this.#list = db.prepare("SELECT key, value, revision FROM meta WHERE key >= ? AND key < ? ORDER BY key");
    this.#next = db.prepare("INSERT INTO counters (name, value) VALUES ('meta', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value");
  }

  async get<T>(key: string): Promise<MetaEntry<T> | undefined> {
    const row = this.#get.get(key) as { value: string; revision: number } | undefined;
    return row ? { key, value: JSON.parse(row.value) as T, revision: row.revision } : undefined;
  }

  #current(key: string): number {
    const row = this.#get.get(key) as { revision: number } | undefined;
    return row?.revision ?? 0;
  }

  async put(key: string, value: unknown, options: { expectRevision?: number } = {}): Promise<number> {
    const json = JSON.stringify(value);
    this.#db.exec('BEGIN IMMEDIATE');
    let revision: number;
    try {
      if (options.expectRevision !== undefined) {
        const actual = this.#current(key);
        if (actual !== options.expectRevision) throw conflict(key, options.expectRevision, actual);
      }
      revision = Number((this.#next.get() as { value: number }).value);
      this.#upsert.run(key, json, revision);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    this.#emit({ key, op: 'put', value: JSON.parse(json), revision });
    return revision;
  }

  async delete(key: string, options: { expectRevision?: number } = {}): Promise<void> {
    this.#db.exec('BEGIN IMMEDIATE');
    let revision: number;
    try {
      const actual = this.#current(key);
      if (options.expectRevision !== undefined && actual !== options.expectRevision) throw conflict(key, options.expectRevision, actual);
      if (actual === 0) {
        this.#db.exec('COMMIT');
        return;
      }
      revision = Number((this.#next.get() as { value: number }).value);
      this.#del.run(key);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    this.#emit({ key, op: 'delete', revision });
  }

  async list<T>(prefix: string): Promise<MetaEntry<T>[]> {
    const rows = this.#list.all(prefix, prefixEnd(prefix)) as Array<{ key: string; value: string; revision: number }>;
    return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) as T, revision: r.revision }));
  }

  watch(prefix: string, listener: (change: MetaChange) => void): () => void {
    const entry = { prefix, listener };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  #emit(change: MetaChange): void {
    for (const { prefix, listener } of this.#listeners) if (change.key.startsWith(prefix)) listener(change);
  }
}

/** Blobs are files; keys are relative paths of `[a-zA-Z0-9._-/]` (checked, never `..`). */
class FileBlobs implements BlobStore {
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(key: string): string {
    if (!/^[a-zA-Z0-9._/-]+$/.test(key) || key.split('/').some((s) => s === '..' || s === '' || s === '.')) {
      throw new OutpostError('INVALID_BLOB_KEY', `invalid blob key ${JSON.stringify(key)}`);
    }
    return join(this.#dir, key);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, path);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.#path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async has(key: string): Promise<boolean> {
    return (await stat(this.#path(key)).catch(() => undefined)) !== undefined;
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async localPath(key: string): Promise<string | undefined> {
    return (await this.has(key)) ? this.#path(key) : undefined;
  }
}

interface KvRow {
  value: Uint8Array;
  metadata: string | null;
  expiration: number | null;
}

function changeImage(row: { value: Uint8Array; metadata: string | null; expiration: number | null }): KvChangeImage {
  return {
    value: Buffer.from(row.value).toString('base64'),
    ...(row.metadata === null ? {} : { metadata: JSON.parse(row.metadata) as unknown }),
    ...(row.expiration === null ? {} : { expiration: row.expiration }),
  };
}

class SqliteKv implements KvStore {
  readonly #db: DatabaseSync;
  readonly #queues: SqliteQueues;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #del: StatementSync;
  readonly #list: StatementSync;
  readonly #namespaces: StatementSync;
  readonly #now: () => number;
  /** Change capture: namespace → the queues its changes are sent to (kv-changes.ts). */
  readonly #feeds = new Map<string, string[]>();
  readonly #nextSequence: StatementSync;

  constructor(db: DatabaseSync, now: () => number, queues: SqliteQueues) {
    this.#db = db;
    this.#queues = queues;
    this.#now = now;
    db.exec('CREATE TABLE IF NOT EXISTS kv_feeds (ns TEXT NOT NULL, queue TEXT NOT NULL, PRIMARY KEY (ns, queue)) WITHOUT ROWID');
    for (const r of db.prepare('SELECT ns, queue FROM kv_feeds ORDER BY ns, queue').all() as Array<{ ns: string; queue: string }>) {
      this.#feeds.set(r.ns, [...(this.#feeds.get(r.ns) ?? []), r.queue]);
    }
    this.#nextSequence = db.prepare("INSERT INTO counters (name, value) VALUES ('kv_changes', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value");
    this.#get = db.prepare('SELECT value, metadata, expiration FROM kv WHERE ns = ? AND key = ? AND (expiration IS NULL OR expiration > ?)');
    this.#put = db.prepare('INSERT INTO kv (ns, key, value, metadata, expiration) VALUES (?, ?, ?, ?, ?) ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value, metadata = excluded.metadata, expiration = excluded.expiration');
    this.#del = db.prepare('DELETE FROM kv WHERE ns = ? AND key = ?');
    this.#list = db.prepare('SELECT key, metadata, expiration FROM kv WHERE ns = ? AND key > ? AND key >= ? AND key < ? AND (expiration IS NULL OR expiration > ?) ORDER BY key LIMIT ?');
    this.#namespaces = db.prepare('SELECT DISTINCT ns FROM kv ORDER BY ns');
  }

  #nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  async get(namespace: string, key: string): Promise<KvValue | undefined> {
    const row = this.#get.get(namespace, key, this.#nowSeconds()) as { value: Uint8Array; metadata: string | null; expiration: number | null } | undefined;
    if (!row) return undefined;
    return {
      value: row.value,
      ...(row.metadata === null ? {} : { metadata: JSON.parse(row.metadata) as unknown }),
      ...(row.expiration === null ? {} : { expiration: row.expiration }),
    };
  }

  async put(namespace: string, key: string, entry: KvValue): Promise<void> {
    const metadata = entry.metadata === undefined ? null : JSON.stringify(entry.metadata);
    const feeds = this.#feeds.get(namespace);
    if (!feeds) {
      this.#put.run(namespace, key, entry.value, metadata, entry.expiration ?? null);
      return;
    }
    const next: KvRow = { value: entry.value, metadata, expiration: entry.expiration ?? null };
    this.#captured(namespace, key, feeds, 'put', () => this.#put.run(namespace, key, entry.value, metadata, entry.expiration ?? null), next);
  }

  async delete(namespace: string, key: string): Promise<void> {
    const feeds = this.#feeds.get(namespace);
    if (!feeds) {
      this.#del.run(namespace, key);
      return;
    }
    this.#captured(namespace, key, feeds, 'delete', () => this.#del.run(namespace, key));
  }

  /** A write and its change records in one transaction; no record when nothing changed. */
  #captured(namespace: string, key: string, feeds: readonly string[], op: 'put' | 'delete', write: () => void, next?: KvRow): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const old = this.#get.get(namespace, key, this.#nowSeconds()) as KvRow | undefined;
      write();
      const unchanged =
        op === 'delete' ? old === undefined : old !== undefined && next !== undefined && Buffer.from(old.value).equals(next.value) && old.metadata === next.metadata && old.expiration === next.expiration;
      if (!unchanged) {
        const change: KvChange = {
          namespace,
          key,
          op,
          sequence: formatSequence(Number((this.#nextSequence.get() as { value: number }).value)),
          at: this.#now(),
          ...(old ? { old: changeImage(old) } : {}),
          ...(next ? { new: changeImage(next) } : {}),
        };
        const body = new TextEncoder().encode(JSON.stringify(change));
        for (const queue of feeds) this.#queues.sendInTransaction(queue, [{ body, contentType: 'json' }]);
      }
      this.#db.exec('COMMIT');
      if (!unchanged) for (const queue of feeds) this.#queues.notify(queue);
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async setChangeFeeds(namespace: string, queues: readonly string[]): Promise<void> {
    const wanted = [...new Set(queues)].sort();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#db.prepare('DELETE FROM kv_feeds WHERE ns = ?').run(namespace);
      for (const q of wanted) this.#db.prepare('INSERT INTO kv_feeds (ns, queue) VALUES (?, ?)').run(namespace, q);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    if (wanted.length === 0) this.#feeds.delete(namespace);
    else this.#feeds.set(namespace, wanted);
  }

  async changeFeeds(): Promise<Record<string, string[]>> {
    return Object.fromEntries([...this.#feeds].map(([ns, qs]) => [ns, [...qs]]));
  }

  async list(namespace: string, options: { prefix?: string; limit: number; cursor?: string }): Promise<KvListResult> {
    const prefix = options.prefix ?? '';
    const after = options.cursor ? Buffer.from(options.cursor, 'base64url').toString('utf8') : '';
    const rows = this.#list.all(namespace, after, prefix, prefixEnd(prefix), this.#nowSeconds(), options.limit + 1) as Array<{ key: string; metadata: string | null; expiration: number | null }>;
    const page = rows.slice(0, options.limit);
    const complete = rows.length <= options.limit;
    const keys = page.map((r) => ({
      name: r.key,
      ...(r.expiration === null ? {} : { expiration: r.expiration }),
      ...(r.metadata === null ? {} : { metadata: JSON.parse(r.metadata) as unknown }),
    }));
    const last = page.at(-1);
    return complete || !last ? { keys, complete: true } : { keys, complete: false, cursor: Buffer.from(last.key, 'utf8').toString('base64url') };
  }

  async namespaces(): Promise<string[]> {
    return (this.#namespaces.all() as Array<{ ns: string }>).map((r) => r.ns);
  }
}

export interface SqliteStoreOptions {
  /** The state directory; created when missing. */
  dir: string;
  /** Injected clock (ms) for TTLs; defaults to Date.now. */
  now?: () => number;
}

export function openSqliteStore(options: SqliteStoreOptions): Store {
  mkdirSync(options.dir, { recursive: true });
  const db = new DatabaseSync(join(options.dir, 'outpost.db'));
  db.exec(SCHEMA);
  const queues = new SqliteQueues(db, options.now ?? Date.now);
  const sql = new SqliteSql(join(options.dir, 'd1'), { queues, now: options.now ?? Date.now });
  return {
    meta: new SqliteMeta(db),
    blobs: new FileBlobs(join(options.dir, 'blobs')),
    kv: new SqliteKv(db, options.now ?? Date.now, queues),
    queues,
    objects: new SqliteObjects(db, join(options.dir, 'objects'), options.now ?? Date.now, new ObjectChangeCapture(db, queues)),
    denokv: new SqliteDenoKv(db, options.now ?? Date.now),
    sql,
    description: `sqlite:${options.dir}`,
    close: async () => {
      sql.close();
      db.close();
    },
  };
}
