/**
 * @module
 * `outpost kv namespace|key|bulk`: a node's KV namespaces through the control API (routes in
 * src/bindings/kv/api.ts), with wrangler's bulk JSON shape:
 * `[{ key, value, expiration?, expiration_ttl?, metadata?, base64? }]`.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Values } from './commands.ts';
import { EXIT, UsageError } from './output.ts';
import { api, clientFrom as client, printResult as print } from './client.ts';



function namespace(values: Values): string {
  const ns = values['namespace'];
  if (typeof ns !== 'string' || ns === '') throw new UsageError('name the namespace: --namespace <id>');
  return `kv/namespaces/${encodeURIComponent(ns)}`;
}

function number(values: Values, key: string): number | undefined {
  const v = values[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${key} must be a whole number`);
  return n;
}

async function readJsonFile(path: string | undefined, usage: string): Promise<unknown> {
  if (!path) throw new UsageError(usage);
  try {
    return JSON.parse(await readFile(resolve(path), 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${path} as JSON: ${(error as Error).message}`);
  }
}

export async function kv(values: Values, positionals: string[]): Promise<number> {
  const [noun, verb, arg, value] = positionals;
  const c = client(values);
  if (noun === 'namespace') {
    if (verb === 'list' || verb === undefined) {
      const { namespaces } = await api<{ namespaces: Array<{ id: string; title: string }> }>(c, 'GET', 'kv/namespaces');
      print(values, namespaces, namespaces.length === 0 ? 'no namespaces' : namespaces.map((n) => n.id).join('\n'));
      return EXIT.ok;
    }
    if (verb === 'create') {
      if (!arg) throw new UsageError('outpost kv namespace create <name>');
      const r = await api<{ id: string; created: boolean }>(c, 'POST', 'kv/namespaces', { title: arg });
      print(values, r, r.created ? `✔ created namespace ${r.id}\n  [[kv_namespaces]]\n  binding = "MY_KV"\n  id = "${r.id}"` : `= namespace ${r.id} already exists`);
      return EXIT.ok;
    }
    throw new UsageError(`unknown kv namespace command "${verb}" (list, create)`);
  }
  if (noun === 'key') {
    const base = namespace(values);
    switch (verb) {
      case 'get': {
        if (!arg) throw new UsageError('outpost kv key get <key> --namespace <id>');
        const r = await api<{ value: string; base64?: boolean }>(c, 'GET', `${base}/values/${encodeURIComponent(arg)}`);
        if (values['json']) print(values, r, '');
        else process.stdout.write(r.base64 ? Buffer.from(r.value, 'base64') : r.value);
        return EXIT.ok;
      }
      case 'put': {
        if (!arg || value === undefined) throw new UsageError('outpost kv key put <key> <value> --namespace <id> [--ttl <s>] [--expiration <epoch s>] [--metadata <json>]');
        let metadata: unknown;
        if (typeof values['metadata'] === 'string') {
          try {
            metadata = JSON.parse(values['metadata']);
          } catch {
            throw new UsageError('--metadata must be JSON');
          }
        }
        const ttl = number(values, 'ttl');
        const expiration = number(values, 'expiration');
        await api(c, 'PUT', `${base}/values/${encodeURIComponent(arg)}`, { value, ...(ttl === undefined ? {} : { expiration_ttl: ttl }), ...(expiration === undefined ? {} : { expiration }), ...(metadata === undefined ? {} : { metadata }) });
        print(values, { key: arg }, `✔ wrote ${arg}`);
        return EXIT.ok;
      }
      case 'delete': {
        if (!arg) throw new UsageError('outpost kv key delete <key> --namespace <id>');
        await api(c, 'DELETE', `${base}/values/${encodeURIComponent(arg)}`);
        print(values, { deleted: arg }, `✔ deleted ${arg}`);
        return EXIT.ok;
      }
      case 'list': {
        const query = new URLSearchParams();
        if (typeof values['prefix'] === 'string') query.set('prefix', values['prefix']);
        const limit = number(values, 'limit');
        if (limit !== undefined) query.set('limit', String(limit));
        if (typeof values['cursor'] === 'string') query.set('cursor', values['cursor']);
        const r = await api<{ keys: Array<{ name: string; expiration?: number }>; list_complete: boolean; cursor?: string }>(c, 'GET', `${base}/keys${query.size > 0 ? `?${query}` : ''}`);
        print(values, r.keys, [...r.keys.map((k) => k.name), ...(r.list_complete ? [] : [`… more: --cursor ${r.cursor ?? ''}`])].join('\n') || 'no keys');
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown kv key command "${verb}" (get, put, delete, list)`);
    }
  }
  if (noun === 'bulk') {
    const base = namespace(values);
    if (verb === 'put') {
      const entries = await readJsonFile(arg, 'outpost kv bulk put <file.json> --namespace <id>');
      if (!Array.isArray(entries)) throw new UsageError(`${arg ?? ''} must hold a JSON array of { key, value, … }`);
      const r = await api<{ written: number }>(c, 'PUT', `${base}/bulk`, entries);
      print(values, r, `✔ wrote ${r.written} key(s)`);
      return EXIT.ok;
    }
    if (verb === 'get') {
      const keys = await readJsonFile(arg, 'outpost kv bulk get <file.json> --namespace <id>  (a JSON array of keys)');
      const list = Array.isArray(keys) ? keys.map((k: unknown) => (typeof k === 'object' && k !== null && 'key' in k ? (k as { key: unknown }).key : k)) : undefined;
      if (!list || !list.every((k) => typeof k === 'string')) throw new UsageError(`${arg ?? ''} must hold a JSON array of keys (strings or { key })`);
      const r = await api<{ values: Record<string, string | null> }>(c, 'POST', `${base}/bulk/get`, { keys: list });
      process.stdout.write(`${JSON.stringify(r.values, null, 2)}\n`);
      return EXIT.ok;
    }
    throw new UsageError(`unknown kv bulk command "${verb}" (put, get)`);
  }
  throw new UsageError('outpost kv <namespace|key|bulk> …  (see outpost kv --help)');
}
