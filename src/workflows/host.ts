/**
 * @module
 * The boundary between the interpreter and whoever embeds it. The host supplies time,
 * randomness and task execution; the journal makes history durable. Everything
 * nondeterministic flows through these two interfaces, which is what makes replay possible.
 */

import type { HistoryEvent } from './history.ts';

/** What the interpreter asks the host to run for one Task attempt. */
export interface TaskRequest {
  /** The state's Resource, unchanged (e.g. `arn:aws:lambda:…:function:charge`, `arn:aws:states:::lambda:invoke`). */
  resource: string;
  /**
   * What the function receives: the effective parameters for plain Lambda ARNs and generic
   * service integrations, `Parameters.Payload` for `lambda:invoke`.
   */
  input: unknown;
  /** The full effective parameters (for service integrations: FunctionName, Payload, …). */
  parameters?: unknown;
  /** For `.waitForTaskToken` resources: the token SendTaskSuccess/Failure will quote. */
  taskToken?: string;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  /** Aborted when the attempt is abandoned (timeout, execution stopped, sibling branch failed). */
  signal: AbortSignal;
  /** Call when SendTaskHeartbeat arrives for this task; it restarts the HeartbeatSeconds clock. */
  heartbeat: () => void;
  /** Where this attempt sits, for logging and idempotency. */
  stateName: string;
  executionArn: string;
  attempt: number;
  /** Stable across replays of the same attempt: a host can use it to deduplicate re-runs. */
  idempotencyKey: string;
}

export interface WorkflowHost {
  /** Milliseconds since the epoch (injected clock). */
  now(): number;
  /**
   * Resolves at (or after) `epochMs`, or early — resolving or rejecting — once `signal` aborts.
   * Used by Wait states, retry backoff and timeouts.
   */
  sleepUntil(epochMs: number, signal: AbortSignal): Promise<void>;
  /** Runs a task. Throw a {@link TaskFailure} (or any object with `error`/`cause`) to fail it. */
  invokeTask(request: TaskRequest): Promise<unknown>;
  /** A number in [0, 1): jitter, States.MathRandom, $random(). */
  random(): number;
  /** A fresh UUID: task tokens, States.UUID, $uuid(). */
  uuid(): string;
}

export interface ExecutionJournal {
  /** Resolves once the events are durable; the interpreter awaits it before moving on. */
  append(events: HistoryEvent[]): Promise<void>;
}

/** A journal that keeps events in memory (tests, or a host that persists elsewhere). */
export class MemoryJournal implements ExecutionJournal {
  readonly events: HistoryEvent[] = [];

  append(events: HistoryEvent[]): Promise<void> {
    this.events.push(...events);
    return Promise.resolve();
  }
}

/** A journal that drops every event: Express workflows, which keep no history. */
export const discardJournal: ExecutionJournal = {
  append: () => Promise.resolve(),
};
