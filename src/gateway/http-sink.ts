/**
 * @module
 * Connects one node:http exchange to an invocation: the request body is read on demand (the
 * function pulls it), the response is written as the function produces it, with
 * backpressure, and any failure becomes an error response — or, once headers are out, a cut
 * connection, which is the only honest signal left.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpSink, InvocationError } from '../runtime/instance.ts';

export interface SinkOptions {
  requestId: string;
  /** Largest body accepted; more fails the pull with a 413-worthy error. */
  bodyLimit: number;
  /** Called once the function failed before responding. */
  onError(error: InvocationError): void;
}

export class BodyTooLarge extends Error {
  readonly code = 'BODY_TOO_LARGE';
}

export function httpSink(req: IncomingMessage, res: ServerResponse, options: SinkOptions): HttpSink {
  let received = 0;
  let ended = false;
  let waiting: { resolve(c: Uint8Array | null): void; reject(e: Error): void } | undefined;

  const deliver = (): void => {
    if (!waiting) return;
    const chunk = req.read() as Buffer | null;
    if (chunk !== null) {
      received += chunk.byteLength;
      const w = waiting;
      waiting = undefined;
      if (received > options.bodyLimit) {
        w.reject(new BodyTooLarge(`request body exceeds the limit of ${options.bodyLimit} bytes`));
        req.destroy();
        return;
      }
      w.resolve(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } else if (ended) {
      const w = waiting;
      waiting = undefined;
      w.resolve(null);
    }
  };
  // Listeners go on at the first pull: most requests have no streamed body, and a
  // 'readable' listener costs work on every request it is attached to.
  let listening = false;
  const listen = (): void => {
    listening = true;
    req.on('readable', deliver);
    req.on('end', () => {
      ended = true;
      deliver();
    });
    req.on('error', (error) => {
      const w = waiting;
      waiting = undefined;
      w?.reject(error);
    });
  };

  return {
    pull() {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        if (!listening) listen();
        deliver();
      });
    },
    head(status, headers, body, more) {
      if (res.headersSent || res.destroyed) return;
      headers.push('x-request-id', options.requestId);
      if (!more) {
        const length = body?.byteLength ?? 0;
        if (!hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding') && status !== 204 && status !== 304) headers.push('content-length', String(length));
        res.writeHead(status, headers);
        res.end(body ?? undefined);
        return;
      }
      res.writeHead(status, headers);
      if (body) res.write(body);
    },
    chunk(data) {
      return new Promise((resolve, reject) => {
        if (res.destroyed) {
          reject(new Error('client went away'));
          return;
        }
        res.write(data, (error) => (error ? reject(error) : resolve()));
      });
    },
    end() {
      res.end();
    },
    fail(error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      options.onError(error);
    },
  };
}

function hasHeader(flat: string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return true;
  return false;
}

/** Most bytes of a response handed to response observers; larger responses are not observed. */
const OBSERVED_BODY_BYTES = 1024 * 1024;

/**
 * Wraps a sink with what route policies asked for: headers added to the response, and
 * observers that see the function's complete response (status, its own headers, body) once it
 * has gone out.
 */
export function policySink(sink: HttpSink, responseHeaders: Array<[string, string]>, observers: Array<(status: number, headers: string[], body: Uint8Array) => void>): HttpSink {
  if (responseHeaders.length === 0 && observers.length === 0) return sink;
  let status = 0;
  let headers: string[] = [];
  let chunks: Uint8Array[] | undefined = observers.length > 0 ? [] : undefined;
  let size = 0;
  const keep = (data: Uint8Array | null): void => {
    if (!chunks || !data) return;
    size += data.byteLength;
    if (size > OBSERVED_BODY_BYTES) chunks = undefined;
    else chunks.push(data);
  };
  const done = (): void => {
    if (!chunks) return;
    const body = Buffer.concat(chunks);
    for (const observe of observers) observe(status, headers, body);
  };
  return {
    pull: () => sink.pull(),
    head(s, h, body, more) {
      // Observers see the function's own headers, not the ones policies add on the way out.
      status = s;
      headers = h.slice();
      for (const [name, value] of responseHeaders) h.push(name, value);
      keep(body);
      sink.head(s, h, body, more);
      if (!more) done();
    },
    chunk(data) {
      keep(data);
      return sink.chunk(data);
    },
    end() {
      sink.end();
      done();
    },
    fail: (error) => sink.fail(error),
  };
}
