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
import type { Rpc } from './rpc.ts';

const GUESTS: Partial<Record<BindingSpec['type'], (name: string, rpc: Rpc) => object>> = {
  kv: createKvNamespace,
  workflow: createWorkflowBinding,
  queue: createQueueProducer,
  denokv: createDenoKv,
};

export function createBindings(specs: readonly BindingSpec[], rpc: Rpc): Record<string, object> {
  const env: Record<string, object> = {};
  for (const spec of specs) {
    const make = GUESTS[spec.type];
    if (make) env[spec.name] = make(spec.name, rpc);
  }
  return env;
}
