/**
 * @module
 * The Cloudflare Queues producer a function sees on `env` (`send`, `sendBatch`). Runs inside the
 * isolate (Web APIs only): bodies are encoded here by content type — json, text, bytes, or v8
 * (structured clone, checked here so an uncloneable value throws in the caller) — and the host
 * checks the limits and stores them.
 */
import type { Rpc } from '../rpc.ts';

const CONTENT_TYPES = new Set(['json', 'text', 'bytes', 'v8']);

interface SendOptions {
  contentType?: unknown;
  delaySeconds?: unknown;
}

interface Encoded {
  /** Encoded bytes, or for v8 the cloned value (the host serialises it). */
  body: unknown;
  contentType: string;
  delaySeconds?: unknown;
}

function encode(body: unknown, options: SendOptions = {}): Encoded {
  if (body === undefined) throw new TypeError('Message body cannot be undefined');
  const type = options.contentType === undefined ? 'json' : String(options.contentType).toLowerCase();
  if (!CONTENT_TYPES.has(type)) throw new TypeError(`Unsupported queue message content type: ${String(options.contentType)}`);
  let encoded: unknown;
  if (type === 'text') {
    if (typeof body !== 'string') throw new TypeError(`Content Type "text" requires a value of type string, but received: ${typeof body}`);
    encoded = new TextEncoder().encode(body);
  } else if (type === 'bytes') {
    if (!ArrayBuffer.isView(body)) throw new TypeError(`Content Type "bytes" requires a value of type ArrayBufferView, but received: ${typeof body}`);
    encoded = new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  } else if (type === 'json') {
    const text = JSON.stringify(body);
    if (text === undefined) throw new TypeError(`Content Type "json" requires a JSON-serialisable value, but received: ${typeof body}`);
    encoded = new TextEncoder().encode(text);
  } else {
    encoded = structuredClone(body);
  }
  return { body: encoded, contentType: type, ...(options.delaySeconds === undefined ? {} : { delaySeconds: options.delaySeconds }) };
}

export function createQueueProducer(binding: string, rpc: Rpc): object {
  const call = async (method: string, ...args: unknown[]): Promise<void> => {
    try {
      await rpc(binding, method, args);
    } catch (error) {
      // The host's error class stays on the host; the function sees a plain Error, as on Cloudflare.
      throw new Error((error as Error).message);
    }
  };
  return {
    async send(body: unknown, options?: SendOptions): Promise<void> {
      await call('send', [encode(body, options)]);
    },
    async sendBatch(messages: Iterable<{ body: unknown; contentType?: unknown; delaySeconds?: unknown }>, options: { delaySeconds?: unknown } = {}): Promise<void> {
      const list = [...messages];
      if (list.length === 0) throw new TypeError('sendBatch() requires at least one message');
      await call('sendBatch', list.map((m) => encode(m.body, { contentType: m.contentType, delaySeconds: m.delaySeconds ?? options.delaySeconds })));
    },
  };
}
