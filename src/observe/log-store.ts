/**
 * @module
 * The node's log history on disk: invocation records and console lines as JSON lines in
 * segment files under `<stateDir>/logs/`, read back by time range and filters.
 *
 * Decisions:
 * - A segment is named after the moment it was opened (`seg-<epoch ms>-<n>.jsonl`) and a new
 *   one starts when the current one passes `segmentBytes`. Records are written in the order
 *   they happen, so a segment holds what was written between its name and the next segment's:
 *   a query opens only the segments that can hold its time range, newest first, and stops at
 *   `limit`.
 * - Retention drops whole segments, oldest first, while the total passes `maxBytes` or a
 *   segment's last write is older than `maxAgeMs`; the segment being written is never dropped.
 * - Lines are buffered and appended every 200 ms (or at 64 KiB), off the request path; a
 *   query or close flushes first, so what a caller saw happen is in the answer.
 * - Records arrive already redacted of the functions' secrets (telemetry does it); nothing
 *   here reads or adds secret values.
 */
import { appendFile, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { InvocationEvent } from './telemetry.ts';
import type { LogLevel } from '../runtime/protocol.ts';

/** One invocation as stored and served by the logs API. */
export type InvocationLog = Omit<InvocationEvent, 'time'> & {
  type: 'invocation';
  time: string;
  /** The function's handler style (lambda styles are printed as CloudWatch does). */
  style?: string;
};

/** One console line; `dropped` is set on the line that reports lines dropped by the flood cap. */
export interface ConsoleLog {
  type: 'console';
  time: string;
  function: string;
  version: number;
  requestId?: string;
  level: LogLevel;
  message: string;
  dropped?: number;
  style?: string;
}

export type LogRecord = InvocationLog | ConsoleLog;

/** What a query or a stream keeps; every field is optional. */
export interface LogFilter {
  function?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, inclusive. */
  until?: number;
  /** The lowest level kept: debug < info = log < warn < error. */
  level?: LogLevel;
  /** An exact status or a class (`4xx`, `5xx`); keeps invocation records only. */
  status?: number | `${1 | 2 | 3 | 4 | 5}xx`;
  /** Case-insensitive text in the message, error, path or request id. */
  search?: string;
  /** Keeps this share (0..1) of requests, chosen by request id so a request's lines stay together. */
  sample?: number;
}

export interface LogStoreOptions {
  dir: string;
  /** Total size kept (default 256 MiB). */
  maxBytes?: number;
  /** Age kept (default 7 days). */
  maxAgeMs?: number;
  /** Size at which a new segment starts (default maxBytes / 16, at most 16 MiB). */
  segmentBytes?: number;
  now?: () => number;
}

interface Segment {
  name: string;
  /** When it was opened, epoch ms. */
  start: number;
  size: number;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, log: 1, warn: 2, error: 3 };
const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;
const SEGMENT_NAME = /^seg-(\d+)-(\d+)\.jsonl$/;

export class LogStore {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #segmentBytes: number;
  readonly #now: () => number;
  readonly #segments: Segment[];
  #pending: string[] = [];
  #pendingBytes = 0;
  #writing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;

  private constructor(options: LogStoreOptions, segments: Segment[]) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.#maxAgeMs = options.maxAgeMs ?? 7 * 24 * 3600_000;
    this.#segmentBytes = options.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(this.#maxBytes / 16)));
    this.#now = options.now ?? Date.now;
    this.#segments = segments;
  }

  /** Opens (creating) the log folder and applies retention to what an earlier run left. */
  static async open(options: LogStoreOptions): Promise<LogStore> {
    await mkdir(options.dir, { recursive: true });
    const segments: Segment[] = [];
    for (const name of await readdir(options.dir)) {
      const m = SEGMENT_NAME.exec(name);
      if (!m) continue;
      const { size } = await stat(join(options.dir, name));
      segments.push({ name, start: Number(m[1]), size });
    }
    segments.sort((a, b) => (a.name < b.name ? -1 : 1));
    const store = new LogStore(options, segments);
    await store.enforceRetention();
    return store;
  }

  /** Queues one record for writing. */
  append(record: LogRecord): void {
    const line = `${JSON.stringify(record)}\n`;
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (this.#pendingBytes >= FLUSH_BYTES) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes every queued record; resolves when they are on disk. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return this.#writing;
    const chunk = this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writing = this.#writing.then(() => this.#write(chunk)).catch(() => undefined);
    return this.#writing;
  }

  async #write(chunk: string): Promise<void> {
    let current = this.#segments.at(-1);
    if (!current || current.size >= this.#segmentBytes) {
      const start = this.#now();
      current = { name: `seg-${String(start).padStart(15, '0')}-${String(this.#seq++ % 10_000).padStart(4, '0')}.jsonl`, start, size: 0 };
      this.#segments.push(current);
      await this.#retain();
    }
    await appendFile(join(this.#dir, current.name), chunk);
    current.size += Buffer.byteLength(chunk);
  }

  /** Drops segments past the size or age budget. */
  enforceRetention(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#retain()).catch(() => undefined);
    return this.#writing;
  }

  async #retain(): Promise<void> {
    const now = this.#now();
    let total = this.#segments.reduce((n, s) => n + s.size, 0);
    // The last segment is being written; every other one ended when its successor began.
    while (this.#segments.length > 1) {
      const [oldest, next] = this.#segments as [Segment, Segment];
      if (total <= this.#maxBytes && next.start >= now - this.#maxAgeMs) break;
      this.#segments.shift();
      total -= oldest.size;
      await unlink(join(this.#dir, oldest.name)).catch(() => undefined);
    }
  }

  /** The newest `limit` records that pass `filter`, oldest first. */
  async query(filter: LogFilter, limit: number): Promise<LogRecord[]> {
    await this.flush();
    const out: LogRecord[] = [];
    const segments = this.#segments;
    for (let i = segments.length - 1; i >= 0 && out.length < limit; i--) {
      const segment = segments[i] as Segment;
      const end = segments[i + 1]?.start ?? Infinity;
      if (filter.until !== undefined && segment.start > filter.until) continue;
      if (filter.since !== undefined && end < filter.since) break;
      let text: string;
      try {
        text = await readFile(join(this.#dir, segment.name), 'utf8');
      } catch {
        continue; // dropped by retention meanwhile
      }
      const lines = text.split('\n');
      for (let j = lines.length - 1; j >= 0 && out.length < limit; j--) {
        const line = lines[j];
        if (!line) continue;
        let record: LogRecord;
        try {
          record = JSON.parse(line) as LogRecord;
        } catch {
          continue; // a line cut short by a crash
        }
        if (matches(record, filter)) out.push(record);
      }
    }
    return out.reverse();
  }

  /** Segment files in order, for tests and diagnostics. */
  segments(): string[] {
    return this.#segments.map((s) => s.name);
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

/** True when `record` passes every condition of `filter`. */
export function matches(record: LogRecord, filter: LogFilter): boolean {
  if (filter.function !== undefined && record.function !== filter.function) return false;
  if (filter.since !== undefined || filter.until !== undefined) {
    const t = Date.parse(record.time);
    if (filter.since !== undefined && t < filter.since) return false;
    if (filter.until !== undefined && t > filter.until) return false;
  }
  if (filter.level !== undefined && LEVEL_RANK[record.level] < LEVEL_RANK[filter.level]) return false;
  if (filter.status !== undefined) {
    if (record.type !== 'invocation') return false;
    const s = filter.status;
    if (typeof s === 'number' ? record.status !== s : Math.floor(record.status / 100) !== Number(s[0])) return false;
  }
  if (filter.search !== undefined && !searchText(record).includes(filter.search.toLowerCase())) return false;
  if (filter.sample !== undefined && filter.sample < 1 && sampleOf(record.requestId ?? record.time) >= filter.sample) return false;
  return true;
}

function searchText(r: LogRecord): string {
  const parts = r.type === 'console' ? [r.message, r.requestId] : [r.path, r.requestId, r.error?.code, r.error?.message, r.error?.stack];
  return parts.filter((p) => p !== undefined).join('\n').toLowerCase();
}

/** A stable value in [0, 1) per key (FNV-1a), so sampling keeps or drops a request whole. */
function sampleOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}
