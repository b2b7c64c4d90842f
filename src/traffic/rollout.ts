/**
 * @module
 * Automatic rollouts: move a function's `live` alias from its current version to a new one in
 * steps (10 % → 50 % → 100 %), watching the new version's error rate and p99 against the old
 * one's, and put `live` back on the old version by itself when the new one is worse by more
 * than the plan allows.
 *
 * Decisions:
 * - The plan is a store record (`rollouts/<fn>`). Every change to it is a compare-and-set, so
 *   after a restart the plan resumes where it was, and when two nodes tick at once only one
 *   advances a step (the other's write conflicts and it does nothing).
 * - A step is claimed in the plan first (`applying`), applied to `live` second, and marked
 *   applied third. A tick that finds a claimed step with `live` one step behind applies it (a
 *   crash between the writes); a tick that finds `live` anywhere else than the plan says stops
 *   the plan, because someone moved it by hand.
 * - Health comes from the invocation records this node sees (telemetry), counted from the
 *   plan's start: an invocation is an error when it threw, hit a limit or answered 5xx. The
 *   node subscribes to the records only while some plan runs, so a node without rollouts
 *   builds no records for them. A verdict needs `minRequests` invocations of
 *   the new version; with fewer of the old one (its last step sends it none) the new one is
 *   held to an error-free baseline. Each node judges its own traffic; the node that ticks
 *   first decides.
 * - The health check runs on every tick, not only at step boundaries, so a bad version is
 *   rolled back as soon as it has enough traffic to judge. The plan is done one interval
 *   after its last step, once that step was watched too.
 * - Provisioned instances (limits.provisionedConcurrency) of the new version are warmed with
 *   `dispatcher.provision` on the node that takes the first step, before it. The node keeps
 *   only versions an alias points at, so the `rollout` alias holds the new version meanwhile;
 *   it is removed when the plan ends.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutpostError, isOutpostError } from '../errors.ts';
import { readJsonObject, sendJson } from '../control/http.ts';
import { keys } from '../control/records.ts';
import type { AliasRecord, FunctionRecord, SplitEntry, VersionRecord } from '../control/records.ts';
import type { InvocationEvent } from '../observe/telemetry.ts';
import type { NodeContext, NodeService, RunningService } from '../server/context.ts';
import { Aliases, aliasesApi } from './aliases.ts';
import { LIVE, aliasesOf, primaryVersion } from './versions.ts';

export type RolloutState = 'running' | 'done' | 'rolled-back' | 'stopped';

export interface RolloutPlan {
  function: string;
  from: number;
  to: number;
  /** Percent of traffic on `to` at each step, rising, ending at 100. */
  steps: number[];
  everyMs: number;
  /** Roll back when the new version's error rate exceeds the old one's by more than this (0.05 = 5 points). */
  maxErrorRateIncrease: number;
  /** Roll back when the new version's p99 exceeds the old one's by more than this many ms (unset: not checked). */
  maxP99IncreaseMs?: number;
  /** Invocations of each version needed before a verdict. */
  minRequests: number;
  state: RolloutState;
  /** Index of the step taken last (-1: none yet). */
  step: number;
  /** True between claiming a step in the plan and pointing live at it. */
  applying?: boolean;
  /** Epoch ms when the next step is due. */
  nextAt: number;
  startedAt: number;
  log: Array<{ time: string; message: string }>;
}

export interface RolloutRequest {
  to: number;
  steps?: number[];
  everyMs?: number;
  maxErrorRateIncrease?: number;
  maxP99IncreaseMs?: number;
  minRequests?: number;
}

const DEFAULT_STEPS = [10, 50, 100];
const DEFAULT_EVERY_MS = 5 * 60_000;
const DEFAULT_MAX_ERROR_RATE_INCREASE = 0.05;
const DEFAULT_MIN_REQUESTS = 20;
/** Health is checked at least this often while a plan runs. */
const MAX_CHECK_MS = 1000;
/** The alias that keeps the version being rolled out registered while it is warmed. */
export const ROLLOUT_ALIAS = 'rollout';
/** How long warming waits for the node to register the new version. */
const REGISTER_WAIT_MS = 10_000;
/** Samples kept per version (the newest). */
const MAX_SAMPLES = 20_000;

/** `5m`, `30s`, `250ms`, `1h` or a number of milliseconds. Throws INVALID_ROLLOUT. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number' && Number.isFinite(text) && text > 0) return text;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(text).trim());
  if (!m) throw invalidRollout([`"${String(text)}" is not a duration; write 250ms, 30s, 5m or 1h`]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

export function invalidRollout(problems: readonly string[]): OutpostError {
  return new OutpostError('INVALID_ROLLOUT', `the rollout was not started:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
    status: 400,
    fault: 'user',
    hint: 'e.g. outpost rollout <fn> --to 3 --steps 10,50,100 --every 5m',
    details: { problems },
  });
}

/** Everything wrong with the steps of a plan. */
export function stepProblems(steps: readonly number[]): string[] {
  const problems: string[] = [];
  if (steps.length === 0) problems.push('--steps needs at least one percentage');
  let last = 0;
  for (const s of steps) {
    if (!Number.isFinite(s) || s <= 0 || s > 100) problems.push(`step ${String(s)} must be a percentage above 0 and at most 100`);
    else if (s <= last) problems.push(`steps must rise: ${s} comes after ${last}`);
    last = s;
  }
  if (steps.length > 0 && steps[steps.length - 1] !== 100) problems.push('the last step must be 100');
  return problems;
}

/** The split of `live` at step `step` of `plan` (-1: before the first). */
export function splitAt(plan: Pick<RolloutPlan, 'from' | 'to' | 'steps'>, step: number): SplitEntry[] {
  const share = step < 0 ? 0 : (plan.steps[step] ?? 100);
  if (share >= 100) return [{ version: plan.to, weight: 100 }];
  if (share <= 0) return [{ version: plan.from, weight: 100 }];
  return [
    { version: plan.to, weight: share },
    { version: plan.from, weight: 100 - share },
  ];
}

function sameSplit(a: readonly SplitEntry[] | undefined, b: readonly SplitEntry[]): boolean {
  if (!a || a.length !== b.length) return false;
  return b.every((e) => a.some((x) => x.version === e.version && Math.abs(x.weight - e.weight) < 1e-9));
}

export interface Health {
  requests: number;
  errors: number;
  p99Ms: number;
}

/** Why the new version is worse than the old, or undefined when it is not (or it is too early to say). */
export function verdict(next: Health, old: Health, plan: Pick<RolloutPlan, 'maxErrorRateIncrease' | 'maxP99IncreaseMs' | 'minRequests'>): string | undefined {
  if (next.requests < plan.minRequests) return undefined;
  // Too little old traffic to compare with (the last step sends it none): judge the new
  // version against an error-free baseline, and its p99 not at all.
  const known = old.requests >= plan.minRequests;
  const nextRate = next.errors / next.requests;
  const oldRate = known ? old.errors / old.requests : 0;
  if (nextRate - oldRate > plan.maxErrorRateIncrease) {
    return `error rate ${(nextRate * 100).toFixed(1)} % vs ${(oldRate * 100).toFixed(1)} % (allowed increase ${(plan.maxErrorRateIncrease * 100).toFixed(1)} points)`;
  }
  if (known && plan.maxP99IncreaseMs !== undefined && next.p99Ms - old.p99Ms > plan.maxP99IncreaseMs) {
    return `p99 ${next.p99Ms.toFixed(0)} ms vs ${old.p99Ms.toFixed(0)} ms (allowed increase ${plan.maxP99IncreaseMs} ms)`;
  }
  return undefined;
}

/** Invocation outcomes per function version, as this node saw them. */
export class VersionHealth {
  readonly #samples = new Map<string, Array<{ time: number; error: boolean; durationMs: number }>>();

  record(event: InvocationEvent): void {
    if (event.function === undefined || event.version === undefined) return;
    if (event.outcome === 'rejected' || event.outcome === 'no-route' || event.outcome === 'throttled') return;
    const key = `${event.function}@${event.version}`;
    let list = this.#samples.get(key);
    if (!list) this.#samples.set(key, (list = []));
    list.push({ time: event.time, error: event.outcome !== 'ok' || event.status >= 500, durationMs: event.durationMs });
    if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES);
  }

  /** Health of `fn@version` over invocations that started at or after `since`. */
  summary(fn: string, version: number, since: number): Health {
    const list = (this.#samples.get(`${fn}@${version}`) ?? []).filter((s) => s.time >= since);
    const durations = list.map((s) => s.durationMs).sort((a, b) => a - b);
    return {
      requests: list.length,
      errors: list.filter((s) => s.error).length,
      p99Ms: durations.length === 0 ? 0 : (durations[Math.min(durations.length - 1, Math.ceil(durations.length * 0.99) - 1)] ?? 0),
    };
  }

  forget(fn: string): void {
    for (const key of this.#samples.keys()) if (key.startsWith(`${fn}@`)) this.#samples.delete(key);
  }
}

function rolloutNotFound(fn: string): OutpostError {
  return new OutpostError('ROLLOUT_NOT_FOUND', `${fn} has no running rollout`, { status: 404, fault: 'user', hint: `start one with outpost rollout ${fn} --to <version>` });
}

/** Starts, advances and stops rollout plans; one per node, coordinated through the store. */
export class Rollouts {
  readonly #ctx: NodeContext;
  readonly #aliases: Aliases;
  readonly health = new VersionHealth();
  readonly #now: () => number;

  constructor(ctx: NodeContext, aliases: Aliases, now: () => number = Date.now) {
    this.#ctx = ctx;
    this.#aliases = aliases;
    this.#now = now;
  }

  async get(fn: string): Promise<RolloutPlan | undefined> {
    return (await this.#ctx.store.meta.get<RolloutPlan>(keys.rollout(fn)))?.value;
  }

  /** Stores a new plan (its first step is taken on the next tick). Throws INVALID_ROLLOUT, ROLLOUT_IN_PROGRESS. */
  async start(fn: string, request: RolloutRequest): Promise<RolloutPlan> {
    const { meta } = this.#ctx.store;
    const record = await meta.get<FunctionRecord>(keys.function(fn));
    if (!record) throw new OutpostError('FUNCTION_NOT_FOUND', `no function named ${fn}`, { status: 404, fault: 'user', hint: 'outpost ls lists deployed functions' });
    const live = aliasesOf(record.value).get(LIVE)?.versions ?? [];
    const from = primaryVersion(live);
    const steps = request.steps ?? DEFAULT_STEPS;
    const problems = stepProblems(steps);
    if (!Number.isInteger(request.to) || !(await meta.get<VersionRecord>(keys.version(fn, request.to)))) problems.push(`--to ${String(request.to)}: ${fn} has no such version`);
    else if (request.to === from) problems.push(`version ${request.to} already serves live`);
    if (live.length > 1) problems.push(`live is split between versions ${live.map((e) => e.version).join(', ')}; point it at one version first`);
    const maxErrorRateIncrease = request.maxErrorRateIncrease ?? DEFAULT_MAX_ERROR_RATE_INCREASE;
    if (!(maxErrorRateIncrease >= 0 && maxErrorRateIncrease <= 1)) problems.push('--max-error-rate-increase must be between 0 and 1');
    if (request.maxP99IncreaseMs !== undefined && !(request.maxP99IncreaseMs >= 0)) problems.push('--max-p99-increase-ms must be 0 or more');
    const minRequests = request.minRequests ?? DEFAULT_MIN_REQUESTS;
    if (!Number.isInteger(minRequests) || minRequests < 1) problems.push('--min-requests must be a whole number above 0');
    if (problems.length > 0) throw invalidRollout(problems);
    const existing = await meta.get<RolloutPlan>(keys.rollout(fn));
    if (existing?.value.state === 'running') {
      throw new OutpostError('ROLLOUT_IN_PROGRESS', `${fn} is already rolling out version ${existing.value.to}`, { status: 409, fault: 'user', hint: `outpost rollout cancel ${fn} stops it` });
    }
    const now = this.#now();
    const plan: RolloutPlan = {
      function: fn,
      from,
      to: request.to,
      steps,
      everyMs: request.everyMs ?? DEFAULT_EVERY_MS,
      maxErrorRateIncrease,
      ...(request.maxP99IncreaseMs === undefined ? {} : { maxP99IncreaseMs: request.maxP99IncreaseMs }),
      minRequests,
      state: 'running',
      step: -1,
      nextAt: now,
      startedAt: now,
      log: [{ time: new Date(now).toISOString(), message: `planned: ${fn} v${from} → v${request.to} in steps ${steps.join(', ')} % every ${request.everyMs ?? DEFAULT_EVERY_MS} ms` }],
    };
    await meta.put(keys.rollout(fn), plan, { expectRevision: existing?.revision ?? 0 });
    this.#ctx.logger.system('info', `rollout ${fn}: ${plan.log[0]?.message ?? ''}`);
    return plan;
  }

  /** Stops a running plan and points live back at the old version. Throws ROLLOUT_NOT_FOUND. */
  async cancel(fn: string): Promise<RolloutPlan> {
    const entry = await this.#ctx.store.meta.get<RolloutPlan>(keys.rollout(fn));
    if (!entry || entry.value.state !== 'running') throw rolloutNotFound(fn);
    const plan = entry.value;
    await this.#aliases.set(fn, LIVE, [{ version: plan.from, weight: 100 }]);
    await this.#write(plan, entry.revision, { state: 'rolled-back' }, `cancelled: live back to v${plan.from}`);
    return (await this.get(fn)) ?? plan;
  }

  async running(): Promise<boolean> {
    return (await this.#ctx.store.meta.list<RolloutPlan>(keys.rolloutPrefix)).some((e) => e.value.state === 'running');
  }

  /** Advances every plan that is due; returns when the next tick should run (epoch ms), if any plan runs. */
  async tick(): Promise<number | undefined> {
    let next: number | undefined;
    for (const { value: plan, revision } of await this.#ctx.store.meta.list<RolloutPlan>(keys.rolloutPrefix)) {
      if (plan.state !== 'running') continue;
      try {
        await this.#advance(plan, revision);
      } catch (error) {
        if (!isOutpostError(error, 'STORE_CONFLICT')) this.#ctx.logger.system('error', `rollout ${plan.function}: ${(error as Error).message}`);
      }
      const at = Math.min(plan.nextAt, this.#now() + Math.min(plan.everyMs, MAX_CHECK_MS));
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  async #advance(plan: RolloutPlan, revision: number): Promise<void> {
    const fn = plan.function;
    const record = await this.#ctx.store.meta.get<FunctionRecord>(keys.function(fn));
    if (!record) {
      await this.#write(plan, revision, { state: 'stopped' }, 'stopped: the function was deleted');
      return;
    }
    const live = aliasesOf(record.value).get(LIVE);
    if (plan.applying && sameSplit(live?.versions, splitAt(plan, plan.step - 1))) {
      // The step was claimed but the node that claimed it stopped before applying it.
      await this.#apply(plan, revision, live);
      return;
    }
    if (plan.step >= 0 && !sameSplit(live?.versions, splitAt(plan, plan.step))) {
      await this.#write(plan, revision, { state: 'stopped' }, `stopped: live was changed outside the rollout (now ${describe(live?.versions ?? [])})`);
      return;
    }
    if (plan.step >= 0) {
      const bad = verdict(this.health.summary(fn, plan.to, plan.startedAt), this.health.summary(fn, plan.from, plan.startedAt), plan);
      if (bad) {
        // Traffic leaves the bad version first; a crash before the plan records it leaves live
        // safe (the next tick finds live moved and stops the plan).
        await this.#aliases.set(fn, LIVE, [{ version: plan.from, weight: 100 }], { expect: (current) => sameSplit(current?.versions, live?.versions ?? []) });
        await this.#write(plan, revision, { state: 'rolled-back' }, `rolled back to v${plan.from}: v${plan.to} is worse: ${bad}`);
        return;
      }
    }
    if (this.#now() < plan.nextAt) return;
    if (plan.step === plan.steps.length - 1) {
      await this.#write(plan, revision, { state: 'done' }, `done: v${plan.to} serves 100 %`);
      return;
    }
    const step = plan.step + 1;
    if (step === 0) await this.#warm(fn, plan.to);
    const claimed = { ...plan, step, applying: true, nextAt: this.#now() + plan.everyMs };
    const at = await this.#write(plan, revision, claimed, `step ${step + 1}/${plan.steps.length}: v${plan.to} takes ${plan.steps[step] ?? 100} %`);
    if (at !== undefined) await this.#apply(claimed, at, live);
  }

  /** Points live at the split of the claimed step (unless someone moved it since `seen`), then marks the step applied. */
  async #apply(plan: RolloutPlan, revision: number, seen: AliasRecord | undefined): Promise<void> {
    await this.#aliases.set(plan.function, LIVE, splitAt(plan, plan.step), { expect: (current) => sameSplit(current?.versions, seen?.versions ?? []) });
    const current = await this.#ctx.store.meta.get<RolloutPlan>(keys.rollout(plan.function));
    if (current?.revision !== revision) return;
    const { applying: _done, ...rest } = current.value;
    await this.#ctx.store.meta.put(keys.rollout(plan.function), rest, { expectRevision: revision }).catch((error: unknown) => {
      if (!isOutpostError(error, 'STORE_CONFLICT')) throw error;
    });
  }

  /**
   * Loads the provisioned instances of the new version on this node before it takes traffic.
   * The node registers only versions an alias points at, so the `rollout` alias points at it
   * first (until the plan ends), and the instances start once the node has registered it.
   */
  async #warm(fn: string, version: number): Promise<void> {
    const { dispatcher } = this.#ctx;
    const limits = (await this.#ctx.store.meta.get<VersionRecord>(keys.version(fn, version)))?.value.manifest.limits;
    const provisioned = limits?.provisionedConcurrency ?? 0;
    if (!limits || provisioned <= 0) return;
    const key = `${fn}@${version}`;
    if (!dispatcher.has(key)) {
      await this.#aliases.set(fn, ROLLOUT_ALIAS, [{ version, weight: 100 }]);
      // The node registers it when it applies the alias change; wait for that, not longer than REGISTER_WAIT_MS.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          stop();
          resolve();
        };
        const stop = this.#ctx.onFunctionsChanged(() => {
          if (dispatcher.has(key)) done();
        });
        const timer = setTimeout(done, REGISTER_WAIT_MS);
        if (dispatcher.has(key)) done();
      });
    }
    // One instance serves `concurrency` invocations at once.
    await dispatcher.provision(key, Math.ceil(provisioned / Math.max(1, limits.concurrency)));
    this.#ctx.logger.system('info', `rollout ${fn}: warmed ${provisioned} provisioned concurrency of v${version}`);
  }

  /** Compare-and-set of the plan with one log line; the new revision, or undefined when another node changed it first. */
  async #write(plan: RolloutPlan, revision: number, change: Partial<RolloutPlan>, message: string): Promise<number | undefined> {
    const time = new Date(this.#now()).toISOString();
    const next: RolloutPlan = { ...plan, ...change, log: [...plan.log, { time, message }] };
    let written: number;
    try {
      written = await this.#ctx.store.meta.put(keys.rollout(plan.function), next, { expectRevision: revision });
    } catch (error) {
      if (isOutpostError(error, 'STORE_CONFLICT')) return undefined;
      throw error;
    }
    this.#ctx.logger.system(next.state === 'rolled-back' || next.state === 'stopped' ? 'warn' : 'info', `rollout ${plan.function}: ${message}`);
    if (next.state !== 'running') {
      this.health.forget(plan.function);
      await this.#aliases.delete(plan.function, ROLLOUT_ALIAS).catch((error: unknown) => {
        if (!isOutpostError(error, 'ALIAS_NOT_FOUND') && !isOutpostError(error, 'FUNCTION_NOT_FOUND')) throw error;
      });
    }
    return written;
  }
}

function describe(split: readonly SplitEntry[]): string {
  return split.map((e) => `v${e.version} ${e.weight} %`).join(', ');
}

function numberOrUndefined(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw invalidRollout([`${name} must be a number`]);
  return n;
}

/** `GET|POST|DELETE /_outpost/api/functions/<fn>/rollout`. */
function rolloutApi(rollouts: Rollouts, wake: () => void): (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean> {
  return async (req, res, requestId) => {
    const m = /^\/_outpost\/api\/functions\/([^/]+)\/rollout\/?$/.exec(new URL(req.url ?? '/', 'http://node').pathname);
    if (!m) return false;
    const fn = decodeURIComponent(m[1] ?? '');
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      sendJson(res, 200, { rollout: (await rollouts.get(fn)) ?? null }, requestId);
      return true;
    }
    if (method === 'DELETE') {
      sendJson(res, 200, { rollout: await rollouts.cancel(fn) }, requestId);
      return true;
    }
    if (method === 'POST') {
      const body = await readJsonObject(req);
      const steps = body['steps'];
      if (steps !== undefined && !Array.isArray(steps)) throw invalidRollout(['steps must be an array of percentages']);
      const request: RolloutRequest = { to: Number(body['to']) };
      if (Array.isArray(steps)) request.steps = steps.map(Number);
      if (body['every'] !== undefined) request.everyMs = parseDuration(body['every'] as string | number);
      const maxError = numberOrUndefined(body['maxErrorRateIncrease'], 'maxErrorRateIncrease');
      if (maxError !== undefined) request.maxErrorRateIncrease = maxError;
      const maxP99 = numberOrUndefined(body['maxP99IncreaseMs'], 'maxP99IncreaseMs');
      if (maxP99 !== undefined) request.maxP99IncreaseMs = maxP99;
      const minRequests = numberOrUndefined(body['minRequests'], 'minRequests');
      if (minRequests !== undefined) request.minRequests = minRequests;
      const plan = await rollouts.start(fn, request);
      wake();
      sendJson(res, 201, { rollout: plan }, requestId);
      return true;
    }
    return false;
  };
}

/** Aliases and rollouts on a node: their control API routes and the timer that advances plans. */
export const rolloutService: NodeService = {
  name: 'rollouts',
  start(ctx): RunningService {
    const aliases = new Aliases(ctx.store.meta);
    const rollouts = new Rollouts(ctx, aliases);
    let unsubscribe: (() => void) | undefined;
    const watchHealth = (on: boolean): void => {
      if (on && !unsubscribe) unsubscribe = ctx.telemetry.add({ invocation: (event) => rollouts.health.record(event) });
      if (!on && unsubscribe) {
        unsubscribe();
        unsubscribe = undefined;
      }
    };
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    let ticking = Promise.resolve();
    const schedule = (at: number | undefined): void => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (at === undefined || closed) return;
      timer = setTimeout(wake, Math.max(20, at - Date.now()));
      timer.unref();
    };
    function wake(): void {
      ticking = ticking
        .then(async () => {
          if (closed) return;
          watchHealth(await rollouts.running());
          const next = await rollouts.tick();
          watchHealth(next !== undefined);
          schedule(next);
        })
        .catch((error: unknown) => {
          ctx.logger.system('error', `rollouts: ${(error as Error).message}`);
          schedule(Date.now() + MAX_CHECK_MS);
        });
    }
    const unwatch = ctx.store.meta.watch(keys.rolloutPrefix, () => wake());
    wake();
    return {
      controlRoutes: [aliasesApi(aliases), rolloutApi(rollouts, wake)],
      async close() {
        closed = true;
        unwatch();
        watchHealth(false);
        schedule(undefined);
        await ticking;
      },
    };
  },
};
