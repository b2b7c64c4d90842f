/**
 * @module
 * API Gateway-style response caching for a route: the gateway answers a repeated GET from a
 * stored response instead of invoking the function.
 *
 * Decisions:
 * - The cache key is the method family (GET and HEAD share entries; only GET responses are
 *   stored), host, path, and only the query parameters and request headers the route names
 *   (`key_query`, `key_headers`), as API Gateway's cache key parameters. Anything else in the
 *   request does not split entries, so a response that varies per user needs its identifying
 *   header in `key_headers`.
 * - A response is stored when its status is one the route lists (200 by default), it does not
 *   say `Cache-Control: no-store` or `private`, it sets no cookie (a cookie belongs to one
 *   client), and it is no larger than the gateway observes (1 MiB). It lives `ttl_seconds`.
 * - One store per node, bounded in bytes (OUTPOST_RESPONSE_CACHE_MB, default 64 MiB) with
 *   least-recently-used eviction. Entries outlive a redeploy until their TTL, as a stage cache
 *   does on API Gateway.
 * - Per-key invalidation: `Cache-Control: max-age=0` from a caller with a valid node token
 *   (`Authorization: Bearer op_…`, the control API's tokens) skips the entry and stores the
 *   fresh response. Anyone else's `max-age=0` is ignored, as API Gateway does when
 *   invalidation requires authorisation: otherwise any client could defeat the cache and send
 *   every request to the function.
 * - Hits carry `x-outpost-cache: HIT` and `Age`; responses from the function `x-outpost-cache: MISS`.
 */
import type { Fields } from '../project/fields.ts';
import type { RoutePolicySpec } from '../project/spec.ts';
import type { PolicyNode, PolicyScope } from './index.ts';
import type { PolicyDecision, PolicyRequest, RoutePolicy } from './policy.ts';

export const DEFAULT_RESPONSE_CACHE_BYTES = 64 * 1024 * 1024;

/** Bytes charged to an entry besides its body, headers and key (map and object overhead). */
const ENTRY_OVERHEAD_BYTES = 128;

/** Response headers never stored: per-exchange, or added again on the way out. */
const UNSTORED_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'x-request-id', 'x-outpost-cache', 'age']);

export interface CachedResponse {
  status: number;
  /** Flat `[name, value, …]`, names lower-case. */
  headers: string[];
  body: Uint8Array;
  storedAt: number;
  expiresAt: number;
}

interface Slot {
  response: CachedResponse;
  bytes: number;
}

/** The node's stored responses, least recently used first, within a byte budget. */
export class ResponseStore {
  readonly #maxBytes: number;
  readonly #slots = new Map<string, Slot>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The fresh entry under `key`, or undefined (an expired one is dropped). */
  get(key: string, now: number): CachedResponse | undefined {
    const slot = this.#slots.get(key);
    if (!slot) return undefined;
    this.#slots.delete(key);
    if (slot.response.expiresAt <= now) {
      this.#bytes -= slot.bytes;
      return undefined;
    }
    this.#slots.set(key, slot);
    return slot.response;
  }

  /** Stores `response`, evicting the least recently used entries to fit; false when it cannot fit at all. */
  set(key: string, response: CachedResponse): boolean {
    let bytes = key.length + response.body.byteLength + ENTRY_OVERHEAD_BYTES;
    for (const h of response.headers) bytes += h.length;
    this.delete(key);
    if (bytes > this.#maxBytes) return false;
    for (const [oldest, slot] of this.#slots) {
      if (this.#bytes + bytes <= this.#maxBytes) break;
      this.#slots.delete(oldest);
      this.#bytes -= slot.bytes;
    }
    this.#slots.set(key, { response, bytes });
    this.#bytes += bytes;
    return true;
  }

  delete(key: string): void {
    const slot = this.#slots.get(key);
    if (!slot) return;
    this.#slots.delete(key);
    this.#bytes -= slot.bytes;
  }
}

/** The node's budget from OUTPOST_RESPONSE_CACHE_MB, else the default. */
export function responseCacheBudget(env: Record<string, string | undefined> = process.env): number {
  const mb = Number(env['OUTPOST_RESPONSE_CACHE_MB']);
  return env['OUTPOST_RESPONSE_CACHE_MB'] !== undefined && Number.isFinite(mb) && mb >= 0 ? Math.floor(mb * 1024 * 1024) : DEFAULT_RESPONSE_CACHE_BYTES;
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function hasDirective(value: string, names: readonly string[]): boolean {
  for (const part of value.toLowerCase().split(',')) {
    const name = part.split('=')[0]?.trim() ?? '';
    if (names.includes(name)) return true;
  }
  return false;
}

/** True when the client asked for a fresh answer (`Cache-Control: max-age=0`). */
function asksRefresh(request: PolicyRequest): boolean {
  const value = headerValue(request.headers['cache-control']).toLowerCase();
  return value !== '' && /(?:^|,)\s*max-age\s*=\s*0\s*(?:,|$)/.test(value);
}

async function mayInvalidate(request: PolicyRequest, node: PolicyNode): Promise<boolean> {
  const auth = headerValue(request.headers.authorization);
  if (!auth.startsWith('Bearer ') || !node.verifyToken) return false;
  return node.verifyToken(auth.slice(7).trim());
}

/** The stored form of a function's response, or undefined when it must not be stored. */
function storable(status: number, headers: readonly string[], body: Uint8Array, statuses: readonly number[], now: number, ttlMs: number): CachedResponse | undefined {
  if (!statuses.includes(status)) return undefined;
  const kept: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = (headers[i] as string).toLowerCase();
    const value = headers[i + 1] as string;
    if (name === 'set-cookie') return undefined;
    if (name === 'cache-control' && hasDirective(value, ['no-store', 'private'])) return undefined;
    if (!UNSTORED_HEADERS.has(name)) kept.push(name, value);
  }
  return { status, headers: kept, body: body.slice(), storedAt: now, expiresAt: now + ttlMs };
}

function replyHeaders(response: CachedResponse, now: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < response.headers.length; i += 2) {
    const name = response.headers[i] as string;
    const value = response.headers[i + 1] as string;
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  out['age'] = String(Math.max(0, Math.floor((now - response.storedAt) / 1000)));
  out['x-outpost-cache'] = 'HIT';
  return out;
}

const MISS: PolicyDecision = { responseHeaders: [['x-outpost-cache', 'MISS']] };

/** The cache policy of a route that configures `cache`; undefined otherwise. */
export function responseCachePolicy(scope: PolicyScope): RoutePolicy | undefined {
  const spec = scope.route.policies?.cache;
  if (!spec) return undefined;
  const { node, functionName, route } = scope;
  const store = node.state('response-cache', () => new ResponseStore(responseCacheBudget()));
  const ttlMs = spec.ttlSeconds * 1000;
  const routeId = `${functionName}\n${route.method ?? '*'}\n${route.host ?? '*'}\n${route.path}`;

  const keyOf = (request: PolicyRequest): string => {
    let key = `${routeId}\n${request.host}\n${request.path}`;
    if (spec.keyQuery.length > 0) {
      const query = new URLSearchParams(request.search);
      for (const name of spec.keyQuery) key += `\nq:${name}=${JSON.stringify(query.getAll(name))}`;
    }
    for (const name of spec.keyHeaders) key += `\nh:${name}=${headerValue(request.headers[name])}`;
    return key;
  };

  /** Answers from the store, or lets the request through to be stored; `refresh` skips the stored entry. */
  const answer = (request: PolicyRequest, key: string, refresh: boolean): PolicyDecision => {
    if (refresh) store.delete(key);
    else {
      const now = node.now();
      const hit = store.get(key, now);
      if (hit) return { reply: { status: hit.status, headers: replyHeaders(hit, now), body: hit.body, outcome: 'ok' } };
    }
    if (request.method === 'HEAD') return MISS;
    return {
      ...MISS,
      onResponse(status, headers, body) {
        const response = storable(status, headers, body, spec.statuses, node.now(), ttlMs);
        if (response) store.set(key, response);
      },
    };
  };

  return {
    name: 'cache',
    // Synchronous unless a refresh needs the token checked: most requests cost no promise here.
    decide(request) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
      const key = keyOf(request);
      if (asksRefresh(request)) return mayInvalidate(request, node).then((allowed) => answer(request, key, allowed));
      return answer(request, key, false);
    },
  };
}

/** outpost.toml `[[route_rules]]` `cache = { ttl_seconds = 300, key_query = ["page"], key_headers = ["accept-language"], statuses = [200] }` */
export function readCacheRule(rule: Fields, policies: RoutePolicySpec): void {
  const c = rule.object('cache');
  if (!c) return;
  const ttl = c.number('ttl_seconds', { min: 1, max: 3600, integer: true });
  const statuses = statusList(c);
  const keyQuery = c.stringArray('key_query') ?? [];
  const keyHeaders = (c.stringArray('key_headers') ?? []).map((h) => h.toLowerCase());
  c.reportUnknown(['ttl_seconds', 'key_query', 'key_headers', 'statuses']);
  if (statuses === undefined || (c.has('ttl_seconds') && ttl === undefined)) return;
  policies.cache = { ttlSeconds: ttl ?? 300, keyQuery, keyHeaders, statuses };
}

/** `statuses`, default [200]; undefined after reporting a problem. */
function statusList(c: Fields): number[] | undefined {
  const raw = c.raw['statuses'];
  c.accept('statuses');
  if (raw === undefined) return [200];
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((s) => !Number.isInteger(s) || (s as number) < 100 || (s as number) > 599)) {
    c.problems.error(c.key('statuses'), 'expected a non-empty list of HTTP statuses', 'write statuses = [200, 404]');
    return undefined;
  }
  return raw as number[];
}
