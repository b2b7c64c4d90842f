/**
 * @module
 * Dispatch: the one place that decides which instance runs an invocation, whatever triggered
 * it. Per version it keeps warm instances (module state survives between invocations), starts
 * new ones from the blank pool when all are at their concurrency, stops idle ones (scale to
 * zero) and enforces the CPU and wall-time limits with a watchdog over busy instances.
 */
import { DEFAULT_LIMITS } from '../project/spec.ts';
import type { Limits } from '../project/spec.ts';
import { Instance, InvocationError, limitError } from '../runtime/instance.ts';
import type { HttpSink, InstanceHooks, InvocationUsage } from '../runtime/instance.ts';
import type { EventKind, HttpMessage, LimitCode, LoadMessage, LogLevel } from '../runtime/protocol.ts';
import { BlankPool } from './blank-pool.ts';

export { BlankPool } from './blank-pool.ts';

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
}

export interface DispatchHooks {
  log(fn: string, version: number, requestId: string | undefined, level: LogLevel, message: string): void;
  /** A limit stopped an instance (for logs and metrics). */
  limit(fn: string, version: number, code: LimitCode): void;
}

interface InvocationRef {
  instance: number;
  id: number;
}

class VersionInstances {
  readonly version: RunnableVersion;
  readonly instances: Instance[] = [];
  starting: Promise<Instance> | undefined;
  /** Invocations waiting for a free instance (all at capacity, no more may start). */
  readonly waiting: Array<() => void> = [];
  retired = false;
  constructor(version: RunnableVersion) {
    this.version = version;
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
}

export class Dispatcher {
  readonly #versions = new Map<string, VersionInstances>();
  readonly #blanks: BlankPool;
  readonly #hooks: DispatchHooks;
  readonly #watched = new Map<Instance, Watched>();
  readonly #timer: NodeJS.Timeout;
  readonly #watchdogMs: number;
  #ticking = false;
  #lastSweep = 0;

  constructor(options: DispatcherOptions) {
    this.#blanks = options.blanks;
    this.#hooks = options.hooks;
    this.#watchdogMs = options.watchdogMs ?? 25;
    this.#timer = setInterval(() => void this.#tick(), this.#watchdogMs);
    this.#timer.unref();
  }

  /** Makes a version runnable (idempotent). Instances start on first use. */
  register(version: RunnableVersion): void {
    if (!this.#versions.has(version.key)) this.#versions.set(version.key, new VersionInstances(version));
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
    for (const instance of v.instances) if (instance.inFlight === 0) void instance.terminate();
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
    if (v && instance.alive) v.instances.push(instance);
    else void instance.terminate();
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
          // Capacity freed: waiters start a new instance or take a free slot.
          for (const wake of v.waiting.splice(0)) wake();
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

  /** Picks a warm instance with room, or starts one. */
  async #acquire(key: string): Promise<{ instance: Instance; cold: boolean; startMs: number }> {
    const v = this.#versions.get(key);
    if (!v) throw new InvocationError('VERSION_GONE', `version ${key} is not deployed on this node`, { status: 503 });
    const started = performance.now();
    let cold = false;
    for (;;) {
      const warm = this.#pick(v);
      if (warm) {
        warm.claim();
        return { instance: warm, cold, startMs: cold ? performance.now() - started : 0 };
      }
      const live = v.instances.filter((i) => i.alive).length;
      if (!v.starting && live >= (v.version.limits.maxInstances ?? DEFAULT_LIMITS.maxInstances)) {
        await new Promise<void>((resolve) => v.waiting.push(resolve));
        continue;
      }
      cold = true;
      if (!v.starting) {
        v.starting = this.#start(v.version).then(
          (instance) => {
            v.instances.push(instance);
            v.starting = undefined;
            return instance;
          },
          (error: unknown) => {
            v.starting = undefined;
            throw error;
          },
        );
      }
      await v.starting;
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

  /** Runs an HTTP invocation of `key`; the response goes to `sink`. */
  async http(key: string, message: Omit<HttpMessage, 't' | 'id' | 'deadline'>, sink: HttpSink): Promise<{ ref: InvocationRef; record: Promise<InvocationRecord> }> {
    const { instance, cold, startMs } = await this.#acquire(key);
    const v = this.#versions.get(key);
    const limits = v?.version.limits;
    const deadline = Date.now() + (limits?.wallMs ?? 60_000);
    const { id, finished } = instance.http({ ...message, deadline }, sink);
    return { ref: { instance: instance.id, id }, record: this.#record(v, instance, cold, startMs, finished) };
  }

  /** Runs an event invocation (cron, queue, direct invoke) and resolves with its result. */
  async event(key: string, kind: EventKind, payload: unknown, requestId: string): Promise<{ result: unknown; record: InvocationRecord }> {
    const { instance, cold, startMs } = await this.#acquire(key);
    const limits = this.#versions.get(key)?.version.limits;
    const { result, finished } = instance.event(kind, payload, requestId, Date.now() + (limits?.wallMs ?? 60_000));
    const record = this.#record(this.#versions.get(key), instance, cold, startMs, finished);
    return { result: await result, record: await record };
  }

  /** Live instances of a version on this node and the invocations they are running. */
  stats(key: string): { instances: number; inFlight: number } {
    const v = this.#versions.get(key);
    if (!v) return { instances: 0, inFlight: 0 };
    const live = v.instances.filter((i) => i.alive);
    return { instances: live.length, inFlight: live.reduce((n, i) => n + i.inFlight, 0) };
  }

  /** The client went away: abort the function's request.signal. */
  abort(ref: InvocationRef, reason: string): void {
    for (const v of this.#versions.values()) for (const i of v.instances) if (i.id === ref.instance) i.abort(ref.id, reason);
  }

  #record(v: VersionInstances | undefined, instance: Instance, cold: boolean, startMs: number, finished: Promise<InvocationUsage>): Promise<InvocationRecord> {
    return finished.then((usage) => {
      v?.waiting.shift()?.(); // a slot is free: the longest-waiting invocation takes it
      if (v?.retired && instance.inFlight === 0) void instance.terminate(); // retired while this ran
      return {
        function: v?.version.functionName ?? '',
        version: v?.version.version ?? 0,
        instance: instance.id,
        coldStart: cold,
        startMs,
        cpuMs: usage.cpuMicros / 1000,
        subrequests: usage.subrequests,
      };
    });
  }

  /** Watchdog: charges CPU to in-flight invocations, ends the ones past a limit, evicts idle instances. */
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
        for (const instance of [...v.instances]) {
          if (!instance.alive) continue;
          if (instance.inFlight === 0) {
            if (now - instance.idleSince >= v.version.limits.idleMs) {
              this.#watched.delete(instance);
              v.instances.splice(v.instances.indexOf(instance), 1);
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
