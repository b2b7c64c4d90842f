/**
 * @module
 * Dispatch: the one place that decides which instance runs an invocation, whatever triggered
 * it. Per version it keeps warm instances (module state survives between invocations), starts
 * new ones from the blank pool when all are at their concurrency, stops idle ones (scale to
 * zero) and enforces the CPU and wall-time limits with a watchdog over busy instances.
 *
 * Capacity, in three layers:
 *   reserved concurrency, or share the node's unreserved rest; over the cap an invocation waits
 *   in a bounded queue or is refused with THROTTLED (429).
 * - Instances on demand: an admitted invocation takes the least-loaded instance below the
 *   function's `concurrency`. When none has room, as many instances start at once as the
 *   version's demand needs — ceil(demand / concurrency), capped by `max_instances` and by the
 *   reservation — and the invocations beyond wait in order. A burst of first requests thus
 *   starts exactly the instances it needs, in parallel, and no more.
 * - Autoscaling (autoscaler.ts, Knative's KPA): the watchdog samples each version's demand;
 *   the stable (60 s) and panic (6 s) windows decide how many instances to keep. Idle ones
 *   beyond that stop, never while panicking; provisioned instances never stop for idleness;
 *   the last one stops after `idle_timeout_s` (scale to zero).
 * A warm invocation with room costs one map lookup and two counters more than picking an
 * instance.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_LIMITS } from '../project/spec.ts';
import type { Limits } from '../project/spec.ts';
import { Instance, InvocationError, limitError } from '../runtime/instance.ts';
import type { HttpSink, InstanceHooks, InvocationUsage } from '../runtime/instance.ts';
import type { EventKind, HttpMessage, LimitCode, LoadMessage, LogLevel } from '../runtime/protocol.ts';
import { Autoscaler } from './autoscaler.ts';
import type { AutoscalerOptions } from './autoscaler.ts';
import { BlankPool } from './blank-pool.ts';
import { ConcurrencyGate, DEFAULT_TOTAL_CONCURRENCY } from './concurrency.ts';

export { BlankPool } from './blank-pool.ts';
export { Autoscaler } from './autoscaler.ts';
export type { AutoscalerOptions, ScaleDecision } from './autoscaler.ts';
export { ConcurrencyGate, DEFAULT_TOTAL_CONCURRENCY, RETRY_AFTER_SECONDS, UNRESERVED_MIN } from './concurrency.ts';

/** Invocations that may wait for admission when `limits.maxQueued` is not set. */
export const DEFAULT_MAX_QUEUED = 1000;
/** An idle instance beyond what the autoscaler wants stops after this long without work. */
const EXCESS_IDLE_MS = 2000;
/** After a start failed, the autoscaler starts no instances ahead of demand for this long. */
const START_FAILURE_BACKOFF_MS = 5000;

/** Everything dispatch needs to run one version. */
export interface RunnableVersion {
  /** `<function>@<version>` */
  key: string;
  functionName: string;
  version: number;
  load: Omit<LoadMessage, 't'>;
  limits: Limits;
  /** Serves the version's declared bindings. */
  bindings(binding: string, method: string, args: unknown[]): Promise<unknown>;
}

/** How one invocation went, for logs and metering. */
export interface InvocationRecord {
  function: string;
  version: number;
  instance: number;
  coldStart: boolean;
  /** Time spent starting an instance (0 when warm). */
  startMs: number;
  cpuMs: number;
  subrequests: number;
  /** The instance's heap + external memory when the invocation ended (MB); see #memoryMb. */
  maxMemoryMB: number;
}

export interface DispatchHooks {
  log(fn: string, version: number, requestId: string | undefined, level: LogLevel, message: string): void;
  /** A limit stopped an instance (for logs and metrics). */
  limit(fn: string, version: number, code: LimitCode): void;
}

/** How one invocation is admitted when its function is at its concurrency cap. */
export interface InvokeOptions {
  /**
   * Wait up to this long for a slot instead of `limits.queueTimeoutMs`: event sources (queues,
   * async invocations, cron) wait rather than fail, since they cannot answer 429 to anyone.
   */
  queueTimeoutMs?: number;
}

/** Live instances of a version and the invocations they run (`dispatcher.stats`). */
export interface VersionStats {
  instances: number;
  inFlight: number;
  /** Instances kept loaded by provision() (provisioned concurrency). */
  provisioned: number;
}

interface InvocationRef {
  instance: number;
  id: number;
}

/** An instance handed to a waiting invocation, its slot already claimed. */
interface Granted {
  instance: Instance;
  /** It was started for this invocation (or the burst it belongs to). */
  cold: boolean;
}

interface SlotWaiter {
  /** Hands over a claimed instance, or undefined: capacity changed, look again. */
  resolve(granted: Granted | undefined): void;
  reject(error: unknown): void;
}

class VersionInstances {
  readonly version: RunnableVersion;
  readonly instances: Instance[] = [];
  /** Instance starts under way, each settling when its instance is loaded. */
  readonly launches = new Set<Promise<Instance | undefined>>();
  /** Admitted invocations not finished (running or waiting for a slot): what the autoscaler sees. */
  demand = 0;
  /** Instances kept loaded whatever the demand (provision()). */
  provisioned = 0;
  /** Instances the autoscaler last wanted while there was demand. */
  target = 0;
  /** Invocations waiting for an instance slot, in arrival order. */
  readonly waiting: SlotWaiter[] = [];
  readonly scaler: Autoscaler;
  /** When a start last failed (epoch ms): starts ahead of demand hold back for a while. */
  failedAt = 0;
  retired = false;
  constructor(version: RunnableVersion, scaler: Autoscaler) {
    this.version = version;
    this.scaler = scaler;
  }

  get live(): number {
    let n = 0;
    for (const i of this.instances) if (i.alive) n++;
    return n;
  }

  /** Most instances this version may run: max_instances, and no more than its reservation can fill. */
  get cap(): number {
    const { maxInstances, reservedConcurrency, concurrency } = this.version.limits;
    const max = maxInstances ?? DEFAULT_LIMITS.maxInstances;
    return reservedConcurrency === undefined ? max : Math.min(max, Math.max(1, Math.ceil(reservedConcurrency / concurrency)));
  }
}

interface Watched {
  lastCpu: number;
  lastAt: number;
  /** Start time of the oldest in-flight invocation when `charged` began counting. */
  oldestStart: number;
  /** CPU share (µs) charged to that invocation; it decides the CPU limit. */
  charged: number;
}

export interface DispatcherOptions {
  blanks: BlankPool;
  hooks: DispatchHooks;
  /** Watchdog period (default 25 ms). */
  watchdogMs?: number;
  /** Concurrent invocations on this node, reserved and shared (default 1 000, `--max-concurrency`). */
  totalConcurrency?: number;
  /** Windows and target of the per-version autoscaler. */
  autoscaler?: AutoscalerOptions;
  /** Instance starts that run at once on the node (default: the cores available, at least 2). */
  parallelStarts?: number;
}

export class Dispatcher {
  readonly #versions = new Map<string, VersionInstances>();
  readonly #blanks: BlankPool;
  readonly #hooks: DispatchHooks;
  readonly #watched = new Map<Instance, Watched>();
  readonly #timer: NodeJS.Timeout;
  readonly #watchdogMs: number;
  readonly #gate: ConcurrencyGate;
  readonly #autoscaler: AutoscalerOptions;
  /** Last memory sample per instance, so busy instances are not asked once per invocation. */
  readonly #memory = new WeakMap<Instance, { at: number; mb: number }>();
  #ticking = false;
  #lastSweep = 0;
  readonly #parallelStarts: number;
  #startsRunning = 0;
  /** Launches waiting for a start slot, in order. */
  readonly #startQueue: Array<() => void> = [];

  constructor(options: DispatcherOptions) {
    this.#blanks = options.blanks;
    this.#hooks = options.hooks;
    this.#watchdogMs = options.watchdogMs ?? 25;
    this.#gate = new ConcurrencyGate(options.totalConcurrency ?? DEFAULT_TOTAL_CONCURRENCY);
    this.#autoscaler = options.autoscaler ?? {};
    this.#parallelStarts = options.parallelStarts ?? Math.max(2, availableParallelism());
    this.#timer = setInterval(() => void this.#tick(), this.#watchdogMs);
    this.#timer.unref();
  }

  /** The node's total concurrency (`--max-concurrency`). */
  get totalConcurrency(): number {
    return this.#gate.total;
  }

  /**
   * Makes a version runnable (idempotent). The first version of a function registered brings
   * its reserved concurrency; with several, the node sets the live one's with {@link reserve}.
   * Instances start on first use, or now with {@link provision}.
   */
  register(version: RunnableVersion): void {
    if (this.#versions.has(version.key)) return;
    const first = ![...this.#versions.values()].some((o) => o.version.functionName === version.functionName);
    this.#versions.set(version.key, new VersionInstances(version, new Autoscaler(this.#autoscaler)));
    if (first) this.#gate.reserve(version.functionName, version.limits.reservedConcurrency);
  }

  /** Sets (undefined: removes) a function's reserved concurrency, without checking it (see {@link checkReservation}). */
  reserve(fn: string, reserved: number | undefined): void {
    if (this.#gate.usage(fn).reserved !== reserved) this.#gate.reserve(fn, reserved);
  }

  /**
   * Throws OutpostError RESERVED_CONCURRENCY_EXCEEDED when `fn` reserving `reserved` (with the
   * reservations in `pending` about to go live too) would leave less than the unreserved
   * minimum of the node's total. Deploys call this before anything is visible.
   */
  checkReservation(fn: string, reserved: number | undefined, pending?: ReadonlyMap<string, number>): void {
    this.#gate.check(fn, reserved, pending);
  }

  has(key: string): boolean {
    return this.#versions.has(key);
  }

  /** Stops sending new work to a version; its instances stop once their invocations finish. */
  retire(key: string): void {
    const v = this.#versions.get(key);
    if (!v) return;
    v.retired = true;
    this.#versions.delete(key);
    for (const instance of v.instances) if (instance.inFlight === 0 && instance.occupancy === 0) void instance.terminate();
    // The function's reservation goes with its last version.
    const fn = v.version.functionName;
    if (![...this.#versions.values()].some((o) => o.version.functionName === fn)) this.#gate.reserve(fn, undefined);
  }

  /**
   * Starts one instance of `version` and loads it, without registering it: deploys use this
   * to prove a bundle starts before any route points at it. Returns the instance for reuse.
   */
  async probe(version: RunnableVersion): Promise<Instance> {
    return this.#start(version);
  }

  /** Adds an already loaded instance (from probe) to a registered version's pool. */
  adopt(key: string, instance: Instance): void {
    const v = this.#versions.get(key);
    if (v && instance.alive) this.#arrived(v, instance, false);
    else void instance.terminate();
  }

  /**
   * Keeps `count` instances of a registered version loaded and exempt from idle eviction
   * (provisioned concurrency); resolves when that many are ready, in parallel. 0 releases
   * them to normal eviction. Throws VERSION_GONE for an unknown key and the start error
   * (e.g. STARTUP_EXCEEDED) when an instance cannot start.
   */
  async provision(key: string, count: number): Promise<void> {
    const v = this.#versions.get(key);
    if (!v) throw new InvocationError('VERSION_GONE', `version ${key} is not deployed on this node`, { status: 503 });
    v.provisioned = Math.max(0, Math.floor(count));
    // An instance may die while others start: look again, a few times at most.
    for (let attempt = 0; attempt < 3 && v.live < v.provisioned; attempt++) {
      for (let n = v.live + v.launches.size; n < v.provisioned; n++) this.#launch(v);
      await Promise.all(v.launches);
    }
  }

  async #start(version: RunnableVersion): Promise<Instance> {
    const instance = this.#blanks.take(version.limits.memoryMb);
    const hooks: InstanceHooks = {
      rpc: (_invocation, binding, method, args) => version.bindings(binding, method, args),
      log: (requestId, level, message) => this.#hooks.log(version.functionName, version.version, requestId, level, message),
      exited: (i, code) => {
        this.#watched.delete(i);
        const v = this.#versions.get(version.key);
        if (v) {
          const at = v.instances.indexOf(i);
          if (at >= 0) v.instances.splice(at, 1);
          // Capacity changed: waiters look again (and start a replacement if they need one).
          for (const w of v.waiting.splice(0)) w.resolve(undefined);
        }
        if (code && code !== 'INSTANCE_CRASHED') this.#hooks.limit(version.functionName, version.version, code);
      },
    };
    try {
      await instance.load({ t: 'load', ...version.load }, hooks, version.limits.startupMs);
    } finally {
      // After the request this cold start serves has gone out, not in its way.
      setTimeout(() => this.#blanks.replenish(version.limits.memoryMb), 10).unref();
    }
    return instance;
  }

  /**
   * Runs `start` when fewer than `parallelStarts` starts are under way on the node. Starting a
   * worker thread is CPU work (Node's bootstrap in the new isolate): on a node's few cores, 50
   * starts at once all finish late together, while a few at a time serve the first waiters
   * early and finish the last at the same time (docs/BENCHMARKS.md, cold-start storm).
   */
  async #throttleStart<T>(start: () => Promise<T>): Promise<T> {
    if (this.#startsRunning >= this.#parallelStarts) await new Promise<void>((resolve) => this.#startQueue.push(resolve));
    else this.#startsRunning++;
    try {
      return await start();
    } finally {
      const next = this.#startQueue.shift();
      if (next) next();
      else this.#startsRunning--;
    }
  }

  /**
   * Starts one more instance of `v` (counted at once, so concurrent callers do not start a
   * herd); waiters take its slots as soon as it is loaded.
   */
  #launch(v: VersionInstances): Promise<Instance | undefined> {
    // A launch that waited for its turn is dropped if the burst it was for is already served.
    const launch: Promise<Instance | undefined> = this.#throttleStart(() => (this.#stillNeeded(v) ? this.#start(v.version) : Promise.resolve(undefined))).then(
      (instance) => {
        v.launches.delete(launch);
        if (instance) this.#arrived(v, instance, true);
        return instance;
      },
      (error: unknown) => {
        v.launches.delete(launch);
        v.failedAt = Date.now();
        // Nothing else can serve the waiters: they fail with the start's error (e.g. STARTUP_EXCEEDED).
        if (v.live === 0 && v.launches.size === 0) for (const w of v.waiting.splice(0)) w.reject(error);
        throw error;
      },
    );
    v.launches.add(launch);
    launch.catch(() => undefined);
    return launch;
  }

  /** Whether `v` still wants one more instance: invocations wait, or demand, provisioning or the autoscaler ask for more. */
  #stillNeeded(v: VersionInstances): boolean {
    const live = v.live;
    return v.waiting.length > 0 || (!v.retired && (live < v.provisioned || live < Math.ceil(v.demand / v.version.limits.concurrency) || live < v.target));
  }

  /** A loaded instance joins `v`: the longest waiters take its slots. */
  #arrived(v: VersionInstances, instance: Instance, cold: boolean): void {
    v.instances.push(instance);
    const concurrency = v.version.limits.concurrency;
    while (v.waiting.length > 0 && instance.occupancy < concurrency) {
      instance.claim();
      (v.waiting.shift() as SlotWaiter).resolve({ instance, cold });
    }
    if (v.retired && instance.occupancy === 0) void instance.terminate();
  }

  /** Starts instances, in parallel, until `v` has (or is starting) `target`, within its cap. */
  #scaleTo(v: VersionInstances, target: number): void {
    const want = Math.min(target, v.cap);
    for (let n = v.live + v.launches.size; n < want; n++) this.#launch(v);
  }

  /** Admits the invocation (reserved or shared concurrency), then finds it an instance slot. */
  async #acquire(key: string, options: InvokeOptions | undefined): Promise<{ v: VersionInstances; instance: Instance; cold: boolean; startMs: number }> {
    const v = this.#versions.get(key);
    if (!v) throw new InvocationError('VERSION_GONE', `version ${key} is not deployed on this node`, { status: 503 });
    const limits = v.version.limits;
    const admitted = this.#gate.enter(v.version.functionName, options?.queueTimeoutMs ?? limits.queueTimeoutMs ?? 0, limits.maxQueued ?? DEFAULT_MAX_QUEUED);
    if (admitted) await admitted;
    v.demand++;
    const warm = this.#pick(v);
    if (warm) {
      warm.claim();
      return { v, instance: warm, cold: false, startMs: 0 };
    }
    const started = performance.now();
    try {
      for (;;) {
        // Every instance is full: start what the demand needs (this invocation included).
        this.#scaleTo(v, Math.ceil(v.demand / limits.concurrency));
        const granted = await new Promise<Granted | undefined>((resolve, reject) => v.waiting.push({ resolve, reject }));
        if (granted) return { v, instance: granted.instance, cold: granted.cold, startMs: granted.cold ? performance.now() - started : 0 };
        const free = this.#pick(v);
        if (free) {
          free.claim();
          return { v, instance: free, cold: false, startMs: 0 };
        }
      }
    } catch (error) {
      this.#release(v);
      throw error;
    }
  }

  #pick(v: VersionInstances): Instance | undefined {
    let best: Instance | undefined;
    for (const i of v.instances) {
      if (!i.alive || i.occupancy >= v.version.limits.concurrency) continue;
      if (!best || i.occupancy < best.occupancy) best = i;
    }
    return best;
  }

  /** One admitted invocation of `v` is over (or never got an instance). */
  #release(v: VersionInstances): void {
    v.demand--;
    this.#gate.leave(v.version.functionName);
  }

  /**
   * Runs an HTTP invocation of `key`; the response goes to `sink`. Rejects with THROTTLED
   * (429) when the function is at its concurrency cap and may not (or did not in time) wait.
   */
  async http(key: string, message: Omit<HttpMessage, 't' | 'id' | 'deadline'>, sink: HttpSink, options?: InvokeOptions): Promise<{ ref: InvocationRef; record: Promise<InvocationRecord> }> {
    const { v, instance, cold, startMs } = await this.#acquire(key, options);
    const deadline = Date.now() + v.version.limits.wallMs;
    const { id, finished } = instance.http({ ...message, deadline }, sink);
    return { ref: { instance: instance.id, id }, record: this.#record(v, instance, cold, startMs, finished) };
  }

  /** Runs an event invocation (cron, queue, direct invoke) and resolves with its result; throttles as {@link http}. */
  async event(key: string, kind: EventKind, payload: unknown, requestId: string, options?: InvokeOptions): Promise<{ result: unknown; record: InvocationRecord }> {
    const { v, instance, cold, startMs } = await this.#acquire(key, options);
    const { result, finished } = instance.event(kind, payload, requestId, Date.now() + v.version.limits.wallMs);
    const record = this.#record(v, instance, cold, startMs, finished);
    return { result: await result, record: await record };
  }

  /** Live instances of a version on this node, the invocations they are running, and how many are provisioned. */
  stats(key: string): VersionStats {
    const v = this.#versions.get(key);
    if (!v) return { instances: 0, inFlight: 0, provisioned: 0 };
    const live = v.instances.filter((i) => i.alive);
    return { instances: live.length, inFlight: live.reduce((n, i) => n + i.inFlight, 0), provisioned: v.provisioned };
  }

  /** The client went away: abort the function's request.signal. */
  abort(ref: InvocationRef, reason: string): void {
    for (const v of this.#versions.values()) for (const i of v.instances) if (i.id === ref.instance) i.abort(ref.id, reason);
  }

  #record(v: VersionInstances, instance: Instance, cold: boolean, startMs: number, finished: Promise<InvocationUsage>): Promise<InvocationRecord> {
    return finished.then(async (usage) => {
      this.#release(v);
      // The slot is free: the longest-waiting invocation takes it.
      const next = v.waiting.shift();
      if (next) {
        if (instance.alive && instance.occupancy < v.version.limits.concurrency) {
          instance.claim();
          next.resolve({ instance, cold: false });
        } else next.resolve(undefined);
      } else if (v.retired && instance.inFlight === 0 && instance.occupancy === 0) void instance.terminate(); // retired while this ran
      const maxMemoryMB = await this.#memoryMb(instance);
      return {
        function: v.version.functionName,
        version: v.version.version,
        instance: instance.id,
        coldStart: cold,
        startMs,
        cpuMs: usage.cpuMicros / 1000,
        subrequests: usage.subrequests,
        maxMemoryMB,
      };
    });
  }

  /**
   * An invocation's peak memory, approximated by the instance's heap + external memory right
   * after it ends (a sample younger than 50 ms is reused). 0 when the instance is gone.
   */
  async #memoryMb(instance: Instance): Promise<number> {
    const now = Date.now();
    const last = this.#memory.get(instance);
    if (last && now - last.at < 50) return last.mb;
    const mb = Math.ceil((await instance.memoryBytes().catch(() => 0)) / (1024 * 1024));
    this.#memory.set(instance, { at: now, mb });
    return mb;
  }

  /**
   * The autoscaler's view of `v` now: starts instances ahead of demand when the windows ask for
   * more than there are (only while there is demand, so a version scaled to zero stays there),
   * and says how many to keep.
   */
  #autoscale(v: VersionInstances, now: number): { keep: number; panicking: boolean } {
    v.scaler.sample(now, v.demand);
    const live = v.live;
    const d = v.scaler.decide(now, live, v.version.limits.concurrency);
    const want = Math.min(v.cap, Math.max(d.desired, v.provisioned));
    v.target = v.demand > 0 ? want : 0;
    if (v.demand > 0 && want > live + v.launches.size && now - v.failedAt >= START_FAILURE_BACKOFF_MS) this.#scaleTo(v, want);
    return { keep: Math.max(want, v.provisioned, 1), panicking: d.panicking };
  }

  /** Watchdog: charges CPU to in-flight invocations, ends the ones past a limit, scales, evicts idle instances. */
  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = Date.now();
      // Idle instances are looked at once a second: timers left running after a response
      // can still burn CPU or allocate.
      const sweep = now - this.#lastSweep >= 1000;
      if (sweep) this.#lastSweep = now;
      for (const v of this.#versions.values()) {
        const { keep, panicking } = this.#autoscale(v, now);
        let live = v.live;
        for (const instance of [...v.instances]) {
          if (!instance.alive) continue;
          if (instance.inFlight === 0 && instance.occupancy === 0) {
            const idleFor = now - instance.idleSince;
            // Provisioned instances never stop for idleness; beyond them, the last ones stop
            // after idle_timeout_s, and ones the autoscaler does not want stop sooner.
            const evict = live > v.provisioned && (idleFor >= v.version.limits.idleMs || (!panicking && live > keep && idleFor >= EXCESS_IDLE_MS));
            if (evict) {
              this.#watched.delete(instance);
              v.instances.splice(v.instances.indexOf(instance), 1);
              live--;
              void instance.terminate();
            } else if (sweep) await this.#watchIdle(instance, v.version.limits, now);
            continue;
          }
          await this.#watch(instance, v.version.limits, now);
        }
      }
    } finally {
      this.#ticking = false;
    }
  }

  /** Memory over the limit (heap + ArrayBuffers) stops the instance, busy or not. */
  async #overMemory(instance: Instance, limits: Limits): Promise<boolean> {
    const bytes = await instance.memoryBytes().catch(() => 0);
    if (bytes <= limits.memoryMb * 1024 * 1024) return false;
    await instance.terminate('EXCEEDED_MEMORY');
    return true;
  }

  async #watchIdle(instance: Instance, limits: Limits, now: number): Promise<void> {
    if (await this.#overMemory(instance, limits)) return;
    const cpu = await instance.cpuMicros().catch(() => undefined);
    if (cpu === undefined) return;
    const w = this.#watched.get(instance);
    this.#watched.set(instance, { lastCpu: cpu, lastAt: now, oldestStart: 0, charged: 0 });
    // More than half a core while nothing is in flight: background work that nobody waits for.
    if (w && now > w.lastAt && (cpu - w.lastCpu) / 1000 > 0.5 * (now - w.lastAt)) await instance.terminate('EXCEEDED_CPU');
  }

  async #watch(instance: Instance, limits: Limits, now: number): Promise<void> {
    if (await this.#overMemory(instance, limits)) return;
    const cpu = await instance.cpuMicros().catch(() => undefined);
    if (cpu === undefined || !instance.alive) return;
    let w = this.#watched.get(instance);
    if (!w || now - w.lastAt > 2 * this.#watchdogMs) {
      w = { lastCpu: cpu, lastAt: now, oldestStart: 0, charged: 0 };
      this.#watched.set(instance, w);
      return;
    }
    const delta = cpu - w.lastCpu;
    w.lastCpu = cpu;
    w.lastAt = now;
    const expired = instance.expired(now);
    const share = delta / Math.max(1, instance.inFlight);
    let overCpu = false;
    const oldest = instance.oldest();
    if (oldest) {
      // Charge the oldest invocation its share of the thread's CPU. Steady traffic keeps
      // replacing the oldest invocation (and resets the charge); a runaway one never leaves.
      if (oldest.startedAt !== w.oldestStart) {
        w.oldestStart = oldest.startedAt;
        w.charged = 0;
      }
      w.charged += share;
      overCpu = w.charged / 1000 > limits.cpuMs;
    }
    if (overCpu) {
      await instance.terminate('EXCEEDED_CPU');
      return;
    }
    if (expired.length > 0) {
      // A blocked event loop cannot be asked to stop: if the instance spent the last tick on
      // CPU, it is stuck, so stop it; otherwise end only the late invocations.
      const busy = delta >= 0.8 * 1000 * this.#watchdogMs;
      if (busy) await instance.terminate('TIMEOUT');
      else for (const id of expired) instance.failInvocation(id, 'TIMEOUT');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    const all = [...this.#versions.values()].flatMap((v) => v.instances);
    this.#versions.clear();
    await Promise.all(all.map((i) => i.terminate()));
  }
}

export { limitError };
