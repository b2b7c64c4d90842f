/**
 * @module
 * Concurrent invocations per function across its versions, carved from the node's total as
 * AWS carves reserved concurrency from an account's: a function with a reservation may run at
 * most that many invocations at once and always has that many available; functions without
 * one share what is left (the total minus every reservation). Reservations may not eat into
 * the last {@link UNRESERVED_MIN} of the total, so unreserved functions can always run.
 *
 * An invocation over its function's cap either waits in a bounded FIFO queue (when the
 * function sets `queueTimeoutMs`) or is refused at once with `THROTTLED` (HTTP 429, with a
 * retry hint). Admission is a map lookup and two counters, so the request path stays cheap;
 * waiting costs a timer only for invocations that actually wait.
 */
import { OutpostError } from '../errors.ts';

/** Concurrency kept for unreserved functions, as AWS keeps 100 of an account's. */
export const UNRESERVED_MIN = 100;
/** The node's total when `--max-concurrency` is not given (an AWS account's default). */
export const DEFAULT_TOTAL_CONCURRENCY = 1000;
/** Seconds a throttled caller is told to wait before retrying (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 1;

interface Waiter {
  resolve(): void;
  timer: NodeJS.Timeout | undefined;
  state: FunctionState;
}

interface FunctionState {
  name: string;
  reserved: number | undefined;
  running: number;
  queued: number;
}

/**
 * THROTTLED for `fn`; `where` says which cap was full. `details.reason` is the cap in AWS's
 * words (TooManyRequestsException's Reason), for the Lambda API.
 */
function throttled(s: FunctionState, where: string): OutpostError {
  const fn = s.name;
  const reason = s.reserved === undefined ? 'ConcurrentInvocationLimitExceeded' : 'ReservedFunctionConcurrentInvocationLimitExceeded';
  return new OutpostError('THROTTLED', `${fn} is throttled: ${where}`, {
    status: 429,
    fault: 'user',
    hint: 'retry after the Retry-After delay, raise limits.reserved_concurrency (or the node\'s --max-concurrency), or set limits.queue_timeout_ms so invocations wait for a slot',
    details: { function: fn, reason, retryAfterSeconds: RETRY_AFTER_SECONDS },
  });
}

export class ConcurrencyGate {
  readonly total: number;
  readonly #fns = new Map<string, FunctionState>();
  #reservedSum = 0;
  /** Invocations of unreserved functions running now. */
  #shared = 0;
  /** Waiters of reserved functions, per function; of unreserved ones, one FIFO for the shared pool. */
  readonly #reservedWaiting = new Map<FunctionState, Waiter[]>();
  readonly #sharedWaiting: Waiter[] = [];

  constructor(total = DEFAULT_TOTAL_CONCURRENCY) {
    if (!Number.isInteger(total) || total < UNRESERVED_MIN) {
      throw new OutpostError('BAD_MAX_CONCURRENCY', `the node's total concurrency must be a whole number of at least ${UNRESERVED_MIN}, got ${total}`, {
        fault: 'user',
        hint: `start the node with --max-concurrency ${DEFAULT_TOTAL_CONCURRENCY} (or any whole number ≥ ${UNRESERVED_MIN})`,
      });
    }
    this.total = total;
  }

  /** Concurrency unreserved functions share now. */
  get unreserved(): number {
    return this.total - this.#reservedSum;
  }

  #state(fn: string): FunctionState {
    let s = this.#fns.get(fn);
    if (!s) {
      s = { name: fn, reserved: undefined, running: 0, queued: 0 };
      this.#fns.set(fn, s);
    }
    return s;
  }

  /**
   * Throws RESERVED_CONCURRENCY_EXCEEDED when giving `fn` a reservation of `reserved` (with the
   * other reservations in `pending` standing too) would leave fewer than UNRESERVED_MIN
   * unreserved. Changes nothing.
   */
  check(fn: string, reserved: number | undefined, pending: ReadonlyMap<string, number> = new Map()): void {
    if (reserved === undefined) return;
    let others = 0;
    for (const s of this.#fns.values()) if (s.name !== fn && !pending.has(s.name)) others += s.reserved ?? 0;
    for (const [name, n] of pending) if (name !== fn) others += n;
    const allowed = this.total - UNRESERVED_MIN - others;
    if (reserved > allowed) {
      throw new OutpostError('RESERVED_CONCURRENCY_EXCEEDED', `${fn} asks for a reserved concurrency of ${reserved}, but only ${Math.max(0, allowed)} can be reserved on this node (total ${this.total}, ${others} reserved by other functions, ${UNRESERVED_MIN} kept unreserved)`, {
        status: 400,
        fault: 'user',
        hint: 'lower limits.reserved_concurrency (reservedConcurrency / ReservedConcurrentExecutions), free reservations of other functions, or start the node with a larger --max-concurrency',
        details: { function: fn, reserved, available: Math.max(0, allowed), total: this.total },
      });
    }
  }

  /**
   * Sets (or with undefined, removes) `fn`'s reservation. Does not check it: deploys call
   * {@link check} before anything is live, and a version already deployed keeps serving.
   */
  reserve(fn: string, reserved: number | undefined): void {
    const s = this.#state(fn);
    const queuedBefore = s.reserved === undefined ? this.#sharedWaiting.filter((w) => w.state === s) : (this.#reservedWaiting.get(s) ?? []);
    this.#reservedSum += (reserved ?? 0) - (s.reserved ?? 0);
    // Running invocations move between the shared pool and the reservation with the function.
    if (s.reserved === undefined) this.#shared -= s.running;
    if (reserved === undefined) this.#shared += s.running;
    s.reserved = reserved;
    // Waiters move with the function too, in their order.
    for (const w of queuedBefore) this.#unqueue(w);
    for (const w of queuedBefore) this.#queueOf(s).push(w);
    this.#drain(s);
  }

  #queueOf(s: FunctionState): Waiter[] {
    if (s.reserved === undefined) return this.#sharedWaiting;
    let q = this.#reservedWaiting.get(s);
    if (!q) {
      q = [];
      this.#reservedWaiting.set(s, q);
    }
    return q;
  }

  #unqueue(w: Waiter): void {
    for (const q of [this.#sharedWaiting, this.#reservedWaiting.get(w.state) ?? []]) {
      const at = q.indexOf(w);
      if (at >= 0) q.splice(at, 1);
    }
  }

  #hasRoom(s: FunctionState): boolean {
    return s.reserved === undefined ? this.#shared < this.total - this.#reservedSum : s.running < s.reserved;
  }

  /**
   * Admits one invocation of `fn`: undefined when admitted now, else a promise that resolves
   * once admitted after waiting up to `queueTimeoutMs` (with at most `maxQueued` waiting), or
   * rejects with OutpostError THROTTLED (status 429). Pair every admission with {@link leave}.
   */
  enter(fn: string, queueTimeoutMs: number, maxQueued: number): Promise<void> | undefined {
    const s = this.#fns.get(fn) ?? this.#state(fn);
    const queue = s.reserved === undefined ? this.#sharedWaiting : this.#reservedWaiting.get(s);
    // Arrivals do not overtake invocations already waiting.
    if ((queue === undefined || queue.length === 0) && this.#hasRoom(s)) {
      this.#admit(s);
      return undefined;
    }
    const where = s.reserved === undefined ? `the ${this.total - this.#reservedSum} concurrent invocations unreserved functions share on this node are in use` : `it is at its reserved concurrency of ${s.reserved} (limits.reserved_concurrency)`;
    if (queueTimeoutMs <= 0 || s.queued >= maxQueued) return Promise.reject(throttled(s, where));
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, timer: undefined, state: s };
      w.timer = setTimeout(() => {
        this.#unqueue(w);
        s.queued--;
        reject(throttled(s, `${where}, and no slot freed within limits.queue_timeout_ms (${queueTimeoutMs} ms)`));
      }, queueTimeoutMs);
      s.queued++;
      this.#queueOf(s).push(w);
    });
  }

  #admit(s: FunctionState): void {
    s.running++;
    if (s.reserved === undefined) this.#shared++;
  }

  /** Ends one admitted invocation of `fn`; the longest waiter of its pool takes the slot. */
  leave(fn: string): void {
    const s = this.#fns.get(fn);
    if (!s) return;
    s.running--;
    if (s.reserved === undefined) this.#shared--;
    this.#drain(s);
  }

  #drain(s: FunctionState): void {
    const queue = s.reserved === undefined ? this.#sharedWaiting : this.#reservedWaiting.get(s);
    while (queue && queue.length > 0) {
      const next = queue[0] as Waiter;
      if (!this.#hasRoom(next.state)) return;
      queue.shift();
      clearTimeout(next.timer);
      next.state.queued--;
      this.#admit(next.state);
      next.resolve();
    }
  }

  /** Invocations of `fn` running (admitted) and waiting for admission. */
  usage(fn: string): { running: number; queued: number; reserved: number | undefined } {
    const s = this.#fns.get(fn);
    return { running: s?.running ?? 0, queued: s?.queued ?? 0, reserved: s?.reserved };
  }
}
