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
import { nodeRateLimits, rateLimitHost } from './ratelimit/index.ts';
import type { HostBinding } from './rpc.ts';
import type { SpanRecord, StorageKind } from '../observe/telemetry.ts';
import { TRACE_BINDING } from '../runtime/protocol.ts';

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
  /** Counts storage operations for metrics and takes the spans the function's instance timed. */
  telemetry?: { operation(kind: StorageKind, op: string): void; spans(spans: readonly SpanRecord[]): void };
}

/** Storage bindings whose calls are counted as metrics, by the metric they count towards. */
const COUNTED: Partial<Record<BindingSpec['type'], StorageKind>> = { kv: 'kv', r2: 's3' };

const SPAN_KINDS = new Set(['server', 'client', 'internal']);

/** Spans as the instance reports them; anything malformed is dropped, not trusted. */
function spansFrom(value: unknown): SpanRecord[] {
  if (!Array.isArray(value)) return [];
  return value.slice(0, 1000).filter((s: Partial<SpanRecord> | null): s is SpanRecord =>
    typeof s === 'object' && s !== null && typeof s.traceId === 'string' && typeof s.spanId === 'string' && typeof s.name === 'string' && SPAN_KINDS.has(s.kind as string) &&
    typeof s.start === 'number' && typeof s.end === 'number' && typeof s.attributes === 'object' && s.attributes !== null && (s.status === 'ok' || s.status === 'error'),
  );
}

const HOSTS: Partial<Record<BindingSpec['type'], (spec: BindingSpec, ctx: BindingContext) => HostBinding>> = {
  kv: (spec, ctx) => kvHost(ctx.store.kv, spec.type === 'kv' ? spec.namespace : '', ctx.now),
  r2: (spec, ctx) => r2Host(ctx.store.objects, spec.type === 'r2' ? spec.bucket : ''),
  workflow: (spec, ctx) => workflowHost(ctx.store, spec.type === 'workflow' ? spec.stateMachine : ''),
  queue: (spec, ctx) => queueHost(ctx.store.queues, spec.type === 'queue' ? spec.queue : ''),
  d1: (spec, ctx) => d1Host(ctx.store.sql, spec.type === 'd1' ? spec.database : ''),
  service: (spec, ctx) => serviceHost(spec.type === 'service' ? spec.service : '', ctx.invokeHttp),
  denokv: (spec, ctx) => denoKvHost(ctx.store.denokv, spec.type === 'denokv' ? spec.database : '', ctx.now),
  ratelimit: (spec, ctx) => rateLimitHost(nodeRateLimits(ctx.store, ctx.now), spec),
};

/** Returns the dispatcher for one version's bindings. Unknown names are refused. */
export function hostBindings(specs: readonly BindingSpec[], ctx: BindingContext): (binding: string, method: string, args: unknown[]) => Promise<unknown> {
  const table = new Map<string, HostBinding>();
  for (const spec of specs) {
    const make = HOSTS[spec.type];
    if (!make) continue;
    const handler = make(spec, ctx);
    const counted = COUNTED[spec.type];
    const telemetry = ctx.telemetry;
    table.set(spec.name, counted && telemetry ? (method, args) => (telemetry.operation(counted, method), handler(method, args)) : handler);
  }
  if (ctx.cache) table.set(CACHE_BINDING, cacheHost(ctx.cache));
  const telemetry = ctx.telemetry;
  if (telemetry) {
    table.set(TRACE_BINDING, async (_method, args) => {
      telemetry.spans(spansFrom(args[0]));
      return null;
    });
  }
  return async (binding, method, args) => {
    const handler = table.get(binding);
    if (!handler) throw new OutpostError('BINDING_NOT_DECLARED', `this function has no binding named ${binding}`, { fault: 'user' });
    return handler(method, args);
  };
}
