/**
 * @module
 * Workflow routes of the control API (what `outpost workflows …` calls), under
 * `/_outpost/api/workflows/`. Execution ARNs go in the path URL-encoded; state machine names
 * cannot contain `:`, so a segment starting with `arn:` is always an execution.
 *
 * ```
 * GET  workflows                       state machines
 * GET  workflows/<sm>                  one state machine with its definition
 * GET  workflows/<sm>/executions       its executions, newest first (?status=RUNNING)
 * POST workflows/<sm>/executions       start one: { name?, input? } (input is a JSON value)
 * GET  workflows/<arn>                 one execution
 * GET  workflows/<arn>/history         its history events (public shape)
 * POST workflows/<arn>/stop            stop it: { error?, cause? }
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutpostError } from '../errors.ts';
import { workflowsOf } from './attach.ts';
import { stateMachineArn, WorkflowError } from './records.ts';
import type { ExecutionStatusName } from './records.ts';
import { readJsonObject as readJson, sendJson } from '../control/http.ts';

const send = (res: ServerResponse, value: unknown, requestId: string): true => {
  sendJson(res, 200, value, requestId);
  return true;
};



/**
 * Serves one control API request under `workflows/` (`parts` follow it). `owner` is what the
 * node's workflow service attached itself to (its Deployments). Throws OutpostErrors.
 */
export async function handleWorkflowsApi(owner: object, parts: string[], method: string, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<boolean> {
  const service = workflowsOf(owner);
  if (!service) throw new OutpostError('WORKFLOWS_UNAVAILABLE', 'this node does not run workflows', { status: 503 });
  try {
    const [first, second] = parts;
    if (first === undefined) {
      if (method !== 'GET') throw notFound(method, parts);
      const machines = await service.stateMachines.list();
      return send(res, { stateMachines: machines.map((m) => ({ ...m, arn: stateMachineArn(m.name) })) }, requestId);
    }
    if (first.startsWith('arn:')) {
      if (second === undefined && method === 'GET') return send(res, { execution: await service.describe(first) }, requestId);
      if (second === 'history' && method === 'GET') return send(res, { events: await service.publicHistory(first) }, requestId);
      if (second === 'stop' && method === 'POST') {
        const body = await readJson(req);
        const reason = { ...(typeof body['error'] === 'string' ? { error: body['error'] } : {}), ...(typeof body['cause'] === 'string' ? { cause: body['cause'] } : {}) };
        return send(res, { stopDate: await service.stop(first, reason) }, requestId);
      }
      throw notFound(method, parts);
    }
    if (second === undefined && method === 'GET') {
      const { record, version } = await service.stateMachines.require(first);
      return send(res, { stateMachine: { ...record, arn: stateMachineArn(record.name), definition: version.definition, roleArn: version.roleArn } }, requestId);
    }
    if (second === 'executions' && parts.length === 2 && method === 'GET') {
      const status = new URL(req.url ?? '/', 'http://node').searchParams.get('status');
      return send(res, { executions: await service.list(first, (status ?? undefined) as ExecutionStatusName | undefined) }, requestId);
    }
    if (second === 'executions' && parts.length === 2 && method === 'POST') {
      const body = await readJson(req);
      const name = body['name'];
      if (name !== undefined && typeof name !== 'string') throw new OutpostError('INVALID_REQUEST', 'name must be a string', { status: 400, fault: 'user' });
      const input = body['input'] === undefined ? '{}' : JSON.stringify(body['input']);
      const execution = await service.start(first, { ...(name === undefined ? {} : { name }), input });
      return send(res, { execution }, requestId);
    }
    throw notFound(method, parts);
  } catch (error) {
    // The control API answers "not found" with 404; the AWS API keeps AWS's 400s.
    if (error instanceof WorkflowError && error.awsType.endsWith('DoesNotExist')) {
      throw new OutpostError(error.code, error.message, { status: 404, fault: 'user', ...(error.hint ? { hint: error.hint } : {}) });
    }
    throw error;
  }
}

function notFound(method: string, parts: string[]): OutpostError {
  return new OutpostError('API_NOT_FOUND', `no API at ${method} /_outpost/api/workflows/${parts.map(encodeURIComponent).join('/')}`, { status: 404, fault: 'user' });
}
