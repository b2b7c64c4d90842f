/**
 * @module
 * State machines in the store: create, update, deploy from a project, describe, list, delete.
 * Every change writes an immutable version first and then moves the pointer with
 * compare-and-set, the same two steps as a function deploy. Used by the deploy path
 * (control/deployments.ts) and by the Step Functions API.
 */
import { isOutpostError } from '../errors.ts';
import type { MetaStore } from '../store/types.ts';
import { validateDefinition } from './validate.ts';
import type { Problem } from './validate.ts';
import { checkName, DEFAULT_ROLE_ARN, sfnKeys, WorkflowError } from './records.ts';
import type { StateMachineRecord, StateMachineType, StateMachineVersion } from './records.ts';

export interface StateMachineInput {
  name: string;
  /** JSON text or an already parsed definition. */
  definition: string | unknown;
  type?: StateMachineType;
  roleArn?: string;
  project?: string;
}

export interface StateMachineView {
  record: StateMachineRecord;
  version: StateMachineVersion;
}

/** The definition's problems, including "not JSON". */
export function definitionProblems(definition: string | unknown): Problem[] {
  let value = definition;
  if (typeof definition === 'string') {
    try {
      value = JSON.parse(definition) as unknown;
    } catch (error) {
      return [{ path: '', code: 'INVALID_JSON_DESCRIPTION', message: `The definition is not valid JSON: ${(error as Error).message}` }];
    }
  }
  return validateDefinition(value);
}

/** AWS's InvalidDefinition message: every problem, with where it is. */
export function invalidDefinition(problems: readonly Problem[]): WorkflowError {
  const list = problems.map((p) => `${p.code}: ${p.message} at ${p.path === '' ? '/' : p.path}`).join(', ');
  return new WorkflowError('InvalidDefinition', `Invalid State Machine Definition: '${list}'`, { details: { problems } });
}

function definitionText(definition: string | unknown): string {
  return typeof definition === 'string' ? definition : JSON.stringify(definition, null, 2);
}

export class StateMachines {
  readonly #meta: MetaStore;
  readonly #now: () => number;

  constructor(meta: MetaStore, now: () => number = Date.now) {
    this.#meta = meta;
    this.#now = now;
  }

  async get(name: string): Promise<StateMachineView | undefined> {
    const record = await this.#meta.get<StateMachineRecord>(sfnKeys.stateMachine(name));
    if (!record) return undefined;
    const version = await this.version(name, record.value.version);
    return version ? { record: record.value, version } : undefined;
  }

  /** Like get, but throws StateMachineDoesNotExist. */
  async require(name: string): Promise<StateMachineView> {
    const found = await this.get(name);
    if (!found) throw notFound(name);
    return found;
  }

  async version(name: string, version: number): Promise<StateMachineVersion | undefined> {
    return (await this.#meta.get<StateMachineVersion>(sfnKeys.version(name, version)))?.value;
  }

  async list(): Promise<StateMachineRecord[]> {
    return (await this.#meta.list<StateMachineRecord>(sfnKeys.stateMachinePrefix)).map((e) => e.value);
  }

  /**
   * Creates a state machine (CreateStateMachine). Creating one that exists with the same
   * definition, type and role returns it unchanged, as AWS does; anything else is
   * StateMachineAlreadyExists.
   */
  async create(input: StateMachineInput): Promise<StateMachineView> {
    checkName(input.name, 'state machine');
    const problems = definitionProblems(input.definition);
    if (problems.length > 0) throw invalidDefinition(problems);
    const existing = await this.get(input.name);
    if (existing) {
      const v = existing.version;
      if (v.definition === definitionText(input.definition) && v.type === (input.type ?? 'STANDARD') && v.roleArn === (input.roleArn ?? DEFAULT_ROLE_ARN)) return existing;
      throw new WorkflowError('StateMachineAlreadyExists', `State Machine Already Exists: '${existing.record.name}'`);
    }
    return (await this.#write(input, undefined)).view;
  }

  /** Changes the definition and/or role (UpdateStateMachine); a running execution keeps its version. */
  async update(name: string, change: { definition?: string | unknown; roleArn?: string }): Promise<StateMachineView> {
    const current = await this.#meta.get<StateMachineRecord>(sfnKeys.stateMachine(name));
    if (!current) throw notFound(name);
    const version = await this.version(name, current.value.version);
    if (!version) throw notFound(name);
    if (change.definition !== undefined) {
      const problems = definitionProblems(change.definition);
      if (problems.length > 0) throw invalidDefinition(problems);
    }
    const input: StateMachineInput = {
      name,
      definition: change.definition ?? version.definition,
      type: version.type,
      roleArn: change.roleArn ?? version.roleArn,
      ...(current.value.project === undefined ? {} : { project: current.value.project }),
    };
    return (await this.#write(input, current)).view;
  }

  /**
   * Problems that would stop {@link deploy}: an invalid definition, or a name owned by another
   * project. Checked for every state machine before a deploy writes anything.
   */
  async deployProblems(project: string, input: StateMachineInput): Promise<string[]> {
    const out: string[] = [];
    try {
      checkName(input.name, 'state machine');
    } catch (error) {
      out.push((error as Error).message);
    }
    for (const p of definitionProblems(input.definition)) out.push(`${p.path === '' ? '/' : p.path}: ${p.message} (${p.code})`);
    const current = await this.#meta.get<StateMachineRecord>(sfnKeys.stateMachine(input.name));
    if (current && current.value.project !== project) {
      out.push(`the name is taken by ${current.value.project === undefined ? 'a state machine created through the API' : `project ${current.value.project}`}; rename it or delete the other one`);
    }
    return out;
  }

  /** Stores a project's state machine; an identical one is left alone (no new version). */
  async deploy(project: string, input: StateMachineInput): Promise<{ name: string; version: number; previous?: number; unchanged: boolean }> {
    const current = await this.#meta.get<StateMachineRecord>(sfnKeys.stateMachine(input.name));
    if (current) {
      const active = await this.version(input.name, current.value.version);
      if (active && active.definition === definitionText(input.definition) && active.type === (input.type ?? 'STANDARD')) {
        return { name: input.name, version: active.version, previous: active.version, unchanged: true };
      }
    }
    const { view, previous } = await this.#write({ ...input, project }, current);
    return { name: input.name, version: view.version.version, ...(previous === undefined ? {} : { previous }), unchanged: false };
  }

  /** Removes the pointer; versions stay so executions already running can finish and resume. */
  async delete(name: string): Promise<void> {
    const current = await this.#meta.get<StateMachineRecord>(sfnKeys.stateMachine(name));
    if (!current) throw notFound(name);
    await this.#meta.delete(sfnKeys.stateMachine(name), { expectRevision: current.revision });
  }

  async #write(input: StateMachineInput, current: { value: StateMachineRecord; revision: number } | undefined): Promise<{ view: StateMachineView; previous?: number }> {
    const now = this.#now();
    // After a delete the pointer is gone but versions remain: continue their numbering.
    const stored = current ? [] : await this.#meta.list<StateMachineVersion>(sfnKeys.versionPrefix(input.name));
    const latest = current?.value.latest ?? stored.reduce((max, e) => Math.max(max, e.value.version), 0);
    const version: StateMachineVersion = {
      name: input.name,
      version: latest + 1,
      definition: definitionText(input.definition),
      type: input.type ?? 'STANDARD',
      roleArn: input.roleArn ?? DEFAULT_ROLE_ARN,
      createdAt: now,
    };
    const record: StateMachineRecord = {
      name: input.name,
      version: version.version,
      latest: version.version,
      type: version.type,
      ...(input.project === undefined ? {} : { project: input.project }),
      createdAt: current?.value.createdAt ?? now,
      updatedAt: now,
    };
    try {
      await this.#meta.put(sfnKeys.version(input.name, version.version), version, { expectRevision: 0 });
      await this.#meta.put(sfnKeys.stateMachine(input.name), record, { expectRevision: current?.revision ?? 0 });
    } catch (error) {
      if (isOutpostError(error, 'STORE_CONFLICT')) throw new WorkflowError('ConflictException', `State machine ${input.name} changed concurrently; retry`, { status: 400 });
      throw error;
    }
    return { view: { record, version }, ...(current ? { previous: current.value.version } : {}) };
  }
}

function notFound(name: string): WorkflowError {
  return new WorkflowError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${name}'`, { hint: 'outpost workflows list shows the state machines' });
}
