/**
 * @module
 * The embedded object store: one SQLite row per object (metadata, ETag, the file holding its
 * body) and one file per object version under `<state>/objects/`. Every write streams to a
 * fresh temp file (hashing as it goes), is fsynced, renamed to a unique name, and only then
 * does the row point at it — so a crash leaves either the old object or the new one, and a
 * reader that opened the old file keeps reading it while a writer replaces the key.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { OutpostError } from '../../errors.ts';
import { BUCKET_NAME_RE, MAX_KEY_BYTES, MAX_LIST_LIMIT, MAX_PART_NUMBER, MIN_PART_SIZE } from '../objects.ts';
import type {
  BucketInfo, ChecksumAlgorithm, CompleteOptions, MultipartUploadInfo, ObjectBody, ObjectChecksums, ObjectGetResult, ObjectHttpMetadata,
  ObjectInfo, ObjectListOptions, ObjectListResult, ObjectRange, ObjectStore, ObjectWriteOptions, PartInfo,
} from '../objects.ts';
// A function declaration, so the import cycle with index.ts is harmless.
import { prefixEnd } from './index.ts';
import { HashThread } from './hasher.ts';
import type { ObjectChangeCapture } from './object-changes.ts';
import type { ObjectChangeAction } from '../object-changes.ts';
import type { SharedDigester } from './hasher.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS object_buckets (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
  bucket TEXT NOT NULL, key TEXT NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  version TEXT NOT NULL, uploaded INTEGER NOT NULL, http TEXT NOT NULL, custom TEXT NOT NULL, checksums TEXT NOT NULL,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS object_uploads (id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, http TEXT NOT NULL, custom TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS object_parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, uploaded INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
`;

interface ObjectRow {
  bucket: string;
  key: string;
  file: string;
  size: number;
  etag: string;
  version: string;
  uploaded: number;
  http: string;
  custom: string;
  checksums: string;
}

interface PartRow {
  part_number: number;
  file: string;
  size: number;
  etag: string;
  uploaded: number;
}

const READ_CHUNK = 1024 * 1024;
/** Incoming chunks (64 KiB from a socket) are gathered into blocks of this size: far fewer syscalls and hash messages. */
const BLOCK = 1024 * 1024;
/** Blocks per upload being filled, written or hashed: the most an upload holds in memory (2 or 4 MiB blocks measured no faster). */
const SLOTS = 8;
/**
 * A large body is fdatasync'ed every this many bytes while it streams, so the closing fsync has
 * little left to flush (it took ~110 ms of a 256 MB put when it flushed everything; 8 MiB was
 * slower, too many syncs). Durability is unchanged: the file is still fsynced before it is renamed.
 */
const SYNC_EVERY = 32 * 1024 * 1024;

function err(code: string, status: number, message: string, hint?: string): OutpostError {
  return new OutpostError(code, message, { status, fault: 'user', ...(hint ? { hint } : {}) });
}

export const noSuchBucket = (name: string): OutpostError => err('OBJECT_NO_SUCH_BUCKET', 404, `no bucket named ${name}`, 'create it first (S3 CreateBucket), or declare it as an R2 binding');

function toInfo(row: ObjectRow): ObjectInfo {
  return {
    bucket: row.bucket,
    key: row.key,
    size: row.size,
    etag: row.etag,
    version: row.version,
    uploaded: row.uploaded,
    httpMetadata: JSON.parse(row.http) as ObjectHttpMetadata,
    customMetadata: JSON.parse(row.custom) as Record<string, string>,
    checksums: JSON.parse(row.checksums) as ObjectChecksums,
  };
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw err('OBJECT_INVALID_KEY', 400, `object keys must be 1–${MAX_KEY_BYTES} bytes of UTF-8`);
  }
}

/**
 * Writes a body through a ring of SLOTS blocks of BLOCK bytes in one SharedArrayBuffer: each
 * full block is written (at its file position) and hashed on the hashing thread at the same
 * time, and is refilled once both are done. Nothing is allocated per block, and a body never
 * holds more than SLOTS × BLOCK bytes, however slowly the disk or the hash keeps up. A body
 * smaller than one block is written with one writev and hashed inline. While a large body
 * streams, what is written is fdatasync'ed every SYNC_EVERY bytes in the background; the last
 * fsync, before the file is renamed into place, still covers the whole file.
 */
class BlockWriter {
  readonly #handle: FileHandle;
  readonly #hasher: HashThread;
  readonly #algorithms: readonly string[];
  /** Chunks of a body that has not yet filled one block. */
  #small: Uint8Array[] = [];
  #smallBytes = 0;
  #ring: { memory: SharedArrayBuffer; digester: SharedDigester; busy: Array<Promise<void> | undefined> } | undefined;
  #slot = 0;
  #fill = 0;
  #position = 0;
  #synced = 0;
  #syncing: Promise<void> | undefined;
  #syncError: unknown;
  constructor(handle: FileHandle, hasher: HashThread, algorithms: readonly string[]) {
    this.#handle = handle;
    this.#hasher = hasher;
    this.#algorithms = algorithms;
  }

  async add(chunk: Uint8Array): Promise<void> {
    if (!this.#ring) {
      this.#small.push(chunk);
      this.#smallBytes += chunk.byteLength;
      if (this.#smallBytes < BLOCK) return;
      this.#ring = { memory: new SharedArrayBuffer(SLOTS * BLOCK), digester: this.#hasher.shared(this.#algorithms), busy: [] };
      const small = this.#small;
      this.#small = [];
      for (const c of small) await this.#copy(c);
      return;
    }
    await this.#copy(chunk);
  }

  async #copy(chunk: Uint8Array): Promise<void> {
    const ring = this.#ring;
    if (!ring) return;
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#fill === 0) await ring.busy[this.#slot]; // wait until the slot is written and hashed
      const n = Math.min(BLOCK - this.#fill, chunk.byteLength - at);
      new Uint8Array(ring.memory, this.#slot * BLOCK + this.#fill, n).set(at === 0 && n === chunk.byteLength ? chunk : chunk.subarray(at, at + n));
      this.#fill += n;
      at += n;
      if (this.#fill === BLOCK) this.#dispatch();
    }
  }

  /** Starts writing and hashing the current slot, and moves to the next. */
  #dispatch(): void {
    const ring = this.#ring;
    if (!ring || this.#fill === 0) return;
    const block = new Uint8Array(ring.memory, this.#slot * BLOCK, this.#fill);
    const write = this.#handle.write(block, 0, block.byteLength, this.#position).then(({ bytesWritten }) => {
      if (bytesWritten !== block.byteLength) throw new OutpostError('OBJECT_SHORT_WRITE', `wrote ${bytesWritten} of ${block.byteLength} bytes (is the disk full?)`);
    });
    const end = this.#position + this.#fill;
    if (end - this.#synced >= SYNC_EVERY && !this.#syncing) {
      this.#synced = end;
      this.#syncing = write.then(() => this.#handle.datasync()).finally(() => {
        this.#syncing = undefined;
      });
      this.#syncing.catch((e: unknown) => {
        this.#syncError ??= e;
      });
    }
    const done = Promise.all([write, ring.digester.update(block)]).then(() => undefined);
    done.catch(() => undefined); // observed by the next use of the slot, or by finish()
    ring.busy[this.#slot] = done;
    this.#position += this.#fill;
    this.#fill = 0;
    this.#slot = (this.#slot + 1) % SLOTS;
  }

  /** Writes what is left, fsyncs, and returns the digests. */
  async finish(): Promise<Record<string, string>> {
    let digests: Promise<Record<string, string>>;
    if (this.#ring) {
      this.#dispatch();
      await Promise.all(this.#ring.busy);
      await this.#syncing?.catch(() => undefined);
      if (this.#syncError !== undefined) throw this.#syncError;
      // Resolves while the file is fsynced below; observed by the caller, or lost with the upload.
      digests = this.#ring.digester.digest();
      digests.catch(() => undefined);
    } else {
      const inline = this.#hasher.inline(this.#algorithms);
      if (this.#smallBytes > 0) {
        const { bytesWritten } = await this.#handle.writev(this.#small, 0);
        if (bytesWritten !== this.#smallBytes) throw new OutpostError('OBJECT_SHORT_WRITE', `wrote ${bytesWritten} of ${this.#smallBytes} bytes (is the disk full?)`);
      }
      for (const c of this.#small) inline.update(c);
      digests = inline.digest();
    }
    await this.#handle.sync();
    return digests;
  }

  /** Gives up: waits for the writes in flight (the file is about to be removed) and drops the hash. */
  async drop(): Promise<void> {
    if (!this.#ring) return;
    this.#ring.digester.drop();
    await Promise.allSettled(this.#ring.busy);
  }
}

/** Streams `body` to `path`, hashing it; fsyncs before resolving. */
async function writeStreamed(path: string, body: AsyncIterable<Uint8Array>, algorithms: readonly ChecksumAlgorithm[], hasher: HashThread): Promise<{ size: number; digests: ObjectChecksums }> {
  const handle = await open(path, 'w');
  const writer = new BlockWriter(handle, hasher, [...new Set<ChecksumAlgorithm>(['md5', ...algorithms])]);
  let size = 0;
  let digests: ObjectChecksums;
  try {
    for await (const chunk of body) {
      if (chunk.byteLength === 0) continue;
      size += chunk.byteLength;
      await writer.add(chunk);
    }
    digests = (await writer.finish()) as ObjectChecksums;
    await handle.close();
  } catch (error) {
    await writer.drop();
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
  return { size, digests };
}

function checkDigests(expect: ObjectChecksums | undefined, actual: ObjectChecksums): void {
  for (const [a, want] of Object.entries(expect ?? {}) as Array<[ChecksumAlgorithm, string | undefined]>) {
    if (want !== undefined && want.toLowerCase() !== actual[a]) {
      throw err('OBJECT_BAD_DIGEST', 400, `the ${a} you specified did not match what was received (expected ${want}, got ${actual[a] ?? '?'})`);
    }
  }
}

/** A file region read in 1 MiB chunks from an already open handle (so a concurrent replace does not disturb it). */
class FileBody implements ObjectBody {
  readonly #handle: FileHandle;
  #position: number;
  #left: number;
  #closed = false;
  constructor(handle: FileHandle, start: number, length: number) {
    this.#handle = handle;
    this.#position = start;
    this.#left = length;
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }
  async readInto(into: Uint8Array): Promise<number> {
    if (this.#left === 0 || this.#closed || into.byteLength === 0) return 0;
    const { bytesRead } = await this.#handle.read(into, 0, Math.min(into.byteLength, this.#left), this.#position);
    if (bytesRead === 0) throw new OutpostError('OBJECT_CORRUPT', 'an object file is shorter than its metadata says');
    this.#position += bytesRead;
    this.#left -= bytesRead;
    return bytesRead;
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      while (this.#left > 0 && !this.#closed) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, this.#left));
        const n = await this.readInto(buffer);
        yield n === buffer.byteLength ? buffer : buffer.subarray(0, n);
      }
    } finally {
      await this.close();
    }
  }
}

/** Resolves a range against a size; throws OBJECT_INVALID_RANGE when it starts past the end. */
export function resolveRange(range: ObjectRange | undefined, size: number): { offset: number; length: number } {
  if (!range) return { offset: 0, length: size };
  const bad = (): OutpostError => err('OBJECT_INVALID_RANGE', 416, `the requested range is not satisfiable (object size ${size})`);
  if (range.suffix !== undefined) {
    if (!Number.isInteger(range.suffix) || range.suffix < 0) throw bad();
    const length = Math.min(range.suffix, size);
    return { offset: size - length, length };
  }
  const offset = range.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || (offset >= size && !(offset === 0 && size === 0))) throw bad();
  if (range.length !== undefined && (!Number.isInteger(range.length) || range.length < 0)) throw bad();
  return { offset, length: Math.min(range.length ?? size - offset, size - offset) };
}

interface Cursor {
  /** Continue with keys >= from (inclusive) or > from. */
  from: string;
  inclusive: boolean;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.inclusive ? 'i' : 'e'}${c.from}`, 'utf8').toString('base64url');
}

function decodeCursor(s: string): Cursor {
  const raw = Buffer.from(s, 'base64url').toString('utf8');
  if (raw[0] !== 'i' && raw[0] !== 'e') throw err('OBJECT_INVALID_CURSOR', 400, 'the list cursor (continuation token) is not valid');
  return { from: raw.slice(1), inclusive: raw[0] === 'i' };
}

export class SqliteObjects implements ObjectStore {
  readonly #db: DatabaseSync;
  readonly #dir: string;
  readonly #now: () => number;
  readonly #s: Record<string, StatementSync>;
  readonly #hasher = new HashThread();
  /** Change events (object-changes.ts): recorded inside the write transactions below. */
  readonly #changes: ObjectChangeCapture | undefined;

  constructor(db: DatabaseSync, dir: string, now: () => number, changes?: ObjectChangeCapture) {
    this.#db = db;
    this.#dir = dir;
    this.#now = now;
    this.#changes = changes;
    db.exec(SCHEMA);
    // Temp files are uploads a crash interrupted: nothing refers to them.
    rmSync(join(dir, 'tmp'), { recursive: true, force: true });
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const p = (sql: string): StatementSync => db.prepare(sql);
    this.#s = {
      getBucket: p('SELECT name, created_at FROM object_buckets WHERE name = ?'),
      insertBucket: p('INSERT INTO object_buckets (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING'),
      listBuckets: p('SELECT name, created_at FROM object_buckets ORDER BY name'),
      deleteBucket: p('DELETE FROM object_buckets WHERE name = ?'),
      anyObject: p('SELECT 1 FROM objects WHERE bucket = ? LIMIT 1'),
      anyUpload: p('SELECT 1 FROM object_uploads WHERE bucket = ? LIMIT 1'),
      getObject: p('SELECT * FROM objects WHERE bucket = ? AND key = ?'),
      upsertObject: p('INSERT INTO objects (bucket, key, file, size, etag, version, uploaded, http, custom, checksums) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(bucket, key) DO UPDATE SET file = excluded.file, size = excluded.size, etag = excluded.etag, version = excluded.version, uploaded = excluded.uploaded, http = excluded.http, custom = excluded.custom, checksums = excluded.checksums'),
      deleteObject: p('DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING file'),
      listIncl: p('SELECT * FROM objects WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?'),
      listExcl: p('SELECT * FROM objects WHERE bucket = ? AND key > ? AND key < ? ORDER BY key LIMIT ?'),
      insertUpload: p('INSERT INTO object_uploads (id, bucket, key, http, custom, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      getUpload: p('SELECT * FROM object_uploads WHERE id = ? AND bucket = ? AND key = ?'),
      deleteUpload: p('DELETE FROM object_uploads WHERE id = ?'),
      upsertPart: p('INSERT INTO object_parts (upload_id, part_number, file, size, etag, uploaded) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(upload_id, part_number) DO UPDATE SET file = excluded.file, size = excluded.size, etag = excluded.etag, uploaded = excluded.uploaded'),
      getPart: p('SELECT file FROM object_parts WHERE upload_id = ? AND part_number = ?'),
      listParts: p('SELECT part_number, file, size, etag, uploaded FROM object_parts WHERE upload_id = ? ORDER BY part_number'),
      deleteParts: p('DELETE FROM object_parts WHERE upload_id = ?'),
    };
  }

  #tmp(): string {
    return join(this.#dir, 'tmp', `${randomUUID()}.part`);
  }

  /** Moves a finished temp file to its permanent name and returns that name (relative to the dir). */
  async #settle(tmp: string): Promise<string> {
    const id = randomBytes(16).toString('hex');
    const rel = join(id.slice(0, 2), id);
    mkdirSync(join(this.#dir, id.slice(0, 2)), { recursive: true });
    await rename(tmp, join(this.#dir, rel));
    return rel;
  }

  async #unlink(rel: string | undefined): Promise<void> {
    if (rel) await rm(join(this.#dir, rel), { force: true });
  }

  #requireBucket(name: string): void {
    if (!this.#s['getBucket']?.get(name)) throw noSuchBucket(name);
  }

  #stmt(name: string): StatementSync {
    const s = this.#s[name];
    if (!s) throw new Error(`no statement ${name}`);
    return s;
  }

  #row(bucket: string, key: string): ObjectRow | undefined {
    return this.#stmt('getObject').get(bucket, key) as ObjectRow | undefined;
  }

  async createBucket(name: string): Promise<{ bucket: BucketInfo; created: boolean }> {
    if (!BUCKET_NAME_RE.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
      throw err('OBJECT_INVALID_BUCKET_NAME', 400, `invalid bucket name ${JSON.stringify(name)}`, 'use 3–63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit');
    }
    const created = Number(this.#stmt('insertBucket').run(name, this.#now()).changes) > 0;
    const row = this.#stmt('getBucket').get(name) as { name: string; created_at: number };
    return { bucket: { name: row.name, createdAt: row.created_at }, created };
  }

  async listBuckets(): Promise<BucketInfo[]> {
    return (this.#stmt('listBuckets').all() as Array<{ name: string; created_at: number }>).map((r) => ({ name: r.name, createdAt: r.created_at }));
  }

  async headBucket(name: string): Promise<BucketInfo | undefined> {
    const row = this.#stmt('getBucket').get(name) as { name: string; created_at: number } | undefined;
    return row ? { name: row.name, createdAt: row.created_at } : undefined;
  }

  async deleteBucket(name: string): Promise<void> {
    this.#requireBucket(name);
    if (this.#stmt('anyObject').get(name) || this.#stmt('anyUpload').get(name)) {
      throw err('OBJECT_BUCKET_NOT_EMPTY', 409, `bucket ${name} is not empty`, 'delete its objects (and abort its multipart uploads) first');
    }
    this.#stmt('deleteBucket').run(name);
  }

  /** Makes `file` the object at `key` in one transaction, checking `onlyIf` first; removes the previous file. */
  async #commit(bucket: string, key: string, file: string, fields: Omit<ObjectInfo, 'bucket' | 'key' | 'version' | 'uploaded'>, onlyIf: ((current: ObjectInfo | undefined) => boolean) | undefined, change: ChangeOf = { action: 'put' }): Promise<ObjectInfo> {
    const info: ObjectInfo = { bucket, key, ...fields, version: randomBytes(16).toString('hex'), uploaded: this.#now() };
    let previous: string | undefined;
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#requireBucket(bucket);
      const current = this.#row(bucket, key);
      if (onlyIf && !onlyIf(current ? toInfo(current) : undefined)) throw err('OBJECT_PRECONDITION_FAILED', 412, 'at least one of the preconditions you specified did not hold');
      previous = current?.file;
      this.#stmt('upsertObject').run(bucket, key, file, info.size, info.etag, info.version, info.uploaded, JSON.stringify(info.httpMetadata), JSON.stringify(info.customMetadata), JSON.stringify(info.checksums));
      this.#changes?.record({ bucket, key, action: change.action, at: info.uploaded, size: info.size, etag: info.etag, ...(change.copySource ? { copySource: change.copySource } : {}) });
      this.#db.exec('COMMIT');
      this.#changes?.committed();
    } catch (error) {
      this.#db.exec('ROLLBACK');
      this.#changes?.rolledBack();
      await this.#unlink(file);
      throw error;
    }
    await this.#unlink(previous);
    return info;
  }

  async put(bucket: string, key: string, body: AsyncIterable<Uint8Array>, options: ObjectWriteOptions = {}): Promise<ObjectInfo> {
    checkKey(key);
    this.#requireBucket(bucket);
    const tmp = this.#tmp();
    const algorithms = Object.keys(options.expect ?? {}).filter((a) => (options.expect as Record<string, unknown>)[a] !== undefined) as ChecksumAlgorithm[];
    const written = await writeStreamed(tmp, body, algorithms, this.#hasher);
    try {
      checkDigests(options.expect, written.digests);
      options.verify?.();
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    const file = await this.#settle(tmp);
    return this.#commit(bucket, key, file, {
      size: written.size,
      etag: written.digests.md5 ?? '',
      httpMetadata: options.httpMetadata ?? {},
      customMetadata: options.customMetadata ?? {},
      checksums: written.digests,
    }, options.onlyIf, options.copySource ? { action: 'copy', copySource: options.copySource } : { action: 'put' });
  }

  async get(bucket: string, key: string, options: { range?: ObjectRange } = {}): Promise<ObjectGetResult | undefined> {
    this.#requireBucket(bucket);
    // The row may be replaced (and its file removed) between the read and the open: read again.
    for (let attempt = 0; ; attempt++) {
      const row = this.#row(bucket, key);
      if (!row) return undefined;
      const range = resolveRange(options.range, row.size);
      let handle: FileHandle;
      try {
        handle = await open(join(this.#dir, row.file), 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
        throw error;
      }
      return { info: toInfo(row), range, body: new FileBody(handle, range.offset, range.length) };
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    this.#requireBucket(bucket);
    const row = this.#row(bucket, key);
    return row ? toInfo(row) : undefined;
  }

  async delete(bucket: string, keys: readonly string[]): Promise<void> {
    this.#requireBucket(bucket);
    const files: string[] = [];
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const key of keys) {
        const row = this.#stmt('deleteObject').get(bucket, key) as { file: string } | undefined;
        if (row) files.push(row.file);
        if (row) this.#changes?.record({ bucket, key, action: 'delete', at: this.#now() });
      }
      this.#db.exec('COMMIT');
      this.#changes?.committed();
    } catch (error) {
      this.#db.exec('ROLLBACK');
      this.#changes?.rolledBack();
      throw error;
    }
    for (const f of files) await this.#unlink(f);
  }

  async list(bucket: string, options: ObjectListOptions = {}): Promise<ObjectListResult> {
    this.#requireBucket(bucket);
    const limit = options.limit ?? MAX_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw err('OBJECT_INVALID_LIMIT', 400, `list limit must be 1–${MAX_LIST_LIMIT}, got ${limit}`);
    const prefix = options.prefix ?? '';
    const end = prefixEnd(prefix);
    const delimiter = options.delimiter === '' ? undefined : options.delimiter;
    let at: Cursor = { from: prefix, inclusive: true };
    const later = (c: Cursor): void => {
      if (c.from > at.from || (c.from === at.from && !c.inclusive)) at = c;
    };
    if (options.startAfter !== undefined && options.startAfter !== '') later({ from: options.startAfter, inclusive: false });
    if (options.cursor) later(decodeCursor(options.cursor));
    const objects: ObjectInfo[] = [];
    const delimitedPrefixes: string[] = [];
    const fetch = (n: number): ObjectRow[] => this.#stmt(at.inclusive ? 'listIncl' : 'listExcl').all(bucket, at.from, end, n) as unknown as ObjectRow[];
    let truncated = false;
    outer: for (;;) {
      const rows = fetch(Math.min(limit - objects.length - delimitedPrefixes.length + 1, MAX_LIST_LIMIT + 1));
      if (rows.length === 0) break;
      for (const row of rows) {
        if (objects.length + delimitedPrefixes.length === limit) {
          truncated = true;
          break outer;
        }
        const cut = delimiter === undefined ? -1 : row.key.indexOf(delimiter, prefix.length);
        if (cut !== -1 && delimiter !== undefined) {
          const common = row.key.slice(0, cut + delimiter.length);
          delimitedPrefixes.push(common);
          at = { from: prefixEnd(common), inclusive: true };
          continue outer;
        }
        objects.push(toInfo(row));
        at = { from: row.key, inclusive: false };
      }
    }
    return { objects, delimitedPrefixes, truncated, ...(truncated ? { cursor: encodeCursor(at) } : {}) };
  }

  async createMultipartUpload(bucket: string, key: string, options: Pick<ObjectWriteOptions, 'httpMetadata' | 'customMetadata'> = {}): Promise<MultipartUploadInfo> {
    checkKey(key);
    this.#requireBucket(bucket);
    const uploadId = randomBytes(24).toString('base64url');
    const createdAt = this.#now();
    this.#stmt('insertUpload').run(uploadId, bucket, key, JSON.stringify(options.httpMetadata ?? {}), JSON.stringify(options.customMetadata ?? {}), createdAt);
    return { uploadId, bucket, key, createdAt };
  }

  #upload(bucket: string, key: string, uploadId: string): { http: string; custom: string } {
    this.#requireBucket(bucket);
    const row = this.#stmt('getUpload').get(uploadId, bucket, key) as { http: string; custom: string } | undefined;
    if (!row) throw err('OBJECT_NO_SUCH_UPLOAD', 404, 'the specified multipart upload does not exist; it may have been completed or aborted');
    return row;
  }

  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, options: { expect?: ObjectChecksums; verify?: () => void } = {}): Promise<PartInfo> {
    this.#upload(bucket, key, uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) throw err('OBJECT_INVALID_PART', 400, `part numbers must be 1–${MAX_PART_NUMBER}, got ${partNumber}`);
    const tmp = this.#tmp();
    const algorithms = Object.keys(options.expect ?? {}) as ChecksumAlgorithm[];
    const written = await writeStreamed(tmp, body, algorithms, this.#hasher);
    try {
      checkDigests(options.expect, written.digests);
      options.verify?.();
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    const file = await this.#settle(tmp);
    const part: PartInfo = { partNumber, etag: written.digests.md5 ?? '', size: written.size, uploaded: this.#now() };
    let previous: string | undefined;
    try {
      this.#upload(bucket, key, uploadId); // aborted while the part streamed?
      previous = (this.#stmt('getPart').get(uploadId, partNumber) as { file: string } | undefined)?.file;
      this.#stmt('upsertPart').run(uploadId, partNumber, file, part.size, part.etag, part.uploaded);
    } catch (error) {
      await this.#unlink(file);
      throw error;
    }
    await this.#unlink(previous);
    return part;
  }

  async listParts(bucket: string, key: string, uploadId: string): Promise<PartInfo[]> {
    this.#upload(bucket, key, uploadId);
    return (this.#stmt('listParts').all(uploadId) as unknown as PartRow[]).map((r) => ({ partNumber: r.part_number, etag: r.etag, size: r.size, uploaded: r.uploaded }));
  }

  async completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: ReadonlyArray<{ partNumber: number; etag: string }>, options: CompleteOptions = {}): Promise<ObjectInfo> {
    const upload = this.#upload(bucket, key, uploadId);
    if (parts.length === 0) throw err('OBJECT_INVALID_PART', 400, 'a multipart upload must be completed with at least one part');
    const stored = new Map((this.#stmt('listParts').all(uploadId) as unknown as PartRow[]).map((r) => [r.part_number, r]));
    const chosen: PartRow[] = [];
    let last = 0;
    for (const p of parts) {
      if (p.partNumber <= last) throw err('OBJECT_INVALID_PART_ORDER', 400, 'the list of parts was not in ascending order; parts must be ordered by part number');
      last = p.partNumber;
      const row = stored.get(p.partNumber);
      if (!row || row.etag !== p.etag.replaceAll('"', '').toLowerCase()) {
        throw err('OBJECT_INVALID_PART', 400, `part ${p.partNumber} was not uploaded, or its ETag does not match`);
      }
      chosen.push(row);
    }
    const min = options.minPartSize ?? MIN_PART_SIZE;
    chosen.forEach((row, i) => {
      if (i < chosen.length - 1 && row.size < min) throw err('OBJECT_ENTITY_TOO_SMALL', 400, `part ${row.part_number} is ${row.size} bytes; every part but the last must be at least ${min} bytes`);
    });
    const tmp = this.#tmp();
    const out = createWriteStream(tmp, { flush: true });
    const failed = new Promise<never>((_, reject) => out.once('error', reject));
    failed.catch(() => undefined);
    let size = 0;
    const md5s: Buffer[] = [];
    try {
      for (const row of chosen) {
        md5s.push(Buffer.from(row.etag, 'hex'));
        size += row.size;
        for await (const chunk of createReadStream(join(this.#dir, row.file), { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>) {
          if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
        }
      }
      out.end();
      await Promise.race([once(out, 'close'), failed]);
    } catch (error) {
      out.destroy();
      await rm(tmp, { force: true });
      throw error;
    }
    const etag = `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${chosen.length}`;
    const file = await this.#settle(tmp);
    const info = await this.#commit(bucket, key, file, {
      size,
      etag,
      httpMetadata: JSON.parse(upload.http) as ObjectHttpMetadata,
      customMetadata: JSON.parse(upload.custom) as Record<string, string>,
      checksums: {},
    }, options.onlyIf, { action: 'complete-multipart' });
    await this.#dropUpload(uploadId);
    return info;
  }

  async #dropUpload(uploadId: string): Promise<void> {
    const parts = this.#stmt('listParts').all(uploadId) as unknown as PartRow[];
    this.#stmt('deleteParts').run(uploadId);
    this.#stmt('deleteUpload').run(uploadId);
    for (const p of parts) await this.#unlink(p.file);
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    this.#upload(bucket, key, uploadId);
    await this.#dropUpload(uploadId);
  }

  // Change capture (sqlite/object-changes.ts).
  async setChangeFeeds(bucket: string, queues: readonly string[]): Promise<void> {
    if (!this.#changes) throw new Error('this object store was opened without change capture');
    this.#changes.setFeeds(bucket, queues);
  }

  async changeFeeds(): Promise<Record<string, string[]>> {
    return this.#changes?.feeds() ?? {};
  }
}

/** What a committed write records as its change event. */
interface ChangeOf {
  action: Exclude<ObjectChangeAction, 'delete'>;
  copySource?: { bucket: string; key: string };
}
