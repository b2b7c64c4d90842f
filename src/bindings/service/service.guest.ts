/**
 * @module
 * The service binding a function sees on `env` (Web APIs only: this runs inside the isolate):
 * `fetch(input, init)` with the same arguments as the global fetch, answered by the bound
 * function. The response body streams from the callee; the callee's uncaught errors surface as
 * a rejected promise.
 */
import type { Rpc } from '../rpc.ts';

interface WireResponse {
  status: number;
  headers: string[];
  body: Uint8Array | null;
  /** Set when more body follows: read it chunk by chunk. */
  stream?: string;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

function bodyOf(binding: string, rpc: Rpc, r: WireResponse): ReadableStream<Uint8Array> | Uint8Array | null {
  const { stream, body } = r;
  if (stream === undefined) return body;
  let first = body;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (first && first.byteLength > 0) {
        controller.enqueue(first);
        first = null;
        return;
      }
      const chunk = (await rpc(binding, 'read', [stream])) as Uint8Array | null;
      if (chunk === null) controller.close();
      else controller.enqueue(chunk);
    },
    async cancel() {
      await rpc(binding, 'cancel', [stream]);
    },
  });
}

export function createServiceBinding(binding: string, rpc: Rpc): object {
  return {
    async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const request = new Request(input, init);
      const headers: string[] = [];
      request.headers.forEach((value, name) => void headers.push(name, value));
      const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
      const r = (await rpc(binding, 'fetch', [{ method: request.method, url: request.url, headers, ...(body ? { body } : {}) }])) as WireResponse;
      const out = new Headers();
      for (let i = 0; i + 1 < r.headers.length; i += 2) out.append(r.headers[i] as string, r.headers[i + 1] as string);
      if (NULL_BODY.has(r.status) || request.method === 'HEAD') {
        if (r.stream !== undefined) await rpc(binding, 'cancel', [r.stream]);
        return new Response(null, { status: r.status, headers: out });
      }
      return new Response(bodyOf(binding, rpc, r) as BodyInit | null, { status: r.status, headers: out });
    },
    connect(): never {
      throw new Error('connect() is not supported on service bindings');
    },
  };
}
