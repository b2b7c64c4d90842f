/**
 * @module
 * ObjectStore (R2 and S3) on NATS: bodies in one NATS Object Store bucket (chunked, streamed
 * in and out), each under a fresh random name; everything else in one KV bucket — buckets
 * `b.<bucket>`, objects `o.<bucket>.<key>` (the ObjectInfo and its body's name), multipart
 * uploads `u.<bucket>.<upload>` and their parts `p.<bucket>.<upload>.<part>` (each part a body
 * of its own), feed sets `f.<bucket>`.
 *
 * A put streams the body (hashing it on the way) under a new name, then switches the object's
 * KV entry to it with a compare-and-set on the entry's revision — readers see the old object or
 * the new one, never a part, and a failed digest, precondition or stream leaves only an orphan
 * body, removed at once. The replaced body is removed after the switch; a reader that had the
 * old entry and comes too late finds its body gone and reads the entry again.
 *
 * Listing scans the bucket's object entries (scan.ts) and sorts keys in UTF-8 byte order, as S3
 * does — O(objects in the bucket) per page. Change capture works as in kv.ts: the change is sent
 * after the metadata write, with the write's revision as the dedup id — not in one transaction.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { ObjectStore as NatsObjectBucket } from '@nats-io/obj';
import { OutpostError, isOutpostError } from '../../errors.ts';
import { BUCKET_NAME_RE, MAX_KEY_BYTES, MAX_LIST_LIMIT, MAX_PART_NUMBER, MIN_PART_SIZE } from '../objects.ts';
import type {
  BucketInfo, ChecksumAlgorithm, CompleteOptions, MultipartUploadInfo, ObjectBody, ObjectChecksums, ObjectGetResult, ObjectHttpMetadata,
  ObjectInfo, ObjectListOptions, ObjectListResult, ObjectRange, ObjectStore, ObjectWriteOptions, PartInfo,
} from '../objects.ts';
import { formatSequence } from '../kv-changes.ts';
import type { ObjectChange, ObjectChangeAction } from '../object-changes.ts';
import type { QueueStore } from '../queues.ts';
import { resolveRange } from '../sqlite/objects.ts';
import { prefixEnd } from '../sqlite/index.ts';
import { compareKeys, encodeToken } from './keys.ts';
import { isWrongLastSequence } from './errors.ts';
import { lastPerSubject } from './scan.ts';
import type { FeedSets } from './feeds.ts';

function err(code: string, status: number, message: string, hint?: string): OutpostError {
  return new OutpostError(code, message, { status, fault: 'user', ...(hint ? { hint } : {}) });
}

const noSuchBucket = (name: string): OutpostError => err('OBJECT_NO_SUCH_BUCKET', 404, `no bucket named ${name}`, 'create it first (S3 CreateBucket), or declare it as an R2 binding');
const noSuchUpload = (): OutpostError => err('OBJECT_NO_SUCH_UPLOAD', 404, 'the specified multipart upload does not exist; it may have been completed or aborted');

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw err('OBJECT_INVALID_KEY', 400, `object keys must be 1–${MAX_KEY_BYTES} bytes of UTF-8`);
  }
}

function checkDigests(expect: ObjectChecksums | undefined, actual: ObjectChecksums): void {
  for (const [algorithm, want] of Object.entries(expect ?? {}) as Array<[ChecksumAlgorithm, string | undefined]>) {
    if (want !== undefined && want.toLowerCase() !== actual[algorithm]) {
      throw err('OBJECT_BAD_DIGEST', 400, `the ${algorithm} you specified did not match what was received (expected ${want}, got ${actual[algorithm] ?? '?'})`);
    }
  }
}

interface ObjectEntry {
  info: ObjectInfo;
  body: string;
}

interface UploadEntry {
  key: string;
  createdAt: number;
  httpMetadata: ObjectHttpMetadata;
  customMetadata: Record<string, string>;
}

interface PartEntry {
  part: PartInfo;
  body: string;
}

/** Where a list continues: keys >= from (inclusive) or > from. */
interface Cursor {
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

/** Reads a web stream from `offset` for `length` bytes; closing cancels the stream. */
class StreamBody implements ObjectBody {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #skip: number;
  #left: number;
  #closed = false;

  constructor(stream: ReadableStream<Uint8Array>, offset: number, length: number) {
    this.#reader = stream.getReader();
    this.#skip = offset;
    this.#left = length;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reader.cancel().catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      while (this.#left > 0 && !this.#closed) {
        const { done, value } = await this.#reader.read();
        if (done) throw new OutpostError('OBJECT_CORRUPT', 'an object body is shorter than its metadata says');
        let chunk = value;
        if (this.#skip > 0) {
          const dropped = Math.min(this.#skip, chunk.byteLength);
          this.#skip -= dropped;
          chunk = chunk.subarray(dropped);
        }
        if (chunk.byteLength === 0) continue;
        if (chunk.byteLength > this.#left) chunk = chunk.subarray(0, this.#left);
        this.#left -= chunk.byteLength;
        yield chunk;
      }
    } finally {
      await this.close();
    }
  }
}

/** A web ReadableStream pulling from an async generator (the Object Store client takes web streams). */
function webStream(source: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await source.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await source.return(undefined);
    },
  });
}

export class NatsObjects implements ObjectStore {
  readonly #kv: KV;
  readonly #js: JetStreamClient;
  readonly #bucket: string;
  readonly #bodies: NatsObjectBucket;
  readonly #feeds: FeedSets;
  readonly #queues: QueueStore;
  readonly #now: () => number;

  constructor(opts: { kv: KV; js: JetStreamClient; bucket: string; bodies: NatsObjectBucket; feeds: FeedSets; queues: QueueStore; now: () => number }) {
    this.#kv = opts.kv;
    this.#js = opts.js;
    this.#bucket = opts.bucket;
    this.#bodies = opts.bodies;
    this.#feeds = opts.feeds;
    this.#queues = opts.queues;
    this.#now = opts.now;
  }

  // ---- entries ----------------------------------------------------------------------------

  async #read<T>(key: string): Promise<{ value: T; revision: number } | undefined> {
    const entry = await this.#kv.get(key);
    return entry && entry.operation === 'PUT' ? { value: entry.json<T>(), revision: entry.revision } : undefined;
  }

  /** Every live entry under `subjectTail` (a filter after the bucket's subject prefix), with its key. */
  async #scan<T>(subjectTail: string): Promise<Array<{ token: string; value: T; revision: number }>> {
    const head = `$KV.${this.#bucket}.`;
    const found = await lastPerSubject(this.#js, `KV_${this.#bucket}`, `${head}${subjectTail}`);
    return found
      .filter((m) => m.operation === undefined)
      .map((m) => ({ token: m.subject.slice(head.length), value: JSON.parse(Buffer.from(m.data).toString('utf8')) as T, revision: m.seq }));
  }

  #objectKey(bucket: string, key: string): string {
    return `o.${encodeToken(bucket)}.${encodeToken(key)}`;
  }

  async #requireBucket(name: string): Promise<void> {
    if (!(await this.#read<BucketInfo>(`b.${encodeToken(name)}`))) throw noSuchBucket(name);
  }

  /** Streams `body` under a new name, hashing MD5 and `algorithms` on the way. */
  async #writeBody(body: AsyncIterable<Uint8Array>, algorithms: readonly ChecksumAlgorithm[]): Promise<{ name: string; size: number; digests: ObjectChecksums }> {
    const hashes = new Map<ChecksumAlgorithm, Hash>([['md5', createHash('md5')], ...algorithms.filter((a) => a !== 'md5').map((a): [ChecksumAlgorithm, Hash] => [a, createHash(a)])]);
    let size = 0;
    async function* hashed(): AsyncGenerator<Uint8Array> {
      for await (const chunk of body) {
        for (const h of hashes.values()) h.update(chunk);
        size += chunk.byteLength;
        yield chunk;
      }
    }
    const name = `bodies/${randomUUID()}`;
    try {
      await this.#bodies.put({ name }, webStream(hashed()));
    } catch (error) {
      await this.#dropBody(name);
      throw error;
    }
    const digests = Object.fromEntries([...hashes].map(([a, h]) => [a, h.digest('hex')])) as ObjectChecksums;
    return { name, size, digests };
  }

  async #dropBody(name: string | undefined): Promise<void> {
    if (name === undefined) return;
    const info = await this.#bodies.info(name);
    if (info && !info.deleted) await this.#bodies.delete(name);
  }

  /** Switches the object at `key` to `body` (compare-and-set, checking `onlyIf`), then records the change and drops the old body. */
  async #commit(bucket: string, key: string, body: string, fields: Omit<ObjectInfo, 'bucket' | 'key' | 'version' | 'uploaded'>, onlyIf: ((current: ObjectInfo | undefined) => boolean) | undefined, action: Exclude<ObjectChangeAction, 'delete'>, copySource?: { bucket: string; key: string }): Promise<ObjectInfo> {
    const info: ObjectInfo = { bucket, key, ...fields, version: randomBytes(16).toString('hex'), uploaded: this.#now() };
    const entryKey = this.#objectKey(bucket, key);
    for (;;) {
      let current: { value: ObjectEntry; revision: number } | undefined;
      let revision: number;
      try {
        await this.#requireBucket(bucket);
        const entry = await this.#kv.get(entryKey);
        current = entry && entry.operation === 'PUT' ? { value: entry.json<ObjectEntry>(), revision: entry.revision } : undefined;
        if (onlyIf && !onlyIf(current?.value.info)) throw err('OBJECT_PRECONDITION_FAILED', 412, 'at least one of the preconditions you specified did not hold');
        const data = JSON.stringify({ info, body } satisfies ObjectEntry);
        revision = entry ? await this.#kv.update(entryKey, data, entry.revision) : await this.#kv.create(entryKey, data);
      } catch (error) {
        if (isWrongLastSequence(error)) continue; // another write got there first: check again
        await this.#dropBody(body);
        throw error;
      }
      await this.#record({ bucket, key, action, at: info.uploaded, size: info.size, etag: info.etag, ...(copySource ? { copySource } : {}) }, revision);
      await this.#dropBody(current?.value.body);
      return info;
    }
  }

  async #record(change: Omit<ObjectChange, 'sequence'>, revision: number): Promise<void> {
    const feeds = this.#feeds.get(change.bucket);
    if (!feeds) return;
    const message = { body: new TextEncoder().encode(JSON.stringify({ ...change, sequence: formatSequence(revision) } satisfies ObjectChange)), contentType: 'json', dedupId: `objects-${this.#bucket}-${revision}` };
    for (const queue of feeds) {
      try {
        await this.#queues.send(queue, [message]);
      } catch (error) {
        if (!isOutpostError(error, 'QUEUE_NOT_FOUND')) throw error;
        await this.#queues.createQueue(queue);
        await this.#queues.send(queue, [message]);
      }
    }
  }

  // ---- buckets ----------------------------------------------------------------------------

  async createBucket(name: string): Promise<{ bucket: BucketInfo; created: boolean }> {
    if (!BUCKET_NAME_RE.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
      throw err('OBJECT_INVALID_BUCKET_NAME', 400, `invalid bucket name ${JSON.stringify(name)}`, 'use 3–63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit');
    }
    const bucket: BucketInfo = { name, createdAt: this.#now() };
    try {
      await this.#kv.create(`b.${encodeToken(name)}`, JSON.stringify(bucket));
      return { bucket, created: true };
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      const existing = await this.headBucket(name);
      if (!existing) throw error;
      return { bucket: existing, created: false };
    }
  }

  async listBuckets(): Promise<BucketInfo[]> {
    return (await this.#scan<BucketInfo>('b.*')).map((e) => e.value).sort((a, b) => compareKeys(a.name, b.name));
  }

  async headBucket(name: string): Promise<BucketInfo | undefined> {
    return (await this.#read<BucketInfo>(`b.${encodeToken(name)}`))?.value;
  }

  async deleteBucket(name: string): Promise<void> {
    await this.#requireBucket(name);
    const b = encodeToken(name);
    if ((await this.#scan(`o.${b}.*`)).length > 0 || (await this.#scan(`u.${b}.*`)).length > 0) {
      throw err('OBJECT_BUCKET_NOT_EMPTY', 409, `bucket ${name} is not empty`, 'delete its objects (and abort its multipart uploads) first');
    }
    await this.#kv.delete(`b.${b}`);
  }

  // ---- objects ----------------------------------------------------------------------------

  async put(bucket: string, key: string, body: AsyncIterable<Uint8Array>, options: ObjectWriteOptions = {}): Promise<ObjectInfo> {
    checkKey(key);
    await this.#requireBucket(bucket);
    const algorithms = Object.keys(options.expect ?? {}).filter((a) => (options.expect as Record<string, unknown>)[a] !== undefined) as ChecksumAlgorithm[];
    const written = await this.#writeBody(body, algorithms);
    try {
      checkDigests(options.expect, written.digests);
      options.verify?.();
    } catch (error) {
      await this.#dropBody(written.name);
      throw error;
    }
    return this.#commit(bucket, key, written.name, {
      size: written.size,
      etag: written.digests.md5 ?? '',
      httpMetadata: options.httpMetadata ?? {},
      customMetadata: options.customMetadata ?? {},
      checksums: written.digests,
    }, options.onlyIf, options.copySource ? 'copy' : 'put', options.copySource);
  }

  async get(bucket: string, key: string, options: { range?: ObjectRange } = {}): Promise<ObjectGetResult | undefined> {
    await this.#requireBucket(bucket);
    // The object may be replaced (and its body removed) between the two reads: read again.
    for (let attempt = 0; ; attempt++) {
      const entry = await this.#read<ObjectEntry>(this.#objectKey(bucket, key));
      if (!entry) return undefined;
      const { info, body } = entry.value;
      const range = resolveRange(options.range, info.size);
      const result = await this.#bodies.get(body);
      if (!result) {
        if (attempt < 3) continue;
        throw new OutpostError('OBJECT_CORRUPT', `the body of ${bucket}/${key} is missing`);
      }
      return { info, range, body: new StreamBody(result.data, range.offset, range.length) };
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    await this.#requireBucket(bucket);
    return (await this.#read<ObjectEntry>(this.#objectKey(bucket, key)))?.value.info;
  }

  async delete(bucket: string, keys: readonly string[]): Promise<void> {
    await this.#requireBucket(bucket);
    for (const key of keys) {
      const entryKey = this.#objectKey(bucket, key);
      for (;;) {
        const entry = await this.#read<ObjectEntry>(entryKey);
        if (!entry) break;
        try {
          await this.#kv.delete(entryKey, { previousSeq: entry.revision });
        } catch (error) {
          if (isWrongLastSequence(error)) continue;
          throw error;
        }
        const marker = (await this.#kv.get(entryKey))?.revision ?? entry.revision;
        await this.#record({ bucket, key, action: 'delete', at: this.#now() }, marker);
        await this.#dropBody(entry.value.body);
        break;
      }
    }
  }

  async list(bucket: string, options: ObjectListOptions = {}): Promise<ObjectListResult> {
    await this.#requireBucket(bucket);
    const limit = options.limit ?? MAX_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw err('OBJECT_INVALID_LIMIT', 400, `list limit must be 1–${MAX_LIST_LIMIT}, got ${limit}`);
    const prefix = options.prefix ?? '';
    const delimiter = options.delimiter === '' ? undefined : options.delimiter;
    let at: Cursor = { from: prefix, inclusive: true };
    const later = (c: Cursor): void => {
      const order = compareKeys(c.from, at.from);
      if (order > 0 || (order === 0 && !c.inclusive)) at = c;
    };
    if (options.startAfter !== undefined && options.startAfter !== '') later({ from: options.startAfter, inclusive: false });
    if (options.cursor) later(decodeCursor(options.cursor));
    const all = (await this.#scan<ObjectEntry>(`o.${encodeToken(bucket)}.*`))
      .map((e) => e.value.info)
      .filter((info) => info.key.startsWith(prefix))
      .sort((a, b) => compareKeys(a.key, b.key));
    const objects: ObjectInfo[] = [];
    const delimitedPrefixes: string[] = [];
    let truncated = false;
    for (const info of all) {
      const order = compareKeys(info.key, at.from);
      if (order < 0 || (order === 0 && !at.inclusive)) continue;
      if (objects.length + delimitedPrefixes.length === limit) {
        truncated = true;
        break;
      }
      const cut = delimiter === undefined ? -1 : info.key.indexOf(delimiter, prefix.length);
      if (cut !== -1 && delimiter !== undefined) {
        const common = info.key.slice(0, cut + delimiter.length);
        delimitedPrefixes.push(common);
        at = { from: prefixEnd(common), inclusive: true }; // past every key under it
        continue;
      }
      objects.push(info);
      at = { from: info.key, inclusive: false };
    }
    return { objects, delimitedPrefixes, truncated, ...(truncated ? { cursor: encodeCursor(at) } : {}) };
  }

  // ---- multipart --------------------------------------------------------------------------

  #uploadKey(bucket: string, uploadId: string): string {
    return `u.${encodeToken(bucket)}.${encodeToken(uploadId)}`;
  }

  async createMultipartUpload(bucket: string, key: string, options: Pick<ObjectWriteOptions, 'httpMetadata' | 'customMetadata'> = {}): Promise<MultipartUploadInfo> {
    checkKey(key);
    await this.#requireBucket(bucket);
    const uploadId = randomBytes(24).toString('base64url');
    const createdAt = this.#now();
    const upload: UploadEntry = { key, createdAt, httpMetadata: options.httpMetadata ?? {}, customMetadata: options.customMetadata ?? {} };
    await this.#kv.create(this.#uploadKey(bucket, uploadId), JSON.stringify(upload));
    return { uploadId, bucket, key, createdAt };
  }

  async #upload(bucket: string, key: string, uploadId: string): Promise<UploadEntry> {
    await this.#requireBucket(bucket);
    const upload = await this.#read<UploadEntry>(this.#uploadKey(bucket, uploadId));
    if (!upload || upload.value.key !== key) throw noSuchUpload();
    return upload.value;
  }

  async #parts(bucket: string, uploadId: string): Promise<Array<{ token: string; value: PartEntry }>> {
    return (await this.#scan<PartEntry>(`p.${encodeToken(bucket)}.${encodeToken(uploadId)}.*`)).sort((a, b) => a.value.part.partNumber - b.value.part.partNumber);
  }

  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, options: { expect?: ObjectChecksums; verify?: () => void } = {}): Promise<PartInfo> {
    await this.#upload(bucket, key, uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) throw err('OBJECT_INVALID_PART', 400, `part numbers must be 1–${MAX_PART_NUMBER}, got ${partNumber}`);
    const written = await this.#writeBody(body, Object.keys(options.expect ?? {}) as ChecksumAlgorithm[]);
    try {
      checkDigests(options.expect, written.digests);
      options.verify?.();
      await this.#upload(bucket, key, uploadId); // aborted while the part streamed?
    } catch (error) {
      await this.#dropBody(written.name);
      throw error;
    }
    const part: PartInfo = { partNumber, etag: written.digests.md5 ?? '', size: written.size, uploaded: this.#now() };
    const partKey = `p.${encodeToken(bucket)}.${encodeToken(uploadId)}.${partNumber}`;
    const previous = await this.#read<PartEntry>(partKey);
    await this.#kv.put(partKey, JSON.stringify({ part, body: written.name } satisfies PartEntry));
    await this.#dropBody(previous?.value.body);
    return part;
  }

  async listParts(bucket: string, key: string, uploadId: string): Promise<PartInfo[]> {
    await this.#upload(bucket, key, uploadId);
    return (await this.#parts(bucket, uploadId)).map((p) => p.value.part);
  }

  async completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: ReadonlyArray<{ partNumber: number; etag: string }>, options: CompleteOptions = {}): Promise<ObjectInfo> {
    const upload = await this.#upload(bucket, key, uploadId);
    if (parts.length === 0) throw err('OBJECT_INVALID_PART', 400, 'a multipart upload must be completed with at least one part');
    const stored = new Map((await this.#parts(bucket, uploadId)).map((p) => [p.value.part.partNumber, p.value]));
    const chosen: PartEntry[] = [];
    let last = 0;
    for (const p of parts) {
      if (p.partNumber <= last) throw err('OBJECT_INVALID_PART_ORDER', 400, 'the list of parts was not in ascending order; parts must be ordered by part number');
      last = p.partNumber;
      const entry = stored.get(p.partNumber);
      if (!entry || entry.part.etag !== p.etag.replaceAll('"', '').toLowerCase()) throw err('OBJECT_INVALID_PART', 400, `part ${p.partNumber} was not uploaded, or its ETag does not match`);
      chosen.push(entry);
    }
    const min = options.minPartSize ?? MIN_PART_SIZE;
    chosen.forEach((entry, i) => {
      if (i < chosen.length - 1 && entry.part.size < min) throw err('OBJECT_ENTITY_TOO_SMALL', 400, `part ${entry.part.partNumber} is ${entry.part.size} bytes; every part but the last must be at least ${min} bytes`);
    });
    const bodies = this.#bodies;
    async function* joined(): AsyncGenerator<Uint8Array> {
      for (const entry of chosen) {
        const result = await bodies.get(entry.body);
        if (!result) throw new OutpostError('OBJECT_CORRUPT', `part ${entry.part.partNumber} of upload ${uploadId} has no body`);
        for await (const chunk of result.data) yield chunk;
      }
    }
    const written = await this.#writeBody(joined(), []);
    const etag = `${createHash('md5').update(Buffer.concat(chosen.map((c) => Buffer.from(c.part.etag, 'hex')))).digest('hex')}-${chosen.length}`;
    const info = await this.#commit(bucket, key, written.name, {
      size: written.size,
      etag,
      httpMetadata: upload.httpMetadata,
      customMetadata: upload.customMetadata,
      checksums: {},
    }, options.onlyIf, 'complete-multipart');
    await this.#dropUpload(bucket, uploadId);
    return info;
  }

  async #dropUpload(bucket: string, uploadId: string): Promise<void> {
    const parts = await this.#parts(bucket, uploadId);
    await this.#kv.purge(this.#uploadKey(bucket, uploadId));
    for (const p of parts) {
      await this.#kv.purge(p.token);
      await this.#dropBody(p.value.body);
    }
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.#upload(bucket, key, uploadId);
    await this.#dropUpload(bucket, uploadId);
  }

  // ---- change capture ---------------------------------------------------------------------

  async setChangeFeeds(bucket: string, queues: readonly string[]): Promise<void> {
    for (const q of new Set(queues)) if (!(await this.#queues.getQueue(q))) await this.#queues.createQueue(q);
    await this.#feeds.set(bucket, queues);
  }

  async changeFeeds(): Promise<Record<string, string[]>> {
    return this.#feeds.all();
  }
}
