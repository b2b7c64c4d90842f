/**
 * @module
 * Durable workflow executions on an Outpost node: the engine (interpreter.ts) wired to the
 * store and to the one dispatch path. Standard executions write every history event to the
 * MetaStore before the next step runs; a node that starts finds the executions still RUNNING
 * and resumes each from its recorded history, so a finished Task is never run again and a
 * Wait of hours survives restarts. Express executions (StartSyncExecution, or StartExecution of
 * an EXPRESS machine) run in memory. Task states call functions through `ctx.invoke`.
 *
 * In a fleet (nodes sharing one store) each running execution has an owner lease
 * (store/leases.ts): the node running it confirms the lease before every history write
 * (renewing it when a third of its length has passed) and renews it on a timer. A node that
 * starts, and every node every half lease, resumes the RUNNING executions whose lease is free
 * or expired, so an execution whose node died continues elsewhere and is never run by two nodes
 * at once. A node that finds its lease taken over (it was paused past it) stops that run and
 * writes nothing more.
 *
 * The {@link WorkflowService} is what the Step Functions API (aws/stepfunctions.ts), the
 * control API routes (control-routes.ts) and the workflow binding call.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isOutpostError } from '../errors.ts';
import type { NodeContext, NodeService, RunningService } from '../server/context.ts';
import type { Logger } from '../observe/logger.ts';
import { workflowStateSpans } from '../observe/tracing.ts';
import { acquireLease, leaseMsFromEnv, nodeIdentity, seizeLease } from '../store/leases.ts';
import type { HeldLease, LeaseOptions } from '../store/leases.ts';
import type { MetaStore, Store } from '../store/types.ts';
import { attachWorkflows, detachWorkflows } from './attach.ts';
import { handleWorkflowsApi } from './control-routes.ts';
import { TaskFailure } from './failure.ts';
import { TERMINAL_EVENT_TYPES, toPublicEvent } from './history.ts';
import type { HistoryEvent } from './history.ts';
import type { ExecutionJournal, TaskRequest, WorkflowHost } from './host.ts';
import { discardJournal } from './host.ts';
import { runExecution } from './interpreter.ts';
import type { ExecutionResult } from './interpreter.ts';
import { isJsonObject } from './json.ts';
import { checkName, executionArn, expressExecutionArn, parseExecutionArn, sfnKeys, stateMachineArn, stateMachineNameOf, WorkflowError } from './records.ts';
import type { ExecutionRecord, ExecutionStatusName, StateMachineType, TaskTokenRecord } from './records.ts';
import { definitionProblems, StateMachines } from './registry.ts';
import type { StateMachineInput, StateMachineView } from './registry.ts';
import { classifyResource } from './tasks.ts';
import type { Problem } from './validate.ts';
import { createStepFunctionsApi } from '../aws/stepfunctions.ts';

/** Time as the service sees it: real in a node, virtual (testing.ts VirtualClock) in tests. */
export interface WorkflowClock {
  now(): number;
  sleepUntil(epochMs: number, signal: AbortSignal): Promise<void>;
}

/** Real time. Long waits are chained timers (setTimeout caps at ~24.8 days); timers don't hold the process open. */
export const realClock: WorkflowClock = {
  now: () => Date.now(),
  sleepUntil: (epochMs, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, Math.min(epochMs - Date.now(), 2_147_483_647)));
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    }),
};

/** How a Task reaches a function: NodeContext.invoke's shape, minus what the service does not need. */
export type InvokeFunction = (functionName: string, kind: 'invoke', payload: unknown, options?: { trigger?: string }) => Promise<{ result: unknown }>;

export interface WorkflowServiceOptions {
  store: Store;
  invoke: InvokeFunction;
  clock?: WorkflowClock;
  logger?: Pick<Logger, 'system'>;
  random?: () => number;
  uuid?: () => string;
  /** Told of each history event once it is stored (traces draw a span per state from them). */
  onEvents?: (execution: ExecutionRecord, events: readonly HistoryEvent[]) => void;
  /** Owner lease length (default `OUTPOST_LEASE_SECONDS` or 15 s): how soon another node takes over. */
  leaseMs?: number;
  /** This node's lasting identity (store/leases.ts nodeIdentity): a restart takes its own leases back at once. */
  node?: string | undefined;
}

/** An execution as DescribeExecution / StartSyncExecution report it (epoch ms). */
export interface ExecutionView extends ExecutionRecord {
  stateMachineArn: string;
  type: StateMachineType;
}

interface Live {
  stop: AbortController;
  done: Promise<void>;
}

const LEASE_PREFIX = 'executions-lease/';

/** Where an execution's owner lease lives, beside its resume marker. */
function leaseKey(stateMachine: string, name: string): string {
  return sfnKeys.running(stateMachine, name).replace(sfnKeys.runningPrefix, LEASE_PREFIX);
}

/** Thrown into the interpreter when this node no longer owns the execution. */
class LeaseLost extends Error {}

interface TokenWaiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  heartbeat(): void;
}

const EXPRESS_KEPT = 1000;

/** Lambda's error cause: `{errorMessage, errorType, trace}` as JSON text. */
function functionFailure(error: unknown, functionName: string): TaskFailure {
  const e = error as { userError?: { name?: string; message?: string; stack?: string }; code?: string; message?: string };
  if (e.userError) {
    const type = e.userError.name || 'Error';
    const trace = e.userError.stack ? e.userError.stack.split('\n') : [];
    return new TaskFailure(type, JSON.stringify({ errorMessage: e.userError.message ?? '', errorType: type, trace }));
  }
  if (isOutpostError(error, 'FUNCTION_NOT_FOUND')) return new TaskFailure('Lambda.ResourceNotFoundException', `Function not found: ${functionName}`);
  if (e.code === 'TIMEOUT') return new TaskFailure('Sandbox.Timedout', JSON.stringify({ errorMessage: e.message ?? 'Task timed out', errorType: 'Sandbox.Timedout' }));
  return new TaskFailure('Lambda.Unknown', JSON.stringify({ errorMessage: e.message ?? String(error), errorType: e.code ?? 'Lambda.Unknown' }));
}

/** `arn:aws:lambda:…:function:NAME[:qualifier]`, `ACCOUNT:function:NAME`, `NAME[:alias]` → NAME. */
export function functionNameOf(value: string): string {
  const m = /(?:^|:)function:([^:]+)/.exec(value);
  if (m?.[1]) return m[1];
  return value.split(':')[0] ?? value;
}

function jsonText(value: unknown, what: string): string {
  if (value === undefined || value === null) return '{}';
  if (typeof value !== 'string') throw new WorkflowError('InvalidExecutionInput', `${what} must be a JSON string`);
  try {
    JSON.parse(value);
  } catch (error) {
    throw new WorkflowError('InvalidExecutionInput', `Invalid ${what}: ${(error as Error).message}`);
  }
  return value;
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

export class WorkflowService {
  readonly stateMachines: StateMachines;
  readonly #meta: MetaStore;
  readonly #invoke: InvokeFunction;
  readonly #clock: WorkflowClock;
  readonly #logger: Pick<Logger, 'system'> | undefined;
  readonly #onEvents: WorkflowServiceOptions['onEvents'];
  readonly #host: WorkflowHost;
  readonly #live = new Map<string, Live>();
  readonly #express = new Map<string, ExecutionView>();
  readonly #waiters = new Map<string, TokenWaiter>();
  readonly #lease: LeaseOptions;
  /** The leases this node holds, by key, with the run each guards. */
  readonly #held = new Map<string, { lease: HeldLease; stop: AbortController }>();
  readonly #unwatchLeases: () => void;
  #closed = false;
  #resuming: Promise<number> | undefined;

  constructor(options: WorkflowServiceOptions) {
    this.#meta = options.store.meta;
    this.#invoke = options.invoke;
    this.#clock = options.clock ?? realClock;
    this.#logger = options.logger;
    this.#onEvents = options.onEvents;
    this.#lease = { meta: this.#meta, owner: randomUUID(), node: options.node, ttlMs: options.leaseMs ?? leaseMsFromEnv(), now: () => Date.now() };
    // A lease taken from this node (StopExecution through another node) stops the run at once.
    this.#unwatchLeases = this.#meta.watch(LEASE_PREFIX, (change) => {
      const held = this.#held.get(change.key);
      if (!held) return;
      held.lease.observe(change);
      if (held.lease.lost) held.stop.abort({ shutdown: true });
    });
    this.stateMachines = new StateMachines(this.#meta, () => this.#clock.now());
    const random = options.random ?? Math.random;
    const uuid = options.uuid ?? randomUUID;
    this.#host = {
      now: () => this.#clock.now(),
      sleepUntil: (at, signal) => this.#clock.sleepUntil(at, signal),
      invokeTask: (request) => this.#invokeTask(request),
      random,
      uuid,
    };
  }

  // ------------------------------------------------------------------------------------------
  // State machines

  createStateMachine(input: StateMachineInput): Promise<StateMachineView> {
    return this.stateMachines.create(input);
  }

  validate(definition: string | unknown): Problem[] {
    return definitionProblems(definition);
  }

  // ------------------------------------------------------------------------------------------
  // Executions

  /**
   * Starts an execution (StartExecution). Standard: the summary is durable before this
   * resolves, and the run continues in the background. Same name and input as an open
   * execution returns it; a different input, or a closed execution, is ExecutionAlreadyExists.
   */
  async start(stateMachine: string, options: { name?: string; input?: unknown } = {}): Promise<ExecutionView> {
    this.#checkOpen();
    const smName = stateMachineNameOf(stateMachine);
    const name = options.name === undefined ? randomUUID() : checkName(options.name, 'execution');
    const input = jsonText(options.input, 'execution input');
    const sm = await this.stateMachines.require(smName);
    if (sm.version.type === 'EXPRESS') return this.#startExpress(sm, name, input, false);

    const record: ExecutionRecord = {
      arn: executionArn(smName, name),
      name,
      stateMachine: smName,
      version: sm.version.version,
      status: 'RUNNING',
      startDate: this.#clock.now(),
      input,
    };
    // The resume marker goes first: a crash between the two writes leaves a marker without a
    // summary (skipped at start), never a RUNNING summary nobody resumes.
    await this.#meta.put(sfnKeys.running(smName, name), { arn: record.arn });
    try {
      await this.#meta.put(sfnKeys.execution(smName, name), record, { expectRevision: 0 });
    } catch (error) {
      if (!isOutpostError(error, 'STORE_CONFLICT')) throw error;
      const existing = (await this.#meta.get<ExecutionRecord>(sfnKeys.execution(smName, name)))?.value;
      if (existing && existing.status !== 'RUNNING') await this.#meta.delete(sfnKeys.running(smName, name));
      if (existing && existing.status === 'RUNNING' && sameJson(existing.input, input)) return this.#view(existing, 'STANDARD');
      throw new WorkflowError('ExecutionAlreadyExists', `Execution Already Exists: '${record.arn}'`);
    }
    const lease = await acquireLease(this.#lease, leaseKey(smName, name));
    if (lease) this.#launch(record, sm.version.definition, [], lease);
    return this.#view(record, 'STANDARD');
  }

  /** Runs an EXPRESS state machine to the end and returns the result (StartSyncExecution). */
  async startSync(stateMachine: string, options: { name?: string; input?: unknown } = {}): Promise<ExecutionView> {
    this.#checkOpen();
    const smName = stateMachineNameOf(stateMachine);
    const name = options.name === undefined ? randomUUID() : checkName(options.name, 'execution');
    const input = jsonText(options.input, 'execution input');
    const sm = await this.stateMachines.require(smName);
    if (sm.version.type !== 'EXPRESS') throw new WorkflowError('StateMachineTypeNotSupported', 'This operation is not supported by this type of state machine');
    return this.#startExpress(sm, name, input, true);
  }

  async describe(arn: string): Promise<ExecutionView> {
    const parsed = parseExecutionArn(arn);
    if (parsed.express) {
      const found = this.#express.get(arn);
      if (!found) throw executionNotFound(arn);
      return found;
    }
    const record = (await this.#meta.get<ExecutionRecord>(sfnKeys.execution(parsed.stateMachine, parsed.name)))?.value;
    if (!record) throw executionNotFound(arn);
    return this.#view(record, 'STANDARD');
  }

  /** Executions of a state machine, newest first. */
  async list(stateMachine: string, statusFilter?: ExecutionStatusName): Promise<ExecutionView[]> {
    const smName = stateMachineNameOf(stateMachine);
    const sm = await this.stateMachines.get(smName);
    const stored = (await this.#meta.list<ExecutionRecord>(sfnKeys.executionPrefix(smName))).map((e) => this.#view(e.value, 'STANDARD'));
    if (!sm && stored.length === 0) throw new WorkflowError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachine}'`);
    const express = [...this.#express.values()].filter((e) => e.stateMachine === smName);
    return [...stored, ...express].filter((e) => statusFilter === undefined || e.status === statusFilter).sort((a, b) => b.startDate - a.startDate || (a.name < b.name ? -1 : 1));
  }

  /** Recorded events with the engine's replay extension; see {@link publicHistory}. */
  async history(arn: string): Promise<HistoryEvent[]> {
    const parsed = parseExecutionArn(arn);
    if (parsed.express) throw new WorkflowError('InvalidArn', 'Express executions keep no history (as on AWS, where it goes to CloudWatch Logs)');
    if (!(await this.#meta.get(sfnKeys.execution(parsed.stateMachine, parsed.name)))) throw executionNotFound(arn);
    return (await this.#meta.list<HistoryEvent>(sfnKeys.historyPrefix(parsed.stateMachine, parsed.name))).map((e) => e.value);
  }

  /** History as GetExecutionHistory shows it. */
  async publicHistory(arn: string): Promise<HistoryEvent[]> {
    return (await this.history(arn)).map(toPublicEvent);
  }

  /** Stops a running execution (StopExecution); resolves with its stop time. */
  async stop(arn: string, reason: { error?: string; cause?: string } = {}): Promise<number> {
    const parsed = parseExecutionArn(arn);
    if (parsed.express) throw new WorkflowError('ValidationException', 'Express executions cannot be stopped');
    const record = (await this.#meta.get<ExecutionRecord>(sfnKeys.execution(parsed.stateMachine, parsed.name)))?.value;
    if (!record) throw executionNotFound(arn);
    if (record.status !== 'RUNNING') return record.stopDate ?? this.#clock.now();
    const live = this.#live.get(arn);
    if (live) {
      live.stop.abort(reason);
      await live.done;
    } else await this.#stopElsewhere(record, reason);
    return (await this.describe(arn)).stopDate ?? this.#clock.now();
  }

  /**
   * Stops an execution another node runs (or nobody runs yet): takes its lease — the owner stops
   * at its next renewal, within a third of the lease, writing nothing more — then resumes it
   * here already stopped, so it ends ABORTED with an ExecutionAborted event as a local stop does.
   */
  async #stopElsewhere(record: ExecutionRecord, reason: { error?: string; cause?: string }): Promise<void> {
    const version = await this.stateMachines.version(record.stateMachine, record.version);
    if (!version) return;
    const lease = await seizeLease(this.#lease, leaseKey(record.stateMachine, record.name));
    const history = (await this.#meta.list<HistoryEvent>(sfnKeys.historyPrefix(record.stateMachine, record.name))).map((e) => e.value);
    const live = this.#launch(record, version.definition, history, lease);
    live.stop.abort(reason);
    await live.done;
  }

  // ------------------------------------------------------------------------------------------
  // Task tokens (.waitForTaskToken)

  async sendTaskSuccess(token: string, output: unknown): Promise<void> {
    const text = typeof output === 'string' ? output : '';
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new WorkflowError('InvalidOutput', 'Invalid Output: the task output must be JSON text');
    }
    await this.#settleToken(token, { ok: true, output: text }, (w) => w.resolve(value));
  }

  async sendTaskFailure(token: string, error = '', cause = ''): Promise<void> {
    await this.#settleToken(token, { ok: false, error, cause }, (w) => w.reject(new TaskFailure(error, cause)));
  }

  async sendTaskHeartbeat(token: string): Promise<void> {
    const record = await this.#tokenRecord(token);
    if (record.closed || record.outcome) throw tokenClosed();
    this.#waiters.get(token)?.heartbeat();
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Resumes every execution the store says is RUNNING whose owner lease is free or expired
   * (called when the node starts, then periodically). Resolves with how many it took on.
   */
  resumeAll(): Promise<number> {
    this.#resuming ??= this.#resumeAll().finally(() => (this.#resuming = undefined));
    return this.#resuming;
  }

  async #resumeAll(): Promise<number> {
    let resumed = 0;
    for (const { value } of await this.#meta.list<{ arn: string }>(sfnKeys.runningPrefix)) {
      const parsed = parseExecutionArn(value.arn);
      const record = (await this.#meta.get<ExecutionRecord>(sfnKeys.execution(parsed.stateMachine, parsed.name)))?.value;
      if (!record || record.status !== 'RUNNING') {
        await this.#meta.delete(sfnKeys.running(parsed.stateMachine, parsed.name));
        continue;
      }
      if (this.#live.has(record.arn) || this.#closed) continue;
      const lease = await acquireLease(this.#lease, leaseKey(record.stateMachine, record.name));
      if (!lease) continue; // another node runs it
      const version = await this.stateMachines.version(record.stateMachine, record.version);
      if (!version) {
        this.#logger?.system('error', `cannot resume ${record.arn}: version ${record.version} of ${record.stateMachine} is missing`);
        await lease.release();
        continue;
      }
      const history = (await this.#meta.list<HistoryEvent>(sfnKeys.historyPrefix(record.stateMachine, record.name))).map((e) => e.value);
      this.#launch(record, version.definition, history, lease);
      resumed += 1;
    }
    return resumed;
  }

  /** Settles once every execution running in memory has finished (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.#live.size > 0) await Promise.all([...this.#live.values()].map((l) => l.done));
  }

  /**
   * Stops running executions without recording anything: they stay RUNNING in the store and
   * the next node to start resumes them (a graceful shutdown and a crash look the same).
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unwatchLeases();
    for (const live of this.#live.values()) live.stop.abort({ shutdown: true });
    for (const waiter of this.#waiters.values()) waiter.reject(new Error('node shutting down'));
    await Promise.allSettled([...this.#live.values()].map((l) => l.done));
  }

  // ------------------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closed) throw new WorkflowError('ServiceUnavailable', 'the workflows service is shutting down', { status: 503 });
  }

  #view(record: ExecutionRecord, type: StateMachineType): ExecutionView {
    return { ...record, stateMachineArn: stateMachineArn(record.stateMachine), type };
  }

  /**
   * Writes each event under its own key before the interpreter moves on; remembers the last one.
   * The lease is confirmed first, so a node that lost the execution records nothing more.
   */
  #journal(record: ExecutionRecord, last: { event: HistoryEvent | undefined }, lease: HeldLease): ExecutionJournal {
    return {
      append: async (events) => {
        if (this.#closed) throw new Error('node shutting down');
        if (!(await lease.confirm())) throw new LeaseLost(`${record.arn} is owned by another node now`);
        for (const event of events) {
          await this.#meta.put(sfnKeys.history(record.stateMachine, record.name, event.id), event);
          last.event = event;
        }
        this.#onEvents?.(record, events);
      },
    };
  }

  #launch(record: ExecutionRecord, definition: string, history: HistoryEvent[], lease: HeldLease): Live {
    const stop = new AbortController();
    const last = { event: history.at(-1) };
    // Renewed between writes too, so a long Wait or Task keeps the execution here.
    const keepAlive = setInterval(() => {
      lease.renew().then(
        (held) => {
          if (!held) stop.abort({ shutdown: true });
        },
        () => undefined, // the store is unreachable: the next write's renewal decides
      );
    }, Math.max(1, Math.floor(this.#lease.ttlMs / 3)));
    keepAlive.unref();
    this.#held.set(lease.key, { lease, stop });
    const run = async (): Promise<void> => {
      let result: ExecutionResult;
      try {
        result = await runExecution({
          definition,
          input: JSON.parse(record.input) as unknown,
          context: { executionArn: record.arn, executionName: record.name, stateMachineArn: stateMachineArn(record.stateMachine), stateMachineName: record.stateMachine, startTime: record.startDate },
          host: this.#host,
          journal: this.#journal(record, last, lease),
          history,
          signal: stop.signal,
        });
      } catch (error) {
        if (this.#closed || lease.lost) return;
        // The engine itself failed (the store refused a write): record it so the execution ends.
        this.#logger?.system('error', `execution ${record.arn} failed inside Outpost: ${(error as Error).message}`);
        result = { status: 'FAILED', error: 'States.Runtime', cause: `Outpost could not run the execution: ${(error as Error).message}` };
      }
      // Renewed (not just confirmed) before the final record: a stop through another node may have taken it just now.
      if (this.#closed || !(await lease.renew())) {
        if (lease.lost) this.#logger?.system('warn', `execution ${record.arn} was taken over by another node; this node stopped running it`);
        return;
      }
      await this.#finish(record, result, last.event);
      await lease.release();
    };
    const done = run()
      .catch((error: unknown) => this.#logger?.system('error', `execution ${record.arn}: ${(error as Error).message}`))
      .finally(async () => {
        clearInterval(keepAlive);
        if (this.#held.get(lease.key)?.lease === lease) this.#held.delete(lease.key);
        this.#live.delete(record.arn);
        // A graceful stop hands the execution to the next node at once instead of after expiry.
        if (this.#closed) await lease.release();
      });
    const live = { stop, done };
    this.#live.set(record.arn, live);
    return live;
  }

  async #finish(record: ExecutionRecord, result: ExecutionResult, last: HistoryEvent | undefined): Promise<void> {
    const stopDate = last && TERMINAL_EVENT_TYPES.has(last.type) ? last.timestamp : this.#clock.now();
    const final: ExecutionRecord = {
      ...record,
      status: result.status,
      stopDate,
      ...(result.output === undefined ? {} : { output: result.output }),
      ...(result.error === undefined ? {} : { error: result.error }),
      ...(result.cause === undefined ? {} : { cause: result.cause }),
    };
    await this.#meta.put(sfnKeys.execution(record.stateMachine, record.name), final);
    await this.#meta.delete(sfnKeys.running(record.stateMachine, record.name));
  }

  async #startExpress(sm: StateMachineView, name: string, input: string, wait: boolean): Promise<ExecutionView> {
    const smName = sm.record.name;
    const arn = expressExecutionArn(smName, name, randomUUID());
    const view: ExecutionView = { arn, name, stateMachine: smName, version: sm.version.version, status: 'RUNNING', startDate: this.#clock.now(), input, stateMachineArn: stateMachineArn(smName), type: 'EXPRESS' };
    this.#express.set(arn, view);
    while (this.#express.size > EXPRESS_KEPT) {
      const oldest = this.#express.keys().next().value;
      if (oldest === undefined) break;
      this.#express.delete(oldest);
    }
    const running = runExecution({
      definition: sm.version.definition,
      input: JSON.parse(input) as unknown,
      context: { executionArn: arn, executionName: name, stateMachineArn: view.stateMachineArn, stateMachineName: smName, startTime: view.startDate },
      host: this.#host,
      journal: discardJournal,
    }).then(
      (result): ExecutionView => {
        const final: ExecutionView = {
          ...view,
          status: result.status,
          stopDate: this.#clock.now(),
          ...(result.output === undefined ? {} : { output: result.output }),
          ...(result.error === undefined ? {} : { error: result.error }),
          ...(result.cause === undefined ? {} : { cause: result.cause }),
        };
        if (this.#express.has(arn)) this.#express.set(arn, final);
        return final;
      },
      (error: unknown): ExecutionView => {
        const final: ExecutionView = { ...view, status: 'FAILED', stopDate: this.#clock.now(), error: 'States.Runtime', cause: (error as Error).message };
        if (this.#express.has(arn)) this.#express.set(arn, final);
        return final;
      },
    );
    return wait ? running : view;
  }

  // ------------------------------------------------------------------------------------------
  // Tasks

  async #invokeTask(request: TaskRequest): Promise<unknown> {
    const kind = classifyResource(request.resource);
    if (kind.kind === 'lambda-function') return this.#callFunction(functionNameOf(request.resource), request.input);
    if (kind.resourceType === 'lambda' && (kind.resource === 'invoke' || kind.resource === 'invoke.waitForTaskToken')) {
      const params = isJsonObject(request.parameters) ? request.parameters : {};
      const target = params['FunctionName'];
      if (typeof target !== 'string') throw new TaskFailure('States.Runtime', 'lambda:invoke needs Parameters.FunctionName');
      const fn = functionNameOf(target);
      if (!kind.waitForTaskToken) return this.#callFunction(fn, request.input);
      return this.#waitForToken(request, () => this.#callFunction(fn, request.input));
    }
    if (kind.resourceType === 'states' && kind.resource.startsWith('startExecution')) return this.#startChild(request, kind.resource);
    if (kind.waitForTaskToken) return this.#waitForToken(request, undefined);
    throw new TaskFailure('States.Runtime', `Outpost does not run the ${kind.resourceType}:${kind.resource} integration; use a Lambda function, lambda:invoke or states:startExecution`);
  }

  /**
   * Nested workflows (`arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]`).
   * Without a Name, the child is named from the task's idempotency key, so a parent resumed after
   * a crash finds the child it already started instead of starting a second one.
   */
  async #startChild(request: TaskRequest, resource: string): Promise<unknown> {
    const params = isJsonObject(request.parameters) ? request.parameters : {};
    const target = params['StateMachineArn'];
    if (typeof target !== 'string') throw new TaskFailure('States.Runtime', 'states:startExecution needs Parameters.StateMachineArn');
    const name = typeof params['Name'] === 'string' ? params['Name'] : `child-${createHash('sha256').update(request.idempotencyKey).digest('hex').slice(0, 32)}`;
    const input = params['Input'];
    const start = async (): Promise<ExecutionView> => {
      try {
        return await this.start(target, { name, ...(input === undefined ? {} : { input: typeof input === 'string' ? input : JSON.stringify(input) }) });
      } catch (error) {
        if (error instanceof WorkflowError) throw new TaskFailure(`StepFunctions.${error.code}`, error.message);
        throw error;
      }
    };
    if (resource === 'startExecution.waitForTaskToken') return this.#waitForToken(request, async () => void (await start()));
    const child = await start();
    if (resource === 'startExecution') return { ExecutionArn: child.arn, StartDate: child.startDate / 1000 };
    const done = await this.#whenClosed(child.arn, request.signal);
    const described = {
      ExecutionArn: done.arn,
      StateMachineArn: done.stateMachineArn,
      Name: done.name,
      Status: done.status,
      StartDate: done.startDate / 1000,
      ...(done.stopDate === undefined ? {} : { StopDate: done.stopDate / 1000 }),
      Input: resource === 'startExecution.sync:2' ? JSON.parse(done.input) : done.input,
      ...(done.output === undefined ? {} : { Output: resource === 'startExecution.sync:2' ? JSON.parse(done.output) : done.output }),
    };
    if (done.status !== 'SUCCEEDED') throw new TaskFailure('States.TaskFailed', JSON.stringify({ ...described, Error: done.error, Cause: done.cause }));
    return described;
  }

  /** Resolves with the execution once it is no longer RUNNING (polled: it may run on resume). */
  async #whenClosed(arn: string, signal: AbortSignal): Promise<ExecutionView> {
    for (;;) {
      const view = await this.describe(arn);
      if (view.status !== 'RUNNING') return view;
      if (signal.aborted) throw new Error('task abandoned');
      await new Promise<void>((resolve) => setTimeout(resolve, 50).unref());
    }
  }

  async #callFunction(name: string, input: unknown): Promise<unknown> {
    try {
      return (await this.#invoke(name, 'invoke', input === undefined ? {} : input, { trigger: 'workflow' })).result;
    } catch (error) {
      throw functionFailure(error, name);
    }
  }

  /**
   * The callback pattern: the token is recorded before the function is called, so a
   * SendTaskSuccess the function makes at once finds it. After a restart the same token comes
   * back (the engine records it); a function already invoked for it is not invoked again, and
   * an outcome that arrived while no node was waiting is delivered now.
   */
  async #waitForToken(request: TaskRequest, call: (() => Promise<unknown>) | undefined): Promise<unknown> {
    const token = request.taskToken;
    if (token === undefined) throw new TaskFailure('States.Runtime', 'no task token');
    const key = sfnKeys.taskToken(token);
    let entry = await this.#meta.get<TaskTokenRecord>(key);
    if (!entry) {
      const record: TaskTokenRecord = { token, executionArn: request.executionArn, stateName: request.stateName };
      await this.#meta.put(key, record);
      entry = { key, value: record, revision: 0 };
    }
    const outcome = entry.value.outcome;
    if (outcome) {
      await this.#closeToken(token);
      if (outcome.ok) return JSON.parse(outcome.output) as unknown;
      throw new TaskFailure(outcome.error, outcome.cause);
    }
    const waiting = new Promise<unknown>((resolve, reject) => {
      this.#waiters.set(token, { resolve, reject, heartbeat: request.heartbeat });
      request.signal.addEventListener('abort', () => reject(new Error('task abandoned')), { once: true });
    });
    waiting.catch(() => {});
    try {
      if (call && !entry.value.invoked) {
        const invoked = call();
        invoked.catch(() => {});
        const first = await Promise.race([invoked.then(() => 'invoked' as const), waiting.then(() => 'settled' as const)]);
        if (first === 'invoked') {
          const current = await this.#meta.get<TaskTokenRecord>(key);
          if (current && !current.value.outcome) await this.#meta.put(key, { ...current.value, invoked: true }).catch(() => undefined);
        }
      }
      return await waiting;
    } finally {
      this.#waiters.delete(token);
      if (!this.#closed) await this.#closeToken(token);
    }
  }

  async #closeToken(token: string): Promise<void> {
    const key = sfnKeys.taskToken(token);
    const current = await this.#meta.get<TaskTokenRecord>(key);
    if (current && !current.value.closed) await this.#meta.put(key, { ...current.value, closed: true });
  }

  async #tokenRecord(token: unknown): Promise<TaskTokenRecord> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 2048) throw new WorkflowError('InvalidToken', 'Invalid Token: the task token is missing or too long');
    const record = (await this.#meta.get<TaskTokenRecord>(sfnKeys.taskToken(token)))?.value;
    if (!record) throw new WorkflowError('TaskDoesNotExist', 'Task Does Not Exist: no task is waiting for this token');
    return record;
  }

  async #settleToken(token: string, outcome: NonNullable<TaskTokenRecord['outcome']>, deliver: (waiter: TokenWaiter) => void): Promise<void> {
    const key = sfnKeys.taskToken(token);
    const record = await this.#tokenRecord(token);
    const entry = await this.#meta.get<TaskTokenRecord>(key);
    if (record.closed || record.outcome || !entry) throw tokenClosed();
    try {
      await this.#meta.put(key, { ...record, outcome }, { expectRevision: entry.revision });
    } catch (error) {
      if (isOutpostError(error, 'STORE_CONFLICT')) throw tokenClosed();
      throw error;
    }
    const waiter = this.#waiters.get(token);
    if (waiter) deliver(waiter);
  }
}

function executionNotFound(arn: string): WorkflowError {
  return new WorkflowError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
}

function tokenClosed(): WorkflowError {
  return new WorkflowError('TaskTimedOut', 'Task Timed Out: the task for this token has already been closed');
}

/** The node capability: durable executions plus the Step Functions API on the AWS port. */
export const workflowsService: NodeService = {
  name: 'workflows',
  servesAws: true,
  async start(ctx: NodeContext): Promise<RunningService> {
    const service = new WorkflowService({
      store: ctx.store,
      invoke: (name, kind, payload, options) => ctx.invoke(name, kind, payload, options ?? {}),
      logger: ctx.logger,
      onEvents: workflowStateSpans(ctx.telemetry),
      ...(ctx.stateDir === undefined ? {} : { node: nodeIdentity(hostname(), ctx.stateDir) }),
    });
    attachWorkflows(ctx.store, service);
    attachWorkflows(ctx.deployments, service);
    const resume = async (): Promise<void> => {
      const resumed = await service.resumeAll();
      if (resumed > 0) ctx.logger.system('info', `resumed ${resumed} workflow execution${resumed === 1 ? '' : 's'}`);
    };
    await resume();
    // Executions whose node died are picked up here once their lease has expired.
    const sweep = setInterval(() => void resume().catch((error: unknown) => ctx.logger.system('error', `workflows: ${(error as Error).message}`)), Math.max(1, Math.floor(leaseMsFromEnv() / 2)));
    sweep.unref();
    return {
      aws: [createStepFunctionsApi(service)],
      controlRoutes: [
        async (req, res, requestId) => {
          const path = new URL(req.url ?? '/', 'http://node').pathname;
          if (!path.startsWith('/_outpost/api/workflows')) return false;
          const parts = path.slice('/_outpost/api/workflows'.length).split('/').filter(Boolean).map(decodeURIComponent);
          return handleWorkflowsApi(ctx.deployments, parts, req.method ?? 'GET', req, res, requestId);
        },
      ],
      async close() {
        clearInterval(sweep);
        detachWorkflows(ctx.store);
        detachWorkflows(ctx.deployments);
        await service.close();
      },
    };
  },
};
