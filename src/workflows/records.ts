/**
 * @module
 * What Outpost stores about state machines and their executions, and under which MetaStore
 * keys. Keys use only `[-/_=.a-zA-Z0-9]` (names are escaped) so the same layout works on the
 * NATS KV backend. Like functions, a state machine is a pointer to immutable versions; an
 * execution remembers the version it started on, so an update never changes a running (or
 * resuming) execution's definition.
 *
 * ```
 * statemachines/<sm>                      StateMachineRecord (the pointer)
 * statemachine-versions/<sm>/<00000001>   StateMachineVersion (immutable)
 * executions/<sm>/<name>                  ExecutionRecord (summary)
 * executions-running/<sm>/<name>          marker: resumed when a node starts
 * history/<sm>/<name>/<0000000001>        HistoryEvent, one per key, written before the next step
 * tasktokens/<token>                      TaskTokenRecord (.waitForTaskToken callbacks)
 * ```
 */
import { OutpostError } from '../errors.ts';

/** ARNs use the region and account the AWS SDKs and SAM templates expect locally. */
export const SFN_REGION = 'us-east-1';
export const SFN_ACCOUNT = '000000000000';
export const DEFAULT_ROLE_ARN = `arn:aws:iam::${SFN_ACCOUNT}:role/outpost-workflows`;

export type StateMachineType = 'STANDARD' | 'EXPRESS';
export type ExecutionStatusName = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StateMachineRecord {
  name: string;
  /** The active version. */
  version: number;
  /** Highest version ever written (versions are never renumbered). */
  latest: number;
  type: StateMachineType;
  /** The project that deployed it; absent when created through the API. */
  project?: string;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
}

export interface StateMachineVersion {
  name: string;
  version: number;
  /** The definition as JSON text, as DescribeStateMachine returns it. */
  definition: string;
  type: StateMachineType;
  roleArn: string;
  createdAt: number;
}

export interface ExecutionRecord {
  arn: string;
  name: string;
  stateMachine: string;
  /** The state machine version this execution runs. */
  version: number;
  status: ExecutionStatusName;
  /** Epoch ms. */
  startDate: number;
  stopDate?: number;
  /** JSON text. */
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface TaskTokenRecord {
  token: string;
  executionArn: string;
  stateName: string;
  /** The function was invoked for this token (a resumed run waits instead of invoking again). */
  invoked?: boolean;
  /** Set by SendTaskSuccess / SendTaskFailure. */
  outcome?: { ok: true; output: string } | { ok: false; error: string; cause: string };
  /** The task ended (succeeded, failed, timed out or was abandoned); later calls get TaskTimedOut. */
  closed?: boolean;
}

/** Escapes a name into `[-_a-zA-Z0-9=]` (other UTF-8 bytes as `=XX`), so keys stay NATS-safe. */
export function keyPart(name: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(name)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export const sfnKeys = {
  stateMachinePrefix: 'statemachines/',
  stateMachine: (name: string) => `statemachines/${keyPart(name)}`,
  versionPrefix: (name: string) => `statemachine-versions/${keyPart(name)}/`,
  version: (name: string, version: number) => `statemachine-versions/${keyPart(name)}/${String(version).padStart(8, '0')}`,
  executionPrefix: (sm: string) => `executions/${keyPart(sm)}/`,
  execution: (sm: string, name: string) => `executions/${keyPart(sm)}/${keyPart(name)}`,
  runningPrefix: 'executions-running/',
  running: (sm: string, name: string) => `executions-running/${keyPart(sm)}/${keyPart(name)}`,
  historyPrefix: (sm: string, name: string) => `history/${keyPart(sm)}/${keyPart(name)}/`,
  /** Zero-padded so events list in id order. */
  history: (sm: string, name: string, id: number) => `history/${keyPart(sm)}/${keyPart(name)}/${String(id).padStart(10, '0')}`,
  taskToken: (token: string) => `tasktokens/${keyPart(token)}`,
};

export function stateMachineArn(name: string): string {
  return `arn:aws:states:${SFN_REGION}:${SFN_ACCOUNT}:stateMachine:${name}`;
}

export function executionArn(stateMachine: string, name: string): string {
  return `arn:aws:states:${SFN_REGION}:${SFN_ACCOUNT}:execution:${stateMachine}:${name}`;
}

export function expressExecutionArn(stateMachine: string, name: string, id: string): string {
  return `arn:aws:states:${SFN_REGION}:${SFN_ACCOUNT}:express:${stateMachine}:${name}:${id}`;
}

/** Raised for bad calls; `awsType` is the Step Functions error `__type`. */
export class WorkflowError extends OutpostError {
  readonly awsType: string;
  constructor(awsType: string, message: string, options: { status?: number; details?: Record<string, unknown>; hint?: string } = {}) {
    super(`WORKFLOW_${awsType.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`, message, {
      status: options.status ?? 400,
      fault: 'user',
      ...(options.details ? { details: options.details } : {}),
      ...(options.hint ? { hint: options.hint } : {}),
    });
    this.awsType = awsType;
  }
}

/**
 * A state machine name from its ARN (any region/account; a `:version` or `:alias` qualifier is
 * ignored) or a bare name. Throws InvalidArn for other ARNs.
 */
export function stateMachineNameOf(arnOrName: string): string {
  if (!arnOrName.startsWith('arn:')) return arnOrName;
  const parts = arnOrName.split(':');
  if (parts.length < 7 || parts.length > 8 || parts[2] !== 'states' || parts[5] !== 'stateMachine' || !parts[6]) {
    throw new WorkflowError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${parts[5] ?? ''}' (${arnOrName})`);
  }
  return parts[6];
}

export interface ParsedExecutionArn {
  stateMachine: string;
  name: string;
  /** Express executions carry a run id and live only in memory. */
  express: boolean;
}

export function parseExecutionArn(arn: string): ParsedExecutionArn {
  const parts = arn.split(':');
  const kind = parts[5];
  const sm = parts[6];
  const name = parts[7];
  const ok = parts[0] === 'arn' && parts[2] === 'states' && sm && name && ((kind === 'execution' && parts.length === 8) || (kind === 'express' && parts.length === 9));
  if (!ok) throw new WorkflowError('InvalidArn', `Invalid Arn: '${arn}' is not an execution ARN`);
  return { stateMachine: sm, name, express: kind === 'express' };
}

/** State machine and execution names: 1–80 characters, none of AWS's forbidden characters. */
export function checkName(name: unknown, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (typeof name !== 'string' || name.length < 1 || name.length > 80 || /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/.test(name)) {
    throw new WorkflowError('InvalidName', `Invalid Name: '${String(name)}' (a ${what} name is 1–80 characters without whitespace, brackets, wildcards or " # % \\ ^ | ~ \` $ & , ; : /)`);
  }
  return name;
}
