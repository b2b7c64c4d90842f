/**
 * @module
 * The metrics and traces capability of a node: it subscribes the Prometheus metrics, the chart
 * series, the trace store and (when configured) the OTLP exporter to the node's telemetry,
 * and serves them:
 *
 *   GET /_outpost/metrics                       Prometheus text (bearer token; loopback in dev)
 *   GET /_outpost/api/metrics/series            ?function=&since=&until=&step= chart points
 *   GET /_outpost/api/traces                    ?function=&limit= recent traces, newest first
 *   GET /_outpost/api/traces/<requestId|traceId> one trace with its spans
 *
 * The OTLP endpoint is OTEL_EXPORTER_OTLP_ENDPOINT (which `--otlp-endpoint` sets). The highest
 * concurrency of each minute is sampled from dispatch once a second, while telemetry is on.
 */
import type { ServerResponse } from 'node:http';
import { unauthorized } from '../control/api.ts';
import { sendJson } from '../control/http.ts';
import { OutpostError } from '../errors.ts';
import { sendError } from '../gateway/index.ts';
import type { GatewayHook, NodeContext, NodeService, RunningService } from '../server/context.ts';
import type { ExecutionRecord } from '../workflows/records.ts';
import { NodeMetrics } from './metrics.ts';
import { SeriesStore } from './series.ts';
import { TraceStore } from './trace-store.ts';
import { OtlpExport } from './tracing.ts';
import { parseTimeParam } from './time-param.ts';

const SERIES_PATH = '/_outpost/api/metrics/series';
const TRACES_PATH = '/_outpost/api/traces';
/** Stored executions of every state machine (records.ts keys them executions/<sm>/<name>). */
const EXECUTIONS_PREFIX = 'executions/';
const MAX_POINTS = 10_000;

function badArgument(message: string): OutpostError {
  return new OutpostError('INVALID_ARGUMENT', message, { status: 400, fault: 'user' });
}

/** An ISO time or a duration before now (`90s`, `15m`, `1h`, `2d`) as epoch ms. */
function parseTime(value: string, now: number, name: string): number {
  const t = parseTimeParam(value, now);
  if (t === undefined) throw badArgument(`${name}=${value} is neither an ISO time nor a duration such as 1h, 30m or 2d`);
  return t;
}

function seriesRoute(series: SeriesStore): GatewayHook {
  return async (req, res, requestId) => {
    const url = new URL(req.url ?? '/', 'http://node');
    if (url.pathname !== SERIES_PATH || req.method !== 'GET') return false;
    const now = Date.now();
    const p = url.searchParams;
    const since = parseTime(p.get('since') ?? '1h', now, 'since');
    const until = p.has('until') ? parseTime(p.get('until') as string, now, 'until') : now;
    const step = Number(p.get('step') ?? 60);
    if (!Number.isInteger(step) || step <= 0 || step % 60 !== 0) throw badArgument(`step=${p.get('step') ?? ''} must be a whole number of seconds, a multiple of 60`);
    if (until < since) throw badArgument('until must not be before since');
    if ((until - since) / (step * 1000) > MAX_POINTS) throw badArgument(`since…until at step=${step} gives more than ${MAX_POINTS} points; use a larger step`);
    const fn = p.get('function');
    sendJson(res, 200, series.query({ ...(fn ? { function: fn } : {}), since, until, step }), requestId);
    return true;
  };
}

function tracesRoute(traces: TraceStore): GatewayHook {
  return async (req, res, requestId) => {
    const url = new URL(req.url ?? '/', 'http://node');
    if ((url.pathname !== TRACES_PATH && !url.pathname.startsWith(`${TRACES_PATH}/`)) || req.method !== 'GET') return false;
    const id = decodeURIComponent(url.pathname.slice(TRACES_PATH.length + 1));
    if (id === '') {
      const raw = url.searchParams.get('limit') ?? '50';
      const limit = Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badArgument(`limit=${raw} must be a whole number from 1 to 1000`);
      const fn = url.searchParams.get('function');
      sendJson(res, 200, { traces: traces.recent({ limit, ...(fn ? { function: fn } : {}) }) }, requestId);
      return true;
    }
    const trace = traces.get(id);
    if (!trace) {
      throw new OutpostError('TRACE_NOT_FOUND', `no trace with the request or trace id ${id} on this node`, {
        status: 404,
        fault: 'user',
        hint: 'traces are kept in memory for the most recent requests only; check the id, or export traces with --otlp-endpoint to keep them',
      });
    }
    sendJson(res, 200, trace, requestId);
    return true;
  };
}

function metricsPage(ctx: NodeContext, metrics: NodeMetrics): GatewayHook {
  return async (req, res: ServerResponse, requestId) => {
    const q = (req.url ?? '').indexOf('?');
    if ((q === -1 ? req.url : req.url?.slice(0, q)) !== '/_outpost/metrics') return false;
    if (!(await ctx.authorize(req))) {
      sendError(res, requestId, unauthorized());
      return true;
    }
    const text = await metrics.text();
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'x-request-id': requestId });
    res.end(text);
    return true;
  };
}

export const metricsService: NodeService = {
  name: 'metrics',
  start(ctx): RunningService {
    const metrics = new NodeMetrics({
      functions: () => [...ctx.functions().values()].map((f) => ({ name: f.name, key: f.key })),
      stats: (key) => ctx.dispatcher.stats(key),
      queues: async () => {
        const out = [];
        for (const q of await ctx.store.queues.listQueues()) {
          const s = await ctx.store.queues.stats(q.name);
          out.push({ name: q.name, depth: s.visible + s.inFlight + s.delayed, dead: s.dead, ...(s.oldestSentAt === undefined ? {} : { oldestSentAt: s.oldestSentAt }) });
        }
        return out;
      },
      workflowStatuses: async () => {
        const counts: Record<string, number> = {};
        for (const { value } of await ctx.store.meta.list<ExecutionRecord>(EXECUTIONS_PREFIX)) counts[value.status] = (counts[value.status] ?? 0) + 1;
        return counts;
      },
      now: Date.now,
    });
    const series = new SeriesStore();
    const traces = new TraceStore();
    const unsubscribe = [ctx.telemetry.add(metrics), ctx.telemetry.add(series), ctx.telemetry.add(traces)];
    const endpoint = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    const otlp = endpoint ? new OtlpExport({ endpoint, onError: (message) => ctx.logger.system('warn', message) }) : undefined;
    if (otlp) unsubscribe.push(ctx.telemetry.add(otlp));
    // Telemetry switched off (--telemetry off) took none of the sinks: nothing to sample.
    const sampler = ctx.telemetry.wantsInvocations
      ? setInterval(() => {
          const now = Date.now();
          for (const f of ctx.functions().values()) series.concurrency(f.name, now, ctx.dispatcher.stats(f.key).inFlight);
        }, 1000).unref()
      : undefined;
    return {
      pages: [metricsPage(ctx, metrics)],
      controlRoutes: [seriesRoute(series), tracesRoute(traces)],
      async close() {
        clearInterval(sampler);
        for (const u of unsubscribe) u();
        await otlp?.close();
      },
    };
  },
};
