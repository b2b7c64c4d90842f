/**
 * @module
 * The one stream of what functions do on a node: a record per invocation, whatever triggered
 * it, and every console line a function prints. The gateway, event services and dispatch
 * report here; sinks (the terminal logger, the log store, metrics, usage, traces) subscribe.
 * A record is built only when some sink wants records.
 */
import type { LogLevel } from '../runtime/protocol.ts';

export type Trigger = 'http' | 'cron' | 'queue' | 'object' | 'kv' | 'd1' | 'async' | 'workflow' | 'invoke' | 'service';

/**
 * How an invocation ended. `rejected` and `no-route` never reached a function (bad request,
 * unknown path); `throttled` was refused by a concurrency or rate limit.
 */
export type Outcome = 'ok' | 'error' | 'exceeded-cpu' | 'exceeded-memory' | 'timeout' | 'startup-exceeded' | 'throttled' | 'rejected' | 'no-route';

export interface InvocationEvent {
  /** Start of the invocation, epoch ms. */
  time: number;
  requestId: string;
  traceId?: string;
  function?: string;
  version?: number;
  trigger: Trigger;
  method?: string;
  path?: string;
  status: number;
  outcome: Outcome;
  durationMs: number;
  cpuMs?: number;
  coldStart?: boolean;
  /** Time spent starting the instance, when coldStart. */
  startMs?: number;
  /** The function's configured memory (limits.memory_mb), for GB-seconds. */
  memoryMb?: number;
  error?: { code: string; message: string; stack?: string };
}

export interface ConsoleLine {
  time: number;
  function: string;
  version: number;
  requestId: string | undefined;
  level: LogLevel;
  /** Already redacted of the function's secrets. */
  message: string;
}

export interface TelemetrySink {
  invocation?(event: InvocationEvent): void;
  console?(line: ConsoleLine): void;
}

/** Maps a limit or failure code to the outcome it stands for. */
export function outcomeOf(code: string | undefined): Outcome {
  switch (code) {
    case undefined:
      return 'ok';
    case 'EXCEEDED_CPU':
      return 'exceeded-cpu';
    case 'EXCEEDED_MEMORY':
      return 'exceeded-memory';
    case 'TIMEOUT':
      return 'timeout';
    case 'STARTUP_EXCEEDED':
      return 'startup-exceeded';
    case 'THROTTLED':
      return 'throttled';
    default:
      return 'error';
  }
}

export class Telemetry {
  readonly #invocationSinks = new Set<TelemetrySink>();
  readonly #consoleSinks = new Set<TelemetrySink>();

  /** Subscribes a sink; returns the unsubscribe function. */
  add(sink: TelemetrySink): () => void {
    if (sink.invocation) this.#invocationSinks.add(sink);
    if (sink.console) this.#consoleSinks.add(sink);
    return () => {
      this.#invocationSinks.delete(sink);
      this.#consoleSinks.delete(sink);
    };
  }

  /** False when no sink takes invocation records: callers skip building them. */
  get wantsInvocations(): boolean {
    return this.#invocationSinks.size > 0;
  }

  invocation(event: InvocationEvent): void {
    for (const sink of this.#invocationSinks) sink.invocation?.(event);
  }

  console(line: ConsoleLine): void {
    for (const sink of this.#consoleSinks) sink.console?.(line);
  }
}
