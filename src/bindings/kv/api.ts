/**
 * @module
 * The control API's KV routes (behind the control API's auth), used by `outpost kv`. Every
 * write goes through the binding's host side, so the CLI meets Workers KV's limits too.
 *
 *   GET    /_outpost/api/kv/namespaces                        { namespaces: [{ id, title }] }
 *   POST   /_outpost/api/kv/namespaces                        { title } → { id, title }
 *   GET    /_outpost/api/kv/namespaces/<ns>/keys              ?prefix=&limit=&cursor= → Workers' list result
 *   GET    /_outpost/api/kv/namespaces/<ns>/values/<key>      { key, value, base64?, metadata, expiration? }
 *   PUT    /_outpost/api/kv/namespaces/<ns>/values/<key>      { value, base64?, expiration?, expiration_ttl?, metadata? }
 *   DELETE /_outpost/api/kv/namespaces/<ns>/values/<key>
 *   PUT    /_outpost/api/kv/namespaces/<ns>/bulk              [{ key, value, base64?, expiration?, expiration_ttl?, metadata? }] (wrangler's shape)
 *   POST   /_outpost/api/kv/namespaces/<ns>/bulk/get          { keys } → { values: { key: value | null } }
 *
 * A namespace id is the `id` of a `[[kv_namespaces]]` binding. Namespaces exist once created or
 * once they hold a key.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutpostError } from '../../errors.ts';
import type { Store } from '../../store/types.ts';
import { kvHost, preparePut } from './index.ts';
import { readJsonValue as readJson, sendJson } from '../../control/http.ts';

const send = (res: ServerResponse, value: unknown, requestId: string): void => sendJson(res, 200, value, requestId);

const PREFIX = '/_outpost/api/kv/namespaces';
const META = 'kv-namespaces/';
const NAMESPACE = /^[A-Za-z0-9_.:-]{1,128}$/;



interface BulkEntry {
  key?: unknown;
  value?: unknown;
  base64?: unknown;
  expiration?: unknown;
  expiration_ttl?: unknown;
  metadata?: unknown;
}

function bytesOf(entry: BulkEntry, index?: number): Uint8Array {
  if (typeof entry.value !== 'string') throw new OutpostError('INVALID_KV_ENTRY', `${index === undefined ? 'the' : `entry ${index}:`} value must be a string (set base64: true for binary)`, { status: 400, fault: 'user' });
  return entry.base64 === true ? new Uint8Array(Buffer.from(entry.value, 'base64')) : new TextEncoder().encode(entry.value);
}

/** A value for JSON: text when it is valid UTF-8, base64 otherwise. */
function describe(value: Uint8Array): { value: string; base64?: true } {
  try {
    return { value: new TextDecoder('utf-8', { fatal: true }).decode(value) };
  } catch {
    return { value: Buffer.from(value).toString('base64'), base64: true };
  }
}

export function kvApi(store: Store, now: () => number = Date.now): (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean> {
  return async (req, res, requestId) => {
    const url = new URL(req.url ?? '/', 'http://node');
    if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return false;
    const parts = url.pathname.slice(PREFIX.length + 1).split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const [ns, what, ...rest] = parts;
    if (ns === undefined) {
      if (method === 'GET') {
        const created = (await store.meta.list<{ title: string }>(META)).map((e) => ({ id: e.key.slice(META.length), title: e.value.title }));
        const ids = new Set(created.map((c) => c.id));
        const used = (await store.kv.namespaces()).filter((id) => !ids.has(id)).map((id) => ({ id, title: id }));
        send(res, { namespaces: [...created, ...used].sort((a, b) => a.id.localeCompare(b.id)) }, requestId);
        return true;
      }
      if (method === 'POST') {
        const title = (await readJson(req) as { title?: unknown }).title;
        if (typeof title !== 'string' || !NAMESPACE.test(title)) throw new OutpostError('INVALID_KV_ENTRY', 'a namespace needs a title of 1–128 letters, digits, _ . : or -', { status: 400, fault: 'user' });
        const existing = await store.meta.get(`${META}${title}`);
        if (!existing) await store.meta.put(`${META}${title}`, { title, createdAt: new Date(now()).toISOString() });
        send(res, { id: title, title, created: !existing }, requestId);
        return true;
      }
      return false;
    }
    if (!NAMESPACE.test(ns)) throw new OutpostError('INVALID_KV_ENTRY', `invalid namespace id ${JSON.stringify(ns)}`, { status: 400, fault: 'user' });
    const kv = kvHost(store.kv, ns, now);
    if (what === 'keys' && method === 'GET') {
      const limit = url.searchParams.get('limit');
      send(res, await kv('list', [{ prefix: url.searchParams.get('prefix') ?? undefined, limit: limit === null ? undefined : Number(limit), cursor: url.searchParams.get('cursor') ?? undefined }]), requestId);
      return true;
    }
    if (what === 'values' && rest.length > 0) {
      const key = rest.join('/');
      if (method === 'GET') {
        const found = (await store.kv.get(ns, key));
        if (!found) throw new OutpostError('KV_KEY_NOT_FOUND', `namespace ${ns} has no key ${key}`, { status: 404, fault: 'user' });
        send(res, { key, ...describe(found.value), metadata: found.metadata ?? null, ...(found.expiration === undefined ? {} : { expiration: found.expiration }) }, requestId);
        return true;
      }
      if (method === 'PUT') {
        const entry = (await readJson(req)) as BulkEntry;
        await kv('put', [key, bytesOf(entry), { expiration: entry.expiration, expirationTtl: entry.expiration_ttl, metadata: entry.metadata }]);
        send(res, { key }, requestId);
        return true;
      }
      if (method === 'DELETE') {
        await kv('delete', [key]);
        send(res, { deleted: key }, requestId);
        return true;
      }
    }
    if (what === 'bulk' && rest.length === 0 && method === 'PUT') {
      const entries = await readJson(req);
      if (!Array.isArray(entries)) throw new OutpostError('INVALID_KV_ENTRY', 'bulk put takes a JSON array of { key, value, base64?, expiration?, expiration_ttl?, metadata? }', { status: 400, fault: 'user' });
      // Validate every entry before writing any, so a bad file changes nothing.
      const checked = (entries as BulkEntry[]).map((e, i) => {
        if (typeof e?.key !== 'string') throw new OutpostError('INVALID_KV_ENTRY', `entry ${i}: key must be a string`, { status: 400, fault: 'user' });
        return preparePut(e.key, bytesOf(e, i), { expiration: e.expiration, expirationTtl: e.expiration_ttl, metadata: e.metadata }, now);
      });
      for (const c of checked) await store.kv.put(ns, c.key, c.entry);
      send(res, { written: checked.length }, requestId);
      return true;
    }
    if (what === 'bulk' && rest[0] === 'get' && method === 'POST') {
      const keys = (await readJson(req) as { keys?: unknown }).keys;
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new OutpostError('INVALID_KV_ENTRY', 'bulk get takes { keys: [string] }', { status: 400, fault: 'user' });
      const values: Record<string, string | null> = {};
      for (const key of keys as string[]) {
        const found = await store.kv.get(ns, key);
        values[key] = found ? describe(found.value).value : null;
      }
      send(res, { values }, requestId);
      return true;
    }
    return false;
  };
}
