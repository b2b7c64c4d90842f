/**
 * @module
 * AWS Signature Version 4 verification for requests on the AWS port: the `Authorization`
 * header form and the presigned-URL (query) form, as AWS's "Signature Version 4 signing
 * process" documents them for S3 (paths are URI-encoded once, the payload hash is the
 * `x-amz-content-sha256` header, `UNSIGNED-PAYLOAD` in presigned URLs). Also the aws-chunked
 * body decoder for `STREAMING-*` payloads, which is the framing the SDKs use for streamed
 * uploads.
 *
 * With a ChunkSigner, the decoder checks every chunk's signature of a
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD body (each chains on the previous one, seeded by the
 * request's signature); a bad chunk fails the upload before it is stored. The trailer's own
 * signature (the -TRAILER variant) is not checked.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export class SigV4Error extends Error {
  /** S3's error code: AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, RequestTimeTooSkewed, AuthorizationQueryParametersError. */
  readonly s3Code: string;
  readonly status: number;
  constructor(s3Code: string, message: string, status = 403) {
    super(message);
    this.s3Code = s3Code;
    this.status = status;
  }
}

/** AWS's URI encoding: everything but A–Z a–z 0–9 - . _ ~ as %XX (upper case); `/` kept when `path`. */
export function awsEncode(value: string, path = false): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (path && c === '/')) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The canonical query string: names and values AWS-encoded, sorted by name then value. */
function canonicalQuery(rawQuery: string, skip: string | undefined): string {
  if (rawQuery === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = safeDecode((eq === -1 ? part : part.slice(0, eq)).replaceAll('+', '%20'));
    const value = eq === -1 ? '' : safeDecode(part.slice(eq + 1).replaceAll('+', '%20'));
    if (name === skip) continue;
    pairs.push([awsEncode(name), awsEncode(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

function canonicalHeaders(req: IncomingMessage, signed: readonly string[]): string {
  const values = new Map<string, string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    if (!signed.includes(name)) continue;
    const list = values.get(name) ?? [];
    list.push((req.rawHeaders[i + 1] ?? '').trim().replace(/\s+/g, ' '));
    values.set(name, list);
  }
  return signed.map((name) => `${name}:${(values.get(name) ?? []).join(',')}\n`).join('');
}

const sha256hex = (data: string): string => createHash('sha256').update(data).digest('hex');
const EMPTY_SHA256 = sha256hex('');

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

/** "20130524T000000Z" → epoch ms, or NaN. */
export function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

interface Parsed {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  payloadHash: string;
  /** Query parameter left out of the canonical query (the signature itself, for presigned URLs). */
  skip: string | undefined;
  expiresSeconds: number | undefined;
}

function parseCredential(credential: string): { accessKeyId: string; date: string; region: string; service: string } {
  const [accessKeyId, date, region, service, terminator] = credential.split('/');
  if (!accessKeyId || !date || !region || !service || terminator !== 'aws4_request') throw new SigV4Error('AuthorizationHeaderMalformed', `the credential ${credential} is malformed`, 400);
  return { accessKeyId, date, region, service };
}

/** True when the request carries SigV4 in either form. */
export function isSigned(req: IncomingMessage, url: URL): boolean {
  return String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256') || url.searchParams.has('X-Amz-Signature');
}

function parse(req: IncomingMessage, url: URL): Parsed {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('AWS4-HMAC-SHA256 ')) {
    const fields = new Map<string, string>();
    for (const part of auth.slice('AWS4-HMAC-SHA256 '.length).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const credential = fields.get('Credential');
    const signedHeaders = fields.get('SignedHeaders');
    const signature = fields.get('Signature');
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!credential || !signedHeaders || !signature || !amzDate) throw new SigV4Error('AuthorizationHeaderMalformed', 'the Authorization header is malformed (Credential, SignedHeaders, Signature and x-amz-date are required)', 400);
    return { ...parseCredential(credential), signedHeaders: signedHeaders.split(';'), signature, amzDate, payloadHash: String(req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD'), skip: undefined, expiresSeconds: undefined };
  }
  const q = url.searchParams;
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw new SigV4Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256', 400);
  const credential = q.get('X-Amz-Credential') ?? '';
  const expires = Number(q.get('X-Amz-Expires') ?? 'NaN');
  if (!Number.isInteger(expires) || expires < 1 || expires > 604_800) throw new SigV4Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be a number of seconds between 1 and 604800', 400);
  return {
    ...parseCredential(credential),
    signedHeaders: (q.get('X-Amz-SignedHeaders') ?? 'host').split(';'),
    signature: q.get('X-Amz-Signature') ?? '',
    amzDate: q.get('X-Amz-Date') ?? '',
    payloadHash: q.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
    skip: 'X-Amz-Signature',
    expiresSeconds: expires,
  };
}

/**
 * Verifies the request's signature with the secret that `lookup` returns for its access key id.
 * Resolves with the access key id (and, for signed aws-chunked bodies, what to check each chunk with); throws SigV4Error (InvalidAccessKeyId, SignatureDoesNotMatch,
 * AccessDenied for an expired presigned URL, RequestTimeTooSkewed).
 */
/** What a verified request's aws-chunked body must be checked with (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
export interface ChunkSigner {
  key: Buffer;
  amzDate: string;
  scope: string;
  /** The request's signature: the first chunk's "previous signature". */
  seed: string;
}

export interface Verified {
  accessKeyId: string;
  chunkSigner?: ChunkSigner;
}

export async function verifySigV4(req: IncomingMessage, url: URL, lookup: (accessKeyId: string) => Promise<string | undefined>, now: number): Promise<Verified> {
  if (!isSigned(req, url)) throw new SigV4Error('AccessDenied', 'Access Denied: requests must be signed with an access key (outpost keys create)');
  const p = parse(req, url);
  const at = parseAmzDate(p.amzDate);
  if (Number.isNaN(at)) throw new SigV4Error('AccessDenied', `X-Amz-Date ${p.amzDate} is not a valid date`);
  if (p.expiresSeconds !== undefined) {
    if (now > at + p.expiresSeconds * 1000) throw new SigV4Error('AccessDenied', 'Request has expired');
    if (at > now + 15 * 60_000) throw new SigV4Error('AccessDenied', 'Request is not valid yet');
  } else if (Math.abs(now - at) > 15 * 60_000) {
    throw new SigV4Error('RequestTimeTooSkewed', 'The difference between the request time and the server\'s time is too large.');
  }
  const secret = await lookup(p.accessKeyId);
  if (secret === undefined) throw new SigV4Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const raw = req.url ?? '/';
  const qi = raw.indexOf('?');
  const rawPath = qi === -1 ? raw : raw.slice(0, qi);
  const canonicalUri = awsEncode(safeDecode(rawPath), true);
  const canonicalRequest = [
    req.method ?? 'GET',
    canonicalUri,
    canonicalQuery(qi === -1 ? '' : raw.slice(qi + 1), p.skip),
    canonicalHeaders(req, p.signedHeaders),
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
  const scope = `${p.date}/${p.region}/${p.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${p.amzDate}\n${scope}\n${sha256hex(canonicalRequest)}`;
  const key = signingKey(secret, p.date, p.region, p.service);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(p.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SigV4Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return p.payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
    ? { accessKeyId: p.accessKeyId, chunkSigner: { key, amzDate: p.amzDate, scope, seed: p.signature } }
    : { accessKeyId: p.accessKeyId };
}

/** True when the body uses aws-chunked framing (`x-amz-content-sha256: STREAMING-…`). */
export function isAwsChunked(req: IncomingMessage): boolean {
  return String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-') || String(req.headers['content-encoding'] ?? '').split(',').some((e) => e.trim() === 'aws-chunked');
}

/**
 * Decodes an aws-chunked body (`<hex size>[;chunk-signature=…]\r\n<data>\r\n … 0\r\n[trailers]\r\n`)
 * into its data, without copying the data bytes.
 */
export async function* decodeAwsChunked(source: AsyncIterable<Uint8Array>, trailers?: Map<string, string>, signer?: ChunkSigner): AsyncGenerator<Uint8Array> {
  let trailerText = '';
  let previous = signer?.seed ?? '';
  let chunkHash = signer ? createHash('sha256') : undefined;
  let chunkSignature = '';
  /** Checks the signature of the chunk just finished (SigV4 "signed chunk" string to sign). */
  const check = (): void => {
    if (!signer || !chunkHash) return;
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${signer.amzDate}\n${signer.scope}\n${previous}\n${EMPTY_SHA256}\n${chunkHash.digest('hex')}`;
    const want = createHmac('sha256', signer.key).update(toSign).digest('hex');
    if (want !== chunkSignature) throw new SigV4Error('SignatureDoesNotMatch', 'The chunk signature of an aws-chunked body does not match.');
    previous = want;
    chunkHash = createHash('sha256');
  };
  let pending: Buffer = Buffer.alloc(0);
  let left = 0; // data bytes left in the current chunk
  let state: 'header' | 'data' | 'crlf' | 'trailer' = 'header';
  for await (const piece of source) {
    let buf: Buffer = pending.byteLength > 0 ? Buffer.concat([pending, piece]) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    pending = Buffer.alloc(0);
    while (buf.byteLength > 0) {
      if (state === 'trailer') {
        if (trailerText.length + buf.byteLength > 16_384) throw new SigV4Error('IncompleteBody', 'the aws-chunked trailer is too long', 400);
        trailerText += buf.toString('latin1');
        buf = Buffer.alloc(0);
        break;
      }
      if (state === 'data') {
        const n = Math.min(left, buf.byteLength);
        const piece = buf.subarray(0, n);
        chunkHash?.update(piece);
        buf = buf.subarray(n);
        left -= n;
        if (left === 0) {
          state = 'crlf';
          check();
        }
        yield piece;
        continue;
      }
      if (state === 'crlf') {
        if (buf.byteLength < 2) {
          pending = buf;
          break;
        }
        buf = buf.subarray(2);
        state = 'header';
        continue;
      }
      const eol = buf.indexOf('\r\n');
      if (eol === -1) {
        if (buf.byteLength > 4096) throw new SigV4Error('IncompleteBody', 'malformed aws-chunked body', 400);
        pending = buf;
        break;
      }
      const line = buf.subarray(0, eol).toString('latin1');
      buf = buf.subarray(eol + 2);
      const size = Number.parseInt(line.split(';')[0] ?? '', 16);
      if (!Number.isInteger(size) || size < 0) throw new SigV4Error('IncompleteBody', `malformed aws-chunked body (chunk header ${JSON.stringify(line.slice(0, 40))})`, 400);
      chunkSignature = /chunk-signature=([0-9a-f]+)/.exec(line)?.[1] ?? '';
      if (size === 0) {
        state = 'trailer';
        check();
      }
      else {
        left = size;
        state = 'data';
      }
    }
  }
  if (state !== 'trailer') throw new SigV4Error('IncompleteBody', 'the aws-chunked body ended before its last chunk', 400);
  for (const line of trailerText.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers?.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}
