/**
 * @module
 * `@google-cloud/functions-framework` on Outpost: `http(name, fn)` registers an HTTP function
 * that the gcf adapter serves at `/<name>` (the loader finds the name in the source);
 * `cloudEvent(name, fn)` registers an event function, which Outpost does not trigger yet.
 * `getFunction(name)` returns what was registered.
 */
import type { ExpressRequest, ExpressResponse } from '../runtime/adapters/express.ts';

export type Request = ExpressRequest;
export type Response = ExpressResponse;
export type HttpFunction = (req: ExpressRequest, res: ExpressResponse) => unknown;
export type CloudEventFunction = (event: Record<string, unknown>) => unknown;

/** Shared with the adapter: Symbol.for keys are the same in every module copy of one isolate. */
const REGISTRY = Symbol.for('outpost.gcf.functions');

interface Registered {
  signature: 'http' | 'cloudevent' | 'event';
  handler: unknown;
}

function registry(): Map<string, Registered> {
  const g = globalThis as Record<symbol, unknown>;
  let r = g[REGISTRY];
  if (!(r instanceof Map)) {
    r = new Map<string, Registered>();
    Object.defineProperty(globalThis, REGISTRY, { value: r, configurable: false, enumerable: false, writable: false });
  }
  return r as Map<string, Registered>;
}

function register(name: string, signature: Registered['signature'], handler: unknown): void {
  if (typeof name !== 'string' || name === '') throw new TypeError('a function needs a name: functions.http("name", handler)');
  if (typeof handler !== 'function') throw new TypeError(`the handler registered as "${name}" is not a function`);
  registry().set(name, { signature, handler });
}

export function http(name: string, handler: HttpFunction): void {
  register(name, 'http', handler);
}

export function cloudEvent(name: string, handler: CloudEventFunction): void {
  register(name, 'cloudevent', handler);
}

export function typed(name: string, handler: (request: unknown) => unknown): void {
  register(name, 'http', async (req: ExpressRequest, res: ExpressResponse) => {
    const result = await handler(req.body);
    res.json(result);
  });
}

export function getFunction(name: string): unknown {
  return registry().get(name)?.handler;
}

export default { http, cloudEvent, typed, getFunction };
