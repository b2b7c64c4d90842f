/**
 * @module
 * Builds the binding objects a function sees on `env`, inside the isolate. One entry per
 * binding type; the host side of each lives in the binding's own folder.
 */
import type { BindingSpec } from '../project/spec.ts';
import { createKvNamespace } from './kv/kv.guest.ts';
import { createQueueProducer } from './queue/queue.guest.ts';
import { createDenoKv } from './denokv/denokv.guest.ts';
import { createWorkflowBinding } from './workflow/workflow.guest.ts';
import { createServiceBinding } from './service/service.guest.ts';
import { createD1Database } from './d1/d1.guest.ts';
import { createR2Bucket } from './r2/r2.guest.ts';
import { createRateLimiter } from './ratelimit/ratelimit.guest.ts';
import type { Rpc } from './rpc.ts';

const GUESTS: Partial<Record<BindingSpec['type'], (name: string, rpc: Rpc) => object>> = {
  kv: createKvNamespace,
  r2: createR2Bucket,
  workflow: createWorkflowBinding,
  queue: createQueueProducer,
  denokv: createDenoKv,
  service: createServiceBinding,
  d1: createD1Database,
  ratelimit: createRateLimiter,
};

export { CACHE_BINDING, createCaches } from './cache/cache.guest.ts';

export function createBindings(specs: readonly BindingSpec[], rpc: Rpc): Record<string, object> {
  const env: Record<string, object> = {};
  for (const spec of specs) {
    const make = GUESTS[spec.type];
    if (make) env[spec.name] = make(spec.name, rpc);
  }
  return env;
}
