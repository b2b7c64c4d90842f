/**
 * @module
 * Express-style `req` and `res` for Google Cloud Functions and Firebase HTTPS functions, which
 * hand every HTTP function an Express 4 request and response (the Functions Framework runs
 * Express with body-parser in front of the function). What is implemented follows Express 4's
 * documented API and Node's `http.ServerResponse`:
 *
 * - `req` is a Readable (it replays the raw body) with method, url, originalUrl, path, query
 *   (extended parser: `a[b]=1`, repeated keys → arrays), params, headers, rawHeaders, body,
 *   rawBody, get/header, is, accepts*, protocol, secure, ip, ips, hostname, host, subdomains, xhr,
 *   fresh/stale.
 * - `res` is a Writable (`stream.pipe(res)` works) with status, sendStatus, set/header, get,
 *   append, type, send, json, jsonp, end, write, writeHead, redirect, location, cookie,
 *   clearCookie, vary, attachment, links, format, setHeader/getHeader/…, headersSent, locals.
 *   `res.send` sets Content-Type, Content-Length and a weak ETag and answers 304 for a fresh
 *   conditional GET, as Express does. Setting a header after the head went out throws
 *   ERR_HTTP_HEADERS_SENT, as Node does.
 *
 * The response reaches the host as a Web Response through {@link ResponseSink}: at the first
 * write (streaming, with backpressure) or at `end()` (one complete body).
 */
import { Buffer } from 'node:buffer';
import { Readable, Writable } from 'node:stream';
import {
  encodeUrl, escapeHtml, lookupType, negotiate, parseQuery, serializeCookie, setCharset, STATUS_TEXT, typeMatches, withDefaultCharset,
} from './http-util.ts';
import type { CookieOptions, Query } from './http-util.ts';

// Captured while the isolate is being set up; node:crypto is loaded only when a function first
// needs an ETag, so isolates of other styles never pay for it.
const getBuiltin = process.getBuiltinModule.bind(process);
let sha1Base64: ((data: Uint8Array) => string) | undefined;

function weakEtag(body: Uint8Array): string {
  sha1Base64 ??= (() => {
    const crypto = getBuiltin('node:crypto') as typeof import('node:crypto');
    return (data: Uint8Array) => crypto.createHash('sha1').update(data).digest('base64').slice(0, 27);
  })();
  return `W/"${body.byteLength.toString(16)}-${sha1Base64(body)}"`;
}

function nodeError(code: string, message: string, Kind: ErrorConstructor = Error): Error {
  return Object.assign(new Kind(message), { code });
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

type HeaderValue = string | number | string[];

export interface ExpressRequestInit {
  method: string;
  /** Path and query as the function sees it (`/path?x=1`). */
  url: string;
  headers: Headers;
  ip: string;
  /** Scheme of the URL the gateway received. */
  protocol: string;
  body: unknown;
  rawBody: Buffer | undefined;
}

/** The Express request a Google HTTP function receives. */
export class ExpressRequest extends Readable {
  method: string;
  url: string;
  originalUrl: string;
  baseUrl = '';
  params: Record<string, string> = {};
  query: Query;
  body: unknown;
  rawBody: Buffer | undefined;
  headers: Record<string, string | string[]>;
  rawHeaders: string[];
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  complete = true;
  res: ExpressResponse | undefined;
  readonly socket: { remoteAddress: string; encrypted: boolean };
  readonly connection: { remoteAddress: string; encrypted: boolean };
  readonly #ip: string;
  readonly #protocol: string;
  #replayed = false;

  constructor(init: ExpressRequestInit) {
    super();
    this.method = init.method;
    this.url = init.url;
    this.originalUrl = init.url;
    const q = init.url.indexOf('?');
    this.query = parseQuery(q === -1 ? '' : init.url.slice(q + 1));
    this.body = init.body;
    this.rawBody = init.rawBody;
    const headers: Record<string, string | string[]> = {};
    const raw: string[] = [];
    for (const [name, value] of init.headers) {
      raw.push(name, value);
      if (name === 'set-cookie') {
        const list = headers[name];
        headers[name] = Array.isArray(list) ? [...list, value] : [value];
      } else headers[name] = value;
    }
    this.headers = headers;
    this.rawHeaders = raw;
    this.#ip = init.ip;
    this.#protocol = init.protocol.replace(/:$/, '');
    this.socket = { remoteAddress: init.ip, encrypted: this.#protocol === 'https' };
    this.connection = this.socket;
  }

  override _read(): void {
    if (!this.#replayed && this.rawBody && this.rawBody.byteLength > 0) this.push(this.rawBody);
    this.#replayed = true;
    this.push(null);
  }

  /** The path of the URL, without the query string. */
  get path(): string {
    const q = this.url.indexOf('?');
    return q === -1 ? this.url : this.url.slice(0, q);
  }

  /** A request header, case-insensitive; `Referer` and `Referrer` are the same header. */
  get(name: string): string | string[] | undefined {
    const lc = name.toLowerCase();
    if (lc === 'referer' || lc === 'referrer') return this.headers['referer'] ?? this.headers['referrer'];
    return this.headers[lc];
  }

  header(name: string): string | string[] | undefined {
    return this.get(name);
  }

  /** The first of `types` the request's Content-Type matches, or false (null without a body). */
  is(...types: Array<string | string[]>): string | false | null {
    const ct = this.headers['content-type'];
    if (this.rawBody === undefined && this.headers['content-length'] === undefined && this.headers['transfer-encoding'] === undefined) return null;
    if (typeof ct !== 'string') return false;
    const list = types.flat();
    if (list.length === 0) return ct.split(';')[0]?.trim() ?? false;
    for (const t of list) if (typeMatches(ct, t)) return t.startsWith('+') ? (ct.split(';')[0]?.trim() ?? t) : t;
    return false;
  }

  accepts(...types: Array<string | string[]>): string | string[] | false {
    const list = types.flat();
    const accept = this.headers['accept'];
    if (list.length === 0) return typeof accept === 'string' ? accept.split(',').map((s) => s.split(';')[0]?.trim() ?? '') : ['*/*'];
    return negotiate(typeof accept === 'string' ? accept : undefined, list);
  }

  acceptsEncodings(...encodings: Array<string | string[]>): string | false {
    return this.#acceptsToken('accept-encoding', encodings.flat(), 'identity');
  }

  acceptsCharsets(...charsets: Array<string | string[]>): string | false {
    return this.#acceptsToken('accept-charset', charsets.flat(), undefined);
  }

  acceptsLanguages(...languages: Array<string | string[]>): string | false {
    return this.#acceptsToken('accept-language', languages.flat(), undefined);
  }

  #acceptsToken(header: string, offered: string[], implicit: string | undefined): string | false {
    const value = this.headers[header];
    if (typeof value !== 'string' || value.trim() === '') return offered[0] ?? false;
    const prefs = value.split(',').map((p) => {
      const [token = '', ...params] = p.split(';').map((s) => s.trim().toLowerCase());
      const q = params.map((x) => /^q=([\d.]+)$/.exec(x)?.[1]).find((x) => x !== undefined);
      return { token, q: q === undefined ? 1 : Number(q) };
    });
    let best: { offer: string; q: number } | undefined;
    for (const offer of offered) {
      const o = offer.toLowerCase();
      const hit = prefs.find((p) => p.token === o) ?? prefs.find((p) => p.token.split('-')[0] === o.split('-')[0] && p.token.includes('-') !== o.includes('-')) ?? prefs.find((p) => p.token === '*');
      const q = hit ? hit.q : o === implicit ? 0.0001 : 0;
      if (q > 0 && (!best || q > best.q)) best = { offer, q };
    }
    return best ? best.offer : false;
  }

  get protocol(): string {
    const forwarded = this.headers['x-forwarded-proto'];
    const first = typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined;
    return first || this.#protocol;
  }

  get secure(): boolean {
    return this.protocol === 'https';
  }

  /** The client address (the Functions Framework trusts X-Forwarded-For; Outpost's gateway already resolved it). */
  get ip(): string {
    return this.#ip;
  }

  get ips(): string[] {
    const xff = this.headers['x-forwarded-for'];
    return typeof xff === 'string' ? xff.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
  }

  get host(): string | undefined {
    const h = this.headers['x-forwarded-host'] ?? this.headers['host'];
    return typeof h === 'string' ? h.split(',')[0]?.trim() : undefined;
  }

  get hostname(): string | undefined {
    const host = this.host;
    if (host === undefined) return undefined;
    const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
    return end > 0 ? host.slice(0, end) : host;
  }

  get subdomains(): string[] {
    const hostname = this.hostname;
    if (!hostname || /^[\d.]+$/.test(hostname) || hostname.startsWith('[')) return [];
    return hostname.split('.').reverse().slice(2);
  }

  get xhr(): boolean {
    const v = this.headers['x-requested-with'];
    return typeof v === 'string' && v.toLowerCase() === 'xmlhttprequest';
  }

  /** True for a GET/HEAD whose If-None-Match / If-Modified-Since the response satisfies. */
  get fresh(): boolean {
    if (this.method !== 'GET' && this.method !== 'HEAD') return false;
    const status = this.res?.statusCode ?? 200;
    if (!((status >= 200 && status < 300) || status === 304)) return false;
    const noneMatch = this.headers['if-none-match'];
    const modifiedSince = this.headers['if-modified-since'];
    if (typeof noneMatch !== 'string' && typeof modifiedSince !== 'string') return false;
    const cc = this.headers['cache-control'];
    if (typeof cc === 'string' && /(?:^|,)\s*no-cache\s*(?:,|$)/.test(cc)) return false;
    if (typeof noneMatch === 'string' && noneMatch.trim() !== '*') {
      const etag = this.res?.get('ETag');
      if (typeof etag !== 'string') return false;
      const strip = (t: string): string => t.trim().replace(/^W\//, '');
      if (!noneMatch.split(',').some((t) => strip(t) === strip(etag))) return false;
    }
    if (typeof modifiedSince === 'string') {
      const lastModified = this.res?.get('Last-Modified');
      if (typeof lastModified !== 'string' || !(Date.parse(lastModified) <= Date.parse(modifiedSince))) return false;
    }
    return true;
  }

  get stale(): boolean {
    return !this.fresh;
  }
}

/** Where a response goes once its head is decided. */
export interface ResponseSink {
  respond(response: Response): void;
  /** The response could not be produced (an invalid status, a header the Web API refuses). */
  fail(error: unknown): void;
}

type Callback = (error?: Error | null) => void;

function toBytes(chunk: unknown, encoding: unknown): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw nodeError('ERR_INVALID_ARG_TYPE', `The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${chunk === null ? 'null' : typeof chunk}`, TypeError);
}

/** The Express response a Google HTTP function writes to. */
export class ExpressResponse extends Writable {
  statusCode = 200;
  statusMessage = '';
  locals: Record<string, unknown> = {};
  sendDate = true;
  readonly req: ExpressRequest;
  readonly #headers = new Map<string, { name: string; value: HeaderValue }>();
  readonly #sink: ResponseSink;
  #headersSent = false;
  #emitted = false;
  #streaming = false;
  #finalChunk: Uint8Array | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #waiting: Callback | undefined;

  constructor(req: ExpressRequest, sink: ResponseSink) {
    super({ highWaterMark: 64 * 1024 });
    this.req = req;
    this.#sink = sink;
    req.res = this;
  }

  /**
   * Ends a response whose function failed: a body already streaming is errored (the client sees
   * a truncated response, not a complete one); nothing is emitted on `res` that could crash.
   */
  static abort(res: ExpressResponse, error: unknown): void {
    const controller = res.#controller;
    res.#controller = undefined;
    if (controller) {
      try {
        controller.error(error);
      } catch {
        // already closed
      }
    }
    if (!res.destroyed) res.destroy();
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  // ── Node's http.ServerResponse ──────────────────────────────────────────────────────────

  setHeader(name: string, value: HeaderValue | readonly string[]): this {
    if (this.#headersSent) throw nodeError('ERR_HTTP_HEADERS_SENT', 'Cannot set headers after they are sent to the client');
    if (typeof name !== 'string' || !HEADER_NAME.test(name)) throw nodeError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${String(name)}"]`, TypeError);
    if (value === undefined) throw nodeError('ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "undefined" for header "${name}"`, TypeError);
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    for (const v of values) if (!HEADER_VALUE.test(v)) throw nodeError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`, TypeError);
    this.#headers.set(name.toLowerCase(), { name, value: Array.isArray(value) ? [...values] : (value as string | number) });
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.#headers.get(name.toLowerCase())?.value;
  }

  getHeaders(): Record<string, HeaderValue> {
    const out: Record<string, HeaderValue> = Object.create(null) as Record<string, HeaderValue>;
    for (const [k, v] of this.#headers) out[k] = v.value;
    return out;
  }

  getHeaderNames(): string[] {
    return [...this.#headers.keys()];
  }

  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    if (this.#headersSent) throw nodeError('ERR_HTTP_HEADERS_SENT', 'Cannot remove headers after they are sent to the client');
    this.#headers.delete(name.toLowerCase());
  }

  writeHead(statusCode: number, reason?: string | Record<string, HeaderValue> | string[], headers?: Record<string, HeaderValue> | string[]): this {
    if (this.#headersSent) throw nodeError('ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
    const code = Number(statusCode);
    if (!Number.isInteger(code) || code < 100 || code > 999) throw nodeError('ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${String(statusCode)}`, RangeError);
    this.statusCode = code;
    let extra = headers;
    if (typeof reason === 'string') this.statusMessage = reason;
    else extra = reason;
    if (Array.isArray(extra)) {
      for (let i = 0; i + 1 < extra.length; i += 2) this.#appendHeader(extra[i] as string, extra[i + 1] as string);
    } else if (extra) for (const [k, v] of Object.entries(extra)) this.setHeader(k, v);
    this.#commit();
    return this;
  }

  flushHeaders(): void {
    this.#commit();
    if (!this.#emitted) this.#startStream();
  }

  writeContinue(): void {}
  writeProcessing(): void {}
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    return this;
  }
  addTrailers(_headers: Record<string, string>): void {}

  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    this.#commit();
    return super.write(chunk, (typeof encoding === 'string' ? encoding : 'utf8') as BufferEncoding, (typeof encoding === 'function' ? encoding : cb) as Callback | undefined);
  }

  override end(chunk?: unknown, encoding?: unknown, cb?: unknown): this {
    let data = chunk;
    let enc = encoding;
    let done = cb;
    if (typeof data === 'function') {
      done = data;
      data = undefined;
      enc = undefined;
    } else if (typeof enc === 'function') {
      done = enc;
      enc = undefined;
    }
    const callback = typeof done === 'function' ? (done as () => void) : undefined;
    if (this.writableEnded) {
      if (callback) queueMicrotask(callback);
      return this;
    }
    this.#commit();
    if (data !== undefined && data !== null) {
      if (this.#streaming) super.write(toBytes(data, enc));
      else this.#finalChunk = toBytes(data, enc);
    }
    return super.end(callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    this.#streaming = true;
    if (!this.#emitted && !this.#startStream()) return callback();
    const controller = this.#controller;
    if (!controller || chunk.byteLength === 0) return callback();
    // A copy: the caller may reuse its buffer, and small Buffers share Node's pool.
    controller.enqueue(new Uint8Array(chunk));
    if ((controller.desiredSize ?? 0) > 0) callback();
    else this.#waiting = callback;
  }

  override _final(callback: Callback): void {
    if (!this.#emitted) this.#emit(this.#finalChunk ?? null);
    else if (this.#controller) {
      try {
        this.#controller.close();
      } catch {
        // the reader cancelled
      }
      this.#controller = undefined;
    }
    callback();
  }

  override _destroy(error: Error | null, callback: Callback): void {
    const controller = this.#controller;
    this.#controller = undefined;
    if (controller) {
      try {
        if (error) controller.error(error);
        else controller.close();
      } catch {
        // already closed
      }
    }
    if (!this.#emitted && error) {
      this.#emitted = true;
      this.#sink.fail(error);
    }
    callback(error);
  }

  #appendHeader(name: string, value: string): void {
    const prev = this.getHeader(name);
    this.setHeader(name, prev === undefined ? value : [...(Array.isArray(prev) ? prev : [String(prev)]), value]);
  }

  #commit(): void {
    if (this.#headersSent) return;
    const code = this.statusCode;
    if (!Number.isInteger(code) || code < 100 || code > 999) throw nodeError('ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${String(code)}`, RangeError);
    this.#headersSent = true;
  }

  #hasBody(): boolean {
    const s = this.statusCode;
    return this.req.method !== 'HEAD' && s !== 204 && s !== 304 && !(s >= 100 && s < 200);
  }

  /** Sends the head with a streaming body; false if the response could not be made. */
  #startStream(): boolean {
    if (!this.#hasBody()) return this.#emit(null);
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (this.#controller = controller),
        pull: () => this.#release(),
        cancel: () => {
          this.#controller = undefined;
          this.#release();
          this.destroy();
        },
      },
      { highWaterMark: 8 },
    );
    return this.#emit(stream);
  }

  #release(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  #emit(body: Uint8Array | ReadableStream<Uint8Array> | null): boolean {
    this.#emitted = true;
    try {
      const status = this.statusCode;
      if (status < 200 || status > 599) throw nodeError('ERR_HTTP_INVALID_STATUS_CODE', `status ${status} cannot be sent as a final response`, RangeError);
      const headers = new Headers();
      for (const { name, value } of this.#headers.values()) {
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else headers.append(name, String(value));
      }
      const init: ResponseInit = { status, headers };
      const text = this.statusMessage || STATUS_TEXT[status];
      if (text) init.statusText = text;
      this.#sink.respond(new Response(this.#hasBody() ? (body as BodyInit | null) : null, init));
      return true;
    } catch (error) {
      this.#sink.fail(error);
      return false;
    }
  }

  // ── Express ─────────────────────────────────────────────────────────────────────────────

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  /** Sets a header (or several from an object); Content-Type gets Express's charset rule. */
  set(field: string | Record<string, unknown>, value?: unknown): this {
    if (typeof field === 'object') {
      for (const [k, v] of Object.entries(field)) this.set(k, v);
      return this;
    }
    let v: string | string[] = Array.isArray(value) ? value.map(String) : String(value);
    if (field.toLowerCase() === 'content-type') {
      if (Array.isArray(v)) throw new TypeError('Content-Type cannot be set to an Array');
      v = withDefaultCharset(v);
    }
    this.setHeader(field, v);
    return this;
  }

  header(field: string | Record<string, unknown>, value?: unknown): this {
    return this.set(field, value);
  }

  get(field: string): HeaderValue | undefined {
    return this.getHeader(field);
  }

  append(field: string, value: string | string[]): this {
    const prev = this.get(field);
    const next = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [String(prev)]), ...(Array.isArray(value) ? value : [value])];
    return this.set(field, next);
  }

  type(type: string): this {
    return this.set('Content-Type', lookupType(type));
  }

  contentType(type: string): this {
    return this.type(type);
  }

  vary(field: string): this {
    const prev = this.get('Vary');
    const list = (Array.isArray(prev) ? prev.join(',') : prev === undefined ? '' : String(prev)).split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (list.includes('*')) return this;
    for (const f of field.split(',').map((s) => s.trim())) {
      if (f === '*') return this.set('Vary', '*');
      if (f !== '' && !list.some((x) => x.toLowerCase() === f.toLowerCase())) list.push(f);
    }
    return this.set('Vary', list.join(', '));
  }

  links(links: Record<string, string>): this {
    const value = Object.entries(links).map(([rel, url]) => `<${url}>; rel="${rel}"`).join(', ');
    const prev = this.get('Link');
    return this.set('Link', prev ? `${String(prev)}, ${value}` : value);
  }

  attachment(filename?: string): this {
    if (filename) {
      this.type(filename.replace(/^.*[\\/]/, ''));
      const base = filename.replace(/^.*[\\/]/, '');
      const ascii = base.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&');
      const star = /[^\x20-\x7e]/.test(base) ? `; filename*=UTF-8''${encodeURIComponent(base)}` : '';
      return this.set('Content-Disposition', `attachment; filename="${ascii}"${star}`);
    }
    return this.set('Content-Disposition', 'attachment');
  }

  location(url: string): this {
    const target = url === 'back' ? (this.req.get('Referrer') ?? '/') : url;
    return this.set('Location', encodeUrl(String(target)));
  }

  /**
   * Sends a body. Strings default to text/html, Buffers to application/octet-stream, other
   * values are sent as JSON; a number alone (Express 4) sends that status with its text.
   */
  send(...args: unknown[]): this {
    let chunk = args[0];
    if (args.length === 2) {
      // Express 4's deprecated res.send(status, body) / res.send(body, status).
      if (typeof args[0] !== 'number' && typeof args[1] === 'number') {
        this.statusCode = args[1];
      } else {
        this.statusCode = Number(args[0]);
        chunk = args[1];
      }
    }
    if (typeof chunk === 'number' && args.length === 1) {
      if (this.get('Content-Type') === undefined) this.type('txt');
      this.statusCode = chunk;
      chunk = STATUS_TEXT[chunk] ?? String(chunk);
    }
    let body: Uint8Array | undefined;
    switch (typeof chunk) {
      case 'string':
        if (this.get('Content-Type') === undefined) this.type('html');
        break;
      case 'boolean':
      case 'number':
      case 'object':
        if (chunk === null) chunk = '';
        else if (chunk instanceof Uint8Array) {
          if (this.get('Content-Type') === undefined) this.type('bin');
        } else return this.json(chunk);
        break;
    }
    if (typeof chunk === 'string') {
      const type = this.get('Content-Type');
      if (typeof type === 'string') this.set('Content-Type', setCharset(type, 'utf-8'));
      body = Buffer.from(chunk, 'utf8');
    } else if (chunk instanceof Uint8Array) body = chunk;
    if (body !== undefined) {
      this.set('Content-Length', String(body.byteLength));
      if (this.get('ETag') === undefined) this.set('ETag', weakEtag(body));
    }
    if (this.req.fresh) this.statusCode = 304;
    if (this.statusCode === 204 || this.statusCode === 304) {
      this.removeHeader('Content-Type');
      this.removeHeader('Content-Length');
      this.removeHeader('Transfer-Encoding');
      body = undefined;
    } else if (this.statusCode === 205) {
      this.set('Content-Length', '0');
      this.removeHeader('Transfer-Encoding');
      body = undefined;
    }
    if (this.req.method === 'HEAD' || body === undefined) this.end();
    else this.end(body);
    return this;
  }

  /** Sends `JSON.stringify(value)` as application/json (`res.json(status, value)` is Express 4's deprecated form). */
  json(...args: unknown[]): this {
    let value = args[0];
    if (args.length === 2) {
      if (typeof args[1] === 'number') this.statusCode = args[1];
      else {
        this.statusCode = Number(args[0]);
        value = args[1];
      }
    }
    const body = JSON.stringify(value);
    if (this.get('Content-Type') === undefined) this.set('Content-Type', 'application/json');
    return this.send(body);
  }

  /** JSON with padding: wraps the body in the `callback` query parameter when present. */
  jsonp(value: unknown): this {
    let body = JSON.stringify(value);
    const cb = this.req.query['callback'];
    const name = Array.isArray(cb) ? cb[0] : cb;
    if (typeof name === 'string' && name !== '') {
      const safe = name.replace(/[^[\]\w$.]/g, '');
      if (body === undefined) body = '';
      else body = body.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
      this.set('X-Content-Type-Options', 'nosniff');
      this.set('Content-Type', 'text/javascript');
      return this.send(`/**/ typeof ${safe} === 'function' && ${safe}(${body});`);
    }
    if (this.get('Content-Type') === undefined) this.set('Content-Type', 'application/json');
    return this.send(body);
  }

  sendStatus(code: number): this {
    const body = STATUS_TEXT[code] ?? String(code);
    this.statusCode = code;
    this.type('txt');
    return this.send(body);
  }

  /** Redirects (302 unless a status is given) with Express's text or HTML body, chosen by Accept. */
  redirect(a: string | number, b?: string | number): this {
    let status = 302;
    let address: string;
    if (b === undefined) address = String(a);
    else if (typeof a === 'number') {
      status = a;
      address = String(b);
    } else {
      address = a;
      status = Number(b);
    }
    this.location(address);
    const location = String(this.get('Location'));
    const text = STATUS_TEXT[status] ?? String(status);
    let body = '';
    this.format({
      text: () => void (body = `${text}. Redirecting to ${location}`),
      html: () => {
        const u = escapeHtml(location);
        body = `<p>${text}. Redirecting to <a href="${u}">${u}</a></p>`;
      },
      default: () => void (body = ''),
    });
    this.statusCode = status;
    this.set('Content-Length', String(Buffer.byteLength(body)));
    if (this.req.method === 'HEAD') this.end();
    else this.end(body);
    return this;
  }

  /** Calls the handler for the type the client accepts best; 406 when none fits and there is no `default`. */
  format(handlers: Record<string, () => void>): this {
    const keys = Object.keys(handlers).filter((k) => k !== 'default');
    const accept = this.req.get('Accept');
    const key = keys.length > 0 ? negotiate(typeof accept === 'string' ? accept : undefined, keys) : false;
    this.vary('Accept');
    if (key !== false) {
      this.set('Content-Type', lookupType(key));
      handlers[key]?.();
    } else if (handlers['default']) handlers['default']();
    else this.status(406).type('txt').send('Not Acceptable');
    return this;
  }

  /** Appends a Set-Cookie header; `maxAge` is in milliseconds and `path` defaults to `/`, as in Express. */
  cookie(name: string, value: unknown, options: CookieOptions & { signed?: boolean } = {}): this {
    if (options.signed) throw new Error('cookieParser("secret") required for signed cookies');
    const opts: CookieOptions = { ...options };
    const val = typeof value === 'object' && value !== null ? `j:${JSON.stringify(value)}` : String(value);
    if (opts.maxAge !== undefined && opts.maxAge !== null) {
      const ms = Number(opts.maxAge);
      if (!Number.isNaN(ms)) {
        opts.expires = new Date(Date.now() + ms);
        opts.maxAge = Math.floor(ms / 1000);
      }
    }
    if (opts.path === undefined) opts.path = '/';
    return this.append('Set-Cookie', serializeCookie(name, val, opts));
  }

  clearCookie(name: string, options: CookieOptions = {}): this {
    const { maxAge: _ignored, ...rest } = options;
    return this.cookie(name, '', { path: '/', ...rest, expires: new Date(1) });
  }

  sendFile(): never {
    throw new Error('res.sendFile() is not available on Outpost: functions cannot read files; send the bytes with res.send(buffer)');
  }

  download(): never {
    throw new Error('res.download() is not available on Outpost: functions cannot read files; use res.attachment(name).send(buffer)');
  }

  render(): never {
    throw new Error('res.render() needs an Express app with a view engine; a Cloud Function has none');
  }
}
