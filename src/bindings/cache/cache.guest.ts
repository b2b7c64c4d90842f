/**
 * @module
 * The `caches` global of Workers-style functions (Web APIs only: this runs inside the
 * isolate): `caches.default` and `await caches.open(name)`, each a Cache with `match`, `put`
 * and `delete`. Entries live on the host (see index.ts for the rules).
 */
import type { Rpc } from '../rpc.ts';

/** The reserved binding name the `caches` global calls (no config can declare it). */
export const CACHE_BINDING = '\u0000caches';

interface WireResponse {
  status: number;
  headers: string[];
  body: Uint8Array;
}

function flat(headers: Headers): string[] {
  const out: string[] = [];
  headers.forEach((value, name) => void out.push(name, value));
  return out;
}

function wireRequest(input: RequestInfo | URL): { url: string; method: string; headers: string[] } {
  const request = input instanceof Request ? input : new Request(input);
  return { url: request.url, method: request.method, headers: flat(request.headers) };
}

class Cache {
  readonly #name: string;
  readonly #call: (method: string, args: unknown[]) => Promise<unknown>;

  constructor(name: string, call: (method: string, args: unknown[]) => Promise<unknown>) {
    this.#name = name;
    this.#call = call;
  }

  async match(request: RequestInfo | URL, options: { ignoreMethod?: boolean } = {}): Promise<Response | undefined> {
    const r = (await this.#call('match', [this.#name, wireRequest(request), options.ignoreMethod === true])) as WireResponse | null;
    if (!r) return undefined;
    const headers = new Headers();
    for (let i = 0; i + 1 < r.headers.length; i += 2) headers.append(r.headers[i] as string, r.headers[i + 1] as string);
    return new Response(r.status === 304 || r.status === 204 ? null : (r.body as Uint8Array<ArrayBuffer>), { status: r.status, headers });
  }

  async put(request: RequestInfo | URL, response: Response): Promise<void> {
    if (!(response instanceof Response)) throw new TypeError('Cache.put() needs a Response');
    if (response.bodyUsed) throw new TypeError('Cannot cache a Response whose body has been used');
    const body = new Uint8Array(await response.arrayBuffer());
    await this.#call('put', [this.#name, wireRequest(request), { status: response.status, headers: flat(response.headers), body }]);
  }

  async delete(request: RequestInfo | URL, options: { ignoreMethod?: boolean } = {}): Promise<boolean> {
    return (await this.#call('delete', [this.#name, wireRequest(request), options.ignoreMethod === true])) as boolean;
  }
}

/** The CacheStorage object installed as `globalThis.caches`. */
export function createCaches(binding: string, rpc: Rpc): object {
  const call = (method: string, args: unknown[]): Promise<unknown> => rpc(binding, method, args);
  const defaultCache = new Cache('', call);
  return {
    get default(): Cache {
      return defaultCache;
    },
    async open(name: string): Promise<Cache> {
      // An empty name would alias caches.default; Workers keep them apart.
      return new Cache(`named:${String(name)}`, call);
    },
    async has(): Promise<never> {
      throw new Error('caches.has() is not supported on Workers');
    },
    async delete(): Promise<never> {
      throw new Error('caches.delete() is not supported on Workers');
    },
    async keys(): Promise<never> {
      throw new Error('caches.keys() is not supported on Workers');
    },
  };
}
