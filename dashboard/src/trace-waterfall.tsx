/**
 * @module
 * One request's trace as a waterfall: spans in start order, indented under their parent, each
 * a bar placed on the trace's own time axis. Errors are red and say so in text too (colour is
 * never the only signal).
 */
import { useEffect, useRef } from 'preact/hooks';
import { optionalApi } from './api.ts';
import { duration } from './format.ts';
import { Empty, Show } from './status.tsx';
import type { Span, Trace } from './types.ts';
import { useLoad } from './use-load.ts';

function depthOf(span: Span, byId: Map<string, Span>): number {
  let depth = 0;
  for (let p = span.parentSpanId; p !== undefined && depth < 32; p = byId.get(p)?.parentSpanId) {
    if (!byId.has(p)) break;
    depth++;
  }
  return depth;
}

function failed(span: Span): boolean {
  const s = span.status;
  const code = typeof s === 'object' ? s.code : s;
  return code === 2 || code === 'ERROR' || code === 'error';
}

export function TraceWaterfall({ requestId, onClose }: { requestId: string; onClose: () => void }) {
  const trace = useLoad((signal) => optionalApi<Trace>(`/traces/${encodeURIComponent(requestId)}`, { signal }), [requestId]);
  // Opened from a log line further down: bring it into view and move keyboard focus to it.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.scrollIntoView({ block: 'nearest' });
    heading.current?.focus();
  }, [requestId]);
  return (
    <section class="trace" aria-labelledby="trace-title">
      <div class="section-head">
        <h2 id="trace-title" ref={heading} tabIndex={-1}>
          Trace of <code>{requestId}</code>
        </h2>
        <button type="button" onClick={onClose}>
          Close trace
        </button>
      </div>
      <Show loaded={trace}>
        {(t) => {
          if (!t || t.spans.length === 0) return <Empty>No trace recorded for this request (yet).</Empty>;
          const spans = [...t.spans].sort((a, b) => a.start - b.start);
          const byId = new Map(spans.map((s) => [s.spanId, s]));
          const start = Math.min(...spans.map((s) => s.start));
          const total = Math.max(1e-6, Math.max(...spans.map((s) => s.end)) - start);
          return (
            <ol class="waterfall" aria-label={`${spans.length} spans`}>
              {spans.map((s) => (
                <li key={s.spanId} class={failed(s) ? 'error' : undefined} style={{ '--depth': depthOf(s, byId) }}>
                  <span class="span-name">
                    {s.name}
                    {failed(s) && <strong> (error)</strong>}
                  </span>
                  <span class="bar-track">
                    <span class="bar" style={{ left: `${((s.start - start) / total) * 100}%`, width: `${Math.max(0.5, ((s.end - s.start) / total) * 100)}%` }} />
                  </span>
                  <span class="span-time">{duration(s.end - s.start)}</span>
                </li>
              ))}
            </ol>
          );
        }}
      </Show>
    </section>
  );
}
