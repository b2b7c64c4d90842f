/**
 * @module
 * The node's Prometheus metrics: a telemetry sink that counts invocations, cold starts,
 * throttles and storage operations as they happen, and gauges (instances, concurrency,
 * queues, workflows) read from their source when Prometheus scrapes.
 *
 * Decisions: one prom-client `Registry` per node, never the library's global one, so two nodes
 * in one process (tests) keep their own numbers. An invocation only adds to plain maps and
 * bucket arrays here (a map lookup, ~0.1 µs); prom-client reads them when Prometheus scrapes,
 * through each metric's `collect`. Updating prom-client's own counters and histogram per
 * invocation cost about 1.5 µs, which bench/observability.ts showed on the hot path. The
 * duration histogram is therefore a small metric object of ours that the registry formats
 * like its own; gauges are computed on scrape, so they cost nothing between scrapes.
 *
 * `outpost_instance_memory_bytes` is the instance memory dispatch samples as an invocation
 * ends (`maxMemoryMB` on the record, whole MB), so it moves with traffic, not between scrapes.
 *
 * `outpost_instances{state="busy"}` is min(live instances, in-flight invocations): dispatch
 * sends an invocation to the least-loaded instance, so an idle instance is used before a busy
 * one takes a second invocation. After uneven completions it can overstate busy instances by
 * the difference.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Histogram } from 'prom-client';
import type { InvocationEvent, StorageKind, TelemetrySink } from './telemetry.ts';

/** What the scrape-time gauges read from the node. */
export interface MetricsSources {
  /** Active functions with their dispatch key. */
  functions(): Iterable<{ name: string; key: string }>;
  /** Live instances of a version and the invocations they are running. */
  stats(key: string): { instances: number; inFlight: number };
  queues(): Promise<Array<{ name: string; depth: number; oldestSentAt?: number; dead: number }>>;
  /** Stored workflow executions counted by status. */
  workflowStatuses(): Promise<Record<string, number>>;
  now(): number;
}

/** Latency buckets in seconds: from a cache hit to a long Lambda. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

type Labels = Record<string, string>;

/** A count per label set, keyed by the joined label values. */
class LabelledCounts {
  readonly #entries = new Map<string, { labels: Labels; n: number }>();

  add(key: string, labels: () => Labels, n = 1): void {
    const entry = this.#entries.get(key);
    if (entry) entry.n += n;
    else this.#entries.set(key, { labels: labels(), n });
  }

  set(key: string, labels: () => Labels, n: number): void {
    const entry = this.#entries.get(key);
    if (entry) entry.n = n;
    else this.#entries.set(key, { labels: labels(), n });
  }

  values(): IterableIterator<{ labels: Labels; n: number }> {
    return this.#entries.values();
  }
}

/** Counts of invocation durations per (function, trigger), exposed as a Prometheus histogram. */
class DurationHistogram {
  readonly name = 'outpost_invocation_duration_seconds';
  readonly help = 'Wall time of invocations, arrival to last byte.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, { labels: Labels; buckets: Float64Array; sum: number; count: number }>();

  observe(fn: string, trigger: string, seconds: number): void {
    const key = `${fn}\u0000${trigger}`;
    let s = this.#series.get(key);
    if (!s) {
      s = { labels: { function: fn, trigger }, buckets: new Float64Array(DURATION_BUCKETS.length), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[i] as number)) i++;
    if (i < DURATION_BUCKETS.length) s.buckets[i] = (s.buckets[i] as number) + 1;
    s.sum += seconds;
    s.count++;
  }

  /** The shape prom-client's registry formats: cumulative buckets, +Inf, sum and count. */
  get(): { name: string; help: string; type: string; aggregator: string; values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> } {
    const values = [];
    for (const s of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        cumulative += s.buckets[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: DURATION_BUCKETS[i] as number, ...s.labels }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series.clear();
  }
}

/** A prom-client counter whose value is read from `counts` at scrape. */
function countsCounter(registry: Registry, name: string, help: string, labelNames: string[], counts: LabelledCounts): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, n } of counts.values()) this.inc(labels, n);
    },
  });
}

export class NodeMetrics implements TelemetrySink {
  readonly registry = new Registry();
  readonly #invocations = new LabelledCounts();
  readonly #coldStarts = new LabelledCounts();
  readonly #throttles = new LabelledCounts();
  readonly #memory = new LabelledCounts();
  readonly #operations: Record<StorageKind, LabelledCounts> = { kv: new LabelledCounts(), s3: new LabelledCounts() };
  readonly #durations = new DurationHistogram();

  constructor(sources: MetricsSources) {
    const registry = this.registry;
    const registers = [registry];
    countsCounter(registry, 'outpost_invocations_total', 'Invocations by function, version, trigger and how they ended.', ['function', 'version', 'trigger', 'outcome'], this.#invocations);
    // prom-client formats any metric object with name, help, type and get(); its types list only its own classes.
    registry.registerMetric(this.#durations as unknown as Histogram);
    countsCounter(registry, 'outpost_cold_starts_total', 'Invocations that started a new instance.', ['function'], this.#coldStarts);
    countsCounter(registry, 'outpost_throttles_total', 'Invocations refused by a concurrency or rate limit.', ['function'], this.#throttles);
    countsCounter(registry, 'outpost_kv_operations_total', 'KV binding operations by method.', ['op'], this.#operations.kv);
    countsCounter(registry, 'outpost_s3_operations_total', 'Object storage operations (S3 API requests by HTTP method, R2 binding calls by method).', ['op'], this.#operations.s3);
    const memory = this.#memory;
    new Gauge({
      name: 'outpost_instance_memory_bytes',
      help: "Heap plus external memory of the function's instance, sampled when its latest invocation ended.",
      labelNames: ['function'],
      registers,
      collect() {
        this.reset();
        for (const { labels, n } of memory.values()) this.set(labels, n);
      },
    });
    new Gauge({
      name: 'outpost_concurrent_executions',
      help: 'Invocations running now.',
      labelNames: ['function'],
      registers,
      collect() {
        this.reset();
        for (const f of sources.functions()) this.set({ function: f.name }, sources.stats(f.key).inFlight);
      },
    });
    new Gauge({
      name: 'outpost_instances',
      help: 'Live instances, busy (running an invocation) or idle (warm).',
      labelNames: ['function', 'state'],
      registers,
      collect() {
        this.reset();
        for (const f of sources.functions()) {
          const { instances, inFlight } = sources.stats(f.key);
          const busy = Math.min(instances, inFlight);
          this.set({ function: f.name, state: 'busy' }, busy);
          this.set({ function: f.name, state: 'idle' }, instances - busy);
        }
      },
    });
    const queueGauge = (name: string, help: string, read: (q: Awaited<ReturnType<MetricsSources['queues']>>[number], now: number) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['queue'],
        registers,
        async collect() {
          this.reset();
          const now = sources.now();
          for (const q of await sources.queues()) this.set({ queue: q.name }, read(q, now));
        },
      });
    };
    queueGauge('outpost_queue_depth', 'Messages waiting in a queue (visible, in flight and delayed).', (q) => q.depth);
    queueGauge('outpost_queue_oldest_message_age_seconds', 'Age of the oldest live message in a queue (0 when empty).', (q, now) => (q.oldestSentAt === undefined ? 0 : Math.max(0, (now - q.oldestSentAt) / 1000)));
    queueGauge('outpost_queue_dead_letter_messages', 'Dead messages held in a queue.', (q) => q.dead);
    new Gauge({
      name: 'outpost_workflow_executions',
      help: 'Stored workflow executions by status.',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        for (const [status, n] of Object.entries(await sources.workflowStatuses())) this.set({ status }, n);
      },
    });
  }

  invocation(e: InvocationEvent): void {
    const fn = e.function;
    if (fn === undefined) return;
    const version = e.version === undefined ? '' : String(e.version);
    this.#invocations.add(`${fn}\u0000${version}\u0000${e.trigger}\u0000${e.outcome}`, () => ({ function: fn, version, trigger: e.trigger, outcome: e.outcome }));
    this.#durations.observe(fn, e.trigger, e.durationMs / 1000);
    if (e.coldStart) this.#coldStarts.add(fn, () => ({ function: fn }));
    if (e.outcome === 'throttled') this.#throttles.add(fn, () => ({ function: fn }));
    if (e.maxMemoryMB !== undefined) this.#memory.set(fn, () => ({ function: fn }), e.maxMemoryMB * 1024 * 1024);
  }

  operation(kind: StorageKind, op: string): void {
    this.#operations[kind].add(op, () => ({ op }));
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
