/**
 * @module
 * Deterministic test doubles for the engine: a virtual clock whose time only moves when every
 * pending piece of work is waiting on a timer, and a host that runs scripted task handlers.
 * Used by this folder's tests and exported for whoever wires the engine to real dispatch.
 */

import { TaskFailure } from './failure.ts';
import type { TaskRequest, WorkflowHost } from './host.ts';
import type { StateMachineDefinition } from './definition.ts';
import type { HistoryEvent } from './history.ts';
import { runExecution } from './interpreter.ts';
import type { ExecutionResult } from './interpreter.ts';

interface Timer {
  at: number;
  resolve: () => void;
}

/**
 * Virtual time. `sleepUntil` registers a timer; after the current macrotask (by which point
 * all promise work has settled) the clock jumps to the earliest timer and fires it. So waits
 * and backoffs complete instantly in real time while their virtual durations stay exact.
 * Caveat: a task handler waiting on real I/O (not on this clock) looks idle, so virtual time
 * may run ahead to the next timer (e.g. a Task timeout) meanwhile.
 */
export class VirtualClock {
  #now: number;
  #timers: Timer[] = [];
  #scheduled = false;
  /** Every sleepUntil target, in call order (for asserting exact delays). */
  readonly sleeps: number[] = [];

  constructor(start = Date.UTC(2024, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward (e.g. to simulate a process restart much later). */
  advance(ms: number): void {
    this.#now += ms;
  }

  sleepUntil(epochMs: number, signal: AbortSignal): Promise<void> {
    this.sleeps.push(epochMs);
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer: Timer = {
        at: epochMs,
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#timers.length === 0) return;
      const earliest = Math.min(...this.#timers.map((t) => t.at));
      this.#now = Math.max(this.#now, earliest);
      const due = this.#timers.filter((t) => t.at <= this.#now);
      this.#timers = this.#timers.filter((t) => t.at > this.#now);
      for (const timer of due) timer.resolve();
      if (this.#timers.length > 0) this.#schedule();
    });
  }
}

export type TaskHandler = (input: unknown, request: TaskRequest) => unknown;

export interface TestHostOptions {
  clock?: VirtualClock;
  /** Handlers by exact resource, or by function name for Lambda ARNs / FunctionName parameters. */
  tasks?: Record<string, TaskHandler>;
  random?: () => number;
}

/** A {@link WorkflowHost} over a virtual clock with scripted tasks; records every call. */
export class TestHost implements WorkflowHost {
  readonly clock: VirtualClock;
  readonly tasks: Record<string, TaskHandler>;
  readonly calls: TaskRequest[] = [];
  #random: () => number;
  #uuids = 0;

  constructor(options: TestHostOptions = {}) {
    this.clock = options.clock ?? new VirtualClock();
    this.tasks = options.tasks ?? {};
    this.#random = options.random ?? (() => 0.5);
  }

  now(): number {
    return this.clock.now();
  }

  sleepUntil(epochMs: number, signal: AbortSignal): Promise<void> {
    return this.clock.sleepUntil(epochMs, signal);
  }

  random(): number {
    return this.#random();
  }

  uuid(): string {
    this.#uuids += 1;
    return `00000000-0000-4000-8000-${String(this.#uuids).padStart(12, '0')}`;
  }

  /** How many times a handler name was invoked. */
  count(name: string): number {
    return this.calls.filter((call) => handlerName(call) === name).length;
  }

  async invokeTask(request: TaskRequest): Promise<unknown> {
    this.calls.push(request);
    const name = handlerName(request);
    const handler = this.tasks[request.resource] ?? this.tasks[name];
    if (handler === undefined) throw new TaskFailure('Lambda.ResourceNotFoundException', `No handler for ${request.resource}`);
    return handler(request.input, request);
  }
}

/** The function name a request targets: the last ARN segment, or Parameters.FunctionName. */
export function handlerName(request: TaskRequest): string {
  const params = request.parameters;
  if (typeof params === 'object' && params !== null && !Array.isArray(params)) {
    const fn = (params as Record<string, unknown>)['FunctionName'];
    if (typeof fn === 'string') return fn.split(':').pop() ?? fn;
  }
  const match = /:function:([^:]+)/.exec(request.resource);
  return match?.[1] ?? request.resource;
}

/** A journal that records events and calls `onAppend` after each write (used to simulate crashes). */
export class RecordingJournal {
  readonly events: HistoryEvent[] = [];
  readonly #onAppend: ((events: HistoryEvent[]) => void) | undefined;

  constructor(onAppend?: (events: HistoryEvent[]) => void) {
    this.#onAppend = onAppend;
  }

  append(events: HistoryEvent[]): Promise<void> {
    this.events.push(...structuredClone(events));
    this.#onAppend?.(this.events);
    return Promise.resolve();
  }
}

export interface TestRunOptions extends TestHostOptions {
  host?: TestHost;
  history?: HistoryEvent[];
  signal?: AbortSignal;
  journal?: RecordingJournal;
  executionName?: string;
}

/** Runs a definition on a {@link TestHost} with a recording journal; for tests and examples. */
export async function runWithTestHost(
  definition: StateMachineDefinition | string,
  input: unknown,
  options: TestRunOptions = {},
): Promise<{ result: ExecutionResult; events: HistoryEvent[]; host: TestHost }> {
  const host = options.host ?? new TestHost(options);
  const journal = options.journal ?? new RecordingJournal();
  const name = options.executionName ?? 'test-execution';
  const result = await runExecution({
    definition,
    input,
    context: {
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:test:${name}`,
      executionName: name,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:test',
      stateMachineName: 'test',
      startTime: host.now(),
    },
    host,
    journal,
    ...(options.history === undefined ? {} : { history: options.history }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { result, events: [...(options.history ?? []), ...journal.events], host };
}
