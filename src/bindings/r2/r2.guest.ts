/**
 * @module
 * The R2 bucket object a function sees on `env` (Web APIs only: this runs inside the isolate).
 * Bodies cross to the host in chunks of at most 1 MiB: `get` brings the first chunk and the
 * body stream pulls the rest on demand; a put larger than one chunk (or any stream) opens an
 * upload on the host and appends to it, so neither side holds a large object whole.
 */
import type { Rpc } from '../rpc.ts';

const CHUNK = 1024 * 1024;

interface WireInfo {
  key: string;
  size: number;
  etag: string;
  version: string;
  uploaded: number;
  httpMetadata: { contentType?: string; contentLanguage?: string; contentDisposition?: string; contentEncoding?: string; cacheControl?: string; expires?: number };
  customMetadata: Record<string, string>;
  checksums: Record<string, string>;
}

interface WireConditional {
  etagMatches?: string[];
  etagDoesNotMatch?: string[];
  uploadedBefore?: number;
  uploadedAfter?: number;
}

type Range = { offset?: number; length?: number; suffix?: number };

function hexToBuffer(hex: string): ArrayBuffer {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out.buffer;
}

function toHex(value: unknown, what: string): string {
  if (typeof value === 'string') return value.toLowerCase();
  const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : undefined;
  if (!bytes) throw new TypeError(`${what} must be a hex string or an ArrayBuffer`);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function etags(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return list.map((s) => s.trim().replace(/^W\//, '').replaceAll('"', '')).filter((s) => s !== '');
}

function ms(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const t = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number(value);
  return Number.isNaN(t) ? undefined : t;
}

/** onlyIf as an R2Conditional or a Headers object → the wire form. */
function conditional(onlyIf: unknown): WireConditional | undefined {
  if (onlyIf === undefined || onlyIf === null) return undefined;
  if (onlyIf instanceof Headers) {
    const out: WireConditional = {};
    const m = etags(onlyIf.get('if-match'));
    const n = etags(onlyIf.get('if-none-match'));
    const before = ms(onlyIf.get('if-unmodified-since'));
    const after = ms(onlyIf.get('if-modified-since'));
    if (m) out.etagMatches = m;
    if (n) out.etagDoesNotMatch = n;
    if (before !== undefined) out.uploadedBefore = before;
    if (after !== undefined) out.uploadedAfter = after;
    return out;
  }
  const c = onlyIf as Record<string, unknown>;
  const out: WireConditional = {};
  const m = etags(c['etagMatches']);
  const n = etags(c['etagDoesNotMatch']);
  const before = ms(c['uploadedBefore']);
  const after = ms(c['uploadedAfter']);
  if (m) out.etagMatches = m;
  if (n) out.etagDoesNotMatch = n;
  if (before !== undefined) out.uploadedBefore = before;
  if (after !== undefined) out.uploadedAfter = after;
  return out;
}

function range(value: unknown): Range | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Headers) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(value.get('range') ?? '');
    if (!m || (m[1] === '' && m[2] === '')) return undefined;
    if (m[1] === '') return { suffix: Number(m[2]) };
    return m[2] === '' ? { offset: Number(m[1]) } : { offset: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 };
  }
  const r = value as Range;
  const out: Range = {};
  if (r.offset !== undefined) out.offset = r.offset;
  if (r.length !== undefined) out.length = r.length;
  if (r.suffix !== undefined) out.suffix = r.suffix;
  return out;
}

function httpMetadata(value: unknown): WireInfo['httpMetadata'] | undefined {
  if (value === undefined || value === null) return undefined;
  const out: WireInfo['httpMetadata'] = {};
  if (value instanceof Headers) {
    const map: Array<[keyof WireInfo['httpMetadata'], string]> = [['contentType', 'content-type'], ['contentLanguage', 'content-language'], ['contentDisposition', 'content-disposition'], ['contentEncoding', 'content-encoding'], ['cacheControl', 'cache-control']];
    for (const [k, h] of map) {
      const v = value.get(h);
      if (v !== null && k !== 'expires') out[k] = v;
    }
    const expires = ms(value.get('expires'));
    if (expires !== undefined) out.expires = expires;
    return out;
  }
  const v = value as Record<string, unknown>;
  for (const k of ['contentType', 'contentLanguage', 'contentDisposition', 'contentEncoding', 'cacheControl'] as const) if (typeof v[k] === 'string') out[k] = v[k];
  const expires = ms(v['cacheExpiry'] ?? v['expires']);
  if (expires !== undefined) out.expires = expires;
  return out;
}

class R2Checksums {
  readonly md5?: ArrayBuffer;
  readonly sha1?: ArrayBuffer;
  readonly sha256?: ArrayBuffer;
  readonly sha384?: ArrayBuffer;
  readonly sha512?: ArrayBuffer;
  readonly #hex: Record<string, string>;
  constructor(hex: Record<string, string>) {
    this.#hex = hex;
    for (const [k, v] of Object.entries(hex)) Object.defineProperty(this, k, { value: hexToBuffer(v), enumerable: true });
  }
  toJSON(): Record<string, string> {
    return { ...this.#hex };
  }
}

class R2Object {
  readonly key: string;
  readonly version: string;
  readonly size: number;
  readonly etag: string;
  readonly httpEtag: string;
  readonly uploaded: Date;
  readonly httpMetadata: Record<string, unknown>;
  readonly customMetadata: Record<string, string>;
  readonly checksums: R2Checksums;
  readonly storageClass = 'Standard';
  readonly range: Range | undefined;
  constructor(info: WireInfo, r?: { offset: number; length: number }, include: { http: boolean; custom: boolean } = { http: true, custom: true }) {
    this.key = info.key;
    this.version = info.version;
    this.size = info.size;
    this.etag = info.etag;
    this.httpEtag = `"${info.etag}"`;
    this.uploaded = new Date(info.uploaded);
    const { expires, ...rest } = info.httpMetadata;
    this.httpMetadata = include.http ? { ...rest, ...(expires === undefined ? {} : { cacheExpiry: new Date(expires) }) } : {};
    this.customMetadata = include.custom ? { ...info.customMetadata } : {};
    this.checksums = new R2Checksums(info.checksums);
    this.range = r;
  }
  writeHttpMetadata(headers: Headers): void {
    const m = this.httpMetadata;
    const set = (h: string, v: unknown): void => {
      if (typeof v === 'string') headers.set(h, v);
    };
    set('content-type', m['contentType']);
    set('content-language', m['contentLanguage']);
    set('content-disposition', m['contentDisposition']);
    set('content-encoding', m['contentEncoding']);
    set('cache-control', m['cacheControl']);
    if (m['cacheExpiry'] instanceof Date) headers.set('expires', m['cacheExpiry'].toUTCString());
  }
}

class R2ObjectBody extends R2Object {
  readonly body: ReadableStream<Uint8Array>;
  #used = false;
  constructor(info: WireInfo, r: { offset: number; length: number }, first: Uint8Array, readMore: (offset: number, length: number) => Promise<Uint8Array>) {
    super(info, r);
    let sent = 0;
    let firstPending = true;
    this.body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (firstPending) {
          firstPending = false;
          sent = first.byteLength;
          if (first.byteLength > 0) controller.enqueue(first);
        } else {
          const n = Math.min(CHUNK, r.length - sent);
          const chunk = await readMore(r.offset + sent, n);
          sent += chunk.byteLength;
          if (chunk.byteLength > 0) controller.enqueue(chunk);
          else sent = r.length;
        }
        if (sent >= r.length) {
          controller.close();
        }
      },
    });
  }
  get bodyUsed(): boolean {
    return this.#used;
  }
  #response(): Response {
    if (this.#used) throw new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.');
    this.#used = true;
    return new Response(this.body);
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#response().arrayBuffer();
  }
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.#response().arrayBuffer());
  }
  text(): Promise<string> {
    return this.#response().text();
  }
  json<T>(): Promise<T> {
    return this.#response().json() as Promise<T>;
  }
  blob(): Promise<Blob> {
    return this.#response().blob();
  }
}

/** A value to store: small ones as one chunk of bytes, everything else as a stream of chunks. */
function valueOf(value: unknown): { bytes: Uint8Array } | { stream: ReadableStream<Uint8Array> } {
  if (value === null || value === undefined) return { bytes: new Uint8Array(0) };
  if (typeof value === 'string') return { bytes: new TextEncoder().encode(value) };
  if (value instanceof ArrayBuffer) return { bytes: new Uint8Array(value) };
  if (ArrayBuffer.isView(value)) return { bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
  if (value instanceof Blob) return { stream: value.stream() };
  if (value instanceof ReadableStream) return { stream: value as ReadableStream<Uint8Array> };
  throw new TypeError('put: the value must be a string, ArrayBuffer, ArrayBufferView, Blob, ReadableStream or null');
}

/** Yields the value in chunks of at most CHUNK bytes (small stream chunks are gathered). */
async function* chunksOf(v: { bytes: Uint8Array } | { stream: ReadableStream<Uint8Array> }): AsyncGenerator<Uint8Array> {
  if ('bytes' in v) {
    for (let at = 0; at < v.bytes.byteLength; at += CHUNK) yield v.bytes.subarray(at, at + CHUNK);
    return;
  }
  const reader = v.stream.getReader();
  let gathered: Uint8Array[] = [];
  let size = 0;
  const flush = (): Uint8Array => {
    const out = new Uint8Array(size);
    let at = 0;
    for (const g of gathered) {
      out.set(g, at);
      at += g.byteLength;
    }
    gathered = [];
    size = 0;
    return out;
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let chunk = value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
    while (chunk.byteLength > 0) {
      const take = Math.min(CHUNK - size, chunk.byteLength);
      gathered.push(chunk.slice(0, take));
      size += take;
      chunk = chunk.subarray(take);
      if (size === CHUNK) yield flush();
    }
  }
  if (size > 0) yield flush();
}

export function createR2Bucket(binding: string, rpc: Rpc): object {
  const call = (method: string, ...args: unknown[]): Promise<unknown> => rpc(binding, method, args);

  /** Streams a value through an upload session opened by `open`; returns what commit returns. */
  async function upload(openMethod: string, openArgs: unknown[], value: { bytes: Uint8Array } | { stream: ReadableStream<Uint8Array> }): Promise<unknown> {
    const id = await call(openMethod, ...openArgs);
    try {
      for await (const chunk of chunksOf(value)) await call('append', id, chunk);
    } catch (error) {
      await call('cancel', id);
      throw error;
    }
    return call('commit', id);
  }

  function multipart(key: string, uploadId: string): object {
    return {
      key,
      uploadId,
      async uploadPart(partNumber: number, value: unknown) {
        const v = valueOf(value);
        const part = ('bytes' in v && v.bytes.byteLength <= CHUNK
          ? await call('uploadPart', key, uploadId, partNumber, v.bytes)
          : await upload('partOpen', [key, uploadId, partNumber], v)) as { partNumber: number; etag: string };
        return { partNumber: part.partNumber, etag: part.etag };
      },
      async abort() {
        await call('abortMultipartUpload', key, uploadId);
      },
      async complete(parts: Array<{ partNumber: number; etag: string }>) {
        const info = (await call('completeMultipartUpload', key, uploadId, parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })))) as WireInfo;
        return new R2Object(info);
      },
    };
  }

  return {
    async head(key: string) {
      const info = (await call('head', String(key))) as WireInfo | null;
      return info ? new R2Object(info) : null;
    },
    async get(key: string, options: { range?: unknown; onlyIf?: unknown } = {}) {
      const k = String(key);
      const r = range(options.range);
      const cond = conditional(options.onlyIf);
      const found = (await call('get', k, { ...(r ? { range: r } : {}), ...(cond ? { onlyIf: cond } : {}) })) as
        | null
        | { info: WireInfo; body: false }
        | { info: WireInfo; body: true; range: { offset: number; length: number }; chunk: Uint8Array };
      if (!found) return null;
      if (!found.body) return new R2Object(found.info);
      const version = found.info.version;
      return new R2ObjectBody(found.info, found.range, found.chunk, async (offset, length) => (await call('read', k, version, offset, length)) as Uint8Array);
    },
    async put(key: string, value: unknown, options: Record<string, unknown> = {}) {
      const k = String(key);
      const checksums: Record<string, string> = {};
      for (const a of ['md5', 'sha1', 'sha256', 'sha384', 'sha512']) if (options[a] !== undefined) checksums[a] = toHex(options[a], a);
      const meta = httpMetadata(options['httpMetadata']);
      const cond = conditional(options['onlyIf']);
      const custom = options['customMetadata'] as Record<string, unknown> | undefined;
      const wire = {
        ...(meta ? { httpMetadata: meta } : {}),
        ...(custom ? { customMetadata: Object.fromEntries(Object.entries(custom).map(([a, b]) => [a, String(b)])) } : {}),
        ...(Object.keys(checksums).length > 0 ? { checksums } : {}),
        ...(cond ? { onlyIf: cond } : {}),
      };
      const v = valueOf(value);
      const info = ('bytes' in v && v.bytes.byteLength <= CHUNK ? await call('put', k, v.bytes, wire) : await upload('putOpen', [k, wire], v)) as WireInfo | null;
      return info ? new R2Object(info) : null;
    },
    async delete(keys: string | string[]) {
      await call('delete', Array.isArray(keys) ? keys.map(String) : [String(keys)]);
    },
    async list(options: { prefix?: string; delimiter?: string; cursor?: string; startAfter?: string; limit?: number; include?: string[] } = {}) {
      const result = (await call('list', { prefix: options.prefix, delimiter: options.delimiter, cursor: options.cursor, startAfter: options.startAfter, limit: options.limit })) as {
        objects: WireInfo[];
        delimitedPrefixes: string[];
        truncated: boolean;
        cursor?: string;
      };
      const include = { http: options.include?.includes('httpMetadata') ?? false, custom: options.include?.includes('customMetadata') ?? false };
      return {
        objects: result.objects.map((o) => new R2Object(o, undefined, include)),
        delimitedPrefixes: result.delimitedPrefixes,
        truncated: result.truncated,
        ...(result.truncated && result.cursor ? { cursor: result.cursor } : {}),
      };
    },
    async createMultipartUpload(key: string, options: Record<string, unknown> = {}) {
      const meta = httpMetadata(options['httpMetadata']);
      const custom = options['customMetadata'] as Record<string, unknown> | undefined;
      const uploadId = (await call('createMultipartUpload', String(key), {
        ...(meta ? { httpMetadata: meta } : {}),
        ...(custom ? { customMetadata: Object.fromEntries(Object.entries(custom).map(([a, b]) => [a, String(b)])) } : {}),
      })) as string;
      return multipart(String(key), uploadId);
    },
    resumeMultipartUpload(key: string, uploadId: string) {
      return multipart(String(key), String(uploadId));
    },
  };
}
