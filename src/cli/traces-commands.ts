/**
 * @module
 * `outpost traces [<requestId|traceId>]`: without an id, the node's recent traces; with one,
 * that trace as a text waterfall — one line per span, indented under its parent, with a bar
 * placed on the trace's time line. Reads the trace API served by src/observe/metrics-service.ts.
 */
import type { Values } from './commands.ts';
import { EXIT, UsageError } from './output.ts';
import { api, clientFrom, printResult } from './client.ts';

interface Span {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  start: number;
  end: number;
  attributes: Record<string, unknown>;
  status: 'ok' | 'error';
}

interface TraceSummary {
  traceId: string;
  requestId: string;
  function: string;
  start: number;
  durationMs: number;
  status: string;
}

const BAR_WIDTH = 40;

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(value < 10 ? 2 : 1)}ms`;
}

/** The waterfall of a trace: children under their parent in start order, bars on one time line. */
export function waterfall(traceId: string, spans: readonly Span[]): string {
  if (spans.length === 0) return `trace ${traceId}: no spans`;
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, Span[]>();
  for (const s of spans) {
    // Spans whose parent is elsewhere (the caller's service) are roots here.
    const parent = s.parentSpanId !== undefined && ids.has(s.parentSpanId) ? s.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const t0 = Math.min(...spans.map((s) => s.start));
  const total = Math.max(1e-3, Math.max(...spans.map((s) => s.end)) - t0);
  const rows: Array<{ label: string; span: Span }> = [];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const s of [...(children.get(parent) ?? [])].sort((a, b) => a.start - b.start)) {
      rows.push({ label: `${'  '.repeat(depth)}${s.name}`, span: s });
      walk(s.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  const width = Math.min(60, Math.max(...rows.map((r) => r.label.length)));
  const lines = [`trace ${traceId}  ${ms(total)}  ${spans.length} spans`];
  for (const { label, span } of rows) {
    const from = Math.floor(((span.start - t0) / total) * BAR_WIDTH);
    const length = Math.max(1, Math.round(((span.end - span.start) / total) * BAR_WIDTH));
    const bar = `${' '.repeat(from)}${'█'.repeat(Math.min(length, BAR_WIDTH - from))}`.padEnd(BAR_WIDTH);
    lines.push(`${label.slice(0, width).padEnd(width)}  |${bar}|  ${ms(span.end - span.start).padStart(8)}  +${ms(span.start - t0)}${span.status === 'error' ? '  ERROR' : ''}`);
  }
  return lines.join('\n');
}

export async function traces(values: Values, positionals: string[]): Promise<number> {
  const c = clientFrom(values);
  const [id] = positionals;
  if (id === undefined) {
    const limit = values['limit'] === undefined ? 20 : Number(values['limit']);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
    const fn = typeof values['function'] === 'string' ? values['function'] : undefined;
    const query = new URLSearchParams({ limit: String(limit), ...(fn ? { function: fn } : {}) });
    const result = await api<{ traces: TraceSummary[] }>(c, 'GET', `traces?${query}`);
    const human = result.traces.length === 0
      ? 'no traces yet'
      : result.traces.map((t) => `${new Date(t.start).toISOString()}  ${t.function.padEnd(20)}  ${ms(t.durationMs).padStart(9)}  ${t.status.padEnd(5)}  ${t.requestId}  ${t.traceId}`).join('\n');
    printResult(values, result, human);
    return EXIT.ok;
  }
  const trace = await api<{ traceId: string; spans: Span[] }>(c, 'GET', `traces/${encodeURIComponent(id)}`);
  printResult(values, trace, waterfall(trace.traceId, trace.spans));
  return EXIT.ok;
}
