/**
 * @module
 * The host side of bindings: for one function version, a table from binding name to the
 * handler serving it. A function reaches only what its config declared — the table is built
 * from the version's manifest, never from anything the function sends.
 */
import { OutpostError } from '../errors.ts';
import type { BindingSpec } from '../project/spec.ts';
import type { Store } from '../store/types.ts';
import { kvHost } from './kv/index.ts';
import { queueHost } from './queue/index.ts';
import { denoKvHost } from './denokv/index.ts';
import { workflowHost } from './workflow/index.ts';
import { serviceHost } from './service/index.ts';
import { d1Host } from './d1/index.ts';
import { CACHE_BINDING, cacheHost } from './cache/index.ts';
import type { NodeCache } from './cache/index.ts';
import type { InvokeHttp } from './service/index.ts';
import { r2Host } from './r2/index.ts';
import type { HostBinding } from './rpc.ts';

export type { HostBinding, Rpc } from './rpc.ts';
export { KV_LIMITS } from './kv/index.ts';
export type { InvokeHttp, ServiceRequest, ServiceResponse } from './service/index.ts';
export { NodeCache } from './cache/index.ts';

export interface BindingContext {
  store: Store;
  now: () => number;
  /** Runs an HTTP invocation of another function's active version on this node (service bindings). */
  invokeHttp?: InvokeHttp;
  /** The node's Cache API store, behind the `caches` global of Workers-style functions. */
  cache?: NodeCache;
}

const HOSTS: Partial<Record<BindingSpec['type'], (spec: BindingSpec, ctx: BindingContext) => HostBinding>> = {
  kv: (spec, ctx) => kvHost(ctx.store.kv, spec.type === 'kv' ? spec.namespace : '', ctx.now),
  r2: (spec, ctx) => r2Host(ctx.store.objects, spec.type === 'r2' ? spec.bucket : ''),
  workflow: (spec, ctx) => workflowHost(ctx.store, spec.type === 'workflow' ? spec.stateMachine : ''),
  queue: (spec, ctx) => queueHost(ctx.store.queues, spec.type === 'queue' ? spec.queue : ''),
  d1: (spec, ctx) => d1Host(ctx.store.sql, spec.type === 'd1' ? spec.database : ''),
  service: (spec, ctx) => serviceHost(spec.type === 'service' ? spec.service : '', ctx.invokeHttp),
  denokv: (spec, ctx) => denoKvHost(ctx.store.denokv, spec.type === 'denokv' ? spec.database : '', ctx.now),
};

/** Returns the dispatcher for one version's bindings. Unknown names are refused. */
export function hostBindings(specs: readonly BindingSpec[], ctx: BindingContext): (binding: string, method: string, args: unknown[]) => Promise<unknown> {
  const table = new Map<string, HostBinding>();
  for (const spec of specs) {
    const make = HOSTS[spec.type];
    if (make) table.set(spec.name, make(spec, ctx));
  }
  if (ctx.cache) table.set(CACHE_BINDING, cacheHost(ctx.cache));
  return async (binding, method, args) => {
    const handler = table.get(binding);
    if (!handler) throw new OutpostError('BINDING_NOT_DECLARED', `this function has no binding named ${binding}`, { fault: 'user' });
    return handler(method, args);
  };
}
