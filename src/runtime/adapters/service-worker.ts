/**
 * @module
 * Cloudflare Workers service-worker syntax: the script calls
 * `addEventListener('fetch', event => event.respondWith(…))` (and `'scheduled'`) at top level,
 * and its bindings and vars are globals rather than an `env` argument. Before the script runs,
 * this adapter installs `addEventListener`/`removeEventListener`, the FetchEvent and
 * ScheduledEvent classes, and one global per binding and variable.
 *
 * As on Cloudflare: listeners run in registration order until one calls `respondWith()`; a
 * listener that throws ends the request with an error (or goes to the origin after
 * `passThroughOnException()`); a script with no listener that responds is an error.
 */
import type { Adapter, AdapterFactory, AdapterSetup, InvocationContext } from './adapter.ts';
import { HandlerShapeError, unsupportedEvent } from './adapter.ts';
import type { ScheduledPayload } from './workers.ts';

type Listener = (event: Event) => unknown;

let listeners = new Map<string, Listener[]>();

class ExtendableEvent extends Event {
  readonly #ctx: InvocationContext;
  /** What waitUntil() was given (a scheduled event is finished only when these settle). */
  readonly pending: Promise<unknown>[] = [];
  constructor(type: string, ctx: InvocationContext) {
    super(type);
    this.#ctx = ctx;
  }
  waitUntil(promise: unknown): void {
    const p = Promise.resolve(promise);
    this.pending.push(p);
    this.#ctx.waitUntil(p);
  }
}

export class FetchEvent extends ExtendableEvent {
  readonly request: Request;
  readonly #ctx: InvocationContext;
  response: Promise<Response> | undefined;

  constructor(request: Request, ctx: InvocationContext) {
    super('fetch', ctx);
    this.request = request;
    this.#ctx = ctx;
  }

  respondWith(response: Response | Promise<Response>): void {
    if (this.response) throw new DOMException("FetchEvent.respondWith() has already been called; it can only be called once.", 'InvalidStateError');
    this.response = Promise.resolve(response);
  }

  passThroughOnException(): void {
    this.#ctx.passThroughOnException();
  }
}

export class ScheduledEvent extends ExtendableEvent {
  readonly cron: string;
  readonly scheduledTime: number;
  retry = true;

  constructor(payload: ScheduledPayload, ctx: InvocationContext) {
    super('scheduled', ctx);
    this.cron = payload.cron;
    this.scheduledTime = payload.scheduledTime;
  }

  noRetry(): void {
    this.retry = false;
  }
}

function listenerOf(value: unknown): Listener | undefined {
  if (typeof value === 'function') return value as Listener;
  if (typeof value === 'object' && value !== null && typeof (value as { handleEvent?: unknown }).handleEvent === 'function') {
    const target = value as { handleEvent: Listener };
    return (event) => target.handleEvent(event);
  }
  return undefined;
}

function prepare(setup: AdapterSetup): void {
  listeners = new Map();
  const g = globalThis as Record<string, unknown>;
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  };
  define('addEventListener', (type: unknown, listener: unknown) => {
    const fn = listenerOf(listener);
    if (typeof type !== 'string' || !fn) return;
    const list = listeners.get(type) ?? [];
    list.push(fn);
    listeners.set(type, list);
  });
  define('removeEventListener', (type: unknown, listener: unknown) => {
    if (typeof type !== 'string') return;
    listeners.set(type, (listeners.get(type) ?? []).filter((l) => l !== listener));
  });
  define('FetchEvent', FetchEvent);
  define('ScheduledEvent', ScheduledEvent);
  define('ExtendableEvent', ExtendableEvent);
  // Bindings and vars are globals in service-worker scripts.
  for (const [name, value] of Object.entries(setup.env)) if (!(name in g) || g[name] === undefined) define(name, value);
}

/**
 * Runs the listeners synchronously, in order, until one responds: as on Workers, respondWith()
 * must be called during dispatch, and a listener's return value is ignored.
 */
function dispatch(type: string, event: Event): void {
  for (const listener of listeners.get(type) ?? []) {
    const result = listener(event);
    if (result instanceof Promise) result.catch((error: unknown) => console.error(error));
    if ((event as FetchEvent).response) return;
  }
}

export const serviceWorkerAdapter: AdapterFactory = {
  prepare,
  create(): Adapter {
    if ((listeners.get('fetch') ?? []).length === 0 && (listeners.get('scheduled') ?? []).length === 0) {
      throw new HandlerShapeError("the script registered no event listener; a service worker calls addEventListener('fetch', (event) => event.respondWith(…))");
    }
    return {
      async fetch(request, http, ctx) {
        Object.defineProperty(request, 'cf', { value: http.meta.cf, enumerable: true });
        const event = new FetchEvent(request, ctx);
        dispatch('fetch', event);
        if (!event.response) throw new HandlerShapeError('no fetch event listener called event.respondWith() (it must be called synchronously, during the event)');
        const response = await event.response;
        if (!(response instanceof Response)) throw new TypeError(`respondWith() must be given a Response, got ${response === null ? 'null' : typeof response}`);
        return response;
      },
      async event(kind, payload, ctx) {
        if (kind !== 'scheduled' || (listeners.get('scheduled') ?? []).length === 0) throw unsupportedEvent('service worker without a matching listener', kind);
        const event = new ScheduledEvent(payload as ScheduledPayload, ctx);
        dispatch('scheduled', event);
        // The run succeeded when everything handed to waitUntil() did.
        for (let seen = 0; seen < event.pending.length; seen++) await event.pending[seen];
        return { retry: event.retry };
      },
    };
  },
};
