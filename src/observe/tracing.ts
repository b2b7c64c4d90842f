/**
 * @module
 * Traces: W3C trace context (`traceparent`/`tracestate`) in and out, the spans of one HTTP
 * invocation built from the timings the gateway measured, and OTLP/HTTP export of finished
 * spans with OpenTelemetry's exporter.
 *
 * Decisions: the request path keeps only numbers and ids. A new trace's ids (trace id, the
 * gateway's span, the handler's span) come from one draw of a pool of random bytes refilled
 * 16 KB at a time, not a crypto call per id. An HTTP invocation reaches the sinks as one
 * {@link HttpTiming} after the response went out, and span objects are built from it
 * ({@link invocationSpans}) only by a sink that needs them: the OTLP exporter at once, the
 * trace store when the trace is read. Every request gets trace context (propagated, returned
 * in `traceparent`); which traces are recorded is sampled ({@link TraceSampler}, parent-based
 * for requests that carry a `traceparent`), and failed requests and cold starts are kept
 * whatever the sampler said. `--telemetry off` switches tracing off. Spans reach OpenTelemetry
 * only at export, as `ReadableSpan`s, batched once a second.
 */
import { createHash, randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { AccessRecord } from '../gateway/index.ts';
import type { TraceContext } from '../runtime/protocol.ts';
import { TERMINAL_EVENT_TYPES } from '../workflows/history.ts';
import type { HistoryEvent } from '../workflows/history.ts';
import type { ExecutionRecord } from '../workflows/records.ts';
import type { HttpTiming, Outcome, SpanRecord, Telemetry, TelemetrySink } from './telemetry.ts';

const pool = Buffer.allocUnsafe(16 * 1024);
let poolAt = pool.length;

/** `bytes` random bytes as lower-case hex. */
function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return hex;
}

const ZERO_SPAN = '0000000000000000';
const ZERO_TRACE = ZERO_SPAN + ZERO_SPAN;

/** A random 8-byte span id as 16 lower-case hex characters (never all zeros). */
export function newSpanId(): string {
  const id = randomHex(8);
  return id === ZERO_SPAN ? newSpanId() : id;
}

/** Ids for a request's trace: the trace id (unless the caller gave one) and two span ids, from one draw. */
function newIds(withTraceId: boolean): { traceId: string; spanId: string; handlerSpanId: string } {
  const hex = randomHex(withTraceId ? 32 : 16);
  const at = withTraceId ? 32 : 0;
  const ids = { traceId: withTraceId ? hex.slice(0, 32) : '', spanId: hex.slice(at, at + 16), handlerSpanId: hex.slice(at + 16, at + 32) };
  return ids.traceId === ZERO_TRACE || ids.spanId === ZERO_SPAN || ids.handlerSpanId === ZERO_SPAN ? newIds(withTraceId) : ids;
}

export interface TraceParent {
  traceId: string;
  parentSpanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/**
 * Reads a W3C `traceparent` header; undefined when it is absent or invalid (version ff,
 * all-zero ids, wrong lengths), in which case the request starts a new trace as the spec says.
 */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (header === undefined) return undefined;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, parentSpanId, flags] = m as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && header.trim().length !== 55)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentSpanId)) return undefined;
  return { traceId, parentSpanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(traceId: string, spanId: string, sampled = true): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/**
 * Decides which new traces are recorded: at most `perSecond` a second (a token bucket that
 * holds one second's worth), so a quiet node records every request and a busy one a steady
 * trickle. Keeping every request of a busy node cost more in garbage collection (each kept
 * trace outlives the young generation) than everything else tracing does.
 */
export class TraceSampler {
  readonly #perSecond: number;
  #tokens: number;
  #at: number;
  readonly #now: () => number;

  constructor(perSecond: number, now: () => number = Date.now) {
    this.#perSecond = perSecond;
    this.#tokens = perSecond;
    this.#now = now;
    this.#at = now();
  }

  /** True when a new trace may be recorded now. */
  take(): boolean {
    const now = this.#now();
    if (now > this.#at) {
      this.#tokens = Math.min(this.#perSecond, this.#tokens + ((now - this.#at) * this.#perSecond) / 1000);
      this.#at = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** The trace of one request at the gateway; dispatch offsets are ms after arrival. */
export interface GatewayTrace {
  traceId: string;
  /** Recorded (spans kept and exported); an unsampled trace is still propagated, with flags 00. */
  sampled: boolean;
  /** The caller's span, from its traceparent. */
  parentSpanId?: string;
  tracestate?: string;
  /** The gateway's server span (sent back in `traceparent`). */
  spanId: string;
  /** The handler span (parent of the function's subrequests and binding calls). */
  handlerSpanId: string;
  dispatchFrom?: number;
  dispatchTo?: number;
}

/**
 * Joins the caller's trace (W3C `traceparent`/`tracestate`), recorded when the caller's was
 * (parent-based sampling), or starts one named after the request, recorded when `sampler`
 * allows.
 */
export function startTrace(headers: IncomingHttpHeaders, sampler: TraceSampler): GatewayTrace {
  const header = headers['traceparent'];
  const parent = typeof header === 'string' ? parseTraceparent(header) : undefined;
  const ids = newIds(parent === undefined);
  // Optional fields are set after the literal: spreads would allocate on every request.
  const trace: GatewayTrace = { traceId: parent ? parent.traceId : ids.traceId, sampled: parent ? parent.sampled : sampler.take(), spanId: ids.spanId, handlerSpanId: ids.handlerSpanId };
  if (parent) {
    trace.parentSpanId = parent.parentSpanId;
    const state = headers['tracestate'];
    if (typeof state === 'string' && state !== '') trace.tracestate = state;
  }
  return trace;
}

/**
 * The trace of a service-binding call, from the `traceparent` the caller's instance added to
 * the request's flat headers; undefined when the caller was not traced.
 */
export function serviceTrace(headers: readonly string[]): GatewayTrace | undefined {
  let header: string | undefined;
  let state: string | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i] === 'traceparent') header = headers[i + 1];
    else if (headers[i] === 'tracestate') state = headers[i + 1];
  }
  const parent = parseTraceparent(header);
  if (!parent) return undefined;
  return { traceId: parent.traceId, sampled: parent.sampled, parentSpanId: parent.parentSpanId, ...(state ? { tracestate: state } : {}), spanId: newSpanId(), handlerSpanId: newSpanId() };
}

/** What an instance is told about its invocation's trace: the handler span is its parent. */
export function handlerContext(trace: GatewayTrace): TraceContext {
  const context: TraceContext = { traceId: trace.traceId, spanId: trace.handlerSpanId, sampled: trace.sampled };
  if (trace.tracestate !== undefined) context.tracestate = trace.tracestate;
  return context;
}

const FAILED: ReadonlySet<Outcome> = new Set(['error', 'exceeded-cpu', 'exceeded-memory', 'timeout', 'startup-exceeded']);

/** An invocation failed when the function did (threw, hit a limit) or answered 5xx. */
export function failed(t: HttpTiming): boolean {
  return FAILED.has(t.outcome) || t.status >= 500;
}

/** The gateway, dispatch, cold start and handler spans of one HTTP invocation. */
export function invocationSpans(t: HttpTiming): SpanRecord[] {
  const status = failed(t) ? 'error' : 'ok';
  const end = t.start + t.durationMs;
  const attributes: SpanRecord['attributes'] = {
    'http.request.method': t.method,
    'url.path': t.path,
    'http.response.status_code': t.status,
    'outpost.request_id': t.requestId,
    'outpost.outcome': t.outcome,
  };
  if (t.function !== undefined) attributes['faas.name'] = t.function;
  if (t.version !== undefined) attributes['faas.version'] = String(t.version);
  if (t.errorCode !== undefined) attributes['error.type'] = t.errorCode;
  const gateway: SpanRecord = {
    traceId: t.traceId,
    spanId: t.spanId,
    ...(t.parentSpanId ? { parentSpanId: t.parentSpanId } : {}),
    name: `${t.method} ${t.path}`,
    kind: 'server',
    start: t.start,
    end,
    attributes,
    status,
  };
  const spans = [gateway];
  const d = t.dispatch;
  if (!d) return spans;
  const dispatchId = newSpanId();
  const fn = t.function ?? '';
  spans.push({ traceId: t.traceId, spanId: dispatchId, parentSpanId: t.spanId, name: 'dispatch', kind: 'internal', start: t.start + d.from, end: t.start + d.to, attributes: { 'faas.name': fn, 'faas.coldstart': d.coldStartMs !== undefined }, status: 'ok' });
  if (d.coldStartMs !== undefined) {
    spans.push({ traceId: t.traceId, spanId: newSpanId(), parentSpanId: dispatchId, name: 'cold start', kind: 'internal', start: t.start + d.from, end: t.start + d.from + d.coldStartMs, attributes: { 'faas.name': fn }, status: 'ok' });
  }
  spans.push({ traceId: t.traceId, spanId: t.handlerSpanId, parentSpanId: t.spanId, name: `handler ${fn}`, kind: 'internal', start: t.start + d.to, end, attributes: { 'faas.name': fn, 'faas.trigger': 'http' }, status });
  return spans;
}

/**
 * Whether a finished request's trace is kept: when it was sampled, and also — after the fact,
 * without its function's own spans — when it failed or started an instance, the requests
 * worth looking at.
 */
export function keepTrace(r: AccessRecord, t: GatewayTrace): boolean {
  return t.sampled || r.outcome !== 'ok' || r.status >= 500 || r.invocation?.coldStart === true;
}

/** The timing of an HTTP request the gateway traced, for {@link Telemetry.trace}. */
export function accessTiming(r: AccessRecord, t: GatewayTrace): HttpTiming {
  const timing: HttpTiming = { traceId: t.traceId, spanId: t.spanId, handlerSpanId: t.handlerSpanId, requestId: r.requestId, method: r.method, path: r.path, status: r.status, outcome: r.outcome, start: r.time, durationMs: r.durationMs };
  if (t.parentSpanId !== undefined) timing.parentSpanId = t.parentSpanId;
  if (r.target) {
    timing.function = r.target.functionName;
    timing.version = r.target.version;
  }
  if (t.dispatchFrom !== undefined && t.dispatchTo !== undefined) {
    timing.dispatch = { from: t.dispatchFrom, to: t.dispatchTo };
    if (r.invocation?.coldStart) timing.dispatch.coldStartMs = r.invocation.startMs;
  }
  if (r.error) timing.errorCode = r.error.code;
  return timing;
}

/**
 * A span per state of each workflow execution, drawn from its history events as they are
 * stored: `*StateEntered` opens one, `*StateExited` closes it, the execution's end closes what
 * is left open as failed. An execution is one trace; its id is derived from the execution ARN
 * (the first 128 bits of its SHA-256), and every span carries the ARN as
 * `outpost.request_id`, so `GET /_outpost/api/traces/<execution ARN>` finds it. Nothing is
 * kept or computed while no sink takes spans.
 */
export function workflowStateSpans(telemetry: Pick<Telemetry, 'wantsSpans' | 'spans'>): (execution: ExecutionRecord, events: readonly HistoryEvent[]) => void {
  /** Open states per execution ARN: state name → start times (Map/Parallel may run a state at once in several branches). */
  const open = new Map<string, Map<string, number[]>>();
  return (execution, events) => {
    if (!telemetry.wantsSpans) return;
    const traceId = createHash('sha256').update(execution.arn).digest('hex').slice(0, 32);
    const span = (name: string, start: number, end: number, status: SpanRecord['status']): SpanRecord => ({
      traceId,
      spanId: newSpanId(),
      name,
      kind: 'internal',
      start,
      end,
      attributes: { 'outpost.request_id': execution.arn, 'outpost.workflow.state_machine': execution.stateMachine, 'outpost.workflow.state': name },
      status,
    });
    const out: SpanRecord[] = [];
    let states = open.get(execution.arn);
    for (const event of events) {
      const details = (event['stateEnteredEventDetails'] ?? event['stateExitedEventDetails']) as { name?: string } | undefined;
      if (event.type.endsWith('StateEntered') && details?.name !== undefined) {
        if (!states) open.set(execution.arn, (states = new Map()));
        states.set(details.name, [...(states.get(details.name) ?? []), event.timestamp]);
      } else if (event.type.endsWith('StateExited') && details?.name !== undefined) {
        const start = states?.get(details.name)?.shift();
        if (start !== undefined) out.push(span(details.name, start, event.timestamp, 'ok'));
      } else if (TERMINAL_EVENT_TYPES.has(event.type)) {
        for (const [name, starts] of states ?? []) for (const start of starts) out.push(span(name, start, event.timestamp, 'error'));
        open.delete(execution.arn);
        states = undefined;
      }
    }
    if (out.length > 0) telemetry.spans(out);
  };
}

const KIND: Record<SpanRecord['kind'], SpanKind> = { server: SpanKind.SERVER, client: SpanKind.CLIENT, internal: SpanKind.INTERNAL };

/** A finished span in the shape OpenTelemetry's exporters take. */
function readable(s: SpanRecord, resource: ReadableSpan['resource']): ReadableSpan {
  const context = { traceId: s.traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name: s.name,
    kind: KIND[s.kind],
    spanContext: () => context,
    ...(s.parentSpanId ? { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: TraceFlags.SAMPLED } } : {}),
    startTime: millisToHrTime(s.start),
    endTime: millisToHrTime(s.end),
    duration: millisToHrTime(Math.max(0, s.end - s.start)),
    status: { code: s.status === 'error' ? SpanStatusCode.ERROR : SpanStatusCode.OK },
    attributes: s.attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: { name: 'outpost' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/**
 * Sends finished spans to an OTLP/HTTP endpoint (`…/v1/traces`), at most once a second and
 * 512 spans per request. A failed export is reported once per failure streak and dropped.
 */
export class OtlpExport implements TelemetrySink {
  readonly #exporter: OTLPTraceExporter;
  readonly #resource: ReadableSpan['resource'];
  readonly #onError: (message: string) => void;
  #pending: SpanRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #failing = false;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(options: { endpoint: string; serviceName?: string; onError(message: string): void }) {
    const base = options.endpoint.replace(/\/+$/, '');
    this.#exporter = new OTLPTraceExporter({ url: base.endsWith('/v1/traces') ? base : `${base}/v1/traces` });
    this.#resource = resourceFromAttributes({ 'service.name': options.serviceName ?? 'outpost' });
    this.#onError = options.onError;
  }

  trace(timing: HttpTiming): void {
    this.spans(invocationSpans(timing));
  }

  spans(spans: readonly SpanRecord[]): void {
    for (const s of spans) this.#pending.push(s);
    if (this.#pending.length >= 512) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), 1000).unref();
  }

  /** Sends what is pending now; resolves when every export started so far has finished. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0, this.#pending.length);
    if (batch.length > 0) {
      const spans = batch.map((s) => readable(s, this.#resource));
      const sent = new Promise<void>((resolve) =>
        this.#exporter.export(spans, (result) => {
          if (result.error && !this.#failing) this.#onError(`OTLP export failed: ${result.error.message}`);
          this.#failing = result.error !== undefined;
          resolve();
        }),
      );
      this.#inFlight = Promise.all([this.#inFlight, sent]).then(() => undefined);
    }
    return this.#inFlight;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#exporter.shutdown();
  }
}
