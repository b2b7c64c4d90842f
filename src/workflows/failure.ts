/**
 * @module
 * Runtime error values of the States language. A state fails with an error *name* and a *cause*
 * string; retriers and catchers match on the name. `TaskFailure` is what a host throws from
 * `invokeTask`; `StatesError` is what the engine raises for its own predefined errors.
 */

/** The predefined error names of the States language (spec "Errors" section and AWS docs). */
export const StatesErrorNames = {
  ALL: 'States.ALL',
  TaskFailed: 'States.TaskFailed',
  Timeout: 'States.Timeout',
  HeartbeatTimeout: 'States.HeartbeatTimeout',
  Runtime: 'States.Runtime',
  BranchFailed: 'States.BranchFailed',
  NoChoiceMatched: 'States.NoChoiceMatched',
  IntrinsicFailure: 'States.IntrinsicFailure',
  ResultPathMatchFailure: 'States.ResultPathMatchFailure',
  ParameterPathFailure: 'States.ParameterPathFailure',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  ItemReaderFailed: 'States.ItemReaderFailed',
  QueryEvaluationError: 'States.QueryEvaluationError',
  Permissions: 'States.Permissions',
  DataLimitExceeded: 'States.DataLimitExceeded',
} as const;

/** Thrown by a {@link WorkflowHost} when a task fails; `error` is matched by Retry/Catch. */
export class TaskFailure extends Error {
  readonly error: string;
  override readonly cause: string;

  constructor(error: string, cause = '') {
    super(cause === '' ? error : `${error}: ${cause}`);
    this.name = 'TaskFailure';
    this.error = error;
    this.cause = cause;
  }
}

/** A failure raised by the engine itself (path failures, intrinsic failures, Fail states …). */
export class StatesError extends Error {
  readonly error: string;
  override readonly cause: string;

  constructor(error: string, cause: string) {
    super(`${error}: ${cause}`);
    this.name = 'StatesError';
    this.error = error;
    this.cause = cause;
  }
}

/** An error name and cause, as recorded in history and handed to catchers. */
export interface ErrorInfo {
  error: string;
  cause: string;
}

/**
 * Normalizes anything thrown while running a state into an error name and cause. Unknown
 * exceptions from host code become States.TaskFailed, as AWS reports crashes it cannot name.
 */
export function toErrorInfo(thrown: unknown): ErrorInfo {
  if (thrown instanceof TaskFailure || thrown instanceof StatesError) {
    return { error: thrown.error, cause: thrown.cause };
  }
  if (typeof thrown === 'object' && thrown !== null) {
    const record = thrown as Record<string, unknown>;
    if (typeof record['error'] === 'string') {
      return { error: record['error'], cause: typeof record['cause'] === 'string' ? record['cause'] : '' };
    }
  }
  if (thrown instanceof Error) return { error: StatesErrorNames.TaskFailed, cause: thrown.message };
  return { error: StatesErrorNames.TaskFailed, cause: String(thrown) };
}

/**
 * Thrown inside the interpreter when a run is being stopped (execution aborted or timed out,
 * or a sibling branch failed). Never recorded as a state failure.
 */
export class AbortedError extends Error {
  constructor() {
    super('The execution was stopped');
    this.name = 'AbortedError';
  }
}
