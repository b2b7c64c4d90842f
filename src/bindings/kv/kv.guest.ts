/**
 * @module
 * The Workers KV namespace object a function sees on `env` (Web APIs only: this runs inside the
 * isolate). Each call crosses to the host, which checks limits and owns the data.
 */
import type { Rpc } from '../rpc.ts';

type ValueType = 'text' | 'json' | 'arrayBuffer' | 'stream';
interface StoredValue { value: Uint8Array; metadata: unknown }

function readType(typeOrOptions: unknown): ValueType {
  const type = typeof typeOrOptions === 'string' ? typeOrOptions : (typeOrOptions as { type?: unknown } | undefined)?.type ?? 'text';
  if (type !== 'text' && type !== 'json' && type !== 'arrayBuffer' && type !== 'stream') {
    throw new TypeError(`Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".`);
  }
  return type;
}

function decode(bytes: Uint8Array, type: ValueType): unknown {
  switch (type) {
    case 'text':
      return new TextDecoder().decode(bytes);
    case 'json':
      return JSON.parse(new TextDecoder().decode(bytes));
    case 'arrayBuffer':
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    case 'stream':
      return new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
  }
}

async function encode(value: unknown): Promise<Uint8Array> {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  throw new TypeError('KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.');
}

export function createKvNamespace(binding: string, rpc: Rpc): object {
  const call = (method: string, ...args: unknown[]) => rpc(binding, method, args);
  async function getWithMetadata(key: unknown, typeOrOptions?: unknown): Promise<unknown> {
    const type = readType(typeOrOptions);
    if (Array.isArray(key)) {
      const found = (await call('getMany', key)) as Array<StoredValue | null>;
      const out = new Map<string, unknown>();
      key.forEach((k, i) => {
        const v = found[i];
        out.set(String(k), v ? { value: decode(v.value, type), metadata: v.metadata ?? null } : { value: null, metadata: null });
      });
      return out;
    }
    const found = (await call('get', String(key))) as StoredValue | null;
    return found ? { value: decode(found.value, type), metadata: found.metadata ?? null, cacheStatus: null } : { value: null, metadata: null, cacheStatus: null };
  }
  return {
    async get(key: unknown, typeOrOptions?: unknown) {
      const result = await getWithMetadata(key, typeOrOptions);
      if (result instanceof Map) {
        const out = new Map<string, unknown>();
        for (const [k, v] of result) out.set(k, (v as { value: unknown }).value);
        return out;
      }
      return (result as { value: unknown }).value;
    },
    getWithMetadata,
    async put(key: unknown, value: unknown, options: { expiration?: unknown; expirationTtl?: unknown; metadata?: unknown } = {}) {
      await call('put', String(key), await encode(value), {
        expiration: options.expiration,
        expirationTtl: options.expirationTtl,
        metadata: options.metadata,
      });
    },
    async delete(key: unknown) {
      await call('delete', String(key));
    },
    async list(options: { prefix?: unknown; limit?: unknown; cursor?: unknown } = {}) {
      return call('list', { prefix: options.prefix, limit: options.limit, cursor: options.cursor });
    },
  };
}
