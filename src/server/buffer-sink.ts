/**
 * @module
 * An HTTP sink that collects the whole response in memory: for `outpost invoke` and other
 * callers that want the answer as a value, not a stream.
 */
import type { HttpSink, InvocationError } from '../runtime/instance.ts';

export interface BufferedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class BufferSink implements HttpSink {
  readonly #chunks: Uint8Array[] = [];
  #status = 0;
  #headers: Record<string, string> = {};
  readonly #done = Promise.withResolvers<BufferedResponse>();

  get done(): Promise<BufferedResponse> {
    return this.#done.promise;
  }

  async pull(): Promise<Uint8Array | null> {
    return null;
  }

  head(status: number, headers: string[], body: Uint8Array | null, more: boolean): void {
    this.#status = status;
    for (let i = 0; i < headers.length; i += 2) this.#headers[headers[i] as string] = headers[i + 1] as string;
    if (body) this.#chunks.push(body);
    if (!more) this.end();
  }

  async chunk(data: Uint8Array): Promise<void> {
    this.#chunks.push(data);
  }

  end(): void {
    this.#done.resolve({ status: this.#status, headers: this.#headers, body: Buffer.concat(this.#chunks).toString('utf8') });
  }

  fail(error: InvocationError): void {
    this.#done.reject(error);
  }
}
