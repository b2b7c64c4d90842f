/**
 * @module
 * The Cache API's host side: `caches.default` and `caches.open(name)` for Workers-style
 * functions. One cache per node, in memory, bounded in bytes with least-recently-used eviction
 * (default 256 MiB). Names are shared by every function on the node, as Workers share one
 * cache per zone: `caches.open('x')` in two functions is the same cache.
 *
 * What is stored follows Workers' documented rules for `cache.put`: only GET requests; not
 * 206 or `Vary: *` (those throw); not `no-store`, `private` or `no-cache`, nor responses with
 * `Set-Cookie` unless `Cache-Control: private=Set-Cookie` (then stored without the cookie); the
 * lifetime is `s-maxage`, else `max-age`, else `Expires`, else Cloudflare's default edge TTL
 * for the status (200/301: 2 h, 302/303: 20 min, 404/410: 3 min; other statuses are not stored).
 * `match` honours Vary, answers a conditional request (If-None-Match against ETag,
 * If-Modified-Since against Last-Modified) with 304, and marks hits `cf-cache-status: HIT`.
 */
import { OutpostError } from '../../errors.ts';
import type { HostBinding } from '../rpc.ts';

export { CACHE_BINDING } from './cache.guest.ts';
export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

const DEFAULT_TTL_SECONDS: Record<number, number> = { 200: 7200, 301: 7200, 302: 1200, 303: 1200, 404: 180, 410: 180 };

interface Entry {
  status: number;
  headers: string[];
  body: Uint8Array;
  /** Request header values named by the response's Vary, lower-case. */
  vary: Array<[string, string]>;
  expires: number;
  size: number;
}

export interface WireRequest {
  url: string;
  method: string;
  headers: string[];
}

export interface WireResponse {
  status: number;
  headers: string[];
  body: Uint8Array;
}

function header(headers: readonly string[], name: string): string | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) if ((headers[i] as string).toLowerCase() === name) values.push(headers[i + 1] as string);
  return values.length === 0 ? undefined : values.join(', ');
}

function directives(value: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (value ?? '').split(',')) {
    const [k, ...v] = part.trim().split('=');
    if (k) out.set(k.toLowerCase(), v.join('=').trim().replace(/^"|"$/g, ''));
  }
  return out;
}

/** Seconds this response may be served from cache, or 0 when it must not be stored. */
export function freshness(status: number, headers: readonly string[], nowMs: number): number {
  const cc = directives(header(headers, 'cache-control'));
  if (cc.has('no-store') || cc.has('no-cache')) return 0;
  if (cc.has('private') && cc.get('private')?.toLowerCase() !== 'set-cookie') return 0;
  for (const name of ['s-maxage', 'max-age']) {
    const v = cc.get(name);
    if (v !== undefined) {
      const n = Number(v);
      return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
    }
  }
  const expires = header(headers, 'expires');
  if (expires !== undefined) {
    const at = Date.parse(expires);
    return Number.isNaN(at) ? 0 : Math.max(0, Math.floor((at - nowMs) / 1000));
  }
  return DEFAULT_TTL_SECONDS[status] ?? 0;
}

function cacheError(message: string): OutpostError<'CACHE_INVALID'> {
  return new OutpostError('CACHE_INVALID', message, { fault: 'user' });
}

function keyOf(cache: string, url: string): string {
  const u = new URL(url);
  u.hash = '';
  return `${cache}\u0000${u.href}`;
}

/** Normalises an entity tag for weak comparison. */
function etagValue(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

export class NodeCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxBytes: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(options: { maxBytes?: number; now?: () => number } = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
    this.#now = options.now ?? Date.now;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Stores `response` under `request` when the rules allow; true when stored. Throws for requests Workers refuse. */
  put(cache: string, request: WireRequest, response: WireResponse): boolean {
    if (request.method !== 'GET') throw cacheError('Cannot cache response to non-GET request.');
    if (response.status === 206) throw cacheError('Cannot cache response to a range request (206 Partial Content).');
    const varyHeader = header(response.headers, 'vary');
    const vary = (varyHeader ?? '').split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);
    if (vary.includes('*')) throw cacheError("Cannot cache response with 'Vary: *' header.");
    const key = keyOf(cache, request.url);
    let headers = response.headers;
    const cc = directives(header(headers, 'cache-control'));
    if (header(headers, 'set-cookie') !== undefined) {
      if (cc.get('private')?.toLowerCase() !== 'set-cookie') return false;
      headers = headers.filter((_, i, all) => (i % 2 === 0 ? all[i] : all[i - 1])?.toLowerCase() !== 'set-cookie');
    }
    const now = this.#now();
    const ttl = freshness(response.status, headers, now);
    if (ttl <= 0) {
      this.#remove(key);
      return false;
    }
    const size = response.body.byteLength + headers.reduce((n, h) => n + h.length, 0) + key.length;
    if (size > this.#maxBytes) return false;
    this.#remove(key);
    this.#entries.set(key, {
      status: response.status,
      headers,
      body: response.body,
      vary: vary.map((name) => [name, header(request.headers, name) ?? '']),
      expires: now + ttl * 1000,
      size,
    });
    this.#bytes += size;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.size;
    }
    return true;
  }

  match(cache: string, request: WireRequest, ignoreMethod = false): WireResponse | undefined {
    if (request.method !== 'GET' && !ignoreMethod) return undefined;
    const key = keyOf(cache, request.url);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.#now()) {
      this.#remove(key);
      return undefined;
    }
    if (entry.vary.some(([name, value]) => (header(request.headers, name) ?? '') !== value)) return undefined;
    // Least recently used goes first: a hit moves the entry to the end.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    const headers = [...entry.headers.filter((_, i, all) => ((i % 2 === 0 ? all[i] : all[i - 1]) ?? '').toLowerCase() !== 'cf-cache-status'), 'cf-cache-status', 'HIT'];
    if (this.#notModified(request, entry)) return { status: 304, headers, body: new Uint8Array(0) };
    return { status: entry.status, headers, body: entry.body };
  }

  #notModified(request: WireRequest, entry: Entry): boolean {
    const inm = header(request.headers, 'if-none-match');
    const etag = header(entry.headers, 'etag');
    if (inm !== undefined) {
      if (etag === undefined) return false;
      return inm.split(',').some((t) => t.trim() === '*' || etagValue(t) === etagValue(etag));
    }
    const ims = header(request.headers, 'if-modified-since');
    const lastModified = header(entry.headers, 'last-modified');
    if (ims !== undefined && lastModified !== undefined) {
      const since = Date.parse(ims);
      const modified = Date.parse(lastModified);
      return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
    }
    return false;
  }

  delete(cache: string, request: WireRequest, ignoreMethod = false): boolean {
    if (request.method !== 'GET' && !ignoreMethod) return false;
    return this.#remove(keyOf(cache, request.url));
  }

  #remove(key: string): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    this.#entries.delete(key);
    this.#bytes -= e.size;
    return true;
  }
}

function readRequest(value: unknown): WireRequest {
  const r = value as Partial<WireRequest> | null;
  if (!r || typeof r.url !== 'string' || typeof r.method !== 'string' || !Array.isArray(r.headers)) throw cacheError('invalid cache request');
  return { url: r.url, method: r.method.toUpperCase(), headers: r.headers.map(String) };
}

function cacheName(value: unknown): string {
  if (typeof value !== 'string' || value.length > 1024) throw cacheError('invalid cache name');
  return value;
}

/** The `caches` global's host side, over the node's cache. */
export function cacheHost(cache: NodeCache): HostBinding {
  return async (method, args) => {
    const name = cacheName(args[0]);
    const request = readRequest(args[1]);
    switch (method) {
      case 'match':
        return cache.match(name, request, args[2] === true) ?? null;
      case 'put': {
        const r = args[2] as Partial<WireResponse> | null;
        if (!r || typeof r.status !== 'number' || !Array.isArray(r.headers) || !(r.body instanceof Uint8Array)) throw cacheError('invalid cache response');
        return cache.put(name, request, { status: r.status, headers: r.headers.map(String), body: r.body });
      }
      case 'delete':
        return cache.delete(name, request, args[2] === true);
      default:
        throw cacheError(`unknown cache operation ${method}`);
    }
  };
}
