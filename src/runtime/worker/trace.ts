/**
 * @module
 * Tracing inside an instance: when the host sends an invocation with a trace, each fetch the
 * function makes and each binding call it makes becomes a span timed here, child of the
 * handler span; fetches carry `traceparent` (with the fetch's own span as parent) and the
 * caller's `tracestate`, and service-binding calls carry `traceparent` the same way so the
 * callee joins the trace. The spans of an invocation go to the host in one binding call when
 * it ends (see {@link TRACE_BINDING}).
 *
 * Kept free of Node and OpenTelemetry imports: it loads in every instance, and untraced
 * invocations pay one property check per fetch.
 */
import type { TraceContext } from '../protocol.ts';

// Captured at load, before user code could replace them.
const getRandomValues = crypto.getRandomValues.bind(crypto);
const now = Date.now;

/** A span as it crosses to the host (the host's SpanRecord shape). */
export interface InstanceSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: 'client';
  start: number;
  end: number;
  attributes: Record<string, string | number | boolean>;
  status: 'ok' | 'error';
}

const idBytes = new Uint8Array(8);

function spanId(): string {
  getRandomValues(idBytes);
  let out = '';
  for (const b of idBytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out === '0000000000000000' ? spanId() : out;
}

function traceparent(trace: TraceContext, span: string): string {
  return `00-${trace.traceId}-${span}-${trace.sampled ? '01' : '00'}`;
}

/**
 * Runs `fetch` for `request` as a traced subrequest: headers set and, when the trace is
 * recorded (`spans` given), a client span.
 */
export async function tracedFetch(request: Request, trace: TraceContext, spans: InstanceSpan[] | undefined, fetch: (r: Request) => Promise<Response>): Promise<Response> {
  // An unrecorded trace still travels on, naming the handler span as the parent.
  const id = spans ? spanId() : trace.spanId;
  request.headers.set('traceparent', traceparent(trace, id));
  if (trace.tracestate !== undefined) request.headers.set('tracestate', trace.tracestate);
  if (!spans) return fetch(request);
  const url = new URL(request.url);
  const start = now();
  const attributes: InstanceSpan['attributes'] = { 'http.request.method': request.method, 'server.address': url.hostname, 'url.path': url.pathname };
  const span: InstanceSpan = { traceId: trace.traceId, spanId: id, parentSpanId: trace.spanId, name: `fetch ${request.method} ${url.host}`, kind: 'client', start, end: start, attributes, status: 'ok' };
  try {
    const response = await fetch(request);
    attributes['http.response.status_code'] = response.status;
    if (response.status >= 500) span.status = 'error';
    return response;
  } catch (error) {
    span.status = 'error';
    attributes['error.type'] = error instanceof Error ? error.name : 'Error';
    throw error;
  } finally {
    span.end = now();
    spans.push(span);
  }
}

/**
 * Runs one binding call, as a span when the trace is recorded (`spans` given). A service
 * binding's `fetch` gets `traceparent` added to the request it sends, so the called function
 * continues this trace.
 */
export async function tracedBindingCall(binding: string, method: string, args: unknown[], service: boolean, trace: TraceContext, spans: InstanceSpan[] | undefined, call: (args: unknown[]) => Promise<unknown>): Promise<unknown> {
  const request = args[0] as { headers?: unknown } | undefined;
  const propagate = service && method === 'fetch' && request !== undefined && Array.isArray(request.headers);
  if (!spans && !propagate) return call(args);
  const id = spans ? spanId() : trace.spanId;
  let sent = args;
  if (propagate) {
    sent = [{ ...request, headers: [...(request.headers as string[]), 'traceparent', traceparent(trace, id), ...(trace.tracestate !== undefined ? ['tracestate', trace.tracestate] : [])] }, ...args.slice(1)];
  }
  if (!spans) return call(sent);
  const span: InstanceSpan = { traceId: trace.traceId, spanId: id, parentSpanId: trace.spanId, name: `${binding}.${method}`, kind: 'client', start: now(), end: 0, attributes: { 'outpost.binding': binding, 'outpost.binding.method': method }, status: 'ok' };
  try {
    return await call(sent);
  } catch (error) {
    span.status = 'error';
    throw error;
  } finally {
    span.end = now();
    spans.push(span);
  }
}
