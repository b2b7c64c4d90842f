/**
 * @module
 * An HTTP sink read like a stream: the head as soon as the function sends it, then the body
 * chunk by chunk as the reader asks. A chunk is acknowledged to the function only when it is
 * read, so a slow reader slows the writer (the instance's credit window does the rest), and a
 * cancelled reader aborts the invocation. Service bindings hand callee responses back this way.
 */
import type { HttpSink, InvocationError } from '../runtime/instance.ts';

export interface StreamHead {
  status: number;
  /** Flat [name, value, …] as the function set them. */
  headers: string[];
  /** The first part of the body, when it came with the head. */
  body: Uint8Array | null;
  /** True when more body follows (read it with {@link StreamSink.read}). */
  more: boolean;
}

export class StreamSink implements HttpSink {
  readonly #head = Promise.withResolvers<StreamHead>();
  readonly #queue: Array<{ data: Uint8Array; taken: () => void; dropped: (e: Error) => void }> = [];
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  #headSent = false;

  constructor() {
    // A failure before anyone awaits the head must not surface as an unhandled rejection.
    this.#head.promise.catch(() => undefined);
  }

  /** Resolves with the response head; rejects when the function failed before sending one. */
  get response(): Promise<StreamHead> {
    return this.#head.promise;
  }

  async pull(): Promise<Uint8Array | null> {
    return null;
  }

  head(status: number, headers: string[], body: Uint8Array | null, more: boolean): void {
    this.#headSent = true;
    if (!more) this.#ended = true;
    this.#head.resolve({ status, headers, body, more });
  }

  chunk(data: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise<void>((taken, dropped) => {
      this.#queue.push({ data, taken, dropped });
      this.#notify();
    });
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(error: InvocationError): void {
    if (!this.#headSent) this.#head.reject(error);
    this.#error = error;
    this.#notify();
  }

  /** The next body chunk, or null at the end; rejects when the function failed mid-body. */
  async read(): Promise<Uint8Array | null> {
    for (;;) {
      const next = this.#queue.shift();
      if (next) {
        next.taken();
        return next.data;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** The reader is gone: pending and later chunks are refused, which aborts the invocation. */
  cancel(reason = 'the reader cancelled the body'): void {
    this.#error ??= new Error(reason);
    for (const c of this.#queue.splice(0)) c.dropped(this.#error);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
