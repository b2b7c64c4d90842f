/**
 * @module
 * Body streaming across the thread boundary, instance side. A request body arrives as a
 * ReadableStream whose pull() asks the host for the next chunk; a response body leaves in
 * chunks, at most {@link RESPONSE_WINDOW} unacknowledged at a time, so a slow client slows the
 * function down instead of filling memory.
 */
import type { InstanceToHost, Usage } from '../protocol.ts';
import { append, SafeMap } from './safe-map.ts';

export const RESPONSE_WINDOW = 4;

/** Captured before user code runs: a function may replace the global. */
const nextTurn = setImmediate;

export type Post = (message: InstanceToHost, transfer?: Transferable[]) => void;

interface PendingPull {
  resolve(chunk: Uint8Array | null): void;
  reject(error: Error): void;
}

/** Request bodies being pulled, by invocation id. */
export class RequestBodies {
  readonly #waiting = new SafeMap<number, PendingPull>();
  readonly #post: Post;
  constructor(post: Post) {
    this.#post = post;
  }

  stream(id: number): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: (controller) =>
        new Promise<Uint8Array | null>((resolve, reject) => {
          this.#waiting.set(id, { resolve, reject });
          this.#post({ t: 'pull', id });
        }).then((chunk) => {
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        }),
      cancel: () => {
        this.#waiting.delete(id);
      },
    });
  }

  chunk(id: number, data: Uint8Array | null): void {
    const waiter = this.#waiting.get(id);
    this.#waiting.delete(id);
    waiter?.resolve(data);
  }

  fail(id: number, message: string): void {
    const waiter = this.#waiting.get(id);
    this.#waiting.delete(id);
    waiter?.reject(new TypeError(message));
  }
}

/** Credits the host grants back as it writes response chunks out. */
export class ResponseCredits {
  readonly #credits = new SafeMap<number, { inFlight: number; wake?: () => void }>();

  async take(id: number): Promise<void> {
    const state = this.#credits.get(id) ?? { inFlight: 0 };
    this.#credits.set(id, state);
    while (state.inFlight >= RESPONSE_WINDOW) await new Promise<void>((r) => (state.wake = r));
    state.inFlight++;
  }

  ack(id: number): void {
    const state = this.#credits.get(id);
    if (!state) return;
    state.inFlight--;
    const wake = state.wake;
    delete state.wake;
    wake?.();
  }

  release(id: number): void {
    const wake = this.#credits.get(id)?.wake;
    this.#credits.delete(id);
    wake?.();
  }
}

function ownsBuffer(chunk: Uint8Array): boolean {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
}

/**
 * Sends a Response to the host: a body that fits in one chunk goes with the head (so the host
 * can set content-length); longer bodies stream with credits.
 */
export async function sendResponse(
  id: number,
  response: Response,
  post: Post,
  credits: ResponseCredits,
  aborted: () => boolean,
  /** Called just before a complete response is posted: the usage if the invocation ends with it. */
  complete: () => Usage | undefined,
): Promise<void> {
  const headers: string[] = [];
  for (const [name, value] of response.headers) {
    append(headers, name);
    append(headers, value);
  }
  if (response.body === null) {
    post(withDone({ t: 'head', id, status: response.status, headers, body: null, more: false }, complete()));
    return;
  }
  const reader = response.body.getReader();
  const first = await reader.read();
  if (first.done) {
    post(withDone({ t: 'head', id, status: response.status, headers, body: null, more: false }, complete()));
    return;
  }
  const firstChunk = toBytes(first.value);
  // A body that is already complete (a string, a buffer) ends within a turn: send it whole,
  // with content-length. One that is still being produced (SSE, a slow stream) must not hold
  // its first chunk back until the second arrives, so the head goes out after one turn.
  const pending = reader.read();
  const second = await Promise.race([pending, new Promise<undefined>((r) => nextTurn(() => r(undefined)))]);
  if (second?.done) {
    post(withDone({ t: 'head', id, status: response.status, headers, body: firstChunk, more: false }, complete()), ownsBuffer(firstChunk) ? [firstChunk.buffer as ArrayBuffer] : []);
    return;
  }
  post({ t: 'head', id, status: response.status, headers, body: firstChunk, more: true });
  try {
    let next: ReadableStreamReadResult<unknown> = second ?? (await pending);
    while (!next.done) {
      if (aborted()) {
        await reader.cancel('client went away');
        return;
      }
      await credits.take(id);
      const bytes = toBytes(next.value);
      post({ t: 'chunk', id, data: bytes }, ownsBuffer(bytes) ? [bytes.buffer as ArrayBuffer] : []);
      next = await reader.read();
    }
    post({ t: 'end', id });
  } finally {
    credits.release(id);
  }
}

function withDone(message: Extract<InstanceToHost, { t: 'head' }>, done: Usage | undefined): InstanceToHost {
  if (done) message.done = done;
  return message;
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (typeof value === 'string') return new TextEncoder().encode(value);
  throw new TypeError('a response body chunk must be a Uint8Array, ArrayBuffer or string');
}
