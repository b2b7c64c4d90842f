/**
 * @module
 * The host side of the R2 binding: serves one function's declared bucket from the store's
 * ObjectStore (the bucket the S3 API shows under the same name; created on first use). Bodies
 * cross the thread boundary in chunks of at most R2_LIMITS.chunkBytes: a get returns the first
 * chunk and the guest reads the rest with `read`; a large put opens a session, appends chunks
 * and commits, so a 5 GB object never sits in memory on either side.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectChecksums, ObjectHttpMetadata, ObjectInfo, ObjectRange, ObjectStore } from '../../store/objects.ts';
import type { HostBinding } from '../rpc.ts';
import { asR2Error, R2_LIMITS, r2Error } from './errors.ts';

export { R2_LIMITS } from './errors.ts';

/** onlyIf as it crosses the boundary (the guest turns Headers and Dates into this). */
export interface WireConditional {
  etagMatches?: string[];
  etagDoesNotMatch?: string[];
  /** Epoch ms. */
  uploadedBefore?: number;
  uploadedAfter?: number;
}

interface WirePutOptions {
  httpMetadata?: ObjectHttpMetadata;
  customMetadata?: Record<string, string>;
  checksums?: ObjectChecksums;
  onlyIf?: WireConditional;
}

/** R2's conditional semantics: a missing object fails etagMatches and passes everything else. */
export function conditionHolds(cond: WireConditional | undefined, info: ObjectInfo | undefined): boolean {
  if (!cond) return true;
  const lastModified = info ? Math.floor(info.uploaded / 1000) * 1000 : 0;
  if (cond.etagMatches !== undefined && cond.etagMatches.length > 0) {
    if (!info || !(cond.etagMatches.includes('*') || cond.etagMatches.includes(info.etag))) return false;
  } else if (cond.uploadedBefore !== undefined && info && lastModified > cond.uploadedBefore) {
    return false;
  }
  if (cond.etagDoesNotMatch !== undefined && cond.etagDoesNotMatch.length > 0) {
    if (info && (cond.etagDoesNotMatch.includes('*') || cond.etagDoesNotMatch.includes(info.etag))) return false;
  } else if (cond.uploadedAfter !== undefined && info && lastModified <= cond.uploadedAfter) {
    return false;
  }
  return true;
}

/** A one-way channel: `append` resolves once the store has taken the chunk (backpressure). */
class Channel implements AsyncIterable<Uint8Array> {
  #items: Array<Uint8Array | null> = [];
  #error: unknown;
  #wake: (() => void) | undefined;
  #taken: Array<() => void> = [];
  push(chunk: Uint8Array | null): Promise<void> {
    this.#items.push(chunk);
    const taken = new Promise<void>((resolve) => this.#taken.push(resolve));
    this.#wake?.();
    return chunk === null ? Promise.resolve() : taken;
  }
  fail(error: unknown): void {
    this.#error = error;
    this.#wake?.();
    for (const t of this.#taken.splice(0)) t();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      const item = this.#items.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      this.#taken.shift()?.();
      if (item === null) return;
      yield item;
    }
  }
}

interface Session {
  channel: Channel;
  result: Promise<unknown>;
  timer: NodeJS.Timeout;
}

function bytesOf(method: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw r2Error(method, 'R2_INVALID_ARGUMENT', 'the value must be bytes');
  if (value.byteLength > R2_LIMITS.chunkBytes) throw r2Error(method, 'R2_INVALID_ARGUMENT', `a chunk may be at most ${R2_LIMITS.chunkBytes} bytes`);
  return value;
}

function keyOf(method: string, key: unknown): string {
  if (typeof key !== 'string') throw r2Error(method, 'R2_INVALID_ARGUMENT', 'the key must be a string');
  return key;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  if (bytes.byteLength > 0) yield bytes;
}

/** The first `size` bytes of a body (then closes it). */
async function readAll(body: AsyncIterable<Uint8Array> & { close(): Promise<void> }, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let at = 0;
  try {
    for await (const c of body) {
      const n = Math.min(c.byteLength, size - at);
      out.set(n === c.byteLength ? c : c.subarray(0, n), at);
      at += n;
      if (at === size) break;
    }
  } finally {
    await body.close();
  }
  return at === size ? out : out.subarray(0, at);
}

export function r2Host(objects: ObjectStore, bucket: string): HostBinding {
  let ready: Promise<unknown> | undefined;
  const sessions = new Map<string, Session>();

  const putOptions = (raw: unknown): { options: WirePutOptions; store: Parameters<ObjectStore['put']>[3] } => {
    const options = (raw ?? {}) as WirePutOptions;
    return {
      options,
      store: {
        ...(options.httpMetadata ? { httpMetadata: options.httpMetadata } : {}),
        ...(options.customMetadata ? { customMetadata: options.customMetadata } : {}),
        ...(options.checksums ? { expect: options.checksums } : {}),
        ...(options.onlyIf ? { onlyIf: (current: ObjectInfo | undefined) => conditionHolds(options.onlyIf, current) } : {}),
      },
    };
  };

  /** Runs a put; a failed precondition answers null, as R2 does. */
  const preconditioned = async (run: () => Promise<ObjectInfo>): Promise<ObjectInfo | null> => {
    try {
      return await run();
    } catch (error) {
      if ((error as { code?: unknown }).code === 'OBJECT_PRECONDITION_FAILED') return null;
      throw error;
    }
  };

  const open = (method: string, start: (body: AsyncIterable<Uint8Array>) => Promise<unknown>): string => {
    const id = randomBytes(12).toString('hex');
    const channel = new Channel();
    const result = start(channel);
    result.catch(() => undefined);
    const timer = setTimeout(() => {
      sessions.delete(id);
      channel.fail(r2Error(method, 'R2_UPLOAD_ABANDONED', 'the upload received no data for too long'));
    }, R2_LIMITS.idleSessionMs).unref();
    sessions.set(id, { channel, result, timer });
    return id;
  };

  const session = (method: string, id: unknown): Session => {
    const s = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!s) throw r2Error(method, 'R2_UPLOAD_ABANDONED', 'the upload is no longer open');
    s.timer.refresh();
    return s;
  };

  const serve = async (method: string, args: unknown[]): Promise<unknown> => {
    switch (method) {
      case 'head':
        return (await objects.head(bucket, keyOf(method, args[0]))) ?? null;
      case 'get': {
        const key = keyOf(method, args[0]);
        const options = (args[1] ?? {}) as { range?: ObjectRange; onlyIf?: WireConditional };
        const info = await objects.head(bucket, key);
        if (!info) return null;
        if (!conditionHolds(options.onlyIf, info)) return { info, body: false };
        const got = await objects.get(bucket, key, options.range ? { range: options.range } : {});
        if (!got) return null;
        const chunk = await readAll(got.body, Math.min(got.range.length, R2_LIMITS.chunkBytes));
        return { info: got.info, body: true, range: got.range, chunk };
      }
      case 'read': {
        const [key, version, offset, length] = args as [unknown, unknown, unknown, unknown];
        if (typeof version !== 'string' || typeof offset !== 'number' || typeof length !== 'number' || length > R2_LIMITS.chunkBytes) throw r2Error(method, 'R2_INVALID_ARGUMENT', 'bad read');
        return readRegion(keyOf(method, key), version, offset, length);
      }
      case 'put': {
        const key = keyOf(method, args[0]);
        const bytes = bytesOf(method, args[1]);
        const { store } = putOptions(args[2]);
        return preconditioned(() => objects.put(bucket, key, once(bytes), store));
      }
      case 'putOpen': {
        const key = keyOf(method, args[0]);
        const { store } = putOptions(args[1]);
        return open('put', (body) => preconditioned(() => objects.put(bucket, key, body, store)));
      }
      case 'partOpen': {
        const [key, uploadId, partNumber] = args as [unknown, unknown, unknown];
        if (typeof uploadId !== 'string' || typeof partNumber !== 'number') throw r2Error('uploadPart', 'R2_INVALID_ARGUMENT', 'bad part');
        return open('uploadPart', (body) => objects.uploadPart(bucket, keyOf('uploadPart', key), uploadId, partNumber, body));
      }
      case 'append': {
        const s = session(method, args[0]);
        await Promise.race([s.channel.push(bytesOf(method, args[1])), s.result]);
        return null;
      }
      case 'commit': {
        const s = session(method, args[0]);
        sessions.delete(String(args[0]));
        clearTimeout(s.timer);
        await s.channel.push(null);
        return s.result;
      }
      case 'cancel': {
        const s = typeof args[0] === 'string' ? sessions.get(args[0]) : undefined;
        if (s) {
          sessions.delete(String(args[0]));
          clearTimeout(s.timer);
          s.channel.fail(new Error('cancelled'));
        }
        return null;
      }
      case 'delete': {
        const keys = Array.isArray(args[0]) ? args[0] : [args[0]];
        if (keys.length > 1000) throw r2Error(method, 'R2_INVALID_ARGUMENT', 'at most 1000 keys can be deleted at once');
        await objects.delete(bucket, keys.map((k) => keyOf(method, k)));
        return null;
      }
      case 'list': {
        const o = (args[0] ?? {}) as { prefix?: unknown; delimiter?: unknown; cursor?: unknown; startAfter?: unknown; limit?: unknown };
        const limit = o.limit === undefined || o.limit === null ? R2_LIMITS.maxListLimit : Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > R2_LIMITS.maxListLimit) throw r2Error(method, 'R2_INVALID_ARGUMENT', `limit must be an integer between 1 and ${R2_LIMITS.maxListLimit}`);
        const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
        const prefix = str(o.prefix);
        const delimiter = str(o.delimiter);
        const cursor = str(o.cursor);
        const startAfter = str(o.startAfter);
        return objects.list(bucket, { limit, ...(prefix ? { prefix } : {}), ...(delimiter ? { delimiter } : {}), ...(cursor ? { cursor } : {}), ...(startAfter ? { startAfter } : {}) });
      }
      case 'createMultipartUpload': {
        const key = keyOf(method, args[0]);
        const options = (args[1] ?? {}) as WirePutOptions;
        const up = await objects.createMultipartUpload(bucket, key, {
          ...(options.httpMetadata ? { httpMetadata: options.httpMetadata } : {}),
          ...(options.customMetadata ? { customMetadata: options.customMetadata } : {}),
        });
        return up.uploadId;
      }
      case 'uploadPart': {
        const [key, uploadId, partNumber, value] = args as [unknown, unknown, unknown, unknown];
        if (typeof uploadId !== 'string' || typeof partNumber !== 'number') throw r2Error(method, 'R2_INVALID_ARGUMENT', 'bad part');
        const part = await objects.uploadPart(bucket, keyOf(method, key), uploadId, partNumber, once(bytesOf(method, value)));
        return part;
      }
      case 'completeMultipartUpload': {
        const [key, uploadId, parts] = args as [unknown, unknown, unknown];
        if (typeof uploadId !== 'string' || !Array.isArray(parts)) throw r2Error(method, 'R2_INVALID_ARGUMENT', 'bad upload');
        return objects.completeMultipartUpload(bucket, keyOf(method, key), uploadId, parts as Array<{ partNumber: number; etag: string }>);
      }
      case 'abortMultipartUpload': {
        const [key, uploadId] = args as [unknown, unknown];
        if (typeof uploadId !== 'string') throw r2Error(method, 'R2_INVALID_ARGUMENT', 'bad upload');
        await objects.abortMultipartUpload(bucket, keyOf(method, key), uploadId);
        return null;
      }
      default:
        throw r2Error(method, 'R2_INVALID_ARGUMENT', `unknown operation ${method}`);
    }
  };

  async function readRegion(key: string, version: string, offset: number, length: number): Promise<Uint8Array> {
    const got = await objects.get(bucket, key, { range: { offset, length } });
    if (!got || got.info.version !== version) {
      await got?.body.close();
      throw r2Error('get', 'R2_OBJECT_CHANGED', `${key} was replaced or deleted while its body was being read`);
    }
    return readAll(got.body, got.range.length);
  }

  return async (method, args) => {
    ready ??= objects.createBucket(bucket).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    try {
      await ready;
      return await serve(method, args);
    } catch (error) {
      throw asR2Error(method === 'putOpen' || method === 'append' || method === 'commit' ? 'put' : method, error);
    }
  };
}
