/**
 * @module
 * The one stream of what functions do on a node: a record per invocation, whatever triggered
 * it, and every console line a function prints. The gateway, event services and dispatch
 * report here; sinks (the terminal logger, the log store, metrics, usage, traces) subscribe.
 * A record is built only when some sink wants records.
 */
import type { LogLevel } from '../runtime/protocol.ts';

export type Trigger = 'http' | 'cron' | 'queue' | 'object' | 'kv' | 'd1' | 'async' | 'workflow' | 'invoke' | 'service';

/**
 * How an invocation ended. `rejected` and `no-route` never reached a function (bad request,
 * unknown path); `throttled` was refused by a concurrency or rate limit.
 */
export type Outcome = 'ok' | 'error' | 'exceeded-cpu' | 'exceeded-memory' | 'timeout' | 'startup-exceeded' | 'throttled' | 'rejected' | 'no-route';

export interface InvocationEvent {
  /** Start of the invocation, epoch ms. */
  time: number;
  requestId: string;
  traceId?: string;
  function?: string;
  version?: number;
  trigger: Trigger;
  method?: string;
  path?: string;
  status: number;
  outcome: Outcome;
  durationMs: number;
  cpuMs?: number;
  coldStart?: boolean;
  /** Time spent starting the instance, when coldStart. */
  startMs?: number;
  /** The function's configured memory (limits.memory_mb), for GB-seconds. */
  memoryMb?: number;
  error?: { code: string; message: string; stack?: string };
  /** A/B experiments this request took part in: experiment name → variant (traffic/experiments.ts). */
  experiments?: Record<string, string>;
  /** `info` when the outcome is ok, `error` otherwise. */
  level: 'info' | 'error';
  /** The duration rounded up to the next whole millisecond (what per-ms billing charges). */
  billedDurationMs: number;
  /**
   * The instance's V8 heap in use plus external memory (ArrayBuffers), sampled when the
   * invocation ended (a sample under 50 ms old is reused); MB.
   */
  maxMemoryMB?: number;
  /** Bytes received: the HTTP request as read from the socket (headers included), or the event's JSON. */
  bytesIn?: number;
  /** Bytes sent: the HTTP response as written to the socket (headers included), or the result's JSON. */
  bytesOut?: number;
}

/** The fields every invocation record derives from its outcome and duration. */
export function derivedFields(outcome: Outcome, durationMs: number): Pick<InvocationEvent, 'level' | 'billedDurationMs'> {
  return { level: outcome === 'ok' ? 'info' : 'error', billedDurationMs: Math.max(1, Math.ceil(durationMs)) };
}

export interface ConsoleLine {
  time: number;
  function: string;
  version: number;
  requestId: string | undefined;
  level: LogLevel;
  /** Already redacted of the function's secrets. */
  message: string;
}

/** One timed step of a trace (W3C ids as lower-case hex), as the trace store and exporters take it. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'server' | 'client' | 'internal';
  /** Epoch ms (fractional). */
  start: number;
  end: number;
  attributes: Record<string, string | number | boolean>;
  status: 'ok' | 'error';
}

/**
 * What the gateway measured about one traced HTTP invocation, from which its gateway, dispatch,
 * cold start and handler spans are built; dispatch offsets are ms after `start`.
 */
export interface HttpTiming {
  traceId: string;
  /** The caller's span, from its traceparent. */
  parentSpanId?: string;
  /** The gateway's server span (sent back in `traceparent`). */
  spanId: string;
  /** The handler span (parent of the function's subrequests and binding calls). */
  handlerSpanId: string;
  requestId: string;
  function?: string;
  version?: number;
  method: string;
  path: string;
  status: number;
  outcome: Outcome;
  /** Epoch ms the request arrived. */
  start: number;
  durationMs: number;
  /** Dispatch began and ended (the invocation was handed to an instance); absent when never dispatched. */
  dispatch?: { from: number; to: number; coldStartMs?: number };
  errorCode?: string;
}

/** Storage operations counted for metrics: KV bindings and the S3 API / R2 bindings. */
export type StorageKind = 'kv' | 's3';

export interface TelemetrySink {
  invocation?(event: InvocationEvent): void;
  console?(line: ConsoleLine): void;
  /** Finished spans of one trace, in any order; a trace may arrive in several calls. */
  spans?(spans: readonly SpanRecord[]): void;
  /** A traced HTTP invocation, as timings; a sink that takes spans must take these too. */
  trace?(timing: HttpTiming): void;
  operation?(kind: StorageKind, op: string): void;
}

/** Maps a limit or failure code to the outcome it stands for. */
export function outcomeOf(code: string | undefined): Outcome {
  switch (code) {
    case undefined:
      return 'ok';
    case 'EXCEEDED_CPU':
      return 'exceeded-cpu';
    case 'EXCEEDED_MEMORY':
      return 'exceeded-memory';
    case 'TIMEOUT':
      return 'timeout';
    case 'STARTUP_EXCEEDED':
      return 'startup-exceeded';
    case 'THROTTLED':
      return 'throttled';
    default:
      return 'error';
  }
}

export class Telemetry {
  readonly #invocationSinks = new Set<TelemetrySink>();
  readonly #consoleSinks = new Set<TelemetrySink>();
  readonly #spanSinks = new Set<TelemetrySink>();
  readonly #operationSinks = new Set<TelemetrySink>();
  readonly #enabled: boolean;

  /** `enabled: false` (`--telemetry off`) takes no sinks, so the hot path builds nothing. */
  constructor(options: { enabled?: boolean } = {}) {
    this.#enabled = options.enabled ?? true;
  }

  /** Subscribes a sink; returns the unsubscribe function. */
  add(sink: TelemetrySink): () => void {
    if (!this.#enabled) return () => undefined;
    if (sink.invocation) this.#invocationSinks.add(sink);
    if (sink.console) this.#consoleSinks.add(sink);
    if (sink.spans || sink.trace) this.#spanSinks.add(sink);
    if (sink.operation) this.#operationSinks.add(sink);
    return () => {
      this.#invocationSinks.delete(sink);
      this.#consoleSinks.delete(sink);
      this.#spanSinks.delete(sink);
      this.#operationSinks.delete(sink);
    };
  }

  /** False when no sink takes spans: the gateway then neither reads nor sends traceparent. */
  get wantsSpans(): boolean {
    return this.#spanSinks.size > 0;
  }

  spans(spans: readonly SpanRecord[]): void {
    for (const sink of this.#spanSinks) sink.spans?.(spans);
  }

  trace(timing: HttpTiming): void {
    for (const sink of this.#spanSinks) sink.trace?.(timing);
  }

  operation(kind: StorageKind, op: string): void {
    for (const sink of this.#operationSinks) sink.operation?.(kind, op);
  }

  /** False when no sink takes invocation records: callers skip building them. */
  get wantsInvocations(): boolean {
    return this.#invocationSinks.size > 0;
  }

  invocation(event: InvocationEvent): void {
    for (const sink of this.#invocationSinks) sink.invocation?.(event);
  }

  console(line: ConsoleLine): void {
    for (const sink of this.#consoleSinks) sink.console?.(line);
  }
}
