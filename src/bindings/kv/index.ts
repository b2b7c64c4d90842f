/**
 * @module
 * The host side of the KV binding: validates each call against Workers KV's limits and serves
 * it from the store's KvStore, in the namespace the function's config declared.
 */
import type { KvStore, KvValue } from '../../store/types.ts';
import type { HostBinding } from '../rpc.ts';
import { KV_LIMITS, kvError } from './errors.ts';

export { KV_LIMITS } from './errors.ts';

const encoder = new TextEncoder();

function checkKey(operation: string, key: unknown): string {
  if (typeof key !== 'string' || key === '') throw kvError(operation, 400, 'Key names must not be empty.');
  if (key === '.' || key === '..') throw kvError(operation, 400, `Illegal key name "${key}". Please use a different name.`);
  const length = encoder.encode(key).byteLength;
  if (length > KV_LIMITS.keyBytes) throw kvError(operation, 414, `UTF-8 encoded length of ${length} exceeds key length limit of ${KV_LIMITS.keyBytes}.`);
  return key;
}

function optionalNumber(operation: string, name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw kvError(operation, 400, `Invalid ${name} of ${String(value)}. Please specify integer greater than 0.`);
  return n;
}

/**
 * Checks one put against Workers KV's limits and returns what to store; throws KV_LIMIT with
 * Workers' message otherwise. Bulk writes check every entry with this before writing any.
 */
export function preparePut(keyArg: unknown, value: unknown, optionsArg: unknown, now: () => number): { key: string; entry: KvValue } {
  const key = checkKey('PUT', keyArg);
  if (!(value instanceof Uint8Array)) throw kvError('PUT', 400, 'Invalid value.');
  if (value.byteLength > KV_LIMITS.valueBytes) throw kvError('PUT', 413, `Value length of ${value.byteLength} exceeds limit of ${KV_LIMITS.valueBytes}.`);
  const options = (optionsArg ?? {}) as { expiration?: unknown; expirationTtl?: unknown; metadata?: unknown };
  const nowSeconds = Math.floor(now() / 1000);
  let expiration: number | undefined;
  const ttl = optionalNumber('PUT', 'expiration_ttl', options.expirationTtl);
  const at = optionalNumber('PUT', 'expiration', options.expiration);
  if (ttl !== undefined) {
    if (ttl < KV_LIMITS.minTtlSeconds) throw kvError('PUT', 400, `Invalid expiration_ttl of ${ttl}. Expiration TTL must be at least ${KV_LIMITS.minTtlSeconds}.`);
    expiration = nowSeconds + Math.floor(ttl);
  } else if (at !== undefined) {
    if (at <= nowSeconds + KV_LIMITS.minTtlSeconds - 1) throw kvError('PUT', 400, `Invalid expiration of ${at}. Expiration times must be at least ${KV_LIMITS.minTtlSeconds} seconds in the future.`);
    expiration = Math.floor(at);
  }
  let metadata: unknown;
  if (options.metadata !== undefined && options.metadata !== null) {
    const size = encoder.encode(JSON.stringify(options.metadata)).byteLength;
    if (size > KV_LIMITS.metadataBytes) throw kvError('PUT', 413, `Metadata length of ${size} exceeds limit of ${KV_LIMITS.metadataBytes}.`);
    metadata = options.metadata;
  }
  return { key, entry: { value, ...(metadata === undefined ? {} : { metadata }), ...(expiration === undefined ? {} : { expiration }) } };
}

export function kvHost(kv: KvStore, namespace: string, now: () => number): HostBinding {
  return async (method, args) => {
    switch (method) {
      case 'get': {
        const found = await kv.get(namespace, checkKey('GET', args[0]));
        return found ? { value: found.value, metadata: found.metadata ?? null } : null;
      }
      case 'getMany': {
        const keys = args[0];
        if (!Array.isArray(keys) || keys.length > KV_LIMITS.maxBulkKeys) throw kvError('GET', 400, `You can request a maximum of ${KV_LIMITS.maxBulkKeys} keys`);
        return Promise.all(keys.map(async (k) => {
          const found = await kv.get(namespace, checkKey('GET', k));
          return found ? { value: found.value, metadata: found.metadata ?? null } : null;
        }));
      }
      case 'put': {
        const { key, entry } = preparePut(args[0], args[1], args[2], now);
        await kv.put(namespace, key, entry);
        return null;
      }
      case 'delete':
        await kv.delete(namespace, checkKey('DELETE', args[0]));
        return null;
      case 'list': {
        const options = (args[0] ?? {}) as { prefix?: unknown; limit?: unknown; cursor?: unknown };
        const limit = optionalNumber('LIST', 'key_count_limit', options.limit) ?? KV_LIMITS.maxListLimit;
        if (limit < 1 || limit > KV_LIMITS.maxListLimit || !Number.isInteger(limit)) {
          throw kvError('LIST', 400, `Invalid key_count_limit of ${limit}. Please specify an integer greater than 0 and no more than ${KV_LIMITS.maxListLimit}.`);
        }
        const result = await kv.list(namespace, {
          limit,
          ...(typeof options.prefix === 'string' ? { prefix: options.prefix } : {}),
          ...(typeof options.cursor === 'string' && options.cursor !== '' ? { cursor: options.cursor } : {}),
        });
        return { keys: result.keys, list_complete: result.complete, ...(result.cursor ? { cursor: result.cursor } : {}), cacheStatus: null };
      }
      default:
        throw kvError(method.toUpperCase(), 400, `unknown operation ${method}`);
    }
  };
}
