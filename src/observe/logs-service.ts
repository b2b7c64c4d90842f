/**
 * @module
 * The logs and usage capability of a node: it subscribes to the node's telemetry, writes every
 * invocation record and console line to the log store, meters usage, and serves (behind the
 * control API's auth):
 *
 *   GET /_outpost/api/logs?function=&since=&until=&level=&status=&search=&sample=&limit=
 *       → { records: [{ type: "invocation" | "console", time: ISO, … }] }, oldest first
 *   GET /_outpost/api/logs/stream?<same filters>  → Server-Sent Events, `data: <record>` each
 *   GET /_outpost/api/usage?function=&since=&until=&by=hour|function|version
 *       → { rows, totals, estimates }
 *
 * `since` / `until` take an ISO time or a span back from now (`90s`, `15m`, `1h`, `7d`).
 *
 * Decisions: a function that floods its console keeps at most {@link CONSOLE_LINES_PER_SECOND}
 * lines a second in the store and the stream; the rest are dropped and one warn line per
 * function and second says how many, so one noisy function cannot fill the disk or starve the
 * node. Without a state directory (an in-process node) the history is not kept; the stream and
 * usage still work.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { sendJson } from '../control/http.ts';
import { OutpostError } from '../errors.ts';
import type { LogLevel } from '../runtime/protocol.ts';
import type { GatewayHook, NodeService } from '../server/context.ts';
import { LogStore, matches } from './log-store.ts';
import type { LogFilter, LogRecord } from './log-store.ts';
import { BUILT_IN_TABLES, estimate } from './prices.ts';
import type { PriceTable } from './prices.ts';
import type { TelemetrySink } from './telemetry.ts';
import { UsageMeter } from './usage.ts';
import type { UsageGrouping } from './usage.ts';
import { parseTimeParam } from './time-param.ts';

/** Settings from `outpost serve|dev` flags. */
export interface ObserveOptions {
  /** Total size of the log history (default 256). */
  logRetentionMb?: number;
  /** Age of the log history (default 7). */
  logRetentionDays?: number;
  /** Custom price tables (`--prices <file.json>`), estimated beside the built-in ones. */
  prices?: PriceTable[];
}

/** Console lines one function may log per second before the excess is dropped. */
export const CONSOLE_LINES_PER_SECOND = 100;
const KEEP_ALIVE_MS = 15_000;
/** A stream client this far behind is sent nothing more until it catches up. */
const STREAM_BACKLOG_BYTES = 4 * 1024 * 1024;
const LEVELS = new Set<string>(['debug', 'info', 'log', 'warn', 'error']);
const API = '/_outpost/api/';

function invalid(message: string): OutpostError {
  return new OutpostError('INVALID_LOG_QUERY', message, { status: 400, fault: 'user', hint: 'see docs/guide-observability.md for the query parameters' });
}

/** An ISO time or a span back from `now` (`30s`, `15m`, `1h`, `7d`) as epoch ms. */
export function parseTime(value: string, now: number, name: string): number {
  const t = parseTimeParam(value, now);
  if (t === undefined) throw invalid(`${name}=${value} is neither an ISO time nor a span such as 15m, 1h or 7d`);
  return t;
}

/** The filter and limit of a logs request's query string. */
export function logQuery(params: URLSearchParams, now: number): { filter: LogFilter; limit: number } {
  const filter: LogFilter = {};
  const text = (name: string): string | undefined => {
    const v = params.get(name);
    return v === null || v === '' ? undefined : v;
  };
  const fn = text('function');
  if (fn !== undefined) filter.function = fn;
  const since = text('since');
  if (since !== undefined) filter.since = parseTime(since, now, 'since');
  const until = text('until');
  if (until !== undefined) filter.until = parseTime(until, now, 'until');
  const level = text('level');
  if (level !== undefined) {
    if (!LEVELS.has(level)) throw invalid(`level=${level} is not one of debug, info, log, warn, error`);
    filter.level = level as LogLevel;
  }
  const status = text('status');
  if (status !== undefined) {
    if (/^[1-5]xx$/.test(status)) filter.status = status as LogFilter['status'] & string;
    else if (/^[1-5]\d\d$/.test(status)) filter.status = Number(status);
    else throw invalid(`status=${status} is not a status code (404) or a class (4xx, 5xx)`);
  }
  const search = text('search');
  if (search !== undefined) filter.search = search;
  const sample = text('sample');
  if (sample !== undefined) {
    const n = Number(sample);
    if (!(n >= 0 && n <= 1)) throw invalid(`sample=${sample} is not a share between 0 and 1`);
    filter.sample = n;
  }
  const rawLimit = text('limit');
  const limit = rawLimit === undefined ? 1000 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw invalid(`limit=${rawLimit} is not a whole number from 1 to 10000`);
  return { filter, limit };
}

interface FloodWindow {
  second: number;
  count: number;
  dropped: number;
  version: number;
}

/** Counts console lines per function and second; says which to keep and how many were dropped. */
export class FloodCap {
  readonly #perSecond: number;
  readonly #windows = new Map<string, FloodWindow>();
  /** Ended seconds that dropped lines, not yet reported. */
  #ended: Array<{ function: string; version: number; dropped: number }> = [];

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
  }

  /** True when the line may be kept. */
  admit(fn: string, version: number, now: number): boolean {
    const second = Math.floor(now / 1000);
    let w = this.#windows.get(fn);
    if (!w || w.second !== second) {
      if (w && w.dropped > 0) this.#ended.push({ function: fn, version: w.version, dropped: w.dropped });
      w = { second, count: 0, dropped: 0, version };
      this.#windows.set(fn, w);
    }
    if (w.count < this.#perSecond) {
      w.count++;
      return true;
    }
    w.dropped++;
    return false;
  }

  /** Drop counts of the seconds that have ended, each reported once. */
  drain(now: number): Array<{ function: string; version: number; dropped: number }> {
    const second = Math.floor(now / 1000);
    for (const [fn, w] of this.#windows) {
      if (w.second >= second) continue;
      if (w.dropped > 0) this.#ended.push({ function: fn, version: w.version, dropped: w.dropped });
      this.#windows.delete(fn);
    }
    const out = this.#ended;
    this.#ended = [];
    return out;
  }
}

export const logsService: NodeService = {
  name: 'logs',
  async start(ctx) {
    const options = ctx.observe ?? {};
    const store = ctx.stateDir
      ? await LogStore.open({
          dir: join(ctx.stateDir, 'logs'),
          ...(options.logRetentionMb === undefined ? {} : { maxBytes: Math.floor(options.logRetentionMb * 1024 * 1024) }),
          ...(options.logRetentionDays === undefined ? {} : { maxAgeMs: options.logRetentionDays * 86_400_000 }),
        })
      : undefined;
    const usage = new UsageMeter(ctx.store.meta, `${ctx.region}/${hostname()}`);
    const tables = [...BUILT_IN_TABLES, ...(options.prices ?? [])];
    const listeners = new Set<(record: LogRecord) => void>();
    const flood = new FloodCap(CONSOLE_LINES_PER_SECOND);

    let styles = new Map<string, string>();
    const learnStyles = (): void => {
      styles = new Map([...ctx.functions()].map(([name, f]) => [name, f.version.manifest.style]));
    };
    learnStyles();
    const offFunctions = ctx.onFunctionsChanged(learnStyles);

    const emit = (record: LogRecord): void => {
      store?.append(record);
      for (const listener of listeners) listener(record);
    };
    const reportDrops = (): void => {
      for (const d of flood.drain(Date.now())) {
        emit({ type: 'console', time: new Date().toISOString(), function: d.function, version: d.version, level: 'warn', message: `${d.dropped} console line(s) dropped: more than ${CONSOLE_LINES_PER_SECOND} a second`, dropped: d.dropped });
      }
    };
    const sink: TelemetrySink = {
      invocation(event) {
        usage.invocation(event);
        const style = event.function === undefined ? undefined : styles.get(event.function);
        // One copy of the record, made by assignment (this runs for every request).
        const record = Object.assign({ type: 'invocation' }, event, { time: new Date(event.time).toISOString() }) as LogRecord;
        if (style) record.style = style;
        emit(record);
      },
      console(line) {
        if (!flood.admit(line.function, line.version, line.time)) return;
        const style = styles.get(line.function);
        emit({
          type: 'console',
          time: new Date(line.time).toISOString(),
          function: line.function,
          version: line.version,
          ...(line.requestId === undefined ? {} : { requestId: line.requestId }),
          level: line.level,
          message: line.message,
          ...(style ? { style } : {}),
        });
      },
    };
    const unsubscribe = ctx.telemetry.add(sink);
    const dropTimer = setInterval(reportDrops, 1000);
    dropTimer.unref();
    const retentionTimer = setInterval(() => void store?.enforceRetention(), 600_000);
    retentionTimer.unref();
    const streams = new Set<ServerResponse>();

    const history = async (params: URLSearchParams, res: ServerResponse, requestId: string): Promise<void> => {
      const { filter, limit } = logQuery(params, Date.now());
      sendJson(res, 200, { records: store ? await store.query(filter, limit) : [] }, requestId);
    };

    const stream = (req: IncomingMessage, params: URLSearchParams, res: ServerResponse, requestId: string): void => {
      const { filter } = logQuery(params, Date.now());
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': requestId });
      res.write(': connected\n\n');
      const send = (record: LogRecord): void => {
        if (res.writableLength < STREAM_BACKLOG_BYTES && matches(record, filter)) res.write(`data: ${JSON.stringify(record)}\n\n`);
      };
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      listeners.add(send);
      streams.add(res);
      const stop = (): void => {
        clearInterval(keepAlive);
        listeners.delete(send);
        streams.delete(res);
      };
      req.on('close', stop);
      res.on('close', stop);
    };

    const usageReport = async (params: URLSearchParams, res: ServerResponse, requestId: string): Promise<void> => {
      const now = Date.now();
      const by = params.get('by') ?? 'function';
      if (by !== 'hour' && by !== 'function' && by !== 'version') throw invalid(`by=${by} is not one of hour, function, version`);
      const fn = params.get('function');
      const report = await usage.query({
        since: parseTime(params.get('since') || '24h', now, 'since'),
        until: parseTime(params.get('until') || new Date(now).toISOString(), now, 'until'),
        by: by as UsageGrouping,
        ...(fn ? { function: fn } : {}),
      });
      sendJson(res, 200, { ...report, estimates: tables.map((t) => estimate(t, report.totals)) }, requestId);
    };

    const routes: GatewayHook = async (req, res, requestId) => {
      const url = req.url ?? '/';
      if (!url.startsWith(API) || (req.method ?? 'GET') !== 'GET') return false;
      const parsed = new URL(url, 'http://node');
      switch (parsed.pathname.slice(API.length)) {
        case 'logs':
          await history(parsed.searchParams, res, requestId);
          return true;
        case 'logs/stream':
          stream(req, parsed.searchParams, res, requestId);
          return true;
        case 'usage':
          await usageReport(parsed.searchParams, res, requestId);
          return true;
        default:
          return false;
      }
    };

    return {
      controlRoutes: [routes],
      async close() {
        unsubscribe();
        offFunctions();
        clearInterval(dropTimer);
        clearInterval(retentionTimer);
        reportDrops();
        for (const res of streams) res.end();
        await store?.close();
        await usage.close();
      },
    };
  },
};
