/**
 * @module
 * Deploys, rollbacks and deletes. A deploy builds every function of a project, stores the
 * bundles, proves each one starts (module evaluation, handler shape) on this node, writes the
 * immutable version records and only then moves each function's active pointer. Anything that
 * fails before the pointer moves leaves the old version serving and changes nothing visible.
 * A project's state machines are validated before anything is written (every problem listed)
 * and stored after its functions, as versions like functions (workflows/registry.ts).
 */
import { buildFunction } from '../build/index.ts';
import type { Bundle } from '../build/index.ts';
import { OutpostError } from '../errors.ts';
import type { FunctionSpec, ProjectSpec, StateMachineSpec } from '../project/spec.ts';
import type { Store } from '../store/types.ts';
import { StateMachines } from '../workflows/registry.ts';
import { keys } from './records.ts';
import type { FunctionManifest, FunctionRecord, VersionRecord } from './records.ts';
import { relative } from 'node:path';

/** Starts a candidate version and throws the user's error if it cannot serve. */
export type StartCheck = (record: VersionRecord, bundlePath: string) => Promise<void>;

export interface DeployResult {
  project: string;
  /** `live`: whether the version now serves the function's routes (false after an upload without promotion). */
  functions: Array<{ name: string; version: number; previous?: number; digest: string; unchanged: boolean; live: boolean }>;
  /** The project's state machines (absent when it has none). */
  stateMachines?: Array<{ name: string; version: number; previous?: number; unchanged: boolean }>;
}

export interface DeployOptions {
  sourceRoot?: string;
  /** State machines of the project (SAM, serverless stepFunctions). */
  stateMachines?: readonly StateMachineSpec[];
  /**
   * false: store and prove the new versions but leave `live` where it is (`outpost versions
   * upload`, before a split or rollout). A function deployed for the first time goes live anyway.
   */
  promote?: boolean;
}

/** A prebuilt function as the deploy API receives it. */
export interface PrebuiltFunction {
  manifest: FunctionManifest;
  bundle: Bundle;
}

function manifestOf(fn: FunctionSpec, root: string): FunctionManifest {
  return { ...fn, entry: relative(root, fn.entry) };
}

export class Deployments {
  readonly #store: Store;
  readonly #check: StartCheck;
  readonly #now: () => Date;
  readonly #stateMachines: StateMachines;
  /** Deploys of one function are serialised on this node; CAS guards across nodes. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: Store, check: StartCheck, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#check = check;
    this.#now = now;
    this.#stateMachines = new StateMachines(store.meta, () => this.#now().getTime());
  }

  /** Builds and deploys a project read from disk. */
  async deployProject(project: ProjectSpec, options: { sourceRoot?: string } = {}): Promise<DeployResult> {
    const built: PrebuiltFunction[] = [];
    for (const fn of project.functions) built.push({ manifest: manifestOf(fn, project.root), bundle: await buildFunction(fn, project.root) });
    return this.deploy(project.name, built, { ...options, stateMachines: project.stateMachines });
  }

  /** Deploys prebuilt bundles (what `outpost deploy` uploads). */
  deploy(project: string, functions: PrebuiltFunction[], options: DeployOptions = {}): Promise<DeployResult> {
    const run = this.#queue.then(() => this.#deploy(project, functions, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #deploy(project: string, functions: PrebuiltFunction[], options: DeployOptions): Promise<DeployResult> {
    const { meta, blobs } = this.#store;
    const createdAt = this.#now().toISOString();
    const machines = options.stateMachines ?? [];
    await this.#checkStateMachines(project, machines);
    const planned: Array<{ record: VersionRecord; current: { value: FunctionRecord; revision: number } | undefined; unchanged: boolean }> = [];
    for (const { manifest, bundle } of functions) {
      const current = await meta.get<FunctionRecord>(keys.function(manifest.name));
      if (current && current.value.project !== project) {
        throw new OutpostError('FUNCTION_NAME_TAKEN', `a function named ${manifest.name} already belongs to project ${current.value.project}`, {
          status: 409,
          fault: 'user',
          hint: 'rename the function or delete the other one first (outpost delete <name>)',
        });
      }
      const active = current ? await meta.get<VersionRecord>(keys.version(manifest.name, current.value.active)) : undefined;
      const unchanged = active !== undefined && active.value.digest === bundle.digest && JSON.stringify(active.value.manifest) === JSON.stringify(manifest);
      const version = unchanged && active ? active.value.version : (current?.value.latest ?? 0) + 1;
      const record: VersionRecord = {
        function: manifest.name,
        version,
        project,
        createdAt: unchanged && active ? active.value.createdAt : createdAt,
        digest: bundle.digest,
        manifest,
        ...(options.sourceRoot ? { sourceRoot: options.sourceRoot } : {}),
      };
      planned.push({ record, current: current ? { value: current.value, revision: current.revision } : undefined, unchanged });
    }
    // 1. bundles (content-addressed: storing one twice is harmless)
    for (const { bundle } of functions) {
      if (!(await blobs.has(keys.bundle(bundle.digest)))) {
        await blobs.put(keys.sourceMap(bundle.digest), bundle.map);
        await blobs.put(keys.bundle(bundle.digest), bundle.code);
      }
    }
    // 2. every new version must start before anything points at it
    for (const p of planned) {
      if (p.unchanged) continue;
      const path = await blobs.localPath(keys.bundle(p.record.digest));
      if (!path) throw new OutpostError('BUNDLE_MISSING', `bundle ${p.record.digest} vanished during deploy`);
      await this.#check(p.record, path);
    }
    // 3. immutable version records, then 4. the pointer flips
    for (const p of planned) if (!p.unchanged) await meta.put(keys.version(p.record.function, p.record.version), p.record, { expectRevision: 0 });
    const result: DeployResult = { project, functions: [] };
    for (const p of planned) {
      // A deploy points live at the new version alone; other aliases stay where they were.
      const promote = options.promote !== false || !p.current;
      const fnRecord: FunctionRecord = {
        ...p.current?.value,
        name: p.record.function,
        project,
        active: promote ? p.record.version : (p.current?.value.active ?? p.record.version),
        latest: Math.max(p.record.version, p.current?.value.latest ?? 0),
        createdAt: p.current?.value.createdAt ?? createdAt,
        updatedAt: p.unchanged ? (p.current?.value.updatedAt ?? createdAt) : createdAt,
        ...(promote ? { aliases: { ...p.current?.value.aliases, live: { versions: [{ version: p.record.version, weight: 100 }] } } } : {}),
      };
      if (!p.unchanged) await meta.put(keys.function(p.record.function), fnRecord, { expectRevision: p.current?.revision ?? 0 });
      result.functions.push({
        name: p.record.function,
        version: p.record.version,
        live: promote || p.unchanged,
        ...(p.current ? { previous: p.current.value.active } : {}),
        digest: p.record.digest,
        unchanged: p.unchanged,
      });
    }
    // 5. state machines, once the functions their tasks call are live
    if (machines.length > 0) result.stateMachines = [];
    for (const m of machines) result.stateMachines?.push(await this.#stateMachines.deploy(project, { name: m.name, definition: m.definition, type: m.type }));
    return result;
  }

  /** Rejects the deploy, listing every problem of every state machine, before anything is written. */
  async #checkStateMachines(project: string, machines: readonly StateMachineSpec[]): Promise<void> {
    const lines: string[] = [];
    const problems: Array<{ stateMachine: string; problem: string }> = [];
    const seen = new Set<string>();
    for (const m of machines) {
      const found = await this.#stateMachines.deployProblems(project, { name: m.name, definition: m.definition, type: m.type });
      if (seen.has(m.name)) found.push('the project defines two state machines with this name');
      seen.add(m.name);
      for (const problem of found) {
        problems.push({ stateMachine: m.name, problem });
        lines.push(`  ${m.name}: ${problem}`);
      }
    }
    if (lines.length > 0) {
      throw new OutpostError('INVALID_STATE_MACHINE', `the project's state machines have ${lines.length} problem${lines.length === 1 ? '' : 's'}:\n${lines.join('\n')}`, {
        status: 400,
        fault: 'user',
        hint: 'fix the Amazon States Language definitions listed above; nothing was deployed',
        details: { problems },
      });
    }
  }

  async list(): Promise<FunctionRecord[]> {
    return (await this.#store.meta.list<FunctionRecord>(keys.functionPrefix)).map((e) => e.value);
  }

  async get(name: string): Promise<{ fn: FunctionRecord; active: VersionRecord }> {
    const fn = await this.#store.meta.get<FunctionRecord>(keys.function(name));
    if (!fn) throw notFound(name);
    const active = await this.#store.meta.get<VersionRecord>(keys.version(name, fn.value.active));
    if (!active) throw new OutpostError('VERSION_NOT_FOUND', `version ${fn.value.active} of ${name} is missing`);
    return { fn: fn.value, active: active.value };
  }

  async versions(name: string): Promise<VersionRecord[]> {
    if (!(await this.#store.meta.get(keys.function(name)))) throw notFound(name);
    return (await this.#store.meta.list<VersionRecord>(keys.versionPrefix(name))).map((e) => e.value);
  }

  /** Points `name` (its `live` alias, at 100 %) at `version` (default: the version before the active one). */
  async rollback(name: string, version?: number): Promise<{ name: string; version: number; previous: number }> {
    const run = this.#queue.then(async () => {
      const fn = await this.#store.meta.get<FunctionRecord>(keys.function(name));
      if (!fn) throw notFound(name);
      const all = await this.versions(name);
      const target = version ?? [...all].reverse().find((v) => v.version < fn.value.active)?.version;
      if (target === undefined) {
        throw new OutpostError('NO_EARLIER_VERSION', `${name} has no version before ${fn.value.active} to roll back to`, { status: 409, fault: 'user' });
      }
      const record = all.find((v) => v.version === target);
      if (!record) throw new OutpostError('VERSION_NOT_FOUND', `${name} has no version ${target}`, { status: 404, fault: 'user', hint: `outpost versions ${name} lists them` });
      const aliases = { ...fn.value.aliases, live: { versions: [{ version: target, weight: 100 }] } };
      await this.#store.meta.put(keys.function(name), { ...fn.value, active: target, aliases, updatedAt: this.#now().toISOString() }, { expectRevision: fn.revision });
      return { name, version: target, previous: fn.value.active };
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Removes a function and its versions (bundles stay: other versions may share them). */
  async remove(name: string): Promise<void> {
    const fn = await this.#store.meta.get<FunctionRecord>(keys.function(name));
    if (!fn) throw notFound(name);
    await this.#store.meta.delete(keys.function(name), { expectRevision: fn.revision });
    for (const v of await this.#store.meta.list(keys.versionPrefix(name))) await this.#store.meta.delete(v.key);
  }
}

function notFound(name: string): OutpostError {
  return new OutpostError('FUNCTION_NOT_FOUND', `no function named ${name}`, { status: 404, fault: 'user', hint: 'outpost ls lists deployed functions' });
}
