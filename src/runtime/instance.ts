/**
 * @module
 * The host side of one instance: a worker thread that runs one function version. It speaks
 * the protocol in protocol.ts, enforces the limits the host can see (startup time, memory via
 * V8's heap limit, crashes) and turns each invocation's messages into calls on a sink the
 * gateway or an event source provides. CPU and wall limits are applied by dispatch, which
 * watches every busy instance.
 */
import { Worker } from 'node:worker_threads';
import { Batcher, decode } from './batcher.ts';
import { workerEntry } from './worker-entry.ts';
import type { Packet } from './batcher.ts';
import { OutpostError } from '../errors.ts';
import type { EventKind, HostToInstance, HttpMessage, InstanceToHost, LimitCode, LoadMessage, LogLevel, Usage, WireError } from './protocol.ts';


/** Where an HTTP invocation's response goes. */
export interface HttpSink {
  /** Next request body chunk, or null at the end. */
  pull(): Promise<Uint8Array | null>;
  head(status: number, headers: string[], body: Uint8Array | null, more: boolean): void;
  /** Resolves when the chunk has been handed to the socket (the instance may send more). */
  chunk(data: Uint8Array): Promise<void>;
  end(): void;
  fail(error: InvocationError): void;
}

/** Why an invocation failed: the function threw, or a limit or crash ended it. */
export class InvocationError extends OutpostError {
  readonly userError: WireError | undefined;
  readonly passThrough: boolean;
  constructor(code: string, message: string, options: { userError?: WireError; status?: number; passThrough?: boolean } = {}) {
    super(code, message, { status: options.status ?? 500, fault: 'user' });
    this.userError = options.userError;
    this.passThrough = options.passThrough ?? false;
  }
}

const LIMIT_STATUS: Record<LimitCode, number> = {
  EXCEEDED_CPU: 503,
  EXCEEDED_MEMORY: 503,
  TIMEOUT: 504,
  STARTUP_EXCEEDED: 503,
  INSTANCE_CRASHED: 502,
};

const LIMIT_MESSAGE: Record<LimitCode, string> = {
  EXCEEDED_CPU: 'the function exceeded its CPU time limit',
  EXCEEDED_MEMORY: 'the function exceeded its memory limit',
  TIMEOUT: 'the function did not finish within its wall-time limit',
  STARTUP_EXCEEDED: 'the function\'s startup (top-level module code) exceeded its time limit',
  INSTANCE_CRASHED: 'the function\'s instance stopped unexpectedly',
};

export function limitError(code: LimitCode): InvocationError {
  return new InvocationError(code, LIMIT_MESSAGE[code], { status: LIMIT_STATUS[code] });
}

export type InvocationUsage = Usage;

interface Pending {
  id: number;
  requestId: string;
  startedAt: number;
  deadline: number;
  sink?: HttpSink;
  resolveResult?: (value: unknown) => void;
  rejectResult?: (error: InvocationError) => void;
  /** Settles when the instance reports `done` (waitUntil work finished) or the invocation dies. */
  finished: PromiseWithResolvers<InvocationUsage>;
  responded: boolean;
}

export interface InstanceHooks {
  rpc(invocation: number, binding: string, method: string, args: unknown[]): Promise<unknown>;
  /** A console line from the function; requestId is undefined for output outside an invocation. */
  log(requestId: string | undefined, level: LogLevel, message: string): void;
  /** The instance is gone (terminated, crashed, out of memory). */
  exited(instance: Instance, code: LimitCode | undefined): void;
}

export interface InstanceOptions {
  memoryMb: number;
}

let nextInstanceId = 0;

export class Instance {
  readonly id = ++nextInstanceId;
  readonly memoryMb: number;
  readonly #worker: Worker;
  readonly #out: Batcher<HostToInstance>;
  readonly #pending = new Map<number, Pending>();
  readonly #ready = Promise.withResolvers<void>();
  #loading: PromiseWithResolvers<void> | undefined;
  #hooks: InstanceHooks | undefined;
  #seq = 0;
  #claims = 0;
  #exitCode: LimitCode | undefined;
  #alive = true;
  /** When the instance last had no work (for idle eviction). */
  idleSince = Date.now();
  loadedAt = 0;

  constructor(options: InstanceOptions) {
    this.memoryMb = options.memoryMb;
    this.#worker = new Worker(workerEntry(), {
      env: {},
      stdout: false,
      stderr: false,
      resourceLimits: { maxOldGenerationSizeMb: options.memoryMb, maxYoungGenerationSizeMb: Math.min(32, Math.max(4, Math.floor(options.memoryMb / 4))), stackSizeMb: 4 },
    });
    this.#out = new Batcher((batch, transfer) => {
      if (this.#alive) this.#worker.postMessage(batch, transfer as never);
    });
    this.#worker.on('message', (packet: Packet) => {
      for (const m of decode<InstanceToHost>(packet)) this.#onMessage(m);
    });
    this.#worker.on('error', (error: Error & { code?: string }) => {
      if (process.env['OUTPOST_DEBUG']) console.error('instance error', error);
      this.#exitCode ??= error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'EXCEEDED_MEMORY' : 'INSTANCE_CRASHED';
      this.#ready.reject(error);
    });
    this.#worker.on('exit', () => this.#onExit());
    this.#worker.unref();
    this.#ready.promise.catch(() => undefined);
  }

  /** Resolves once the blank isolate is warm and waiting for a version. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  get alive(): boolean {
    return this.#alive;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  /** Invocations running or promised to this instance (a claim is taken before the message goes). */
  get occupancy(): number {
    return this.#pending.size + this.#claims;
  }

  /**
   * Reserves a slot for an invocation about to be sent. Dispatch picks an instance and sends
   * the invocation in different turns; without a claim, every caller resuming in between would
   * see the same free slot.
   */
  claim(): void {
    this.#claims++;
  }

  /** The oldest in-flight invocation's start and deadline, for the watchdog. */
  oldest(): { startedAt: number; deadline: number } | undefined {
    let oldest: Pending | undefined;
    for (const p of this.#pending.values()) if (!oldest || p.startedAt < oldest.startedAt) oldest = p;
    return oldest ? { startedAt: oldest.startedAt, deadline: oldest.deadline } : undefined;
  }

  /** Invocations whose deadline has passed. */
  expired(now: number): number[] {
    const out: number[] = [];
    for (const p of this.#pending.values()) if (p.deadline <= now) out.push(p.id);
    return out;
  }

  /** V8 heap in use plus memory outside it (ArrayBuffers), in bytes. */
  async memoryBytes(): Promise<number> {
    const h = await this.#worker.getHeapStatistics();
    return h.used_heap_size + h.external_memory;
  }

  /** Thread CPU time used by this instance so far, in µs. */
  async cpuMicros(): Promise<number> {
    const usage = await this.#worker.cpuUsage();
    return usage.user + usage.system;
  }

  /**
   * Loads a version into this (blank) instance. Rejects with the user's error (source-mapped
   * stack) when the module throws or lacks its handler, and with STARTUP_EXCEEDED — after
   * terminating the instance — when top-level code runs past `startupMs`.
   */
  async load(message: LoadMessage, hooks: InstanceHooks, startupMs: number): Promise<void> {
    await this.#ready.promise;
    this.#hooks = hooks;
    this.#loading = Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      this.#exitCode = 'STARTUP_EXCEEDED';
      this.#loading?.reject(limitError('STARTUP_EXCEEDED'));
      void this.terminate('STARTUP_EXCEEDED');
    }, startupMs);
    this.#post(message);
    try {
      await this.#loading.promise;
      this.loadedAt = Date.now();
    } finally {
      clearTimeout(timer);
      this.#loading = undefined;
    }
  }

  /** Starts an HTTP invocation; the response goes to `sink`. Resolves with usage when fully done. */
  http(message: Omit<HttpMessage, 't' | 'id'>, sink: HttpSink): { id: number; finished: Promise<InvocationUsage> } {
    const id = ++this.#seq;
    const pending = this.#track(id, message.requestId, message.deadline);
    pending.sink = sink;
    this.#post({ t: 'http', id, ...message });
    return { id, finished: pending.finished.promise };
  }

  /** Runs a non-HTTP invocation; resolves with the handler's result. */
  event(kind: EventKind, payload: unknown, requestId: string, deadline: number): { result: Promise<unknown>; finished: Promise<InvocationUsage> } {
    const id = ++this.#seq;
    const pending = this.#track(id, requestId, deadline);
    const result = new Promise<unknown>((resolve, reject) => {
      pending.resolveResult = resolve;
      pending.rejectResult = reject;
    });
    this.#post({ t: 'event', id, requestId, kind, payload, deadline });
    return { result, finished: pending.finished.promise };
  }

  /** Tells the function the client went away or a limit was hit (aborts request.signal). */
  abort(id: number, reason: string): void {
    if (this.#pending.has(id)) this.#post({ t: 'abort', id, reason });
  }

  /** Ends one invocation with a limit error without stopping the instance. */
  failInvocation(id: number, code: LimitCode): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.abort(id, LIMIT_MESSAGE[code]);
    this.#settle(p, limitError(code));
  }

  /** Stops the thread; every in-flight invocation fails with `code` (default INSTANCE_CRASHED). */
  async terminate(code?: LimitCode): Promise<void> {
    if (code) this.#exitCode ??= code;
    if (!this.#alive) return;
    await this.#worker.terminate();
  }

  #track(id: number, requestId: string, deadline: number): Pending {
    if (this.#claims > 0) this.#claims--;
    // `finished` only ever resolves (a failed invocation still reports its usage), so it needs no catch.
    const pending: Pending = { id, requestId, startedAt: Date.now(), deadline, finished: Promise.withResolvers<InvocationUsage>(), responded: false };
    this.#pending.set(id, pending);
    return pending;
  }

  #post(message: HostToInstance, transfer?: Transferable[]): void {
    if (this.#alive) this.#out.post(message, transfer);
  }

  /** Fails an invocation that has not answered yet; `finished` resolves so callers can meter it. */
  #settle(p: Pending, error: InvocationError): void {
    if (!p.responded) {
      p.responded = true;
      p.sink?.fail(error);
      p.rejectResult?.(error);
    }
    this.#pending.delete(p.id);
    p.finished.resolve({ cpuMicros: 0, subrequests: 0 });
    if (this.#pending.size === 0) this.idleSince = Date.now();
  }

  #onMessage(m: InstanceToHost): void {
    switch (m.t) {
      case 'ready':
        this.#ready.resolve();
        return;
      case 'loaded':
        this.#loading?.resolve();
        return;
      case 'load-error':
        this.#loading?.reject(new InvocationError(m.error.code === 'INVALID_HANDLER' ? 'INVALID_HANDLER' : 'STARTUP_FAILED', m.error.message, { userError: m.error }));
        return;
      case 'log':
        this.#hooks?.log(this.#pending.get(m.invocation)?.requestId, m.level, m.message);
        return;
      case 'rpc':
        this.#rpc(m.callId, m.invocation, m.binding, m.method, m.args);
        return;
    }
    const p = this.#pending.get(m.id);
    if (!p) return;
    switch (m.t) {
      case 'pull':
        p.sink?.pull().then(
          (chunk) => this.#post(chunk === null ? { t: 'req-end', id: m.id } : { t: 'req-chunk', id: m.id, data: chunk }),
          (error: Error) => this.#post({ t: 'req-error', id: m.id, message: error.message }),
        );
        return;
      case 'head':
        if (!p.responded) {
          p.sink?.head(m.status, m.headers, m.body, m.more);
          if (!m.more) p.responded = true;
        }
        if (m.done) this.#done(p, m.done);
        return;
      case 'chunk':
        if (p.responded) return;
        p.sink?.chunk(m.data).then(() => this.#post({ t: 'ack', id: m.id }), () => this.abort(m.id, 'client went away'));
        return;
      case 'end':
        if (!p.responded) p.sink?.end();
        p.responded = true;
        return;
      case 'result':
        p.responded = true;
        p.resolveResult?.(m.value);
        return;
      case 'error':
        if (!p.responded) {
          p.responded = true;
          const error = new InvocationError('FUNCTION_THREW', m.error.message, { userError: m.error, passThrough: m.passThrough ?? false });
          p.sink?.fail(error);
          p.rejectResult?.(error);
        }
        return;
      case 'done':
        if (!p.responded) {
          p.responded = true;
          p.sink?.fail(new InvocationError('NO_RESPONSE', 'the function finished without responding'));
          p.rejectResult?.(new InvocationError('NO_RESPONSE', 'the function finished without a result'));
        }
        this.#done(p, m);
        return;
    }
  }

  #done(p: Pending, usage: Usage): void {
    this.#pending.delete(p.id);
    p.finished.resolve({ cpuMicros: usage.cpuMicros, subrequests: usage.subrequests });
    if (this.#pending.size === 0) this.idleSince = Date.now();
  }

  #rpc(callId: number, invocation: number, binding: string, method: string, args: unknown[]): void {
    const hooks = this.#hooks;
    if (!hooks) return;
    hooks.rpc(invocation, binding, method, args).then(
      (value) => this.#post({ t: 'rpc-result', callId, value }),
      (error: Error & { code?: string }) =>
        this.#post({ t: 'rpc-error', callId, error: { name: error.name === 'OutpostError' ? 'Error' : error.name, message: error.message, ...(error.code ? { code: error.code } : {}) } }),
    );
  }

  #onExit(): void {
    this.#alive = false;
    const code = this.#exitCode ?? 'INSTANCE_CRASHED';
    this.#ready.reject(limitError(code));
    this.#loading?.reject(limitError(code));
    for (const p of [...this.#pending.values()]) this.#settle(p, limitError(code));
    this.#hooks?.exited(this, this.#exitCode);
  }
}
