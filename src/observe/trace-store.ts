/**
 * @module
 * The node's recent traces, kept in memory for the trace API and `outpost traces`, looked up
 * by trace id or by the request id of any invocation in them.
 *
 * Decisions: what arrives is kept as fragments in a ring, oldest overwritten first — one per
 * traced HTTP invocation (the timing object the gateway reported, turned into spans only when
 * its trace is read, then kept as spans so ids stay stable) and one per batch of spans an
 * instance reported. Storing a request is then one slot write: no index is updated on the
 * request path, because reads are rare and a scan of the ring (a few thousand entries) is
 * cheap next to a map insert and delete on every request. A trace is every fragment with its
 * id; its summary (request id, function, start, duration, status) is its earliest invocation on
 * this node — the entry, even when a service it called reported first. A read returns at most
 * `maxSpansPerTrace` spans (500). Nothing is persisted: traces that must outlive the node are
 * exported over OTLP.
 */
import type { HttpTiming, SpanRecord, TelemetrySink } from './telemetry.ts';
import { failed, invocationSpans } from './tracing.ts';

export interface TraceSummary {
  traceId: string;
  requestId: string;
  function: string;
  start: number;
  durationMs: number;
  status: 'ok' | 'error';
}

interface Fragment {
  traceId: string;
  /** An HTTP invocation not yet turned into spans. */
  timing: HttpTiming | undefined;
  /** Its entry invocation, kept after the timing became spans (for summaries). */
  entry: HttpTiming | undefined;
  spans: readonly SpanRecord[] | undefined;
}

export class TraceStore implements TelemetrySink {
  readonly #maxSpans: number;
  readonly #ring: Array<Fragment | undefined>;
  #next = 0;

  constructor(options: { maxFragments?: number; maxSpansPerTrace?: number } = {}) {
    this.#maxSpans = options.maxSpansPerTrace ?? 500;
    this.#ring = new Array<Fragment | undefined>(options.maxFragments ?? 4000).fill(undefined);
  }

  #keep(fragment: Fragment): void {
    this.#ring[this.#next] = fragment;
    this.#next = (this.#next + 1) % this.#ring.length;
  }

  trace(timing: HttpTiming): void {
    this.#keep({ traceId: timing.traceId, timing, entry: timing, spans: undefined });
  }

  spans(spans: readonly SpanRecord[]): void {
    // Spans arrive a trace at a time (an instance's batch, a workflow's states).
    const first = spans[0];
    if (first) this.#keep({ traceId: first.traceId, timing: undefined, entry: undefined, spans });
  }

  /** Fragments newest first. */
  *#newest(): Generator<Fragment> {
    const n = this.#ring.length;
    for (let k = 1; k <= n; k++) {
      const f = this.#ring[(this.#next - k + n) % n];
      if (f) yield f;
    }
  }

  /** The trace id of a trace id, or of the invocation with this request id (or workflow ARN). */
  #traceIdOf(id: string): string | undefined {
    const lower = id.toLowerCase();
    for (const f of this.#newest()) {
      if (f.traceId === lower || f.entry?.requestId === id || f.spans?.some((s) => s.attributes['outpost.request_id'] === id)) return f.traceId;
    }
    return undefined;
  }

  /** A trace by its id or the request id of one of its invocations, spans in start order. */
  get(id: string): { traceId: string; spans: SpanRecord[] } | undefined {
    const traceId = this.#traceIdOf(id);
    if (traceId === undefined) return undefined;
    const spans: SpanRecord[] = [];
    for (const f of this.#newest()) {
      if (f.traceId !== traceId) continue;
      if (f.timing) {
        f.spans = invocationSpans(f.timing);
        f.timing = undefined;
      }
      for (const s of f.spans ?? []) spans.push(s);
    }
    return { traceId, spans: spans.sort((a, b) => a.start - b.start).slice(0, this.#maxSpans) };
  }

  /** Recent traces by their newest activity, newest first, optionally of one function. */
  recent(options: { function?: string; limit: number }): TraceSummary[] {
    const entries = new Map<string, HttpTiming>();
    const order: string[] = [];
    for (const f of this.#newest()) {
      const e = f.entry;
      if (!e) continue;
      const known = entries.get(f.traceId);
      if (!known) order.push(f.traceId);
      if (!known || e.start < known.start) entries.set(f.traceId, e);
    }
    const out: TraceSummary[] = [];
    for (const traceId of order) {
      const e = entries.get(traceId);
      if (!e || (options.function !== undefined && e.function !== options.function)) continue;
      out.push({ traceId, requestId: e.requestId, function: e.function ?? '', start: e.start, durationMs: e.durationMs, status: failed(e) ? 'error' : 'ok' });
      if (out.length === options.limit) break;
    }
    return out;
  }
}
