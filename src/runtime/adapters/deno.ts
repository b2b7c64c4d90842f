/**
 * @module
 * Deno Deploy: installs a `Deno` global before the module runs, so the module's own top-level
 * `Deno.serve(…)` registers its handler, then serves every request with it. Also serves modules
 * written for `deno serve` (`export default { fetch }`).
 *
 * - `Deno.serve`: every overload — `(handler)`, `(options, handler)`, `({ handler, …options })`
 *   and `({ fetch })` — returning a server with `finished`, `shutdown()`, `addr`, `ref/unref`.
 *   `port`/`hostname` are accepted and reported back in `addr` and `onListen`; the gateway owns
 *   the real socket. The handler gets `(request, info)` with `info.remoteAddr` built from the
 *   gateway's client ip. `onError` answers for a handler that throws.
 * - `Deno.env`: get/set/has/delete/toObject over the function's own variables (set/delete
 *   change this instance only), plus DENO_REGION and DENO_DEPLOYMENT_ID as Deploy sets them.
 * - `Deno.openKv()`: the function's own Deno KV database (the `denokv` binding the Deno loader
 *   declares for every Deno function; one database per function).
 * - `Deno.cron(name, schedule, handler)`: registers the job in this instance. The loader finds
 *   `Deno.cron("name", "schedule", …)` calls in the source and declares a cron trigger for each
 *   (platform.denoCrons lists them as JSON), so the scheduler ticks them like any cron trigger.
 *   A `scheduled` event runs the job named by `payload.name`, or else every job whose schedule
 *   is `payload.cron`.
 */
import { KvU64 } from '../../bindings/denokv/denokv.guest.ts';
import type { Adapter, AdapterFactory, AdapterSetup } from './adapter.ts';
import { HandlerShapeError, unsupportedEvent } from './adapter.ts';

type Handler = (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>;

interface NetAddr {
  transport: 'tcp';
  hostname: string;
  port: number;
}

interface ServeHandlerInfo {
  remoteAddr: NetAddr;
  completed: Promise<void>;
}

interface ServeOptions {
  port?: number;
  hostname?: string;
  signal?: AbortSignal;
  onListen?: (addr: NetAddr) => void;
  onError?: (error: unknown) => Response | Promise<Response>;
  handler?: Handler;
  fetch?: Handler;
}

interface Registered {
  handler: Handler;
  onError: ((error: unknown) => Response | Promise<Response>) | undefined;
  closed: boolean;
}

interface CronJob {
  name: string;
  schedule: string;
  handler: () => unknown;
}

interface DenoState {
  servers: Registered[];
  crons: Map<string, CronJob>;
}

/** Per instance: what the module registered while it loaded. */
let state: DenoState = { servers: [], crons: new Map() };

/** The registered cron jobs of this instance (name → schedule), for the scheduler and tests. */
export function registeredCrons(): Array<{ name: string; schedule: string }> {
  return [...state.crons.values()].map((c) => ({ name: c.name, schedule: c.schedule }));
}

/** Reads the overloads of Deno.serve into options + handler. */
export function serveArguments(a: unknown, b: unknown): { options: ServeOptions; handler: Handler } {
  if (typeof a === 'function') return { options: {}, handler: a as Handler };
  if (typeof a === 'object' && a !== null) {
    const options = a as ServeOptions;
    const handler = typeof b === 'function' ? (b as Handler) : (options.handler ?? options.fetch);
    if (typeof handler === 'function') return { options, handler };
  }
  throw new TypeError('A handler function must be provided: Deno.serve(handler), Deno.serve(options, handler) or Deno.serve({ handler })');
}

function serve(a: unknown, b?: unknown): object {
  const { options, handler } = serveArguments(a, b);
  const registered: Registered = { handler, onError: options.onError, closed: false };
  state.servers.push(registered);
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const addr: NetAddr = { transport: 'tcp', hostname: options.hostname ?? '0.0.0.0', port: options.port ?? 8000 };
  const shutdown = async (): Promise<void> => {
    registered.closed = true;
    finish();
  };
  options.signal?.addEventListener('abort', () => void shutdown(), { once: true });
  if (options.onListen) {
    const onListen = options.onListen;
    queueMicrotask(() => onListen({ ...addr }));
  }
  return {
    addr,
    finished,
    shutdown,
    ref() {},
    unref() {},
    [Symbol.asyncDispose]: shutdown,
  };
}

type ScheduleField = number | { exact?: number | number[]; start?: number; end?: number; every?: number };

/** Deno.cron's object schedule → a cron expression. */
export function cronExpression(schedule: unknown): string {
  if (typeof schedule === 'string') return schedule.trim().split(/\s+/).join(' ');
  if (typeof schedule !== 'object' || schedule === null) throw new TypeError('schedule must be a cron string or an object');
  const s = schedule as Record<string, ScheduleField | undefined>;
  const field = (value: ScheduleField | undefined): string => {
    if (value === undefined) return '*';
    if (typeof value === 'number') return String(value);
    if (value.exact !== undefined) return Array.isArray(value.exact) ? value.exact.join(',') : String(value.exact);
    const range = value.start !== undefined || value.end !== undefined ? `${value.start ?? '*'}${value.end === undefined ? '' : `-${value.end}`}` : '*';
    return value.every === undefined ? range : `${range === '*' ? '*' : range}/${value.every}`;
  };
  return [field(s['minute']), field(s['hour']), field(s['dayOfMonth']), field(s['month']), field(s['dayOfWeek'])].join(' ');
}

function cron(name: unknown, schedule: unknown, a: unknown, b?: unknown): Promise<void> {
  if (typeof name !== 'string' || !/^[a-zA-Z0-9_ -]{1,64}$/.test(name)) {
    throw new TypeError('Invalid cron name: use up to 64 letters, digits, spaces, underscores and hyphens');
  }
  const handler = typeof a === 'function' ? a : b;
  if (typeof handler !== 'function') throw new TypeError('Deno.cron requires a handler function');
  if (state.crons.has(name)) throw new TypeError('Cron with this name already exists');
  state.crons.set(name, { name, schedule: cronExpression(schedule), handler: handler as () => unknown });
  const signal = typeof a === 'object' && a !== null ? (a as { signal?: AbortSignal }).signal : undefined;
  return new Promise<void>((resolve) => {
    signal?.addEventListener('abort', () => {
      state.crons.delete(name);
      resolve();
    }, { once: true });
  });
}

function envObject(variables: Record<string, string>): object {
  const values = new Map(Object.entries(variables));
  const key = (k: unknown): string => {
    if (typeof k !== 'string' || k === '' || k.includes('=') || k.includes('\0')) throw new TypeError(`Key is an empty string or contains '=' or NUL`);
    return k;
  };
  return Object.freeze({
    get: (k: unknown) => values.get(key(k)),
    set: (k: unknown, v: unknown) => void values.set(key(k), String(v)),
    has: (k: unknown) => values.has(key(k)),
    delete: (k: unknown) => void values.delete(key(k)),
    toObject: () => Object.fromEntries(values),
  });
}

function installDeno(setup: AdapterSetup): void {
  state = { servers: [], crons: new Map() };
  const kvBinding = setup.bindings.find((b) => b.type === 'denokv');
  const kv = kvBinding ? setup.env[kvBinding.name] : undefined;
  const deno = {
    serve,
    cron,
    env: envObject({
      ...setup.variables,
      DENO_REGION: setup.variables['DENO_REGION'] ?? setup.host?.region ?? 'local',
      DENO_DEPLOYMENT_ID: setup.variables['DENO_DEPLOYMENT_ID'] ?? `${setup.functionName}-${setup.version}`,
    }),
    async openKv(_path?: string): Promise<unknown> {
      if (!kv) throw new Error('Deno KV is not available to this function (no denokv binding)');
      return kv;
    },
    KvU64,
    version: Object.freeze({ deno: '2.5.0', v8: '14.0', typescript: '5.9' }),
    build: Object.freeze({ os: 'linux', arch: 'x86_64', target: 'x86_64-unknown-linux-gnu', vendor: 'unknown', env: 'gnu' }),
    noColor: true,
    pid: 1,
    args: Object.freeze([]),
    mainModule: 'file:///src/main.ts',
    exit(): never {
      throw new Error('Deno.exit() is not available on Deno Deploy');
    },
  };
  Object.defineProperty(globalThis, 'Deno', { value: Object.freeze(deno), writable: false, configurable: true, enumerable: false });
}

function readDefaultFetch(module: Record<string, unknown>): Handler | undefined {
  const d = module['default'];
  if (typeof d === 'object' && d !== null && typeof (d as { fetch?: unknown }).fetch === 'function') {
    const target = d as { fetch: Handler };
    return (request, info) => target.fetch(request, info);
  }
  return undefined;
}

export const denoAdapter: AdapterFactory = {
  prepare: installDeno,
  create(module): Adapter {
    const server = state.servers[0];
    const fallback = server ? undefined : readDefaultFetch(module);
    if (!server && !fallback && state.crons.size === 0) {
      throw new HandlerShapeError('the module did not call Deno.serve(handler) (or export default { fetch } for `deno serve`)');
    }
    const crons = state.crons;
    return {
      async fetch(request, http) {
        const handler = server?.handler ?? fallback;
        if (!handler) throw new HandlerShapeError('this Deno module serves no HTTP requests (it did not call Deno.serve)');
        if (server?.closed) return new Response('Service Unavailable: the server was shut down', { status: 503 });
        let complete: () => void = () => {};
        const info: ServeHandlerInfo = {
          remoteAddr: { transport: 'tcp', hostname: http.meta.ip, port: 0 },
          completed: new Promise<void>((resolve) => (complete = resolve)),
        };
        try {
          const response: unknown = await handler(request, info);
          if (!(response instanceof Response)) throw new TypeError(`Return value from serve handler must be a response or a promise resolving to a response (got ${response === null ? 'null' : typeof response})`);
          return response;
        } catch (error) {
          if (server?.onError) return server.onError(error);
          throw error;
        } finally {
          complete();
        }
      },
      async event(kind, payload) {
        if (kind !== 'scheduled') throw unsupportedEvent('Deno', kind);
        const p = (payload ?? {}) as { name?: unknown; cron?: unknown };
        const jobs = typeof p.name === 'string'
          ? [crons.get(p.name)].filter((j) => j !== undefined)
          : [...crons.values()].filter((j) => typeof p.cron === 'string' && j.schedule === cronExpression(p.cron));
        if (jobs.length === 0) throw new HandlerShapeError(`no Deno.cron job matches ${typeof p.name === 'string' ? `the name "${p.name}"` : `the schedule "${String(p.cron)}"`}`);
        for (const job of jobs) await job.handler();
        return { ran: jobs.map((j) => j.name) };
      },
    };
  },
};
