/**
 * @module
 * Usage metering: every invocation that reached a function adds to hourly counters per
 * function and version — requests, errors, cold starts, duration, billed duration,
 * GB-seconds (billed duration × configured memory), CPU ms and bytes in/out — kept in the
 * store's meta documents so they survive restarts and can be summed across nodes.
 *
 * Decisions:
 * - Counted: invocations that ran (or started to run) a function. Requests refused before
 *   dispatch (`no-route`, `rejected`, `throttled`) are not billed by any platform and are not
 *   counted; `errors` are the counted invocations whose outcome is not ok.
 * - Counters add up in memory and are written every few seconds and at close, one document
 *   per hour, node, function and version: `usage/<hour>/<region>/<node>/<function>/<version>`.
 *   Only this node writes its own keys, so a read-add-write is safe; a query sums every node.
 */
import type { InvocationEvent, TelemetrySink } from './telemetry.ts';
import type { MetaStore } from '../store/types.ts';

export interface UsageCounters {
  requests: number;
  errors: number;
  coldStarts: number;
  durationMs: number;
  billedMs: number;
  gbSeconds: number;
  cpuMs: number;
  bytesIn: number;
  bytesOut: number;
}

export type UsageRow = UsageCounters & { function: string; version?: number; hour?: string };

export type UsageGrouping = 'hour' | 'function' | 'version';

const PREFIX = 'usage/';
const NOT_COUNTED = new Set(['no-route', 'rejected', 'throttled']);

export function emptyCounters(): UsageCounters {
  return { requests: 0, errors: 0, coldStarts: 0, durationMs: 0, billedMs: 0, gbSeconds: 0, cpuMs: 0, bytesIn: 0, bytesOut: 0 };
}

const COUNTERS = Object.keys(emptyCounters()) as Array<keyof UsageCounters>;

function add(into: UsageCounters, from: UsageCounters): void {
  for (const k of COUNTERS) into[k] += from[k];
}

/** `2026-11-22T09`: the UTC hour an epoch ms falls in. */
export function hourOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13);
}

export class UsageMeter implements TelemetrySink {
  readonly #meta: MetaStore;
  readonly #node: string;
  /** Key → counters not yet written. */
  #dirty = new Map<string, UsageCounters>();
  #writing: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;
  /** The hour of the last invocation and its key prefix, so most invocations format no date. */
  #hour = { index: -1, prefix: '' };

  /** `node` names this node in the keys (`<region>/<name>`). */
  constructor(meta: MetaStore, node: string, options: { flushMs?: number } = {}) {
    this.#meta = meta;
    this.#node = node;
    this.#timer = setInterval(() => void this.flush(), options.flushMs ?? 5000);
    this.#timer.unref();
  }

  invocation(e: InvocationEvent): void {
    if (e.function === undefined || e.version === undefined || NOT_COUNTED.has(e.outcome)) return;
    const index = Math.floor(e.time / 3600_000);
    if (index !== this.#hour.index) this.#hour = { index, prefix: `${PREFIX}${hourOf(e.time)}/${this.#node}/` };
    const key = `${this.#hour.prefix}${e.function}/${e.version}`;
    let c = this.#dirty.get(key);
    if (!c) this.#dirty.set(key, (c = emptyCounters()));
    c.requests += 1;
    if (e.outcome !== 'ok') c.errors += 1;
    if (e.coldStart) c.coldStarts += 1;
    c.durationMs += e.durationMs;
    c.billedMs += e.billedDurationMs;
    c.gbSeconds += (e.billedDurationMs / 1000) * ((e.memoryMb ?? 128) / 1024);
    c.cpuMs += e.cpuMs ?? 0;
    c.bytesIn += e.bytesIn ?? 0;
    c.bytesOut += e.bytesOut ?? 0;
  }

  /** Adds the counters gathered since the last flush to the stored documents. */
  flush(): Promise<void> {
    const batch = this.#dirty;
    if (batch.size === 0) return this.#writing;
    this.#dirty = new Map();
    this.#writing = this.#writing.then(async () => {
      for (const [key, counters] of batch) {
        try {
          const stored = await this.#meta.get<UsageCounters>(key);
          const total = { ...emptyCounters(), ...stored?.value };
          add(total, counters);
          await this.#meta.put(key, total);
        } catch {
          // The store is unavailable: keep the counts for the next flush.
          const pending = this.#dirty.get(key);
          if (pending) add(pending, counters);
          else this.#dirty.set(key, counters);
        }
      }
    });
    return this.#writing;
  }

  /**
   * Usage of every node between two epoch ms (whole hours that overlap them), grouped by
   * function, version or hour, with the totals. Rows are sorted by function, version, hour.
   */
  async query(options: { function?: string; since: number; until: number; by: UsageGrouping }): Promise<{ rows: UsageRow[]; totals: UsageCounters }> {
    await this.flush();
    const from = hourOf(options.since);
    const to = hourOf(options.until);
    const groups = new Map<string, UsageRow>();
    const totals = emptyCounters();
    for (const { key, value } of await this.#meta.list<UsageCounters>(PREFIX)) {
      const parts = key.slice(PREFIX.length).split('/');
      const hour = parts[0] ?? '';
      const fn = parts.at(-2) ?? '';
      const version = Number(parts.at(-1));
      if (hour < from || hour > to || (options.function !== undefined && fn !== options.function)) continue;
      const id = options.by === 'function' ? fn : options.by === 'version' ? `${fn}\u0000${String(version).padStart(10, '0')}` : `${fn}\u0000${hour}`;
      let row = groups.get(id);
      if (!row) {
        row = { function: fn, ...(options.by === 'version' ? { version } : {}), ...(options.by === 'hour' ? { hour } : {}), ...emptyCounters() };
        groups.set(id, row);
      }
      const counters = { ...emptyCounters(), ...value };
      add(row, counters);
      add(totals, counters);
    }
    const rows = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row);
    return { rows, totals };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
