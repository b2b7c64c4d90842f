/**
 * @module
 * The Step Functions API on the AWS port: AWS JSON 1.0, `x-amz-target: AWSStepFunctions.<Op>`,
 * errors as `{ __type, message }` with AWS's type names, timestamps in epoch seconds. Each
 * operation is a thin translation onto {@link WorkflowService}; the official
 * `@aws-sdk/client-sfn` is the test client.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AwsService } from '../server/context.ts';
import { detailsKey } from '../workflows/history.ts';
import type { HistoryEvent } from '../workflows/history.ts';
import { stateMachineArn, stateMachineNameOf, WorkflowError } from '../workflows/records.ts';
import type { ExecutionStatusName, StateMachineType } from '../workflows/records.ts';
import type { ExecutionView, WorkflowService } from '../workflows/service.ts';
import { readBody, sendAwsJsonError } from './index.ts';

const TARGET_PREFIX = 'AWSStepFunctions.';

type Body = Record<string, unknown>;
type Operation = (service: WorkflowService, body: Body) => Promise<unknown>;

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

function str(body: Body, field: string, required: true): string;
function str(body: Body, field: string, required?: false): string | undefined;
function str(body: Body, field: string, required = false): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) {
    if (required) throw new WorkflowError('ValidationException', `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
    return undefined;
  }
  if (typeof v !== 'string') throw new WorkflowError('ValidationException', `Value at '${field}' must be a string`);
  return v;
}

function page<T>(items: T[], body: Body): { items: T[]; nextToken?: string } {
  const max = typeof body['maxResults'] === 'number' && body['maxResults'] > 0 ? Math.min(body['maxResults'], 1000) : 100;
  const token = str(body, 'nextToken');
  let start = 0;
  if (token !== undefined) {
    start = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new WorkflowError('InvalidToken', 'Invalid Token: nextToken');
  }
  const slice = items.slice(start, start + max);
  return start + max < items.length ? { items: slice, nextToken: Buffer.from(String(start + max)).toString('base64url') } : { items: slice };
}

function describeExecution(e: ExecutionView): Body {
  return {
    executionArn: e.arn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: seconds(e.startDate),
    ...(e.stopDate === undefined ? {} : { stopDate: seconds(e.stopDate) }),
    input: e.input,
    inputDetails: { included: true },
    ...(e.output === undefined ? {} : { output: e.output, outputDetails: { included: true } }),
    ...(e.error === undefined ? {} : { error: e.error }),
    ...(e.cause === undefined ? {} : { cause: e.cause }),
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
}

function awsEvent(event: HistoryEvent, includeData: boolean): Body {
  const out: Body = { ...event, timestamp: event.timestamp / 1000 };
  if (!includeData) {
    const key = detailsKey(event.type);
    const details = event[key];
    if (details) {
      const { input: _i, output: _o, ...rest } = details;
      out[key] = rest;
    }
  }
  return out;
}

function machineType(value: string | undefined): StateMachineType {
  if (value === undefined || value === 'STANDARD' || value === 'EXPRESS') return value ?? 'STANDARD';
  throw new WorkflowError('ValidationException', `Value '${value}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]`);
}

const OPERATIONS: Record<string, Operation> = {
  async CreateStateMachine(s, b) {
    const roleArn = str(b, 'roleArn');
    const view = await s.createStateMachine({ name: str(b, 'name', true), definition: str(b, 'definition', true), type: machineType(str(b, 'type')), ...(roleArn ? { roleArn } : {}) });
    return { stateMachineArn: stateMachineArn(view.record.name), creationDate: seconds(view.record.createdAt) };
  },
  async UpdateStateMachine(s, b) {
    const name = stateMachineNameOf(str(b, 'stateMachineArn', true));
    const definition = str(b, 'definition');
    const roleArn = str(b, 'roleArn');
    if (definition === undefined && roleArn === undefined && b['loggingConfiguration'] === undefined && b['tracingConfiguration'] === undefined) {
      throw new WorkflowError('MissingRequiredParameter', 'Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified');
    }
    const view = await s.stateMachines.update(name, { ...(definition === undefined ? {} : { definition }), ...(roleArn === undefined ? {} : { roleArn }) });
    return { updateDate: seconds(view.record.updatedAt), revisionId: String(view.version.version) };
  },
  async DescribeStateMachine(s, b) {
    const arn = str(b, 'stateMachineArn', true);
    const { record, version } = await s.stateMachines.require(stateMachineNameOf(arn));
    return {
      stateMachineArn: stateMachineArn(record.name),
      name: record.name,
      status: 'ACTIVE',
      definition: version.definition,
      roleArn: version.roleArn,
      type: version.type,
      creationDate: seconds(record.createdAt),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
      revisionId: String(version.version),
    };
  },
  async ListStateMachines(s, b) {
    const all = (await s.stateMachines.list()).map((r) => ({ stateMachineArn: stateMachineArn(r.name), name: r.name, type: r.type, creationDate: seconds(r.createdAt) }));
    const { items, nextToken } = page(all, b);
    return { stateMachines: items, ...(nextToken ? { nextToken } : {}) };
  },
  async DeleteStateMachine(s, b) {
    const name = stateMachineNameOf(str(b, 'stateMachineArn', true));
    // AWS answers 200 for a state machine that is already gone.
    if (await s.stateMachines.get(name)) await s.stateMachines.delete(name);
    return {};
  },
  async ValidateStateMachineDefinition(s, b) {
    const problems = s.validate(str(b, 'definition', true));
    const max = typeof b['maxResults'] === 'number' && b['maxResults'] > 0 ? b['maxResults'] : 100;
    return {
      result: problems.length === 0 ? 'OK' : 'FAIL',
      diagnostics: problems.slice(0, max).map((p) => ({ severity: 'ERROR', code: p.code, message: p.message, location: p.path === '' ? '/' : p.path })),
      truncated: problems.length > max,
    };
  },
  async StartExecution(s, b) {
    const name = str(b, 'name');
    const e = await s.start(str(b, 'stateMachineArn', true), { ...(name === undefined ? {} : { name }), input: b['input'] });
    return { executionArn: e.arn, startDate: seconds(e.startDate) };
  },
  async StartSyncExecution(s, b) {
    const name = str(b, 'name');
    const e = await s.startSync(str(b, 'stateMachineArn', true), { ...(name === undefined ? {} : { name }), input: b['input'] });
    const { redriveCount: _c, redriveStatus: _s, ...rest } = describeExecution(e);
    return { ...rest, billingDetails: { billedMemoryUsedInMB: 64, billedDurationInMilliseconds: Math.max(100, Math.ceil(((e.stopDate ?? e.startDate) - e.startDate) / 100) * 100) } };
  },
  async DescribeExecution(s, b) {
    return describeExecution(await s.describe(str(b, 'executionArn', true)));
  },
  async StopExecution(s, b) {
    const error = str(b, 'error');
    const cause = str(b, 'cause');
    const stopDate = await s.stop(str(b, 'executionArn', true), { ...(error === undefined ? {} : { error }), ...(cause === undefined ? {} : { cause }) });
    return { stopDate: seconds(stopDate) };
  },
  async ListExecutions(s, b) {
    const filter = str(b, 'statusFilter');
    if (filter !== undefined && !['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'].includes(filter)) {
      throw new WorkflowError('ValidationException', `Value '${filter}' at 'statusFilter' failed to satisfy constraint`);
    }
    const all = await s.list(str(b, 'stateMachineArn', true), filter as ExecutionStatusName | undefined);
    const { items, nextToken } = page(all, b);
    return {
      executions: items.map((e) => ({
        executionArn: e.arn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: seconds(e.startDate),
        ...(e.stopDate === undefined ? {} : { stopDate: seconds(e.stopDate) }),
        redriveCount: 0,
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  },
  async GetExecutionHistory(s, b) {
    const events = await s.publicHistory(str(b, 'executionArn', true));
    if (b['reverseOrder'] === true) events.reverse();
    const { items, nextToken } = page(events, b);
    return { events: items.map((e) => awsEvent(e, b['includeExecutionData'] !== false)), ...(nextToken ? { nextToken } : {}) };
  },
  async SendTaskSuccess(s, b) {
    await s.sendTaskSuccess(str(b, 'taskToken', true), str(b, 'output', true));
    return {};
  },
  async SendTaskFailure(s, b) {
    await s.sendTaskFailure(str(b, 'taskToken', true), str(b, 'error') ?? '', str(b, 'cause') ?? '');
    return {};
  },
  async SendTaskHeartbeat(s, b) {
    await s.sendTaskHeartbeat(str(b, 'taskToken', true));
    return {};
  },
};

/** The Step Functions API served by one node's workflow service. */
export function createStepFunctionsApi(service: WorkflowService): AwsService {
  return {
    name: 'stepfunctions',
    matches: (req) => String(req.headers['x-amz-target'] ?? '').startsWith(TARGET_PREFIX),
    async handle(req: IncomingMessage, res: ServerResponse) {
      const op = String(req.headers['x-amz-target']).slice(TARGET_PREFIX.length);
      const operation = OPERATIONS[op];
      if (!operation) {
        sendAwsJsonError(res, 400, 'UnknownOperationException', `Step Functions has no operation ${op}`);
        return;
      }
      let body: Body;
      try {
        const text = (await readBody(req)).toString('utf8');
        const parsed: unknown = text === '' ? {} : JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Body;
      } catch {
        sendAwsJsonError(res, 400, 'SerializationException', 'the request body is not a JSON object');
        return;
      }
      try {
        const result = JSON.stringify(await operation(service, body));
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(result), 'x-amzn-requestid': randomUUID() });
        res.end(result);
      } catch (error) {
        if (error instanceof WorkflowError) sendAwsJsonError(res, error.status, error.awsType, error.message);
        else throw error;
      }
    },
  };
}
