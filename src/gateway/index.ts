/**
 * @module
 * HTTP ingress: matches a request to a function version, hands it to dispatch with its body
 * streaming, and renders every failure as JSON with a stable code and the request id. The
 * per-request path does only per-request work: routes are compiled at deploy time.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Dispatcher, InvocationRecord } from '../dispatch/index.ts';
import { OutpostError } from '../errors.ts';
import type { Limits } from '../project/spec.ts';
import { outcomeOf } from '../observe/telemetry.ts';
import type { Outcome } from '../observe/telemetry.ts';
import type { HttpSink, InvocationError } from '../runtime/instance.ts';
import { requestMeta } from './geo.ts';
import type { GeoPolicy } from './geo.ts';
import { httpSink, policySink } from './http-sink.ts';
import { runPolicies } from '../traffic/policy.ts';
import type { PolicyOutcome, RoutePolicy } from '../traffic/policy.ts';
import { RouteTable } from './routes.ts';
import { formatTraceparent, handlerContext, startTrace } from '../observe/tracing.ts';
import type { GatewayTrace, TraceSampler } from '../observe/tracing.ts';

export { RouteTable } from './routes.ts';
export type { RouteMatch } from './routes.ts';
export type { GeoPolicy } from './geo.ts';
export { requestMeta } from './geo.ts';

/** What a route points at: a deployed version and the limits the gateway applies. */
export interface RouteTarget {
  functionName: string;
  versionKey: string;
  version: number;
  limits: Limits;
  /** Where ctx.passThroughOnException() forwards a failed request, if anywhere. */
  origin?: string;
  /** Project root on this machine (dev), to show stack frames relative to it. */
  sourceRoot?: string;
  /** Route policies (auth, CORS, cache, rate limits), run in order before dispatch. */
  policies?: readonly RoutePolicy[];
}

export interface AccessRecord {
  /** Arrival, epoch ms. */
  time: number;
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  outcome: Outcome;
  error?: InvocationError | OutpostError;
  invocation?: InvocationRecord;
  target?: RouteTarget;
  /** A/B assignments route policies made (experiment → variant). */
  experiments?: Record<string, string>;
  /** Bytes read from / written to the connection for this request, headers included. */
  bytesIn: number;
  bytesOut: number;
  /** Set when the request was traced: its ids and when dispatch began and ended. */
  trace?: GatewayTrace;
}

export interface GatewayOptions {
  dispatcher: Dispatcher;
  routes(): RouteTable<RouteTarget>;
  geo: GeoPolicy;
  dev: boolean;
  /** Handles `/_outpost/…` (control API, health); returns false when it did not. */
  control(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<boolean>;
  /** Handlers that run before routing (capabilities' dev endpoints); undefined when there are none. */
  preRoute(): ((req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean>) | undefined;
  access(record: AccessRecord): void;
  /** While some telemetry sink takes spans, the sampler of new traces: requests are then traced (W3C traceparent in and out). */
  tracing?(): TraceSampler | undefined;
  /** Rewrites a function's error stack for people (source-mapped, node paths removed); default tidyStack. */
  mapStack?(stack: string | undefined, target: RouteTarget): string | undefined;
}

/** Bodies up to this size are read before dispatch and sent in one message. */
const INLINE_BODY_BYTES = 64 * 1024;

export function sendError(res: ServerResponse, requestId: string, error: OutpostError, extra: Record<string, unknown> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { ...error.toJSON().error, requestId, ...extra } });
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    'x-outpost-error': error.code,
    // A throttled caller is told when to come back (THROTTLED carries retryAfterSeconds).
    ...(error.status === 429 && typeof error.details?.['retryAfterSeconds'] === 'number' ? { 'retry-after': String(error.details['retryAfterSeconds']) } : {}),
  });
  res.end(body);
}

function readSmallBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.byteLength;
      if (size > limit) {
        reject(new OutpostError('BODY_TOO_LARGE', `request body exceeds ${limit} bytes`, { status: 413, fault: 'user' }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function flatHeaders(raw: string[]): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    out[i] = (raw[i] as string).toLowerCase();
    out[i + 1] = raw[i + 1] as string;
  }
  return out;
}

/** Removes this node's paths from a stack so frames read `src/index.ts:12:5`. */
export function tidyStack(stack: string | undefined, roots: Array<string | undefined>): string | undefined {
  if (!stack) return stack;
  let out = stack;
  for (const root of roots) {
    if (!root) continue;
    const url = `file://${root.endsWith('/') ? root : `${root}/`}`;
    out = out.split(url).join('').split(root.endsWith('/') ? root : `${root}/`).join('');
  }
  return out;
}

/**
 * ctx.passThroughOnException(): the handler threw, so the request goes to the origin as if no
 * function were there. A streamed body was already consumed by the function and cannot be
 * replayed; that case answers 502 with its own code.
 */
async function passThrough(res: ServerResponse, requestId: string, origin: string, method: string, path: string, rawHeaders: string[], body: Uint8Array | null | undefined): Promise<void> {
  if (body === undefined) {
    sendError(res, requestId, new OutpostError('PASSTHROUGH_BODY_CONSUMED', 'the function threw after reading a streamed request body, which cannot be sent to the origin', { status: 502 }));
    return;
  }
  try {
    const headers = new Headers();
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = (rawHeaders[i] as string).toLowerCase();
      if (name !== 'host' && name !== 'connection' && name !== 'content-length') headers.append(name, rawHeaders[i + 1] as string);
    }
    const upstream = await fetch(`${origin}${path}`, { method, headers, redirect: 'manual', ...(body && method !== 'GET' && method !== 'HEAD' ? { body: body as Uint8Array<ArrayBuffer> } : {}) });
    const out: string[] = [];
    upstream.headers.forEach((v, k) => {
      if (k !== 'content-encoding' && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out.push(k, v);
    });
    out.push('x-request-id', requestId);
    const data = new Uint8Array(await upstream.arrayBuffer());
    out.push('content-length', String(data.byteLength));
    res.writeHead(upstream.status, out);
    res.end(data);
  } catch (error) {
    sendError(res, requestId, new OutpostError('ORIGIN_UNREACHABLE', `the origin ${origin} could not be reached: ${(error as Error).message}`, { status: 502 }));
  }
}

/** Socket byte counters at the end of the connection's previous request (keep-alive). */
const socketMarks = new WeakMap<Socket, { read: number; written: number }>();

/** Bytes this request moved on its connection since the previous request on it ended. */
function bytesMoved(socket: Socket): { bytesIn: number; bytesOut: number } {
  const mark = socketMarks.get(socket) ?? { read: 0, written: 0 };
  const now = { read: socket.bytesRead, written: socket.bytesWritten };
  socketMarks.set(socket, now);
  return { bytesIn: now.read - mark.read, bytesOut: now.written - mark.written };
}

/**
 * `sink` with `traceparent` added to the response head. res.setHeader would do it too, but it
 * moves every response onto Node's slower way of writing headers.
 */
function withTraceparent(sink: HttpSink, traceparent: string): HttpSink {
  return {
    pull: () => sink.pull(),
    head(status, headers, body, more) {
      headers.push('traceparent', traceparent);
      sink.head(status, headers, body, more);
    },
    chunk: (data) => sink.chunk(data),
    end: () => sink.end(),
    fail: (error) => sink.fail(error),
  };
}

export function createGateway(options: GatewayOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { dispatcher } = options;
  const mapStack = options.mapStack ?? ((stack: string | undefined, target: RouteTarget) => tidyStack(stack, [target.sourceRoot]));
  return (req, res) => {
    const time = Date.now();
    const started = performance.now();
    const requestId = randomUUID();
    const url = req.url ?? '/';
    void (async () => {
      if (url.startsWith('/_outpost/')) {
        if (await options.control(req, res, requestId)) return;
      }
      const hook = options.preRoute();
      if (hook && (await hook(req, res, requestId))) return;
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const host = req.headers.host ?? 'localhost';
      const method = req.method ?? 'GET';
      const match = options.routes().match(method, host, path);
      const sampler = match ? options.tracing?.() : undefined;
      const trace = sampler ? startTrace(req.headers, sampler) : undefined;
      // Goes out with the function's response (see withTraceparent) and its errors; answers
      // refused before dispatch carry none.
      const traceparent = trace ? formatTraceparent(trace.traceId, trace.spanId, trace.sampled) : undefined;
      let experiments: Record<string, string> | undefined;
      const finish = (status: number, outcome: Outcome, extra: Partial<AccessRecord> = {}): void =>
        options.access({ time, requestId, method, path, status, durationMs: performance.now() - started, outcome, ...bytesMoved(req.socket), ...(trace ? { trace } : {}), ...(experiments ? { experiments } : {}), ...extra });
      if (!match) {
        const error = new OutpostError('ROUTE_NOT_FOUND', `no function is routed at ${method} ${path}`, {
          status: 404,
          fault: 'user',
          hint: 'check the routes in your project config (outpost ls shows what is deployed)',
        });
        sendError(res, requestId, error);
        finish(404, 'no-route', { error });
        return;
      }
      let target = match.target;
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > target.limits.requestBodyBytes) {
        const error = new OutpostError('BODY_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${target.limits.requestBodyBytes}`, { status: 413, fault: 'user' });
        sendError(res, requestId, error);
        finish(413, 'rejected', { error, target });
        req.resume();
        return;
      }
      const meta = requestMeta(req.headers, req.socket.remoteAddress ?? '127.0.0.1', options.geo);
      let policy: PolicyOutcome | undefined;
      if (target.policies && target.policies.length > 0) {
        try {
          policy = await runPolicies(target.policies, { requestId, method, host, path, search: q === -1 ? '' : url.slice(q), headers: req.headers, ip: meta.ip, functionName: target.functionName });
        } catch (error) {
          const e = error instanceof OutpostError ? error : new OutpostError('POLICY_FAILED', `a route policy failed: ${(error as Error).message}`, { status: 500 });
          sendError(res, requestId, e);
          finish(e.status, 'error', { error: e, target });
          req.resume();
          return;
        }
        // A version split or override chose another version of the function.
        if (policy.pass.version) target = { ...target, versionKey: policy.pass.version.key, version: policy.pass.version.version };
        experiments = policy.pass.experiments;
        // Workers also read their A/B variants from request.cf (`cf["experiment.<name>"]`).
        for (const [name, variant] of Object.entries(experiments ?? {})) meta.cf[`experiment.${name}`] = variant;
        if (policy.reply) {
          const { status, headers = {}, body } = policy.reply;
          const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
          // Headers earlier policies added (CORS) belong on a policy's answer too: a 429 or a cached response.
          res.writeHead(status, { ...Object.fromEntries(policy.pass.responseHeaders), ...headers, 'x-request-id': requestId, 'content-length': String(bytes?.byteLength ?? 0) });
          res.end(bytes);
          finish(status, policy.reply.outcome ?? (status >= 400 ? 'rejected' : 'ok'), { target });
          req.resume();
          return;
        }
      }
      const hasBody = req.headers['transfer-encoding'] !== undefined || declared > 0;
      let body: 'none' | 'inline' | 'stream' = 'none';
      let bytes: Uint8Array | undefined;
      try {
        if (hasBody && declared <= INLINE_BODY_BYTES) {
          bytes = await readSmallBody(req, Math.min(INLINE_BODY_BYTES, target.limits.requestBodyBytes));
          body = 'inline';
        } else if (hasBody) body = 'stream';
      } catch (error) {
        const e = error instanceof OutpostError ? error : new OutpostError('BAD_REQUEST', (error as Error).message, { status: 400, fault: 'user' });
        sendError(res, requestId, e);
        finish(e.status, 'rejected', { error: e, target });
        return;
      }
      const fullUrl = `http://${host}${match.path}${q === -1 ? '' : url.slice(q)}`;
      let failure: InvocationError | undefined;
      const direct = httpSink(req, res, {
        requestId,
        bodyLimit: target.limits.requestBodyBytes,
        onError: (error) => {
          failure = error;
          if (traceparent) res.setHeader('traceparent', traceparent);
          if (error.passThrough && target.origin) {
            void passThrough(res, requestId, target.origin, method, `${match.path}${q === -1 ? '' : url.slice(q)}`, req.rawHeaders, body === 'stream' ? undefined : (bytes ?? null));
            return;
          }
          const extra = options.dev && error.userError?.stack ? { stack: mapStack(error.userError.stack, target) } : {};
          if (error.code === 'FUNCTION_THREW') {
            const shown = new OutpostError('FUNCTION_THREW', options.dev ? `${error.userError?.name ?? 'Error'}: ${error.message}` : 'the function threw an uncaught exception', { status: 500 });
            sendError(res, requestId, shown, extra);
          } else sendError(res, requestId, error, extra);
        },
      });
      const withPolicies = policy ? policySink(direct, policy.pass.responseHeaders, policy.pass.observers) : direct;
      const sink = traceparent ? withTraceparent(withPolicies, traceparent) : withPolicies;
      const headers = flatHeaders(req.rawHeaders);
      if (policy) for (const [name, value] of policy.pass.requestHeaders) headers.push(name, value);
      try {
        if (trace) trace.dispatchFrom = performance.now() - started;
        const { ref, record } = await dispatcher.http(
          target.versionKey,
          {
            requestId,
            method,
            url: fullUrl,
            headers,
            body,
            ...(bytes ? { bytes } : {}),
            meta,
            event: match.event,
            params: match.params,
            ...(policy?.pass.authorizer ? { authorizer: policy.pass.authorizer } : {}),
            ...(trace ? { trace: handlerContext(trace) } : {}),
          },
          sink,
        );
        if (trace) trace.dispatchTo = performance.now() - started;
        res.on('close', () => {
          if (!res.writableFinished) dispatcher.abort(ref, 'the client closed the connection');
        });
        const invocation = await record;
        const outcome = failure ? outcomeOf(failure.code) : 'ok';
        finish(failure ? failure.status : res.statusCode, outcome, { invocation, target, ...(failure ? { error: failure } : {}) });
      } catch (error) {
        const e = error instanceof OutpostError ? error : new OutpostError('DISPATCH_FAILED', (error as Error).message, { status: 503 });
        if (traceparent) res.setHeader('traceparent', traceparent);
        sendError(res, requestId, e, options.dev && (e as InvocationError).userError?.stack ? { stack: mapStack((e as InvocationError).userError?.stack, target) } : {});
        finish(e.status, outcomeOf(e.code), { error: e, target });
      }
    })();
  };
}
