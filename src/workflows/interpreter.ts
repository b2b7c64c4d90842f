/**
 * @module
 * The execution interpreter. `runExecution` walks a validated definition state by state,
 * writing AWS-shaped history events to a journal and awaiting each write before moving on.
 *
 * Durability and resumption: every event carries a replay key naming its logical position —
 * thread (root, Parallel branch, Map iteration) + step number within the thread + what
 * happened. Given the events recorded before a crash, the interpreter re-walks the definition:
 * a step whose StateExited was recorded is skipped (its output, transition and assigned
 * variables are restored); a task attempt whose result was recorded is not re-run; a wait or
 * retry backoff whose end time was recorded sleeps only for the remainder. Events already in
 * the history are not written again, and new events continue the id sequence.
 */

import { evaluateChoiceRule, isTimestamp, timestampMillis } from './choice.ts';
import type { Catcher, QueryLanguage, StateDefinition, StateMachineDefinition, StateType } from './definition.ts';
import { AbortedError, StatesError, StatesErrorNames, toErrorInfo } from './failure.ts';
import type { ErrorInfo } from './failure.ts';
import { eventDetails, makeEvent, ReplayIndex, replayExtension } from './history.ts';
import type { HistoryEvent, HistoryEventType, ReplayExtension } from './history.ts';
import type { ExecutionJournal, WorkflowHost } from './host.ts';
import { evaluateIntrinsic, looksLikeIntrinsic } from './intrinsics.ts';
import type { IntrinsicEnv } from './intrinsics.ts';
import { cloneJson, fromJsonText, isJsonObject, toJsonText } from './json.ts';
import { evaluateJsonataString, evaluateJsonataTemplate, isJsonataExpression } from './jsonata-mode.ts';
import type { JsonataEnv, StatesBinding } from './jsonata-mode.ts';
import { evaluatePath, PathNotFoundError } from './paths.ts';
import { applyPayloadTemplate } from './payload.ts';
import { canRetry, findCatcher, findRetrier, retryDelayMs } from './retry.ts';
import { applyInputPath, applyOutputPath, applyParameters, applyResultPath, applyResultSelector } from './state-io.ts';
import { classifyResource, hostInput, invokeWithLimits, wrapResult } from './tasks.ts';
import type { ResourceKind } from './tasks.ts';
import { parseDefinition } from './validate.ts';
import { VariableScope } from './variables.ts';

/** Identity of the execution, exposed to states as the context object (`$$`). */
export interface ExecutionContextInfo {
  executionArn: string;
  executionName: string;
  stateMachineArn: string;
  stateMachineName: string;
  /** Epoch milliseconds. */
  startTime: number;
  roleArn?: string;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface ExecutionResult {
  status: ExecutionStatus;
  /** JSON text of the execution output (SUCCEEDED only). */
  output?: string;
  error?: string;
  cause?: string;
}

export interface RunExecutionOptions {
  /** A definition object or its JSON text; validated before running. */
  definition: StateMachineDefinition | string;
  /** The execution input as a JSON value (ignored when resuming: the recorded input wins). */
  input?: unknown;
  context: ExecutionContextInfo;
  host: WorkflowHost;
  journal: ExecutionJournal;
  /** Events recorded by an earlier, interrupted run of this execution. */
  history?: readonly HistoryEvent[];
  /** Abort to stop the execution (StopExecution): it ends ABORTED with an ExecutionAborted event. */
  signal?: AbortSignal;
}

/** Runs (or resumes) one execution to completion. */
export async function runExecution(options: RunExecutionOptions): Promise<ExecutionResult> {
  const definition = parseDefinition(options.definition);
  const run = new Run(definition, options);
  return run.execute(options.input);
}

interface Thread {
  /** Prefix of every step key in this thread: '' for the root, `3.0/b1/` for a branch … */
  key: string;
  steps: number;
  lastEventId: number;
  signal: AbortSignal;
  vars: VariableScope;
}

interface StepOutcome {
  output: unknown;
  next: string | undefined;
}

/** Everything a state handler needs about the state being run. */
interface StateRun {
  thread: Thread;
  stepKey: string;
  name: string;
  state: StateDefinition;
  rawInput: unknown;
  language: QueryLanguage;
  enteredTime: number;
}

type AttemptOutcome =
  | { ok: true; value: unknown }
  | {
      ok: false;
      info: ErrorInfo;
      /** Writes the failure event (with the retry decision) unless it was replayed. */
      record?: (extension: Partial<ReplayExtension>) => Promise<void>;
      /** When replayed from history: the recorded retry time, if a retry was scheduled. */
      recordedRetryAt?: number;
    };

type StateErrorMode = 'catchable' | 'fatal';

const STATE_EVENT_PREFIX: Record<StateType, string> = {
  Pass: 'Pass',
  Task: 'Task',
  Choice: 'Choice',
  Wait: 'Wait',
  Succeed: 'Succeed',
  Fail: 'Fail',
  Parallel: 'Parallel',
  Map: 'Map',
};

class Run {
  readonly definition: StateMachineDefinition;
  readonly context: ExecutionContextInfo;
  readonly host: WorkflowHost;
  readonly journal: ExecutionJournal;
  readonly replay: ReplayIndex;
  readonly control = new AbortController();
  readonly external: AbortSignal | undefined;
  lastId: number;
  chain: Promise<void> = Promise.resolve();
  journalError: unknown = undefined;
  executionInput: unknown = null;
  timedOut = false;

  constructor(definition: StateMachineDefinition, options: RunExecutionOptions) {
    this.definition = definition;
    this.context = options.context;
    this.host = options.host;
    this.journal = options.journal;
    this.replay = new ReplayIndex(options.history ?? []);
    this.lastId = this.replay.lastId;
    this.external = options.signal;
  }

  // -------------------------------------------------------------------------------------------
  // Execution lifecycle

  async execute(input: unknown): Promise<ExecutionResult> {
    const recordedEnd = this.replay.terminal;
    if (recordedEnd !== undefined) return resultFromTerminal(recordedEnd);

    const root: Thread = { key: '', steps: 0, lastEventId: 0, signal: this.control.signal, vars: new VariableScope() };
    const onExternalAbort = (): void => this.control.abort();
    if (this.external?.aborted === true) this.control.abort();
    this.external?.addEventListener('abort', onExternalAbort, { once: true });
    const timer = new AbortController();
    try {
      const started = this.replay.started;
      this.executionInput = started === undefined ? cloneJson(input) : fromJsonText(stringField(eventDetails(started)?.['input']));
      await this.emit(root, 'execution:started', 'ExecutionStarted', {
        input: toJsonText(this.executionInput),
        inputDetails: { truncated: false },
        ...(this.context.roleArn === undefined ? {} : { roleArn: this.context.roleArn }),
      }, {}, true);

      const timeoutSeconds = this.definition.TimeoutSeconds;
      if (timeoutSeconds !== undefined) {
        const deadline = this.context.startTime + timeoutSeconds * 1000;
        this.host.sleepUntil(deadline, timer.signal).then(
          () => {
            if (!timer.signal.aborted && this.host.now() >= deadline) {
              this.timedOut = true;
              this.control.abort();
            }
          },
          () => {},
        );
      }

      try {
        const output = await this.runThread(root, this.definition, this.executionInput, this.definition.QueryLanguage ?? 'JSONPath');
        const text = toJsonText(output);
        await this.emit(root, 'execution:end', 'ExecutionSucceeded', { output: text, outputDetails: { truncated: false } }, {}, true);
        return { status: 'SUCCEEDED', output: text };
      } catch (thrown) {
        if (thrown instanceof AbortedError || (this.control.signal.aborted && !(thrown instanceof StatesError))) {
          if (this.timedOut) {
            const cause = `The execution did not finish within ${String(timeoutSeconds)} seconds`;
            await this.emit(root, 'execution:end', 'ExecutionTimedOut', { error: StatesErrorNames.Timeout, cause }, {}, true);
            return { status: 'TIMED_OUT', error: StatesErrorNames.Timeout, cause };
          }
          const reason = abortReason(this.external?.reason);
          await this.emit(root, 'execution:end', 'ExecutionAborted', reason, {}, true);
          return { status: 'ABORTED', ...reason };
        }
        if (!(thrown instanceof StatesError)) throw thrown;
        const details = failureDetails(thrown);
        await this.emit(root, 'execution:end', 'ExecutionFailed', details, {}, true);
        return { status: 'FAILED', ...details };
      }
    } finally {
      timer.abort();
      this.external?.removeEventListener('abort', onExternalAbort);
    }
  }

  /**
   * Writes one event (or, when replaying, returns the recorded event with that key). Events
   * are appended strictly in id order; the caller resumes only once the journal has them.
   */
  async emit(
    thread: Thread,
    key: string,
    type: HistoryEventType,
    details: Record<string, unknown>,
    extension: Partial<ReplayExtension> = {},
    force = false,
  ): Promise<HistoryEvent> {
    const recorded = this.replay.get(key);
    if (recorded !== undefined) {
      thread.lastEventId = recorded.id;
      return recorded;
    }
    if (!force && thread.signal.aborted) throw new AbortedError();
    if (this.journalError !== undefined) throw this.journalError;
    this.lastId += 1;
    const event = makeEvent(this.lastId, thread.lastEventId, this.host.now(), type, details, { ...extension, key });
    thread.lastEventId = event.id;
    const write = this.chain.then(() => this.journal.append([event]));
    this.chain = write.catch((error: unknown) => {
      this.journalError ??= error;
    });
    await write;
    return event;
  }

  async sleepUntil(until: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.host.now() < until) {
      try {
        await this.host.sleepUntil(until, signal);
      } catch {
        // A rejected sleep only matters if we were aborted, which the loop checks.
      }
    }
    if (signal.aborted) throw new AbortedError();
  }

  // -------------------------------------------------------------------------------------------
  // Threads and states

  async runThread(thread: Thread, machine: StateMachineDefinition, input: unknown, language: QueryLanguage): Promise<unknown> {
    const scopeLanguage = machine.QueryLanguage ?? language;
    let name = machine.StartAt;
    let value = input;
    for (;;) {
      if (thread.signal.aborted) throw new AbortedError();
      const state = machine.States[name];
      if (state === undefined) throw new StatesError(StatesErrorNames.Runtime, `State '${name}' does not exist`);
      const stepKey = `${thread.key}${thread.steps}`;
      thread.steps += 1;
      const exited = this.replay.get(`${stepKey}:exited`);
      const outcome =
        exited !== undefined
          ? this.restoreExit(thread, exited)
          : await this.runState(thread, stepKey, name, state, value, state.QueryLanguage ?? scopeLanguage);
      if (outcome.next === undefined) return outcome.output;
      name = outcome.next;
      value = outcome.output;
    }
  }

  restoreExit(thread: Thread, exited: HistoryEvent): StepOutcome {
    const details = eventDetails(exited) ?? {};
    thread.lastEventId = exited.id;
    const assigned = details['assignedVariables'];
    if (isJsonObject(assigned)) {
      thread.vars.assign(Object.entries(assigned).map(([k, v]) => [k, fromJsonText(stringField(v))]));
    }
    return { output: fromJsonText(stringField(details['output'])), next: replayExtension(exited)?.next };
  }

  async runState(
    thread: Thread,
    stepKey: string,
    name: string,
    state: StateDefinition,
    rawInput: unknown,
    language: QueryLanguage,
  ): Promise<StepOutcome> {
    if (state.Type === 'Wait') return this.runWait(thread, stepKey, name, state, rawInput, language);
    const entered = await this.enter(thread, stepKey, name, state, rawInput);
    const sr: StateRun = { thread, stepKey, name, state, rawInput, language, enteredTime: entered.timestamp };
    switch (state.Type) {
      case 'Pass':
        return this.runPass(sr);
      case 'Task':
        return this.runTask(sr);
      case 'Choice':
        return this.runChoice(sr);
      case 'Succeed':
        return this.runSucceed(sr);
      case 'Fail':
        return this.runFail(sr);
      case 'Parallel':
        return this.runParallel(sr);
      case 'Map':
        return this.runMap(sr);
      default:
        throw new StatesError(StatesErrorNames.Runtime, `Unsupported state type '${String(state.Type)}'`);
    }
  }

  enter(thread: Thread, stepKey: string, name: string, state: StateDefinition, rawInput: unknown, extension: Partial<ReplayExtension> = {}): Promise<HistoryEvent> {
    const type = `${STATE_EVENT_PREFIX[state.Type]}StateEntered` as HistoryEventType;
    return this.emit(thread, `${stepKey}:entered`, type, { name, input: toJsonText(rawInput), inputDetails: { truncated: false } }, extension);
  }

  async exit(sr: StateRun, output: unknown, next: string | undefined, assigned: Map<string, unknown> | undefined): Promise<StepOutcome> {
    const type = `${STATE_EVENT_PREFIX[sr.state.Type]}StateExited` as HistoryEventType;
    const details: Record<string, unknown> = { name: sr.name, output: toJsonText(output), outputDetails: { truncated: false } };
    if (assigned !== undefined && assigned.size > 0) {
      details['assignedVariables'] = Object.fromEntries([...assigned].map(([k, v]) => [k, toJsonText(v)]));
      details['assignedVariablesDetails'] = { truncated: false };
    }
    await this.emit(sr.thread, `${sr.stepKey}:exited`, type, details, next === undefined ? {} : { next });
    if (assigned !== undefined) sr.thread.vars.assign(assigned);
    return { output, next };
  }

  nextOf(state: StateDefinition): string | undefined {
    return state.End === true ? undefined : state.Next;
  }

  // -------------------------------------------------------------------------------------------
  // Evaluation environments

  contextObject(sr: { name: string; enteredTime: number }, retryCount: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      Execution: {
        Id: this.context.executionArn,
        Input: this.executionInput,
        Name: this.context.executionName,
        RoleArn: this.context.roleArn ?? null,
        StartTime: new Date(this.context.startTime).toISOString(),
        RedriveCount: 0,
      },
      State: { EnteredTime: new Date(sr.enteredTime).toISOString(), Name: sr.name, RetryCount: retryCount },
      StateMachine: { Id: this.context.stateMachineArn, Name: this.context.stateMachineName },
      ...extra,
    };
  }

  pathEnv(sr: StateRun, input: unknown, context: unknown): IntrinsicEnv {
    return {
      scope: { input, context, variables: sr.thread.vars.visible() },
      random: () => this.host.random(),
      uuid: () => this.host.uuid(),
    };
  }

  jsonataEnv(sr: StateRun, states: StatesBinding): JsonataEnv {
    return {
      states,
      variables: sr.thread.vars.visible(),
      now: () => this.host.now(),
      random: () => this.host.random(),
      uuid: () => this.host.uuid(),
    };
  }

  /** Evaluates an Assign block; JSONPath `$` (and JSONata `$states.result`) is `result`. */
  async evaluateAssign(sr: StateRun, assign: Record<string, unknown> | undefined, states: StatesBinding, jsonPathInput: unknown): Promise<Map<string, unknown> | undefined> {
    if (assign === undefined) return undefined;
    let values: unknown;
    if (sr.language === 'JSONata') values = await evaluateJsonataTemplate(assign, this.jsonataEnv(sr, states), 'Assign');
    else values = applyPayloadTemplate(assign, this.pathEnv(sr, jsonPathInput, states.context));
    return new Map(Object.entries(isJsonObject(values) ? values : {}));
  }

  /** A JSONata field that may be a literal or a `{% %}` expression. */
  async jsonataValue(sr: StateRun, value: unknown, states: StatesBinding, field: string): Promise<unknown> {
    return evaluateJsonataTemplate(value, this.jsonataEnv(sr, states), field);
  }

  /** Reads a number from a literal or a `…Path` field (JSONPath) / expression (JSONata). */
  async numberField(sr: StateRun, literal: unknown, path: string | undefined, effectiveInput: unknown, states: StatesBinding, field: string): Promise<number | undefined> {
    let value: unknown = literal;
    if (sr.language === 'JSONata' && isJsonataExpression(literal)) value = await this.jsonataValue(sr, literal, states, field);
    else if (path !== undefined) {
      try {
        value = evaluatePath(path, { input: effectiveInput, context: states.context, variables: sr.thread.vars.visible() });
      } catch (error) {
        if (error instanceof PathNotFoundError) throw new StatesError(StatesErrorNames.Runtime, `${field}Path '${path}' could not be found in the input`);
        throw error;
      }
    }
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new StatesError(
        sr.language === 'JSONata' ? StatesErrorNames.QueryEvaluationError : StatesErrorNames.Runtime,
        `${field} must be a non-negative number, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  }

  // -------------------------------------------------------------------------------------------
  // Pass, Succeed, Fail, Choice, Wait

  async runPass(sr: StateRun): Promise<StepOutcome> {
    const { state, rawInput } = sr;
    const context = this.contextObject(sr, 0);
    if (sr.language === 'JSONata') {
      const states: StatesBinding = { input: rawInput, context };
      const output = state.Output === undefined ? rawInput : await this.jsonataValue(sr, state.Output, states, 'Output');
      const assigned = await this.evaluateAssign(sr, state.Assign, states, rawInput);
      return this.exit(sr, output, this.nextOf(state), assigned);
    }
    const scope = { context, variables: sr.thread.vars.visible() };
    const effective = applyInputPath(rawInput, state.InputPath, scope);
    const result = state.Result !== undefined ? cloneJson(state.Result) : applyParameters(state.Parameters, this.pathEnv(sr, effective, context));
    const assigned = await this.evaluateAssign(sr, state.Assign, { input: rawInput, context }, result);
    const output = applyOutputPath(applyResultPath(rawInput, result, state.ResultPath), state.OutputPath, scope);
    return this.exit(sr, output, this.nextOf(state), assigned);
  }

  async runSucceed(sr: StateRun): Promise<StepOutcome> {
    const { state, rawInput } = sr;
    const context = this.contextObject(sr, 0);
    let output: unknown;
    if (sr.language === 'JSONata') {
      output = state.Output === undefined ? rawInput : await this.jsonataValue(sr, state.Output, { input: rawInput, context }, 'Output');
    } else {
      const scope = { context, variables: sr.thread.vars.visible() };
      output = applyOutputPath(applyInputPath(rawInput, state.InputPath, scope), state.OutputPath, scope);
    }
    return this.exit(sr, output, undefined, undefined);
  }

  async runFail(sr: StateRun): Promise<never> {
    const { state, rawInput } = sr;
    const context = this.contextObject(sr, 0);
    let error: unknown = state.Error;
    let cause: unknown = state.Cause;
    if (sr.language === 'JSONata') {
      const states: StatesBinding = { input: rawInput, context };
      if (error !== undefined) error = await this.jsonataValue(sr, error, states, 'Error');
      if (cause !== undefined) cause = await this.jsonataValue(sr, cause, states, 'Cause');
    } else {
      const env = this.pathEnv(sr, rawInput, context);
      const read = (expression: string, field: string): unknown => {
        if (looksLikeIntrinsic(expression)) return evaluateIntrinsic(expression, env);
        try {
          return evaluatePath(expression, env.scope);
        } catch (thrown) {
          if (thrown instanceof PathNotFoundError) throw new StatesError(StatesErrorNames.Runtime, `${field} '${expression}' could not be found in the input`);
          throw thrown;
        }
      };
      if (state.ErrorPath !== undefined) error = read(state.ErrorPath, 'ErrorPath');
      if (state.CausePath !== undefined) cause = read(state.CausePath, 'CausePath');
    }
    if ((error !== undefined && typeof error !== 'string') || (cause !== undefined && typeof cause !== 'string')) {
      throw new StatesError(StatesErrorNames.Runtime, 'The Fail state Error and Cause must be strings');
    }
    throw new StatesError(error ?? '', cause ?? '');
  }

  async runChoice(sr: StateRun): Promise<StepOutcome> {
    const { state, rawInput } = sr;
    const context = this.contextObject(sr, 0);
    const states: StatesBinding = { input: rawInput, context };
    const rules = state.Choices ?? [];
    if (sr.language === 'JSONata') {
      const env = this.jsonataEnv(sr, states);
      for (const rule of rules) {
        let matched: unknown = rule.Condition;
        if (isJsonataExpression(matched)) matched = await evaluateJsonataString(matched, env);
        if (typeof matched !== 'boolean') {
          throw new StatesError(StatesErrorNames.QueryEvaluationError, `The Condition of a choice rule must evaluate to a boolean, got ${JSON.stringify(matched)}`);
        }
        if (!matched) continue;
        const outputTemplate = rule.Output ?? state.Output;
        const output = outputTemplate === undefined ? rawInput : await this.jsonataValue(sr, outputTemplate, states, 'Output');
        const assigned = await this.evaluateAssign(sr, rule.Assign ?? state.Assign, states, rawInput);
        return this.exit(sr, output, rule.Next, assigned);
      }
      if (state.Default === undefined) throw noChoiceMatched(sr.name);
      const output = state.Output === undefined ? rawInput : await this.jsonataValue(sr, state.Output, states, 'Output');
      return this.exit(sr, output, state.Default, await this.evaluateAssign(sr, state.Assign, states, rawInput));
    }
    const scope = { context, variables: sr.thread.vars.visible() };
    const effective = applyInputPath(rawInput, state.InputPath, scope);
    const match = rules.find((rule) => evaluateChoiceRule(rule, { ...scope, input: effective }));
    const next = match?.Next ?? state.Default;
    if (next === undefined) throw noChoiceMatched(sr.name);
    const assigned = await this.evaluateAssign(sr, match?.Assign ?? state.Assign, states, effective);
    return this.exit(sr, applyOutputPath(effective, state.OutputPath, scope), next, assigned);
  }

  async runWait(thread: Thread, stepKey: string, name: string, state: StateDefinition, rawInput: unknown, language: QueryLanguage): Promise<StepOutcome> {
    const recorded = this.replay.get(`${stepKey}:entered`);
    const now = recorded?.timestamp ?? this.host.now();
    const sr: StateRun = { thread, stepKey, name, state, rawInput, language, enteredTime: now };
    const context = this.contextObject(sr, 0);
    const states: StatesBinding = { input: rawInput, context };
    const scope = { context, variables: thread.vars.visible() };
    let waitUntil = recorded === undefined ? undefined : replayExtension(recorded)?.waitUntil;
    let effective: unknown = rawInput;
    if (waitUntil === undefined) {
      try {
        if (language === 'JSONPath') effective = applyInputPath(rawInput, state.InputPath, scope);
        waitUntil = await this.waitTarget(sr, effective, states, now);
      } catch (error) {
        await this.enter(thread, stepKey, name, state, rawInput);
        throw error;
      }
    } else if (language === 'JSONPath') {
      effective = applyInputPath(rawInput, state.InputPath, scope);
    }
    await this.enter(thread, stepKey, name, state, rawInput, { waitUntil });
    await this.sleepUntil(waitUntil, thread.signal);
    if (language === 'JSONata') {
      const output = state.Output === undefined ? rawInput : await this.jsonataValue(sr, state.Output, states, 'Output');
      return this.exit(sr, output, this.nextOf(state), await this.evaluateAssign(sr, state.Assign, states, rawInput));
    }
    const assigned = await this.evaluateAssign(sr, state.Assign, states, effective);
    return this.exit(sr, applyOutputPath(effective, state.OutputPath, scope), this.nextOf(state), assigned);
  }

  async waitTarget(sr: StateRun, effective: unknown, states: StatesBinding, now: number): Promise<number> {
    const { state } = sr;
    const seconds = await this.numberField(sr, state.Seconds, state.SecondsPath, effective, states, 'Seconds');
    if (seconds !== undefined) return now + seconds * 1000;
    let timestamp: unknown = state.Timestamp;
    if (sr.language === 'JSONata' && isJsonataExpression(timestamp)) timestamp = await this.jsonataValue(sr, timestamp, states, 'Timestamp');
    else if (state.TimestampPath !== undefined) {
      try {
        timestamp = evaluatePath(state.TimestampPath, { input: effective, context: states.context, variables: sr.thread.vars.visible() });
      } catch (error) {
        if (error instanceof PathNotFoundError) throw new StatesError(StatesErrorNames.Runtime, `TimestampPath '${state.TimestampPath}' could not be found in the input`);
        throw error;
      }
    }
    if (!isTimestamp(timestamp)) {
      throw new StatesError(
        sr.language === 'JSONata' ? StatesErrorNames.QueryEvaluationError : StatesErrorNames.Runtime,
        `The Wait state's timestamp must be an RFC 3339 timestamp, got ${JSON.stringify(timestamp)}`,
      );
    }
    return timestampMillis(timestamp);
  }

  // -------------------------------------------------------------------------------------------
  // Retry and Catch

  /** Runs attempts until one succeeds, the matching retrier is exhausted, or none matches. */
  async withRetries(sr: StateRun, attempt: (n: number) => Promise<AttemptOutcome>): Promise<AttemptOutcome> {
    const retriers = sr.state.Retry ?? [];
    const counts = retriers.map(() => 0);
    for (let n = 0; ; n++) {
      const outcome = await attempt(n);
      if (outcome.ok) return outcome;
      const index = findRetrier(retriers, outcome.info.error);
      const retrier = retriers[index];
      const count = counts[index] ?? 0;
      if (retrier === undefined || !canRetry(retrier, count)) {
        await outcome.record?.({ attempt: n });
        return outcome;
      }
      const retryAt = outcome.recordedRetryAt ?? this.host.now() + retryDelayMs(retrier, count, () => this.host.random());
      counts[index] = count + 1;
      await outcome.record?.({ attempt: n, retryAt });
      await this.sleepUntil(retryAt, sr.thread.signal);
    }
  }

  /** Routes a failure to the first matching catcher, or rethrows it. */
  async handleFailure(sr: StateRun, info: ErrorInfo, mode: StateErrorMode = 'catchable'): Promise<StepOutcome> {
    const catchers: Catcher[] = sr.state.Catch ?? [];
    const index = mode === 'fatal' ? -1 : findCatcher(catchers, info.error);
    const catcher = catchers[index];
    if (catcher === undefined) throw new StatesError(info.error, info.cause);
    const errorOutput = { Error: info.error, Cause: info.cause };
    const context = this.contextObject(sr, 0);
    const states: StatesBinding = { input: sr.rawInput, context, errorOutput };
    if (sr.language === 'JSONata') {
      const output = catcher.Output === undefined ? errorOutput : await this.jsonataValue(sr, catcher.Output, states, 'Output');
      return this.exit(sr, output, catcher.Next, await this.evaluateAssign(sr, catcher.Assign, states, errorOutput));
    }
    const assigned = await this.evaluateAssign(sr, catcher.Assign, states, errorOutput);
    const output = applyResultPath(sr.rawInput, errorOutput, catcher.ResultPath);
    return this.exit(sr, output, catcher.Next, assigned);
  }

  /**
   * Shared tail of Task, Parallel and Map: run attempts with retries, then apply the
   * ResultSelector → ResultPath → OutputPath (or Output) stage, routing failures to Catch.
   */
  async finishWithResult(sr: StateRun, attempt: (n: number) => Promise<AttemptOutcome>): Promise<StepOutcome> {
    const outcome = await this.withRetries(sr, attempt);
    if (!outcome.ok) return this.handleFailure(sr, outcome.info);
    const { state, rawInput } = sr;
    const context = this.contextObject(sr, 0);
    try {
      if (sr.language === 'JSONata') {
        const states: StatesBinding = { input: rawInput, context, result: outcome.value };
        const output = state.Output === undefined ? outcome.value : await this.jsonataValue(sr, state.Output, states, 'Output');
        const assigned = await this.evaluateAssign(sr, state.Assign, states, outcome.value);
        return await this.exit(sr, output, this.nextOf(state), assigned);
      }
      const scope = { context, variables: sr.thread.vars.visible() };
      const assigned = await this.evaluateAssign(sr, state.Assign, { input: rawInput, context }, outcome.value);
      const output = applyOutputPath(applyResultPath(rawInput, outcome.value, state.ResultPath), state.OutputPath, scope);
      return await this.exit(sr, output, this.nextOf(state), assigned);
    } catch (error) {
      if (error instanceof StatesError) return this.handleFailure(sr, toErrorInfo(error));
      throw error;
    }
  }

  /** Applies ResultSelector (JSONPath) to a raw result. */
  selectResult(sr: StateRun, raw: unknown, retryCount: number): unknown {
    if (sr.language === 'JSONata' || sr.state.ResultSelector === undefined) return raw;
    return applyResultSelector(sr.state.ResultSelector, this.pathEnv(sr, raw, this.contextObject(sr, retryCount)));
  }

  /** Turns a recorded attempt result event into an outcome, or undefined if it succeeded. */
  recordedFailure(event: HistoryEvent): AttemptOutcome | undefined {
    const details = eventDetails(event) ?? {};
    const extension = replayExtension(event);
    if (event.type.endsWith('Succeeded')) return undefined;
    const info = {
      error: stringField(details['error'] ?? extension?.error),
      cause: stringField(details['cause'] ?? extension?.cause),
    };
    return extension?.retryAt === undefined ? { ok: false, info } : { ok: false, info, recordedRetryAt: extension.retryAt };
  }

  // -------------------------------------------------------------------------------------------
  // Task

  async runTask(sr: StateRun): Promise<StepOutcome> {
    const { state, rawInput } = sr;
    const kind = classifyResource(state.Resource ?? '');
    const baseContext = this.contextObject(sr, 0);
    const states: StatesBinding = { input: rawInput, context: baseContext };
    let effective: unknown = rawInput;
    let timeoutSeconds: number | undefined;
    let heartbeatSeconds: number | undefined;
    try {
      if (sr.language === 'JSONPath') {
        effective = applyInputPath(rawInput, state.InputPath, { context: baseContext, variables: sr.thread.vars.visible() });
      }
      timeoutSeconds = await this.numberField(sr, state.TimeoutSeconds, state.TimeoutSecondsPath, effective, states, 'TimeoutSeconds');
      heartbeatSeconds = await this.numberField(sr, state.HeartbeatSeconds, state.HeartbeatSecondsPath, effective, states, 'HeartbeatSeconds');
    } catch (error) {
      if (error instanceof StatesError) return this.handleFailure(sr, toErrorInfo(error));
      throw error;
    }
    return this.finishWithResult(sr, (attempt) => this.taskAttempt(sr, kind, effective, attempt, timeoutSeconds, heartbeatSeconds));
  }

  async taskAttempt(sr: StateRun, kind: ResourceKind, effective: unknown, attempt: number, timeoutSeconds: number | undefined, heartbeatSeconds: number | undefined): Promise<AttemptOutcome> {
    const { state, thread, stepKey } = sr;
    const prefix = `${stepKey}:${attempt}`;
    const lambda = kind.kind === 'lambda-function';
    const resultEvent = this.replay.get(`${prefix}:result`);
    if (resultEvent !== undefined) {
      thread.lastEventId = resultEvent.id;
      const failure = this.recordedFailure(resultEvent);
      if (failure !== undefined) return failure;
      const raw = fromJsonText(stringField(eventDetails(resultEvent)?.['output']));
      return this.selected(sr, raw, attempt);
    }

    const scheduled = this.replay.get(`${prefix}:scheduled`);
    const waitForToken = kind.kind === 'service' && kind.waitForTaskToken;
    const taskToken = waitForToken ? (scheduled === undefined ? this.host.uuid() : replayExtension(scheduled)?.taskToken ?? this.host.uuid()) : undefined;
    const context = this.contextObject(sr, attempt, taskToken === undefined ? {} : { Task: { Token: taskToken } });

    let parameters: unknown;
    try {
      if (sr.language === 'JSONata') {
        parameters = state.Arguments === undefined ? sr.rawInput : await this.jsonataValue(sr, state.Arguments, { input: sr.rawInput, context }, 'Arguments');
      } else {
        parameters = applyParameters(state.Parameters, this.pathEnv(sr, effective, context));
      }
    } catch (error) {
      if (error instanceof StatesError) return { ok: false, info: toErrorInfo(error) };
      throw error;
    }

    const resourceFields = kind.kind === 'service' ? { resourceType: kind.resourceType, resource: kind.resource } : {};
    const limits = {
      ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
      ...(heartbeatSeconds === undefined ? {} : { heartbeatInSeconds: heartbeatSeconds }),
    };
    if (lambda) {
      await this.emit(thread, `${prefix}:scheduled`, 'LambdaFunctionScheduled', { resource: kind.resource, input: toJsonText(parameters), inputDetails: { truncated: false }, ...limits });
      await this.emit(thread, `${prefix}:started`, 'LambdaFunctionStarted', {});
    } else {
      await this.emit(thread, `${prefix}:scheduled`, 'TaskScheduled', {
        ...resourceFields,
        region: regionOf(this.context.stateMachineArn),
        parameters: toJsonText(parameters),
        ...limits,
      }, taskToken === undefined ? {} : { taskToken });
      await this.emit(thread, `${prefix}:started`, 'TaskStarted', resourceFields);
    }

    const result = await invokeWithLimits(
      this.host,
      {
        resource: state.Resource ?? '',
        input: hostInput(kind, parameters),
        ...(kind.kind === 'service' ? { parameters } : {}),
        ...(taskToken === undefined ? {} : { taskToken }),
        ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
        ...(heartbeatSeconds === undefined ? {} : { heartbeatSeconds }),
        stateName: sr.name,
        executionArn: this.context.executionArn,
        attempt,
        idempotencyKey: `${this.context.executionArn}#${prefix}`,
      },
      thread.signal,
    );

    if (result.ok) {
      const raw = wrapResult(kind, cloneJson(result.value));
      await this.emit(thread, `${prefix}:result`, lambda ? 'LambdaFunctionSucceeded' : 'TaskSucceeded', {
        ...resourceFields,
        output: toJsonText(raw),
        outputDetails: { truncated: false },
      });
      return this.selected(sr, raw, attempt);
    }
    const type: HistoryEventType = lambda
      ? result.timedOut ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed'
      : result.timedOut ? 'TaskTimedOut' : 'TaskFailed';
    return {
      ok: false,
      info: result.info,
      record: async (extension) => {
        await this.emit(thread, `${prefix}:result`, type, { ...resourceFields, error: result.info.error, cause: result.info.cause }, extension);
      },
    };
  }

  selected(sr: StateRun, raw: unknown, attempt: number): AttemptOutcome {
    try {
      return { ok: true, value: this.selectResult(sr, raw, attempt) };
    } catch (error) {
      if (error instanceof StatesError) return { ok: false, info: toErrorInfo(error) };
      throw error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Parallel

  async runParallel(sr: StateRun): Promise<StepOutcome> {
    const { state, rawInput } = sr;
    const context = this.contextObject(sr, 0);
    let branchInput: unknown;
    try {
      if (sr.language === 'JSONata') {
        branchInput = state.Arguments === undefined ? rawInput : await this.jsonataValue(sr, state.Arguments, { input: rawInput, context }, 'Arguments');
      } else {
        const effective = applyInputPath(rawInput, state.InputPath, { context, variables: sr.thread.vars.visible() });
        branchInput = applyParameters(state.Parameters, this.pathEnv(sr, effective, context));
      }
    } catch (error) {
      if (error instanceof StatesError) return this.handleFailure(sr, toErrorInfo(error));
      throw error;
    }
    const branches = state.Branches ?? [];
    return this.finishWithResult(sr, (attempt) =>
      this.compositeAttempt(sr, attempt, 'Parallel', branches.length, async (thread, i) => {
        const branch = branches[i];
        if (branch === undefined) throw new StatesError(StatesErrorNames.Runtime, `Branch ${i} does not exist`);
        return { ok: true, value: await this.runThread(thread, branch, cloneJson(branchInput), sr.language) };
      }, {}, 0),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Map

  async runMap(sr: StateRun): Promise<StepOutcome> {
    const { state, rawInput } = sr;
    const context = this.contextObject(sr, 0);
    const states: StatesBinding = { input: rawInput, context };
    let items: unknown;
    let effective: unknown = rawInput;
    let maxConcurrency: number | undefined;
    let toleratedCount: number | undefined;
    let toleratedPercentage: number | undefined;
    try {
      if (sr.language === 'JSONata') {
        items = state.Items === undefined ? rawInput : await this.jsonataValue(sr, state.Items, states, 'Items');
      } else {
        effective = applyInputPath(rawInput, state.InputPath, { context, variables: sr.thread.vars.visible() });
        if (state.ItemsPath === undefined) items = effective;
        else {
          try {
            items = evaluatePath(state.ItemsPath, { input: effective, context, variables: sr.thread.vars.visible() });
          } catch (error) {
            if (error instanceof PathNotFoundError) throw new StatesError(StatesErrorNames.Runtime, `ItemsPath '${state.ItemsPath}' could not be found in the input`);
            throw error;
          }
        }
      }
      if (!Array.isArray(items)) {
        throw new StatesError(
          sr.language === 'JSONata' ? StatesErrorNames.QueryEvaluationError : StatesErrorNames.Runtime,
          'The Map state items must be a JSON array',
        );
      }
      maxConcurrency = await this.numberField(sr, state.MaxConcurrency, state.MaxConcurrencyPath, effective, states, 'MaxConcurrency');
      toleratedCount = await this.numberField(sr, state.ToleratedFailureCount, state.ToleratedFailureCountPath, effective, states, 'ToleratedFailureCount');
      toleratedPercentage = await this.numberField(sr, state.ToleratedFailurePercentage, state.ToleratedFailurePercentagePath, effective, states, 'ToleratedFailurePercentage');
    } catch (error) {
      if (error instanceof StatesError) return this.handleFailure(sr, toErrorInfo(error));
      throw error;
    }
    const list: unknown[] = items;
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor === undefined) throw new StatesError(StatesErrorNames.Runtime, 'The Map state has no ItemProcessor');
    const selector = state.ItemSelector ?? state.Parameters;
    const tolerance = { count: toleratedCount, percentage: toleratedPercentage };
    return this.finishWithResult(sr, (attempt) =>
      this.compositeAttempt(sr, attempt, 'Map', list.length, async (thread, index) => {
        const item = list[index];
        const itemContext = this.contextObject(sr, attempt, { Map: { Item: { Index: index, Value: item } } });
        let itemInput: unknown = item;
        if (selector !== undefined) {
          itemInput = sr.language === 'JSONata'
            ? await this.jsonataValue(sr, selector, { input: rawInput, context: itemContext }, 'ItemSelector')
            : applyPayloadTemplate(selector, this.pathEnv(sr, effective, itemContext));
        }
        return { ok: true, value: await this.runThread(thread, processor, cloneJson(itemInput), sr.language) };
      }, tolerance, maxConcurrency ?? 0),
    );
  }

  /**
   * One attempt of a Parallel or Map state: starts every branch/iteration in its own thread
   * (bounded by `maxConcurrency`, 0 = unbounded), collects results in order, and fails on the
   * first failure — or, for Map with a tolerance, once failures exceed it.
   */
  async compositeAttempt(
    sr: StateRun,
    attempt: number,
    kind: 'Parallel' | 'Map',
    count: number,
    body: (thread: Thread, index: number) => Promise<{ ok: true; value: unknown }>,
    tolerance: { count?: number | undefined; percentage?: number | undefined },
    maxConcurrency: number,
  ): Promise<AttemptOutcome> {
    const { thread, stepKey } = sr;
    const prefix = `${stepKey}:${attempt}`;
    const resultEvent = this.replay.get(`${prefix}:result`);
    if (resultEvent !== undefined) {
      thread.lastEventId = resultEvent.id;
      const failure = this.recordedFailure(resultEvent);
      if (failure !== undefined) return failure;
      return this.selected(sr, fromJsonText(replayExtension(resultEvent)?.output), attempt);
    }
    await this.emit(thread, `${prefix}:started`, kind === 'Map' ? 'MapStateStarted' : 'ParallelStateStarted', kind === 'Map' ? { length: count } : {});

    const siblings = new AbortController();
    const onAbort = (): void => siblings.abort();
    thread.signal.addEventListener('abort', onAbort, { once: true });
    const signal = siblings.signal;
    const results: unknown[] = new Array<unknown>(count).fill(null);
    const tolerant = kind === 'Map' && (tolerance.count !== undefined || tolerance.percentage !== undefined);
    let failures = 0;
    let firstFailure: ErrorInfo | undefined;
    let fatal: unknown;

    const exceeded = (): boolean => {
      if (!tolerant) return failures > 0;
      if (tolerance.count !== undefined && failures > tolerance.count) return true;
      if (tolerance.percentage !== undefined && count > 0 && (failures / count) * 100 > tolerance.percentage) return true;
      return false;
    };

    const runOne = async (index: number): Promise<void> => {
      const childKey = `${stepKey}.${attempt}/${kind === 'Map' ? 'i' : 'b'}${index}/`;
      const child: Thread = { key: childKey, steps: 0, lastEventId: thread.lastEventId, signal, vars: thread.vars.child() };
      if (kind === 'Map') {
        const done = this.replay.get(`${childKey}done`);
        if (done !== undefined) {
          const ext = replayExtension(done);
          if (done.type === 'MapIterationSucceeded') {
            results[index] = fromJsonText(ext?.output);
            return;
          }
          failures += 1;
          const info = { error: stringField(ext?.error), cause: stringField(ext?.cause) };
          firstFailure ??= info;
          results[index] = { Error: info.error, Cause: info.cause };
          if (exceeded()) siblings.abort();
          return;
        }
        await this.emit(child, `${childKey}started`, 'MapIterationStarted', { name: sr.name, index });
      }
      try {
        const { value } = await body(child, index);
        results[index] = value;
        if (kind === 'Map') {
          await this.emit(child, `${childKey}done`, 'MapIterationSucceeded', { name: sr.name, index }, { output: toJsonText(value) });
        }
      } catch (error) {
        if (error instanceof AbortedError || !(error instanceof StatesError)) {
          if (!(error instanceof AbortedError)) fatal ??= error;
          siblings.abort();
          return;
        }
        const info = toErrorInfo(error);
        failures += 1;
        firstFailure ??= info;
        results[index] = { Error: info.error, Cause: info.cause };
        if (kind === 'Map') {
          try {
            await this.emit(child, `${childKey}done`, 'MapIterationFailed', { name: sr.name, index }, { error: info.error, cause: info.cause });
          } catch (emitError) {
            if (!(emitError instanceof AbortedError)) fatal ??= emitError;
          }
        }
        if (exceeded()) siblings.abort();
      }
    };

    try {
      const limit = maxConcurrency > 0 ? maxConcurrency : count;
      let nextIndex = 0;
      const worker = async (): Promise<void> => {
        while (nextIndex < count && !signal.aborted) {
          const index = nextIndex;
          nextIndex += 1;
          await runOne(index);
        }
      };
      await Promise.all(Array.from({ length: Math.min(limit, count) }, () => worker()));
    } finally {
      thread.signal.removeEventListener('abort', onAbort);
    }
    if (fatal !== undefined) throw fatal;
    if (thread.signal.aborted) throw new AbortedError();

    if (firstFailure !== undefined && exceeded()) {
      const info: ErrorInfo = tolerant
        ? { error: StatesErrorNames.ExceedToleratedFailureThreshold, cause: `The Map state failed because ${failures} of ${count} iterations failed, more than the tolerated failure threshold` }
        : firstFailure;
      return {
        ok: false,
        info,
        record: async (extension) => {
          await this.emit(thread, `${prefix}:result`, kind === 'Map' ? 'MapStateFailed' : 'ParallelStateFailed', {}, { ...extension, error: info.error, cause: info.cause });
        },
      };
    }
    await this.emit(thread, `${prefix}:result`, kind === 'Map' ? 'MapStateSucceeded' : 'ParallelStateSucceeded', {}, { output: toJsonText(results) });
    return this.selected(sr, cloneJson(results), attempt);
  }
}

// ---------------------------------------------------------------------------------------------

function stringField(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function noChoiceMatched(name: string): StatesError {
  return new StatesError(StatesErrorNames.NoChoiceMatched, `No Matches! No choice rule in state '${name}' matched the input and there is no Default`);
}

function regionOf(arn: string): string {
  return arn.split(':')[3] || 'us-east-1';
}

function failureDetails(error: StatesError): { error?: string; cause?: string } {
  return {
    ...(error.error === '' ? {} : { error: error.error }),
    ...(error.cause === '' ? {} : { cause: error.cause }),
  };
}

function abortReason(reason: unknown): { error?: string; cause?: string } {
  if (isJsonObject(reason)) {
    const out: { error?: string; cause?: string } = {};
    if (typeof reason['error'] === 'string') out.error = reason['error'];
    if (typeof reason['cause'] === 'string') out.cause = reason['cause'];
    return out;
  }
  return {};
}

function resultFromTerminal(event: HistoryEvent): ExecutionResult {
  const details = eventDetails(event) ?? {};
  const fields = {
    ...(typeof details['error'] === 'string' ? { error: details['error'] } : {}),
    ...(typeof details['cause'] === 'string' ? { cause: details['cause'] } : {}),
  };
  switch (event.type) {
    case 'ExecutionSucceeded':
      return { status: 'SUCCEEDED', output: stringField(details['output']) };
    case 'ExecutionFailed':
      return { status: 'FAILED', ...fields };
    case 'ExecutionTimedOut':
      return { status: 'TIMED_OUT', ...fields };
    default:
      return { status: 'ABORTED', ...fields };
  }
}
