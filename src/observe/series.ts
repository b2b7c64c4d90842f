/**
 * @module
 * Chart series for the dashboard: per function, one bucket per minute kept in memory for a
 * retention window (24 h by default), each holding invocations, errors, cold starts, the
 * highest concurrency seen and a latency histogram; {@link SeriesStore.query} merges buckets
 * into points of any whole-minute step and reads p50/p95/p99 from the merged histogram.
 *
 * Decisions: latencies go into fixed log-scale buckets (four per doubling, from 0.1 ms to
 * about 10 minutes), so a percentile is exact to within one bucket (±19 %) and merging minutes
 * or functions is adding arrays. A minute's bucket is allocated when the first invocation of
 * that minute arrives (one allocation per function per minute, none per invocation), and
 * minutes older than the retention are dropped then. Errors are invocations that ended in a
 * failure of the function (throw, limit, timeout); throttled and rejected requests count as
 * invocations, not errors.
 */
import type { InvocationEvent, Outcome, TelemetrySink } from './telemetry.ts';

const MINUTE = 60_000;
/** Lower bound of the first latency bucket, ms. */
const LATENCY_FLOOR_MS = 0.1;
const PER_DOUBLING = 4;
const LATENCY_BUCKETS = 90;
const GROWTH = 2 ** (1 / PER_DOUBLING);

const FAILED: ReadonlySet<Outcome> = new Set(['error', 'exceeded-cpu', 'exceeded-memory', 'timeout', 'startup-exceeded']);

interface Bucket {
  invocations: number;
  errors: number;
  coldStarts: number;
  concurrency: number;
  latency: Uint32Array;
}

export interface SeriesPoint {
  /** Start of the step, epoch ms. */
  t: number;
  invocations: number;
  errors: number;
  coldStarts: number;
  /** Latency percentiles in ms (0 when the step had no invocations). */
  p50: number;
  p95: number;
  p99: number;
  /** Highest number of invocations running at once seen during the step. */
  concurrency: number;
}

export interface SeriesQuery {
  /** Omit for every function together. */
  function?: string;
  since: number;
  until: number;
  /** Seconds, a multiple of 60. */
  step: number;
}

/** Index of the latency bucket for `ms`; bucket i holds (floor·g^(i-1), floor·g^i]. */
export function latencyBucket(ms: number): number {
  if (!(ms > LATENCY_FLOOR_MS)) return 0;
  const i = Math.ceil(Math.log2(ms / LATENCY_FLOOR_MS) * PER_DOUBLING);
  return i >= LATENCY_BUCKETS ? LATENCY_BUCKETS - 1 : i;
}

/** Upper bound of latency bucket `i`, ms. */
function bucketUpperMs(i: number): number {
  return LATENCY_FLOOR_MS * GROWTH ** i;
}

/** The `q` quantile (0–1) of a latency histogram, as its bucket's upper bound rounded to µs. */
export function quantile(histogram: Uint32Array, q: number): number {
  let total = 0;
  for (const n of histogram) total += n;
  if (total === 0) return 0;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] as number;
    if (seen >= rank) return Math.round(bucketUpperMs(i) * 1000) / 1000;
  }
  return Math.round(bucketUpperMs(histogram.length - 1) * 1000) / 1000;
}

export class SeriesStore implements TelemetrySink {
  readonly #retentionMinutes: number;
  /** Per function, minute index → bucket, oldest first (Map keeps insertion order). */
  readonly #functions = new Map<string, Map<number, Bucket>>();

  constructor(options: { retentionMs?: number } = {}) {
    this.#retentionMinutes = Math.ceil((options.retentionMs ?? 24 * 3_600_000) / MINUTE);
  }

  get retentionMs(): number {
    return this.#retentionMinutes * MINUTE;
  }

  #bucket(fn: string, time: number): Bucket {
    const minute = Math.floor(time / MINUTE);
    let minutes = this.#functions.get(fn);
    if (!minutes) {
      minutes = new Map();
      this.#functions.set(fn, minutes);
    }
    let bucket = minutes.get(minute);
    if (!bucket) {
      bucket = { invocations: 0, errors: 0, coldStarts: 0, concurrency: 0, latency: new Uint32Array(LATENCY_BUCKETS) };
      minutes.set(minute, bucket);
      for (const old of minutes.keys()) {
        if (old > minute - this.#retentionMinutes) break;
        minutes.delete(old);
      }
    }
    return bucket;
  }

  invocation(e: InvocationEvent): void {
    if (e.function === undefined) return;
    const b = this.#bucket(e.function, e.time);
    b.invocations++;
    if (FAILED.has(e.outcome)) b.errors++;
    if (e.coldStart) b.coldStarts++;
    if (b.concurrency === 0) b.concurrency = 1;
    const i = latencyBucket(e.durationMs);
    b.latency[i] = (b.latency[i] as number) + 1;
  }

  /** Records how many invocations of `fn` were running at `time` (sampled by the caller). */
  concurrency(fn: string, time: number, running: number): void {
    if (running === 0) return;
    const b = this.#bucket(fn, time);
    if (running > b.concurrency) b.concurrency = running;
  }

  /** Points from `since` to `until` (both rounded down to the step), empty steps as zeros. */
  query(q: SeriesQuery): { step: number; points: SeriesPoint[] } {
    const stepMs = q.step * 1000;
    const first = Math.floor(q.since / stepMs) * stepMs;
    const last = Math.floor(q.until / stepMs) * stepMs;
    const sources = q.function === undefined ? [...this.#functions.values()] : [this.#functions.get(q.function) ?? new Map<number, Bucket>()];
    const points: SeriesPoint[] = [];
    const latency = new Uint32Array(LATENCY_BUCKETS);
    for (let t = first; t <= last; t += stepMs) {
      latency.fill(0);
      const p: SeriesPoint = { t, invocations: 0, errors: 0, coldStarts: 0, p50: 0, p95: 0, p99: 0, concurrency: 0 };
      for (let minute = t / MINUTE; minute < (t + stepMs) / MINUTE; minute++) {
        let running = 0;
        for (const minutes of sources) {
          const b = minutes.get(minute);
          if (!b) continue;
          p.invocations += b.invocations;
          p.errors += b.errors;
          p.coldStarts += b.coldStarts;
          running += b.concurrency;
          for (let i = 0; i < LATENCY_BUCKETS; i++) latency[i] = (latency[i] as number) + (b.latency[i] as number);
        }
        // Across functions the sum of their peaks bounds the node's peak in that minute.
        if (running > p.concurrency) p.concurrency = running;
      }
      p.p50 = quantile(latency, 0.5);
      p.p95 = quantile(latency, 0.95);
      p.p99 = quantile(latency, 0.99);
      points.push(p);
    }
    return { step: q.step, points };
  }
}
