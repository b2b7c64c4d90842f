/**
 * @module
 * The workflow binding a function sees on `env` (Web APIs only: this runs inside the isolate):
 * start an execution of the state machine its config names, and look one up.
 *
 * ```js
 * const { executionArn } = await env.FLOW.start({ name: 'order-42', input: { orderId: 42 } });
 * const { status, output } = await env.FLOW.describe(executionArn);
 * ```
 */
import type { Rpc } from '../rpc.ts';

export interface WorkflowStartOptions {
  /** Execution name (default: a random UUID); the same name and input twice is idempotent. */
  name?: string;
  /** Any JSON value (default `{}`). */
  input?: unknown;
}

export function createWorkflowBinding(binding: string, rpc: Rpc): object {
  return {
    async start(options: WorkflowStartOptions = {}): Promise<{ executionArn: string; startDate: string }> {
      if (typeof options !== 'object' || options === null) throw new TypeError('start() takes { name?, input? }');
      if (options.name !== undefined && typeof options.name !== 'string') throw new TypeError('name must be a string');
      const input = JSON.stringify(options.input === undefined ? {} : options.input);
      return (await rpc(binding, 'start', [options.name ?? null, input])) as { executionArn: string; startDate: string };
    },
    async describe(executionArn: string): Promise<unknown> {
      if (typeof executionArn !== 'string') throw new TypeError('describe() takes an execution ARN');
      return rpc(binding, 'describe', [executionArn]);
    },
  };
}
