/**
 * @module
 * Where the running workflow service of a node can be found by parts built before it starts
 * (the control API, binding host sides): a weak map keyed by the node's Store or Deployments.
 * The service attaches itself at start and detaches at close.
 */
import type { WorkflowService } from './service.ts';

const SERVICES = new WeakMap<object, WorkflowService>();

export function attachWorkflows(owner: object, service: WorkflowService): void {
  SERVICES.set(owner, service);
}

export function detachWorkflows(owner: object): void {
  SERVICES.delete(owner);
}

/** The workflow service attached to `owner`, if the node runs one. */
export function workflowsOf(owner: object): WorkflowService | undefined {
  return SERVICES.get(owner);
}
