/**
 * @module
 * An S3-compatible API on the AWS port, served from the store's ObjectStore — the same buckets
 * a function sees through its R2 binding (bucket name = R2 `bucket_name`). Path-style
 * (`/bucket/key`) and virtual-host style (`bucket.localhost`, `bucket.s3.localhost`, or
 * `bucket.s3.<anything>`) addressing; S3's XML bodies and XML errors.
 *
 * Operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
 * ListObjectsV2, ListObjects (v1), PutObject (Content-MD5, x-amz-meta-*, aws-chunked bodies),
 * GetObject / HeadObject (Range, If-Match, If-None-Match, If-Modified-Since,
 * If-Unmodified-Since, response-* overrides), CopyObject (metadata directive), DeleteObject,
 * DeleteObjects, CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts; presigned GET/PUT URLs.
 *
 * Auth: SigV4 is verified against keys from `outpost keys create` on `outpost serve`, and on
 * `outpost dev --s3-auth`; plain `outpost dev` accepts any credentials, as LocalStack does.
 *
 * Not served: versioning, ACLs and policies, tagging, object lock, lifecycle, website hosting,
 * UploadPartCopy, ListMultipartUploads, SSE; they answer 501 NotImplemented.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { isOutpostError } from '../errors.ts';
import type { AwsService, NodeService, RunningService } from '../server/context.ts';
import type { ObjectBody, ObjectHttpMetadata, ObjectInfo, ObjectRange, ObjectStore } from '../store/objects.ts';
import { AccessKeys, accessKeysApi } from './access-keys.ts';
import { decodeAwsChunked, isAwsChunked, SigV4Error, verifySigV4 } from './sigv4.ts';
import type { ChunkSigner } from './sigv4.ts';

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_XML_BODY = 2 * 1024 * 1024;

export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  readonly extra: Record<string, string>;
  constructor(status: number, code: string, message: string, extra: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.extra = extra;
  }
}

/** Store error codes → S3's status and code. */
const FROM_STORE: Record<string, [number, string]> = {
  OBJECT_NO_SUCH_BUCKET: [404, 'NoSuchBucket'],
  OBJECT_BUCKET_NOT_EMPTY: [409, 'BucketNotEmpty'],
  OBJECT_INVALID_BUCKET_NAME: [400, 'InvalidBucketName'],
  OBJECT_INVALID_KEY: [400, 'KeyTooLongError'],
  OBJECT_BAD_DIGEST: [400, 'BadDigest'],
  OBJECT_PRECONDITION_FAILED: [412, 'PreconditionFailed'],
  OBJECT_INVALID_RANGE: [416, 'InvalidRange'],
  OBJECT_NO_SUCH_UPLOAD: [404, 'NoSuchUpload'],
  OBJECT_INVALID_PART: [400, 'InvalidPart'],
  OBJECT_INVALID_PART_ORDER: [400, 'InvalidPartOrder'],
  OBJECT_ENTITY_TOO_SMALL: [400, 'EntityTooSmall'],
  OBJECT_INVALID_LIMIT: [400, 'InvalidArgument'],
  OBJECT_INVALID_CURSOR: [400, 'InvalidArgument'],
};

const MESSAGES: Record<string, string> = {
  NoSuchBucket: 'The specified bucket does not exist',
  NoSuchKey: 'The specified key does not exist.',
  BucketNotEmpty: 'The bucket you tried to delete is not empty',
  PreconditionFailed: 'At least one of the pre-conditions you specified did not hold',
  InvalidRange: 'The requested range is not satisfiable',
  NoSuchUpload: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
};

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_, e: string) =>
    e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'amp' ? '&' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1))));
}

/** Text of every `<tag>…</tag>` directly in `xml` (the flat bodies S3 clients send). */
function xmlAll(xml: string, tag: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g');
  for (const m of xml.matchAll(re)) out.push(m[1] ?? '');
  return out;
}

const x = (tag: string, value: string | number | boolean): string => `<${tag}>${escapeXml(String(value))}</${tag}>`;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '.000Z');
const httpDate = (ms: number): string => new Date(ms).toUTCString();
const quoted = (etag: string): string => `"${etag}"`;

function sendXml(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(req: IncomingMessage, res: ServerResponse, e: S3Error, resource: string, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers = { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId };
  if (req.method === 'HEAD' || e.status === 304) {
    res.writeHead(e.status, headers);
    res.end();
    return;
  }
  const extra = Object.entries(e.extra).map(([k, v]) => x(k, v)).join('');
  sendXml(res, e.status, `<Error>${x('Code', e.code)}${x('Message', e.message)}${extra}${x('Resource', resource)}${x('RequestId', requestId)}</Error>`, headers);
}

function toS3Error(error: unknown, ids: { bucket?: string; key?: string }): S3Error {
  if (error instanceof S3Error) return error;
  if (error instanceof SigV4Error) return new S3Error(error.status, error.s3Code, error.message);
  if (isOutpostError(error)) {
    const mapped = FROM_STORE[error.code];
    if (mapped) {
      const extra: Record<string, string> = {};
      if (mapped[1] === 'NoSuchBucket' || mapped[1] === 'BucketNotEmpty') extra['BucketName'] = ids.bucket ?? '';
      return new S3Error(mapped[0], mapped[1], MESSAGES[mapped[1]] ?? error.message, extra);
    }
    if (error.code === 'BODY_TOO_LARGE') return new S3Error(400, 'MaxMessageLengthExceeded', error.message);
  }
  return new S3Error(500, 'InternalError', (error as Error).message ?? 'We encountered an internal error. Please try again.');
}

async function readSmall(req: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of req) {
    size += c.byteLength;
    if (size > MAX_XML_BODY) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request body as data (aws-chunked framing removed). */
function bodyOf(req: IncomingMessage, signer: ChunkSigner | undefined): AsyncIterable<Uint8Array> {
  return isAwsChunked(req) ? decodeAwsChunked(req, undefined, signer) : (req as AsyncIterable<Uint8Array>);
}

/**
 * An upload's body, and a check to run once it has all arrived: the CRC32 the SDKs send (as a
 * header, or as an aws-chunked trailer) must match the bytes, or nothing is stored (BadDigest).
 */
function uploadOf(req: IncomingMessage, signer: ChunkSigner | undefined): { body: AsyncIterable<Uint8Array>; verify: () => void } {
  const trailers = new Map<string, string>();
  const data = isAwsChunked(req) ? decodeAwsChunked(req, trailers, signer) : (req as AsyncIterable<Uint8Array>);
  const wantsCrc = headerString(req, 'x-amz-checksum-crc32') !== undefined || (headerString(req, 'x-amz-trailer') ?? '').toLowerCase().includes('x-amz-checksum-crc32');
  if (!wantsCrc) return { body: data, verify: () => undefined };
  let crc = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of data) {
      crc = crc32(chunk, crc);
      yield chunk;
    }
  }
  return {
    body: counted(),
    verify: () => {
      const want = headerString(req, 'x-amz-checksum-crc32') ?? trailers.get('x-amz-checksum-crc32');
      if (want === undefined) return;
      const got = Buffer.alloc(4);
      got.writeUInt32BE(crc >>> 0);
      if (got.toString('base64') !== want) throw new S3Error(400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    },
  };
}

/** Bucket and key from virtual-host or path-style addressing. */
export function address(host: string, pathname: string): { bucket: string | undefined; key: string | undefined } {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const virtual = /^(.+?)\.s3\.[^]+$/.exec(hostname)?.[1] ?? /^(.+)\.localhost$/.exec(hostname)?.[1];
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new S3Error(400, 'InvalidURI', 'Couldn\'t parse the specified URI.');
    }
  };
  if (virtual !== undefined && virtual !== 's3') {
    const key = pathname.length > 1 ? decode(pathname.slice(1)) : undefined;
    return { bucket: virtual, key };
  }
  const slash = pathname.indexOf('/', 1);
  if (pathname === '/' || pathname === '') return { bucket: undefined, key: undefined };
  if (slash === -1) return { bucket: decode(pathname.slice(1)), key: undefined };
  const key = pathname.slice(slash + 1);
  return { bucket: decode(pathname.slice(1, slash)), key: key === '' ? undefined : decode(key) };
}

function headerString(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function httpMetadataFrom(req: IncomingMessage): ObjectHttpMetadata {
  const out: ObjectHttpMetadata = {};
  const set = (k: Exclude<keyof ObjectHttpMetadata, 'expires'>, h: string): void => {
    const v = headerString(req, h);
    if (v !== undefined) out[k] = v;
  };
  set('contentType', 'content-type');
  set('contentLanguage', 'content-language');
  set('contentDisposition', 'content-disposition');
  set('cacheControl', 'cache-control');
  const encoding = headerString(req, 'content-encoding')?.split(',').map((e) => e.trim()).filter((e) => e !== 'aws-chunked' && e !== '').join(', ');
  if (encoding) out.contentEncoding = encoding;
  const expires = headerString(req, 'expires');
  if (expires !== undefined && !Number.isNaN(Date.parse(expires))) out.expires = Date.parse(expires);
  return out;
}

function customMetadataFrom(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-amz-meta-') && v !== undefined) out[k.slice('x-amz-meta-'.length)] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

function objectHeaders(info: ObjectInfo, url: URL): Record<string, string> {
  const h: Record<string, string> = {
    etag: quoted(info.etag),
    'last-modified': httpDate(info.uploaded),
    'accept-ranges': 'bytes',
    'content-type': info.httpMetadata.contentType ?? 'binary/octet-stream',
  };
  const m = info.httpMetadata;
  if (m.contentLanguage !== undefined) h['content-language'] = m.contentLanguage;
  if (m.contentDisposition !== undefined) h['content-disposition'] = m.contentDisposition;
  if (m.contentEncoding !== undefined) h['content-encoding'] = m.contentEncoding;
  if (m.cacheControl !== undefined) h['cache-control'] = m.cacheControl;
  if (m.expires !== undefined) h['expires'] = httpDate(m.expires);
  for (const [k, v] of Object.entries(info.customMetadata)) h[`x-amz-meta-${k}`] = v;
  for (const [param, header] of [['response-content-type', 'content-type'], ['response-content-language', 'content-language'], ['response-expires', 'expires'], ['response-cache-control', 'cache-control'], ['response-content-disposition', 'content-disposition'], ['response-content-encoding', 'content-encoding']] as const) {
    const v = url.searchParams.get(param);
    if (v !== null) h[header] = v;
  }
  return h;
}

/** Parses a Range header (one range); undefined for none or a form S3 ignores. */
export function parseRange(value: string | undefined): ObjectRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') return { suffix: Number(b) };
  if (b === '') return { offset: Number(a) };
  if (Number(b) < Number(a)) return undefined;
  return { offset: Number(a), length: Number(b) - Number(a) + 1 };
}

function etagList(value: string): string[] {
  return value.split(',').map((s) => s.trim().replace(/^W\//, '').replaceAll('"', ''));
}

/** Evaluates If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since as S3 does; throws 412 or 304. */
function checkConditions(req: IncomingMessage, info: ObjectInfo): void {
  const lastModified = Math.floor(info.uploaded / 1000) * 1000;
  const ifMatch = headerString(req, 'if-match');
  const ifNoneMatch = headerString(req, 'if-none-match');
  const ifModifiedSince = headerString(req, 'if-modified-since');
  const ifUnmodifiedSince = headerString(req, 'if-unmodified-since');
  if (ifMatch !== undefined) {
    const tags = etagList(ifMatch);
    if (!tags.includes('*') && !tags.includes(info.etag)) throw new S3Error(412, 'PreconditionFailed', MESSAGES['PreconditionFailed'] ?? '', { Condition: 'If-Match' });
  } else if (ifUnmodifiedSince !== undefined) {
    const t = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(t) && lastModified > t) throw new S3Error(412, 'PreconditionFailed', MESSAGES['PreconditionFailed'] ?? '', { Condition: 'If-Unmodified-Since' });
  }
  if (ifNoneMatch !== undefined) {
    const tags = etagList(ifNoneMatch);
    if (tags.includes('*') || tags.includes(info.etag)) throw new S3Error(304, 'NotModified', 'Not Modified');
  } else if (ifModifiedSince !== undefined) {
    const t = Date.parse(ifModifiedSince);
    if (!Number.isNaN(t) && lastModified <= t) throw new S3Error(304, 'NotModified', 'Not Modified');
  }
}

function md5HexFromBase64(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const b = Buffer.from(value, 'base64');
  if (b.byteLength !== 16) throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
  return b.toString('hex');
}

function checksumExpectations(req: IncomingMessage): { md5?: string; sha1?: string; sha256?: string } {
  const md5 = md5HexFromBase64(headerString(req, 'content-md5'));
  const sha1 = headerString(req, 'x-amz-checksum-sha1');
  const sha256 = headerString(req, 'x-amz-checksum-sha256');
  return {
    ...(md5 ? { md5 } : {}),
    ...(sha1 ? { sha1: Buffer.from(sha1, 'base64').toString('hex') } : {}),
    ...(sha256 ? { sha256: Buffer.from(sha256, 'base64').toString('hex') } : {}),
  };
}

/** GetObject reads into and sends from these 1 MiB buffers, reused across responses. */
const SEND_CHUNK = 1024 * 1024;
const spareBuffers: Buffer[] = [];
const MAX_SPARE_BUFFERS = 16;

/** Resolves when the response can take more (or has closed). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Writes `body` to the response, waiting for 'drain' when the socket is full (a slow reader
 * holds back the file reads instead of buffering the object). When the body offers BYOB reads,
 * the next chunk is read into a reused buffer while the last one drains — a buffer goes back to
 * the pool only once its write has completed — so a large GetObject allocates nothing per chunk
 * and does not keep the garbage collector busy.
 */
async function streamBody(res: ServerResponse, body: ObjectBody): Promise<void> {
  try {
    if (body.readInto) {
      const readInto = body.readInto.bind(body);
      const read = (): { buffer: Buffer; bytes: Promise<number> } => {
        const buffer = spareBuffers.pop() ?? Buffer.allocUnsafeSlow(SEND_CHUNK);
        const bytes = readInto(buffer);
        bytes.catch(() => undefined); // awaited below
        return { buffer, bytes };
      };
      let next = read();
      for (;;) {
        const { buffer, bytes } = next;
        const n = await bytes;
        if (n === 0 || res.destroyed) {
          if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(buffer);
          if (n === 0) res.end();
          return;
        }
        const room = res.write(n === buffer.byteLength ? buffer : buffer.subarray(0, n), (error) => {
          if (!error && spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(buffer);
        });
        next = read();
        if (!room) await drained(res);
      }
    }
    for await (const chunk of body) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await drained(res);
    }
    res.end();
  } finally {
    await body.close();
  }
}

export interface S3Options {
  objects: ObjectStore;
  keys: AccessKeys;
  /** Verify SigV4 signatures (false: accept any credentials, or none). */
  verify: boolean;
  region: string;
  now?: () => number;
  /** Where internal errors (500s) are reported. */
  logError?: (message: string) => void;
}

/** The S3 API as an AwsService; exported for tests and the benchmark. */
export function createS3Service(options: S3Options): AwsService {
  const { objects } = options;
  const now = options.now ?? Date.now;

  async function listV2(res: ServerResponse, bucket: string, q: URLSearchParams, headers: Record<string, string>): Promise<void> {
    const v1 = q.get('list-type') !== '2';
    const maxKeys = Number(q.get('max-keys') ?? '1000');
    if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new S3Error(400, 'InvalidArgument', 'max-keys must be a non-negative integer');
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const token = q.get('continuation-token') ?? undefined;
    const startAfter = (v1 ? q.get('marker') : q.get('start-after')) ?? '';
    // A v1 marker that is a common prefix (a NextMarker) skips the whole group, as S3 does.
    const after = v1 && delimiter !== '' && startAfter.endsWith(delimiter) ? `${startAfter}\u{10ffff}` : startAfter;
    const urlEncode = q.get('encoding-type') === 'url';
    const enc = (s: string): string => (urlEncode ? encodeURIComponent(s).replaceAll('%2F', '/') : s);
    const result = maxKeys === 0
      ? { objects: [], delimitedPrefixes: [], truncated: false }
      : await objects.list(bucket, { prefix, ...(delimiter ? { delimiter } : {}), ...(token ? { cursor: token } : {}), ...(after ? { startAfter: after } : {}), limit: Math.min(maxKeys, 1000) });
    const contents = result.objects.map((o) => `<Contents>${x('Key', enc(o.key))}${x('LastModified', iso(o.uploaded))}${x('ETag', quoted(o.etag))}${x('Size', o.size)}${x('StorageClass', 'STANDARD')}</Contents>`).join('');
    const prefixes = result.delimitedPrefixes.map((p) => `<CommonPrefixes>${x('Prefix', enc(p))}</CommonPrefixes>`).join('');
    let paging: string;
    if (v1) {
      const last = [...result.objects.map((o) => o.key), ...result.delimitedPrefixes].sort().at(-1);
      paging = `${x('Marker', enc(startAfter))}${result.truncated && delimiter && last !== undefined ? x('NextMarker', enc(last)) : ''}`;
    } else {
      paging = `${x('KeyCount', result.objects.length + result.delimitedPrefixes.length)}${token ? x('ContinuationToken', token) : ''}${result.truncated && result.cursor ? x('NextContinuationToken', result.cursor) : ''}${startAfter ? x('StartAfter', enc(startAfter)) : ''}`;
    }
    sendXml(
      res,
      200,
      `<ListBucketResult xmlns="${XMLNS}">${x('Name', bucket)}${x('Prefix', enc(prefix))}${delimiter ? x('Delimiter', enc(delimiter)) : ''}${x('MaxKeys', maxKeys)}${urlEncode ? x('EncodingType', 'url') : ''}${x('IsTruncated', result.truncated)}${paging}${contents}${prefixes}</ListBucketResult>`,
      headers,
    );
  }

  async function getObject(req: IncomingMessage, res: ServerResponse, url: URL, bucket: string, key: string, headers: Record<string, string>): Promise<void> {
    const info = await objects.head(bucket, key);
    if (!info) throw new S3Error(404, 'NoSuchKey', MESSAGES['NoSuchKey'] ?? '', { Key: key });
    checkConditions(req, info);
    const partNumber = url.searchParams.get('partNumber');
    const range = partNumber === null ? parseRange(headerString(req, 'range')) : undefined;
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, ...objectHeaders(info, url), 'content-length': String(info.size) });
      res.end();
      return;
    }
    const got = await objects.get(bucket, key, range ? { range } : {});
    if (!got) throw new S3Error(404, 'NoSuchKey', MESSAGES['NoSuchKey'] ?? '', { Key: key });
    const h: Record<string, string> = { ...headers, ...objectHeaders(got.info, url), 'content-length': String(got.range.length) };
    if (range) h['content-range'] = `bytes ${got.range.offset}-${got.range.offset + got.range.length - 1}/${got.info.size}`;
    res.writeHead(range ? 206 : 200, h);
    await streamBody(res, got.body);
  }

  async function copyObject(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, headers: Record<string, string>): Promise<void> {
    let source = decodeURIComponent(headerString(req, 'x-amz-copy-source') ?? '');
    source = source.replace(/\?versionId=.*$/, '').replace(/^\//, '');
    const slash = source.indexOf('/');
    if (slash < 1) throw new S3Error(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
    const srcBucket = source.slice(0, slash);
    const srcKey = source.slice(slash + 1);
    req.resume();
    const got = await objects.get(srcBucket, srcKey);
    if (!got) throw new S3Error(404, 'NoSuchKey', MESSAGES['NoSuchKey'] ?? '', { Key: srcKey });
    const replace = headerString(req, 'x-amz-metadata-directive') === 'REPLACE';
    const ifMatch = headerString(req, 'x-amz-copy-source-if-match');
    const ifNoneMatch = headerString(req, 'x-amz-copy-source-if-none-match');
    if ((ifMatch !== undefined && !etagList(ifMatch).includes(got.info.etag)) || (ifNoneMatch !== undefined && etagList(ifNoneMatch).includes(got.info.etag))) {
      await got.body.close();
      throw new S3Error(412, 'PreconditionFailed', MESSAGES['PreconditionFailed'] ?? '');
    }
    const info = await objects.put(bucket, key, got.body, {
      httpMetadata: replace ? httpMetadataFrom(req) : got.info.httpMetadata,
      customMetadata: replace ? customMetadataFrom(req) : got.info.customMetadata,
      copySource: { bucket: srcBucket, key: srcKey },
    });
    sendXml(res, 200, `<CopyObjectResult>${x('LastModified', iso(info.uploaded))}${x('ETag', quoted(info.etag))}</CopyObjectResult>`, headers);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, headers: Record<string, string>, ids: { bucket?: string; key?: string }): Promise<void> {
    const signer = options.verify ? (await verifySigV4(req, url, (id) => options.keys.secretOf(id), now())).chunkSigner : undefined;
    const { bucket, key } = address(headerString(req, 'host') ?? '', url.pathname);
    if (bucket !== undefined) ids.bucket = bucket;
    if (key !== undefined) ids.key = key;
    const method = req.method ?? 'GET';
    const q = url.searchParams;

    if (bucket === undefined) {
      if (method !== 'GET') throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      const buckets = await objects.listBuckets();
      sendXml(res, 200, `<ListAllMyBucketsResult xmlns="${XMLNS}"><Owner>${x('ID', 'outpost')}${x('DisplayName', 'outpost')}</Owner><Buckets>${buckets.map((b) => `<Bucket>${x('Name', b.name)}${x('CreationDate', iso(b.createdAt))}</Bucket>`).join('')}</Buckets></ListAllMyBucketsResult>`, headers);
      return;
    }

    if (key === undefined) {
      switch (method) {
        case 'PUT': {
          await readSmall(bodyOf(req, signer)); // CreateBucketConfiguration: the location is this node's
          const { created } = await objects.createBucket(bucket);
          if (!created) throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: bucket });
          res.writeHead(200, { ...headers, location: `/${bucket}`, 'content-length': '0' });
          res.end();
          return;
        }
        case 'HEAD': {
          if (!(await objects.headBucket(bucket))) throw new S3Error(404, 'NoSuchBucket', MESSAGES['NoSuchBucket'] ?? '');
          res.writeHead(200, { ...headers, 'x-amz-bucket-region': options.region });
          res.end();
          return;
        }
        case 'DELETE':
          await objects.deleteBucket(bucket);
          res.writeHead(204, headers);
          res.end();
          return;
        case 'POST': {
          if (!q.has('delete')) break;
          const xml = await readSmall(bodyOf(req, signer));
          const quiet = xmlAll(xml, 'Quiet')[0]?.trim() === 'true';
          const keys = xmlAll(xml, 'Object').map((o) => unescapeXml(xmlAll(o, 'Key')[0] ?? ''));
          if (keys.length > 1000) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
          await objects.delete(bucket, keys);
          sendXml(res, 200, `<DeleteResult xmlns="${XMLNS}">${quiet ? '' : keys.map((k) => `<Deleted>${x('Key', k)}</Deleted>`).join('')}</DeleteResult>`, headers);
          return;
        }
        case 'GET': {
          if (!(await objects.headBucket(bucket))) throw new S3Error(404, 'NoSuchBucket', MESSAGES['NoSuchBucket'] ?? '', { BucketName: bucket });
          if (q.has('location')) {
            sendXml(res, 200, `<LocationConstraint xmlns="${XMLNS}">${options.region === 'us-east-1' ? '' : escapeXml(options.region)}</LocationConstraint>`, headers);
            return;
          }
          if (q.has('uploads') || q.has('versions') || q.has('policy') || q.has('acl') || q.has('tagging') || q.has('cors') || q.has('lifecycle')) break;
          await listV2(res, bucket, q, headers);
          return;
        }
      }
      throw new S3Error(501, 'NotImplemented', `Outpost's S3 API does not implement ${method} on a bucket with ?${[...q.keys()].join('&')}`);
    }

    const uploadId = q.get('uploadId');
    switch (method) {
      case 'GET':
      case 'HEAD':
        if (uploadId !== null && method === 'GET') {
          const parts = await objects.listParts(bucket, key, uploadId);
          sendXml(res, 200, `<ListPartsResult xmlns="${XMLNS}">${x('Bucket', bucket)}${x('Key', key)}${x('UploadId', uploadId)}${x('PartNumberMarker', 0)}${x('NextPartNumberMarker', parts.at(-1)?.partNumber ?? 0)}${x('MaxParts', 1000)}${x('IsTruncated', false)}${x('StorageClass', 'STANDARD')}${parts.map((p) => `<Part>${x('PartNumber', p.partNumber)}${x('LastModified', iso(p.uploaded))}${x('ETag', quoted(p.etag))}${x('Size', p.size)}</Part>`).join('')}</ListPartsResult>`, headers);
          return;
        }
        await getObject(req, res, url, bucket, key, headers);
        return;
      case 'PUT': {
        if (headerString(req, 'x-amz-copy-source') !== undefined) {
          if (uploadId !== null) throw new S3Error(501, 'NotImplemented', 'UploadPartCopy is not implemented');
          await copyObject(req, res, bucket, key, headers);
          return;
        }
        const expect = checksumExpectations(req);
        // A signed payload hash is checked when signatures are.
        const payloadHash = headerString(req, 'x-amz-content-sha256') ?? '';
        if (options.verify && /^[0-9a-f]{64}$/.test(payloadHash)) expect.sha256 ??= payloadHash;
        const upload = uploadOf(req, signer);
        if (uploadId !== null) {
          const part = await objects.uploadPart(bucket, key, uploadId, Number(q.get('partNumber')), upload.body, { expect, verify: upload.verify });
          res.writeHead(200, { ...headers, etag: quoted(part.etag), 'content-length': '0' });
          res.end();
          return;
        }
        const info = await objects.put(bucket, key, upload.body, { httpMetadata: httpMetadataFrom(req), customMetadata: customMetadataFrom(req), expect, verify: upload.verify });
        res.writeHead(200, { ...headers, etag: quoted(info.etag), 'content-length': '0' });
        res.end();
        return;
      }
      case 'DELETE':
        req.resume();
        if (uploadId !== null) await objects.abortMultipartUpload(bucket, key, uploadId);
        else await objects.delete(bucket, [key]);
        res.writeHead(204, headers);
        res.end();
        return;
      case 'POST':
        if (q.has('uploads')) {
          req.resume();
          const up = await objects.createMultipartUpload(bucket, key, { httpMetadata: httpMetadataFrom(req), customMetadata: customMetadataFrom(req) });
          sendXml(res, 200, `<InitiateMultipartUploadResult xmlns="${XMLNS}">${x('Bucket', bucket)}${x('Key', key)}${x('UploadId', up.uploadId)}</InitiateMultipartUploadResult>`, headers);
          return;
        }
        if (uploadId !== null) {
          const xml = await readSmall(bodyOf(req, signer));
          const parts = xmlAll(xml, 'Part').map((p) => ({ partNumber: Number(xmlAll(p, 'PartNumber')[0]), etag: unescapeXml(xmlAll(p, 'ETag')[0] ?? '').replaceAll('"', '') }));
          const info = await objects.completeMultipartUpload(bucket, key, uploadId, parts);
          sendXml(res, 200, `<CompleteMultipartUploadResult xmlns="${XMLNS}">${x('Location', `/${bucket}/${key}`)}${x('Bucket', bucket)}${x('Key', key)}${x('ETag', quoted(info.etag))}</CompleteMultipartUploadResult>`, headers);
          return;
        }
        break;
    }
    throw new S3Error(501, 'NotImplemented', `Outpost's S3 API does not implement ${method} on an object with ?${[...q.keys()].join('&')}`);
  }

  return {
    name: 's3',
    // S3 takes what the other AWS services leave: never JSON-protocol calls, never Lambda's paths.
    matches: (req, url) => req.headers['x-amz-target'] === undefined && !/^\/20\d\d-\d\d-\d\d\/functions(\/|$)/.test(url.pathname),
    async handle(req, res, url) {
      const requestId = randomBytes(8).toString('hex').toUpperCase();
      const headers = { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId };
      const ids: { bucket?: string; key?: string } = {};
      try {
        await handle(req, res, url, headers, ids);
      } catch (error) {
        const e = toS3Error(error, ids);
        if (!req.readableEnded) req.resume();
        sendError(req, res, e, url.pathname, requestId);
        if (e.status >= 500) options.logError?.(`s3: ${req.method ?? ''} ${url.pathname}: ${(error as Error).stack ?? String(error)}`);
      }
    },
  };
}

export const s3Service: NodeService = {
  name: 's3',
  servesAws: true,
  start(ctx): RunningService {
    const keys = new AccessKeys(ctx.store.meta);
    const service = createS3Service({
      objects: ctx.store.objects,
      keys,
      verify: !ctx.dev || ctx.s3Auth === true,
      region: ctx.region === 'local' ? 'us-east-1' : ctx.region,
      logError: (message) => ctx.logger.system('error', message),
    });
    return { aws: [service], controlRoutes: [accessKeysApi(keys)], close: async () => undefined };
  },
};
