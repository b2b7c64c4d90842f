/**
 * @module
 * Workflow state transitions per second on one node, durable (Standard: every history event
 * written to the embedded store before the next step) against the same machine run in memory
 * (Express, no history) as the baseline beside it:
 *
 * - a 100-state Pass machine;
 * - a 10-state machine of Task states, each calling a hello-world Lambda function through
 *   dispatch (a real isolate).
 *
 * Runs in-process on a real node (store, dispatch, isolates); executions are started through
 * the workflow service directly, so HTTP is not measured. Median of the rounds.
 *
 *   node bench/workflows.ts [--rounds 5] [--executions 20]
 */
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Logger } from '../src/observe/logger.ts';
import { loadProject } from '../src/project/index.ts';
import { startNode } from '../src/server/index.ts';
import { openSqliteStore } from '../src/store/index.ts';
import { workflowsOf } from '../src/workflows/attach.ts';
import type { WorkflowService } from '../src/workflows/service.ts';
import { cleanup, MACHINE, median, table, tempDir, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, executions: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);
const executions = Number(values.executions);

const dir = tempDir('outpost-bench-wf-');
writeFiles(dir, {
  'project/template.yaml': `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  hello:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: hello
      Runtime: nodejs22.x
      CodeUri: fns/
      Handler: hello.handler
`,
  'project/fns/hello.mjs': 'export const handler = async () => ({ hello: "world" });\n',
});

function chain(count: number, state: (i: number) => Record<string, unknown>): string {
  const states: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) states[`S${i}`] = { ...state(i), ...(i === count - 1 ? { End: true } : { Next: `S${i + 1}` }) };
  return JSON.stringify({ StartAt: 'S0', States: states });
}

const PASS_STATES = 100;
const TASK_STATES = 10;
const passDefinition = chain(PASS_STATES, (i) => ({ Type: 'Pass', Result: { i }, ResultPath: '$.last' }));
const taskDefinition = chain(TASK_STATES, () => ({ Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:hello', ResultPath: '$.last' }));

const store = openSqliteStore({ dir: `${dir}/state` });
const logger = new Logger({ out: new Writable({ write: (_c, _e, cb) => cb() }), format: 'json', quiet: true });
const node = await startNode({ store, logger, dev: false, port: 0, awsPort: 0 });
await node.deployments.deployProject(await loadProject(`${dir}/project`, { dev: false }));
await node.settled();
const service = workflowsOf(store) as WorkflowService;
for (const [name, definition] of [['pass', passDefinition], ['task', taskDefinition]] as const) {
  await service.createStateMachine({ name, definition });
  await service.createStateMachine({ name: `${name}-express`, definition, type: 'EXPRESS' });
}

let run = 0;
/** Transitions per second for `executions` concurrent executions of one machine. */
async function measure(machine: string, states: number, durable: boolean): Promise<number> {
  const started = performance.now();
  run += 1;
  const all = Array.from({ length: executions }, (_, i) => (durable ? service.start(machine, { name: `r${run}-${i}` }) : service.startSync(`${machine}-express`, {})));
  const results = await Promise.all(all);
  if (durable) await service.idle();
  const elapsed = (performance.now() - started) / 1000;
  for (const r of durable ? await Promise.all(results.map((e) => service.describe(e.arn))) : results) {
    if (r.status !== 'SUCCEEDED') throw new Error(`${r.arn} ended ${r.status}: ${r.error ?? ''} ${r.cause ?? ''}`);
  }
  return (executions * states) / elapsed;
}

// Warm up: isolates started, statements prepared, JIT.
await measure('pass', PASS_STATES, true);
await measure('task', TASK_STATES, true);
await measure('task', TASK_STATES, false);

const samples: Record<string, number[]> = { passDurable: [], passMemory: [], taskDurable: [], taskMemory: [] };
for (let r = 0; r < rounds; r++) {
  samples['passMemory']?.push(await measure('pass', PASS_STATES, false));
  samples['passDurable']?.push(await measure('pass', PASS_STATES, true));
  samples['taskMemory']?.push(await measure('task', TASK_STATES, false));
  samples['taskDurable']?.push(await measure('task', TASK_STATES, true));
}
const m = (k: string): number => median(samples[k] ?? []);

process.stdout.write(`\nWorkflow transitions per second — ${MACHINE}; ${executions} concurrent executions, median of ${rounds} rounds\n\n`);
process.stdout.write(
  `${table(
    ['machine', 'durable (Standard) /s', 'in memory (Express) /s', 'durable ÷ memory'],
    [
      [`${PASS_STATES} Pass states`, Math.round(m('passDurable')), Math.round(m('passMemory')), (m('passDurable') / m('passMemory')).toFixed(2)],
      [`${TASK_STATES} Task states → hello (Lambda)`, Math.round(m('taskDurable')), Math.round(m('taskMemory')), (m('taskDurable') / m('taskMemory')).toFixed(2)],
    ],
  )}\n`,
);
process.stdout.write(`\ntarget: ≥ 2,000 durable transitions/s — Pass ${m('passDurable') >= 2000 ? 'met' : 'NOT met'}, Task ${m('taskDurable') >= 2000 ? 'met' : 'NOT met'}\n`);

await node.close();
await store.close();
cleanup(dir);
