/**
 * @module
 * The cron clock: fires the `cron` triggers of the active functions through the one dispatch
 * path. Workers get `scheduled(controller, env, ctx)` (dispatch kind 'scheduled'), Lambda-style
 * functions the EventBridge "Scheduled Event" (kind 'invoke'), other styles the neutral
 * `{ cron, scheduledTime }` as 'scheduled'.
 *
 * Exactly one run per tick, across restarts and across the nodes of a fleet: before invoking,
 * the tick is recorded in the store by compare-and-set (`cron/<function>/<hash>` → last tick),
 * so a tick already recorded — by this node before a restart or by another node — is never
 * fired again. At start, the ticks missed while no node ran are counted: the latest runs once
 * if it is within the catch-up window (default 5 minutes), the rest are logged as skipped.
 *
 * A tick being run is held under a lease in the same record (`running[<tick>]`: owner and
 * expiry, renewed every third of the lease by the node running it). Nodes that lost the
 * compare-and-set look again when that lease would expire; a tick whose node died (its lease
 * ran out, not finished) is taken over by compare-and-set on the record — by exactly one node,
 * once — if it is still within the catch-up window, else dropped with a warning. A node paused
 * past its lease may finish the invocation it had started, so a tick can run twice only when its
 * first run outlived its lease; the default lease is 15 s (`OUTPOST_LEASE_SECONDS`).
 *
 * In dev, `/__scheduled?cron=…` and `/cdn-cgi/handler/scheduled?cron=…&time=…` run a Worker's
 * scheduled() handler now (wrangler's two spellings); `POST /_outpost/api/functions/<fn>/trigger/cron`
 * (`outpost trigger cron <fn>`) does the same anywhere. Manual runs record no tick.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ACCOUNT_ID } from '../aws/index.ts';
import { isOutpostError, OutpostError } from '../errors.ts';
import type { Logger } from '../observe/logger.ts';
import type { EventKind } from '../runtime/protocol.ts';
import type { ActiveFunction, GatewayHook, NodeContext, NodeService, RunningService } from '../server/context.ts';
import { leaseIsFree, leaseMsFromEnv, nodeIdentity } from '../store/leases.ts';
import type { LeaseRecord } from '../store/leases.ts';
import type { MetaStore } from '../store/types.ts';
import { parseSchedule } from './schedule.ts';
import type { Schedule } from './schedule.ts';
import { readJsonObject as readJson, sendJson } from '../control/http.ts';

/** Timers the scheduler uses; tests inject a fake one. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export interface CronOptions {
  /** How old a missed tick may be and still run at start (default 5 minutes). */
  catchUpWindowMs?: number;
  clock?: Clock;
  /** How long a node's claim on a running tick lasts unrenewed (default `OUTPOST_LEASE_SECONDS` or 15 s). */
  leaseMs?: number;
  /** This node's lasting identity (store/leases.ts nodeIdentity): a restart takes over its own unfinished ticks at once. */
  node?: string | undefined;
}

interface TickRecord {
  function: string;
  expression: string;
  /** Epoch ms of the last tick this schedule fired (or, first, the time the schedule was first seen). */
  lastTick: number;
  /** Ticks being run, by scheduled time (epoch ms as text): who runs each, until when. */
  running?: Record<string, LeaseRecord>;
  /** Records written before leases: 'started' means the run of `lastTick` never finished. */
  state?: 'started' | 'done';
}

/** The ticks a record says are running; an older record's unfinished tick counts as expired. */
function runningOf(record: TickRecord | undefined): Record<string, LeaseRecord> {
  if (!record) return {};
  if (record.running) return record.running;
  return record.state === 'started' ? { [String(record.lastTick)]: { owner: '', expiresAt: 0 } } : {};
}

interface Entry {
  fn: string;
  index: number;
  schedule: Schedule;
  key: string;
  cancel: () => void;
  /** Cancels the pending look at other nodes' leases. */
  cancelWatch: () => void;
}

type Invoke = (fn: string, kind: EventKind, payload: unknown, options: { trigger: string }) => Promise<unknown>;

const WORKERS_STYLES = new Set(['workers-module', 'service-worker']);
const LAMBDA_STYLES = new Set(['lambda', 'lambda-edge']);
/** Longest single timer: long waits are re-checked, so a changed clock or a suspend is noticed. */
const MAX_TIMER_MS = 60_000;

/** The EventBridge "Scheduled Event" (AWS's documented shape; `time` without milliseconds). */
export function scheduledEvent(region: string, rule: string, tick: number): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT_ID,
    time: new Date(tick).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:${ACCOUNT_ID}:rule/${rule}`],
    detail: {},
  };
}

/** What dispatch receives for one tick of `fn`. */
export function cronInvocation(fn: ActiveFunction, expression: string, index: number, tick: number): { kind: EventKind; payload: unknown } {
  const m = fn.version.manifest;
  if (LAMBDA_STYLES.has(m.style)) return { kind: 'invoke', payload: scheduledEvent(m.platform['region'] ?? 'us-east-1', `${fn.name}-schedule-${index + 1}`, tick) };
  return { kind: 'scheduled', payload: { cron: expression, scheduledTime: tick } };
}

export function scheduleOf(fn: ActiveFunction, expression: string, timezone?: string): Schedule {
  const m = fn.version.manifest;
  const ncrontab = m.platform['cronFormat'] === 'ncrontab' || m.style === 'azure-v3' || m.style === 'azure-v4';
  return parseSchedule(expression, { format: ncrontab ? 'ncrontab' : 'auto', ...(timezone ? { timezone } : {}) });
}

export class CronScheduler {
  readonly #meta: MetaStore;
  readonly #logger: Logger;
  readonly #invoke: Invoke;
  readonly #functions: () => ReadonlyMap<string, ActiveFunction>;
  readonly #clock: Clock;
  readonly #window: number;
  readonly #leaseMs: number;
  /** This process as a lease owner: a restarted node is a new owner. */
  readonly #owner = randomUUID();
  readonly #node: string | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #running = new Set<Promise<void>>();
  #closed = false;
  #syncing: Promise<void> = Promise.resolve();

  constructor(deps: { meta: MetaStore; logger: Logger; invoke: Invoke; functions: () => ReadonlyMap<string, ActiveFunction> }, options: CronOptions = {}) {
    this.#meta = deps.meta;
    this.#logger = deps.logger;
    this.#invoke = deps.invoke;
    this.#functions = deps.functions;
    this.#clock = options.clock ?? systemClock;
    this.#window = options.catchUpWindowMs ?? 5 * 60_000;
    this.#leaseMs = options.leaseMs ?? leaseMsFromEnv();
    this.#node = options.node;
  }

  /** Re-reads the active functions' cron triggers; new schedules catch up, removed ones stop. */
  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync()).catch((e: unknown) => this.#logger.system('error', `cron: ${(e as Error).message}`));
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    if (this.#closed) return;
    const wanted = new Map<string, { fn: ActiveFunction; index: number; expression: string; timezone?: string }>();
    for (const fn of this.#functions().values()) {
      fn.version.manifest.triggers.forEach((t, index) => {
        if (t.type === 'cron') wanted.set(`${fn.name}\u0000${t.expression}\u0000${t.timezone ?? ''}`, { fn, index, expression: t.expression, ...(t.timezone ? { timezone: t.timezone } : {}) });
      });
    }
    for (const [id, e] of this.#entries) {
      if (!wanted.has(id)) {
        e.cancel();
        e.cancelWatch();
        this.#entries.delete(id);
      }
    }
    for (const [id, w] of wanted) {
      if (this.#entries.has(id)) continue;
      let schedule: Schedule;
      try {
        schedule = scheduleOf(w.fn, w.expression, w.timezone);
      } catch (error) {
        this.#logger.system('error', `${w.fn.name}: cron trigger not scheduled: ${(error as Error).message}`);
        continue;
      }
      const key = `cron/${w.fn.name}/${createHash('sha256').update(`${w.expression}\u0000${w.timezone ?? ''}`).digest('hex').slice(0, 16)}`;
      const entry: Entry = { fn: w.fn.name, index: w.index, schedule, key, cancel: () => {}, cancelWatch: () => {} };
      this.#entries.set(id, entry);
      await this.#catchUp(entry);
      this.#arm(entry);
    }
  }

  /** At start: run the latest missed tick once if it is recent enough; log the others as skipped. */
  async #catchUp(e: Entry): Promise<void> {
    const now = this.#clock.now();
    const record = await this.#meta.get<TickRecord>(e.key);
    if (!record) {
      // First sight of this schedule: ticks count from now.
      await this.#meta.put(e.key, { function: e.fn, expression: e.schedule.expression, lastTick: now } satisfies TickRecord, { expectRevision: 0 }).catch(() => undefined);
      return;
    }
    const last = record.value.lastTick;
    await this.#takeOver(e);
    let latest: number | undefined;
    let missed = 0;
    for (let t = e.schedule.next(last); t !== undefined && t <= now; t = e.schedule.next(t)) {
      latest = t;
      if (++missed >= 100_000) break;
    }
    if (latest === undefined) return;
    const runs = now - latest <= this.#window;
    const skipped = runs ? missed - 1 : missed;
    if (skipped > 0) this.#logger.system('warn', `cron ${e.fn} "${e.schedule.expression}": ${skipped} tick(s) missed while the node was down were skipped${runs ? '' : ` (older than the ${Math.round(this.#window / 1000)} s catch-up window)`}`);
    if (runs) await this.#fire(e, latest);
  }

  #arm(e: Entry): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    const next = e.schedule.next(now);
    if (next === undefined) return;
    const wait = next - now;
    e.cancel = this.#clock.setTimer(() => {
      if (this.#clock.now() >= next) this.#track(this.#fire(e, next).catch((error: unknown) => this.#logger.system('error', `cron ${e.fn}: ${(error as Error).message}`)).finally(() => this.#arm(e)));
      else this.#arm(e);
    }, Math.min(wait, MAX_TIMER_MS));
  }

  /** Records tick `tick` with this node's lease (compare-and-set), then invokes. A tick already recorded is not fired again. */
  async #fire(e: Entry, tick: number): Promise<void> {
    if (this.#closed || !this.#entries.has(this.#idOf(e))) return;
    let claimed = false;
    await this.#update(e, (record) => {
      claimed = !record || record.lastTick < tick;
      return claimed ? { ...this.#base(e), lastTick: tick, running: { ...runningOf(record), [String(tick)]: this.#lease() } } : undefined;
    });
    if (claimed) this.#start(e, tick);
    else await this.#takeOver(e); // fired elsewhere: watch that node's lease
  }

  #base(e: Entry): Pick<TickRecord, 'function' | 'expression'> {
    return { function: e.fn, expression: e.schedule.expression };
  }

  #lease(): LeaseRecord {
    return { owner: this.#owner, ...(this.#node === undefined ? {} : { node: this.#node }), expiresAt: this.#clock.now() + this.#leaseMs };
  }

  /**
   * Read-modify-write of the schedule's record by compare-and-set, retried when another node
   * wrote in between. `change` returns the new record, or undefined to leave it as it is.
   */
  async #update(e: Entry, change: (record: TickRecord | undefined) => TickRecord | undefined): Promise<void> {
    for (;;) {
      const current = await this.#meta.get<TickRecord>(e.key);
      const next = change(current?.value);
      if (!next) return;
      try {
        await this.#meta.put(e.key, next, { expectRevision: current?.revision ?? 0 });
        return;
      } catch (error) {
        if (!isOutpostError(error, 'STORE_CONFLICT')) throw error;
      }
    }
  }

  /**
   * Takes over the ticks whose runner let its lease expire (within the catch-up window; older
   * ones are dropped), then looks again when the earliest live lease of another node would expire.
   */
  async #takeOver(e: Entry): Promise<void> {
    e.cancelWatch();
    if (this.#closed) return;
    const now = this.#clock.now();
    const seen = runningOf((await this.#meta.get<TickRecord>(e.key))?.value);
    let nextLook = Infinity;
    for (const [at, lease] of Object.entries(seen)) {
      if (lease.owner === this.#owner) continue;
      if (!leaseIsFree(lease, { owner: this.#owner, node: this.#node }, now)) {
        nextLook = Math.min(nextLook, lease.expiresAt);
        continue;
      }
      const tick = Number(at);
      const runs = now - tick <= this.#window;
      let took = false;
      await this.#update(e, (record) => {
        const current = runningOf(record)[at];
        took = false;
        if (!record || !current || current.owner !== lease.owner || current.expiresAt !== lease.expiresAt) return undefined; // renewed, finished or taken
        took = true;
        const { [at]: _dead, ...others } = runningOf(record);
        const { state: _legacy, ...rest } = record;
        return { ...rest, running: runs ? { ...others, [at]: this.#lease() } : others };
      });
      if (!took) continue;
      const when = `${e.fn} "${e.schedule.expression}": the run for ${new Date(tick).toISOString()}`;
      if (runs) {
        this.#logger.system('warn', `cron ${when} was interrupted (its node stopped renewing it); running it here`);
        this.#start(e, tick);
      } else this.#logger.system('warn', `cron ${when} was interrupted and is past the catch-up window; not run again`);
    }
    if (nextLook !== Infinity) {
      e.cancelWatch = this.#clock.setTimer(() => this.#track(this.#takeOver(e).catch((error: unknown) => this.#logger.system('error', `cron ${e.fn}: ${(error as Error).message}`))), nextLook - now + 1);
    }
  }

  #idOf(e: Entry): string {
    for (const [id, entry] of this.#entries) if (entry === e) return id;
    return '';
  }

  /** Runs a tick this node holds the lease of, renewing it meanwhile, then removes the lease. */
  #start(e: Entry, tick: number): void {
    const at = String(tick);
    const mine = (record: TickRecord | undefined): boolean => runningOf(record)[at]?.owner === this.#owner;
    let finished = false;
    let stopRenewing = (): void => {};
    const renew = (): void => {
      if (finished) return;
      stopRenewing = this.#clock.setTimer(() => {
        void this.#update(e, (record) => (record && mine(record) ? { ...record, running: { ...runningOf(record), [at]: this.#lease() } } : undefined))
          .catch(() => undefined) // the store is unreachable: another node may take the tick over
          .finally(renew);
      }, Math.max(1, Math.floor(this.#leaseMs / 3)));
    };
    const run = (async () => {
      const fn = this.#functions().get(e.fn);
      renew();
      try {
        if (fn) {
          const { kind, payload } = cronInvocation(fn, e.schedule.expression, e.index, tick);
          await this.#invoke(e.fn, kind, payload, { trigger: 'cron' });
        }
      } catch {
        // The invocation log already has the error; the tick counts as run.
      } finally {
        finished = true;
        stopRenewing();
      }
      await this.#update(e, (record) => {
        if (!record || !mine(record)) return undefined;
        const { [at]: _done, ...others } = runningOf(record);
        return { ...record, running: others };
      }).catch(() => undefined);
    })();
    this.#track(run);
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }

  /** Waits for the runs started so far (tests). */
  async idle(): Promise<void> {
    await this.#syncing;
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /**
   * Runs `fn`'s scheduled handler now (dev endpoints, `outpost trigger cron`): with `cron`,
   * the function whose triggers list it; without a function name, the only function with a
   * cron trigger. Records no tick.
   */
  async runNow(target: { fn?: string; cron?: string; time?: number }): Promise<{ function: string; cron: string; scheduledTime: number; result: unknown }> {
    const fns = [...this.#functions().values()];
    const crons = (f: ActiveFunction): string[] => f.version.manifest.triggers.flatMap((t) => (t.type === 'cron' ? [t.expression] : []));
    let fn: ActiveFunction | undefined;
    if (target.fn !== undefined) {
      fn = this.#functions().get(target.fn);
      if (!fn) throw new OutpostError('FUNCTION_NOT_FOUND', `no function named ${target.fn}`, { status: 404, fault: 'user' });
    } else {
      const listing = target.cron === undefined ? [] : fns.filter((f) => crons(f).includes(target.cron ?? ''));
      const scheduled = fns.filter((f) => crons(f).length > 0);
      fn = listing.length === 1 ? listing[0] : scheduled.length === 1 ? scheduled[0] : fns.length === 1 ? fns[0] : undefined;
      if (!fn) {
        throw new OutpostError('CRON_TARGET_AMBIGUOUS', `cannot tell which function to run${target.cron ? ` for cron "${target.cron}"` : ''}: ${scheduled.length} functions have cron triggers`, {
          status: 400,
          fault: 'user',
          hint: 'pass a cron expression one function lists, or use outpost trigger cron <function>',
        });
      }
    }
    const cron = target.cron ?? crons(fn)[0] ?? '* * * * *';
    const index = Math.max(0, fn.version.manifest.triggers.findIndex((t) => t.type === 'cron' && t.expression === cron));
    const scheduledTime = target.time ?? this.#clock.now();
    const { kind, payload } = cronInvocation(fn, cron, index, scheduledTime);
    const result = await this.#invoke(fn.name, kind, payload, { trigger: 'cron' });
    return { function: fn.name, cron, scheduledTime, result };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const e of this.#entries.values()) {
      e.cancel();
      e.cancelWatch();
    }
    this.#entries.clear();
    await this.idle();
  }
}



/** `/__scheduled` and `/cdn-cgi/handler/scheduled` (dev), and the control route for `outpost trigger cron`. */
/** `POST /_outpost/api/functions/<fn>/trigger/cron` (`outpost trigger cron`), behind the control API's auth. */
function cronControl(scheduler: CronScheduler): GatewayHook {
  return async (req, res, requestId) => {
    const url = new URL(req.url ?? '/', 'http://node');
    const trigger = /^\/_outpost\/api\/functions\/([^/]+)\/trigger\/cron$/.exec(url.pathname);
    if (!trigger || req.method !== 'POST') return false;
    const body = await readJson(req);
    const time = body['time'] === undefined ? undefined : Number(body['time']);
    if (time !== undefined && !Number.isFinite(time)) throw new OutpostError('INVALID_ARGUMENT', 'time must be epoch milliseconds', { status: 400, fault: 'user' });
    const ran = await scheduler.runNow({ fn: decodeURIComponent(trigger[1] ?? ''), ...(typeof body['cron'] === 'string' ? { cron: body['cron'] } : {}), ...(time === undefined ? {} : { time }) });
    sendJson(res, 200, ran, requestId);
    return true;
  };
}

/** wrangler's two dev spellings, `/__scheduled?cron=…` and `/cdn-cgi/handler/scheduled?cron=…&time=…`. */
function cronDevRoute(scheduler: CronScheduler): GatewayHook {
  return async (req, res, requestId) => {
    const url = new URL(req.url ?? '/', 'http://node');
    const cron = url.searchParams.get('cron') ?? undefined;
    const timeParam = url.searchParams.get('time');
    const time = timeParam === null || timeParam === '' ? undefined : Number(timeParam);
    try {
      await scheduler.runNow({ ...(cron ? { cron } : {}), ...(time !== undefined && Number.isFinite(time) ? { time } : {}) });
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': requestId });
      res.end('Ran scheduled event');
    } catch (error) {
      const e = error as Error & { status?: number; userError?: { name: string; message: string } };
      const message = e.userError ? `${e.userError.name}: ${e.userError.message}` : e.message;
      res.writeHead(isOutpostError(error) ? e.status ?? 500 : 500, { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': requestId });
      res.end(`Scheduled event failed: ${message}`);
    }
    return true;
  };
}

/** The node service; the clock and window are fixed here, tests build a CronScheduler directly. */
export const cronService: NodeService = {
  name: 'cron',
  start(ctx: NodeContext): RunningService {
    const windowEnv = Number(process.env['OUTPOST_CRON_CATCHUP_SECONDS']);
    const scheduler = new CronScheduler(
      { meta: ctx.store.meta, logger: ctx.logger, invoke: (fn, kind, payload, o) => ctx.invoke(fn, kind, payload, o), functions: () => ctx.functions() },
      {
        ...(Number.isFinite(windowEnv) && windowEnv >= 0 && process.env['OUTPOST_CRON_CATCHUP_SECONDS'] !== undefined ? { catchUpWindowMs: windowEnv * 1000 } : {}),
        ...(ctx.stateDir === undefined ? {} : { node: nodeIdentity(hostname(), ctx.stateDir) }),
      },
    );
    const unwatch = ctx.onFunctionsChanged(() => void scheduler.sync());
    void scheduler.sync();
    return {
      controlRoutes: [cronControl(scheduler)],
      ...(ctx.dev ? { gatewayRoutes: [{ paths: ['/__scheduled', '/cdn-cgi/handler/scheduled'], handle: cronDevRoute(scheduler) }] } : {}),
      async close() {
        unwatch();
        await scheduler.close();
      },
    };
  },
};
