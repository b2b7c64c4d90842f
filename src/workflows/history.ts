/**
 * @module
 * Execution history in the shape of Step Functions' GetExecutionHistory: numbered events with a
 * `type` and one `<camelCaseType>EventDetails` object (or the shared `stateEnteredEventDetails`
 * / `stateExitedEventDetails` for the *StateEntered / *StateExited types). Timestamps are epoch
 * milliseconds. Inputs and outputs are JSON strings, as AWS records them.
 *
 * Replay extension: every event the interpreter writes carries `outpost` inside its details
 * object — `{ key, … }` where `key` names the event's logical position in the execution (see
 * README "Resumption"). A wire-compatible API should strip `outpost` before returning events.
 */

/** Event types this engine writes. */
export type HistoryEventType =
  | 'ExecutionStarted'
  | 'ExecutionSucceeded'
  | 'ExecutionFailed'
  | 'ExecutionAborted'
  | 'ExecutionTimedOut'
  | 'PassStateEntered'
  | 'PassStateExited'
  | 'TaskStateEntered'
  | 'TaskStateExited'
  | 'ChoiceStateEntered'
  | 'ChoiceStateExited'
  | 'WaitStateEntered'
  | 'WaitStateExited'
  | 'SucceedStateEntered'
  | 'SucceedStateExited'
  | 'FailStateEntered'
  | 'ParallelStateEntered'
  | 'ParallelStateStarted'
  | 'ParallelStateSucceeded'
  | 'ParallelStateFailed'
  | 'ParallelStateExited'
  | 'MapStateEntered'
  | 'MapStateStarted'
  | 'MapStateSucceeded'
  | 'MapStateFailed'
  | 'MapStateExited'
  | 'MapIterationStarted'
  | 'MapIterationSucceeded'
  | 'MapIterationFailed'
  | 'LambdaFunctionScheduled'
  | 'LambdaFunctionStarted'
  | 'LambdaFunctionSucceeded'
  | 'LambdaFunctionFailed'
  | 'LambdaFunctionTimedOut'
  | 'TaskScheduled'
  | 'TaskStarted'
  | 'TaskSucceeded'
  | 'TaskFailed'
  | 'TaskTimedOut';

/** Engine-private data kept inside each event's details object for deterministic replay. */
export interface ReplayExtension {
  /** Logical position of the event; unique within an execution. */
  key: string;
  /** StateExited: the state transitioned to, absent when the state ended its scope. */
  next?: string;
  /** WaitStateEntered: epoch ms the wait ends. */
  waitUntil?: number;
  /** Failure events: the attempt (0-based) that failed, and when the retry is due if one was scheduled. */
  attempt?: number;
  retryAt?: number;
  /** TaskScheduled: the task token handed to the host, reused if the task is re-run. */
  taskToken?: string;
  /** ParallelStateSucceeded / MapStateSucceeded / MapIterationSucceeded: the JSON result. */
  output?: string;
  /** ParallelStateFailed / MapStateFailed / MapIterationFailed: the failure. */
  error?: string;
  cause?: string;
}

export type EventDetails = { [field: string]: unknown; outpost?: ReplayExtension };

export interface HistoryEvent {
  /** 1-based, increasing by one per event. */
  id: number;
  /** The event this one follows within its branch/iteration (0 for the first event). */
  previousEventId: number;
  /** Epoch milliseconds (from the host's injected clock). */
  timestamp: number;
  type: HistoryEventType;
  [details: `${string}EventDetails`]: EventDetails | undefined;
}

/** The details field name AWS uses for an event type. */
export function detailsKey(type: HistoryEventType): `${string}EventDetails` {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

/** The details object of an event (whatever its type), if any. */
export function eventDetails(event: HistoryEvent): EventDetails | undefined {
  return event[detailsKey(event.type)];
}

/** The replay extension of an event, if it was written by this engine. */
export function replayExtension(event: HistoryEvent): ReplayExtension | undefined {
  return eventDetails(event)?.outpost;
}

/** Builds an event. */
export function makeEvent(
  id: number,
  previousEventId: number,
  timestamp: number,
  type: HistoryEventType,
  details: Record<string, unknown>,
  extension: ReplayExtension,
): HistoryEvent {
  const event: HistoryEvent = { id, previousEventId, timestamp, type };
  event[detailsKey(type)] = { ...details, outpost: extension };
  return event;
}

/** Returns a copy of an event without the replay extension, as GetExecutionHistory would show it. */
export function toPublicEvent(event: HistoryEvent): HistoryEvent {
  const key = detailsKey(event.type);
  const details = event[key];
  const copy: HistoryEvent = { ...event };
  if (details !== undefined) {
    const { outpost: _ignored, ...rest } = details;
    if (Object.keys(rest).length === 0) delete copy[key];
    else copy[key] = rest;
  }
  return copy;
}

/** Terminal execution event types. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<HistoryEventType> = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionAborted',
  'ExecutionTimedOut',
]);

/** Previously recorded events indexed by replay key. */
export class ReplayIndex {
  readonly byKey = new Map<string, HistoryEvent>();
  readonly lastId: number;
  readonly terminal: HistoryEvent | undefined;
  readonly started: HistoryEvent | undefined;

  constructor(events: readonly HistoryEvent[]) {
    let lastId = 0;
    let terminal: HistoryEvent | undefined;
    let started: HistoryEvent | undefined;
    for (const event of events) {
      lastId = Math.max(lastId, event.id);
      const key = replayExtension(event)?.key;
      if (key !== undefined) this.byKey.set(key, event);
      if (event.type === 'ExecutionStarted') started = event;
      if (TERMINAL_EVENT_TYPES.has(event.type)) terminal = event;
    }
    this.lastId = lastId;
    this.terminal = terminal;
    this.started = started;
  }

  get(key: string): HistoryEvent | undefined {
    return this.byKey.get(key);
  }
}
