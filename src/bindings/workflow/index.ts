/**
 * @module
 * The host side of the workflow binding: starts and describes executions of the one state
 * machine the function's config declared, through the node's workflow service.
 */
import { OutpostError } from '../../errors.ts';
import { workflowsOf } from '../../workflows/attach.ts';
import { parseExecutionArn, stateMachineNameOf } from '../../workflows/records.ts';
import type { HostBinding } from '../rpc.ts';

/**
 * `owner` is what the workflow service attached itself to (the node's Store); it is looked up
 * per call because bindings are built before the node's services start.
 */
export function workflowHost(owner: object, stateMachine: string): HostBinding {
  return async (method, args) => {
    const smName = stateMachineNameOf(stateMachine);
    const service = workflowsOf(owner);
    if (!service) throw new OutpostError('WORKFLOWS_UNAVAILABLE', 'this node does not run workflows', { status: 503 });
    switch (method) {
      case 'start': {
        const [name, input] = args;
        const e = await service.start(smName, { ...(typeof name === 'string' ? { name } : {}), input: typeof input === 'string' ? input : '{}' });
        return { executionArn: e.arn, startDate: new Date(e.startDate).toISOString() };
      }
      case 'describe': {
        const arn = String(args[0]);
        if (parseExecutionArn(arn).stateMachine !== smName) throw new OutpostError('BINDING_FORBIDDEN', `this binding reaches executions of ${smName} only`, { status: 403, fault: 'user' });
        const e = await service.describe(arn);
        return {
          executionArn: e.arn,
          name: e.name,
          status: e.status,
          startDate: new Date(e.startDate).toISOString(),
          ...(e.stopDate === undefined ? {} : { stopDate: new Date(e.stopDate).toISOString() }),
          input: JSON.parse(e.input) as unknown,
          ...(e.output === undefined ? {} : { output: JSON.parse(e.output) as unknown }),
          ...(e.error === undefined ? {} : { error: e.error }),
          ...(e.cause === undefined ? {} : { cause: e.cause }),
        };
      }
      default:
        throw new OutpostError('BINDING_METHOD', `the workflow binding has no method ${method}`, { fault: 'user' });
    }
  };
}
