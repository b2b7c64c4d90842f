/**
 * @module
 * `outpost workflows list|start|describe|history`: state machines and their executions on a
 * running node, through the control API's workflow routes (workflows/control-routes.ts).
 */
import type { Values } from './commands.ts';
import { EXIT, UsageError } from './output.ts';
import { api, clientFrom as client, printResult as print } from './client.ts';

interface Execution {
  arn: string;
  name: string;
  stateMachine: string;
  status: string;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

interface Machine {
  name: string;
  arn: string;
  type: string;
  version: number;
  project?: string;
  updatedAt: number;
}

interface Event {
  id: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}



const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString());

/** An execution ARN, or `<state machine>/<execution name>` as a shorthand. */
function executionArnOf(value: string | undefined): string {
  if (!value) throw new UsageError('name the execution (its ARN, or <state-machine>/<name>)');
  if (value.startsWith('arn:')) return value;
  const slash = value.indexOf('/');
  if (slash <= 0) throw new UsageError(`"${value}" is not an execution ARN or <state-machine>/<name>`);
  return `arn:aws:states:us-east-1:000000000000:execution:${value.slice(0, slash)}:${value.slice(slash + 1)}`;
}

function describeText(e: Execution): string {
  const lines = [`${e.arn}`, `  status   ${e.status}`, `  started  ${iso(e.startDate)}`];
  if (e.stopDate !== undefined) lines.push(`  stopped  ${iso(e.stopDate)}`);
  lines.push(`  input    ${e.input}`);
  if (e.output !== undefined) lines.push(`  output   ${e.output}`);
  if (e.error !== undefined) lines.push(`  error    ${e.error}${e.cause ? `: ${e.cause}` : ''}`);
  return lines.join('\n');
}

async function list(values: Values, args: string[]): Promise<number> {
  const c = client(values);
  const sm = args[0];
  if (sm === undefined) {
    const { stateMachines } = await api<{ stateMachines: Machine[] }>(c, 'GET', 'workflows');
    print(values, stateMachines, stateMachines.length === 0 ? 'no state machines' : stateMachines.map((m) => `${m.name.padEnd(28)} ${m.type.padEnd(8)} v${m.version}  ${m.project ? `(${m.project}) ` : ''}updated ${iso(m.updatedAt)}`).join('\n'));
    return EXIT.ok;
  }
  const status = typeof values['status'] === 'string' ? `?status=${encodeURIComponent(values['status'].toUpperCase())}` : '';
  const { executions } = await api<{ executions: Execution[] }>(c, 'GET', `workflows/${encodeURIComponent(sm)}/executions${status}`);
  print(values, executions, executions.length === 0 ? `no executions of ${sm}` : executions.map((e) => `${e.status.padEnd(10)} ${e.name.padEnd(40)} ${iso(e.startDate)}`).join('\n'));
  return EXIT.ok;
}

async function start(values: Values, args: string[]): Promise<number> {
  const sm = args[0];
  if (!sm) throw new UsageError('name the state machine to start');
  let input: unknown = {};
  if (typeof values['input'] === 'string') {
    try {
      input = JSON.parse(values['input']);
    } catch {
      throw new UsageError('--input must be JSON');
    }
  }
  const c = client(values);
  const name = typeof values['name'] === 'string' ? values['name'] : undefined;
  let { execution } = await api<{ execution: Execution }>(c, 'POST', `workflows/${encodeURIComponent(sm)}/executions`, { input, ...(name ? { name } : {}) });
  if (values['wait'] && execution.status === 'RUNNING') {
    let delay = 50;
    while (execution.status === 'RUNNING') {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
      ({ execution } = await api<{ execution: Execution }>(c, 'GET', `workflows/${encodeURIComponent(execution.arn)}`));
    }
    print(values, execution, describeText(execution));
    return execution.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
  }
  print(values, execution, `✔ started ${execution.arn}`);
  return EXIT.ok;
}

async function describe(values: Values, args: string[]): Promise<number> {
  const arn = executionArnOf(args[0]);
  const { execution } = await api<{ execution: Execution }>(client(values), 'GET', `workflows/${encodeURIComponent(arn)}`);
  print(values, execution, describeText(execution));
  return EXIT.ok;
}

async function history(values: Values, args: string[]): Promise<number> {
  const arn = executionArnOf(args[0]);
  const { events } = await api<{ events: Event[] }>(client(values), 'GET', `workflows/${encodeURIComponent(arn)}/history`);
  const summary = (e: Event): string => {
    const details = Object.entries(e).find(([k]) => k.endsWith('EventDetails'))?.[1] as Record<string, unknown> | undefined;
    const name = typeof details?.['name'] === 'string' ? details['name'] : '';
    const error = typeof details?.['error'] === 'string' ? ` ${details['error']}` : '';
    return `${String(e.id).padStart(4)}  ${iso(e.timestamp)}  ${e.type}${name ? ` ${name}` : ''}${error}`;
  };
  print(values, events, events.map(summary).join('\n'));
  return EXIT.ok;
}

const VERBS: Record<string, (values: Values, args: string[]) => Promise<number>> = { list, ls: list, start, describe, history };

/** `outpost workflows <verb> …` */
export async function workflows(values: Values, positionals: string[]): Promise<number> {
  const [verb, ...rest] = positionals;
  const run = verb === undefined ? undefined : VERBS[verb];
  if (!run) throw new UsageError(verb === undefined ? 'name what to do: list, start, describe or history' : `unknown workflows command "${verb}"`);
  return run(values, rest);
}
