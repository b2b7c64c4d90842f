// Workflows end to end: the Step Functions API driven by the official AWS SDK against real
// Outpost nodes running Lambda functions; state machines deployed with their project (and a bad
// one rejected); the `outpost workflows` CLI; the workflow binding; and a kill -9 in the middle
// of 100 executions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
} from '@aws-sdk/client-sfn';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { buildFunction } from '../src/build/index.ts';
import { loadProject } from '../src/project/index.ts';
import { openSqliteStore } from '../src/store/index.ts';
import type { HistoryEvent as StoredEvent } from '../src/workflows/history.ts';
import type { Running } from './helpers.ts';
import { eventually, runCli, startOutpost, tempDir, worker, writeProject } from './helpers.ts';
import { relative } from 'node:path';

const ACCOUNT = '000000000000';
const fnArn = (name: string): string => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;
const smArn = (name: string): string => `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:${name}`;

function sfn(endpoint: string): SFNClient {
  return new SFNClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, disableHostPrefix: true });
}

async function awsUrl(node: Running): Promise<string> {
  return (await node.waitFor(/aws api on (http:\/\/\S+)/))[1] as string;
}

/** A SAM project: Lambda handlers in fns/, one state machine deployed with the project. */
function samProject(extraResources = '', files: Record<string, string> = {}): Record<string, string> {
  return {
    'template.yaml': `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs22.x
    CodeUri: fns/
Resources:
  hello:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: hello
      Handler: hello.handler
  Greeting:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: greeting
      Definition:
        StartAt: Greet
        States:
          Greet:
            Type: Task
            Resource: !GetAtt hello.Arn
            End: true
${extraResources}`,
    'fns/hello.mjs': 'export const handler = async (event) => ({ hello: event.name ?? "world" });\n',
    ...files,
  };
}

async function finished(client: SFNClient, executionArn: string): Promise<{ status?: string | undefined; output?: string | undefined; error?: string | undefined; cause?: string | undefined }> {
  return eventually(async () => {
    const d = await client.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === 'RUNNING' ? undefined : d;
  }, 20_000, `${executionArn} to finish`);
}

async function history(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  return (await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
}

test('the Step Functions API through the AWS SDK: create, start, describe, history, retry, catch, callbacks, sync', async (t) => {
  const dir = await writeProject(
    t,
    samProject(
      `  flaky:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: flaky
      Handler: flaky.handler
  picky:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: picky
      Handler: picky.handler
  ask:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: ask
      Handler: ask.handler
`,
      {
        'fns/flaky.mjs': `const seen = new Map();
export const handler = async ({ id }) => {
  const n = (seen.get(id) ?? 0) + 1;
  seen.set(id, n);
  if (n === 1) { const e = new Error('try again'); e.name = 'Transient'; throw e; }
  return { id, attempt: n };
};
`,
        'fns/picky.mjs': `class Rejected extends Error { constructor(m) { super(m); this.name = 'Rejected'; } }
export const handler = async () => { throw new Rejected('not today'); };
`,
        'fns/ask.mjs': 'export const handler = async (event) => ({ asked: event.question });\n',
      },
    ),
  );
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(t), '--quiet']);
  const client = sfn(await awsUrl(node));
  t.after(() => client.destroy());

  // The state machine deployed with the project.
  const listed = await client.send(new ListStateMachinesCommand({}));
  assert.deepEqual(listed.stateMachines?.map((m) => [m.name, m.type, m.stateMachineArn]), [['greeting', 'STANDARD', smArn('greeting')]]);
  const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: smArn('greeting') }));
  assert.equal(described.status, 'ACTIVE');
  assert.equal(JSON.parse(described.definition ?? '').States.Greet.Resource, fnArn('hello'));

  const greet = await client.send(new StartExecutionCommand({ stateMachineArn: smArn('greeting'), name: 'g1', input: '{"name":"Ada"}' }));
  assert.equal(greet.executionArn, `arn:aws:states:us-east-1:${ACCOUNT}:execution:greeting:g1`);
  assert.ok(greet.startDate instanceof Date);
  const g = await finished(client, greet.executionArn ?? '');
  assert.equal(g.status, 'SUCCEEDED');
  assert.deepEqual(JSON.parse(g.output ?? ''), { hello: 'Ada' });
  const events = await history(client, greet.executionArn ?? '');
  assert.deepEqual(events.map((e) => e.type), [
    'ExecutionStarted',
    'TaskStateEntered',
    'LambdaFunctionScheduled',
    'LambdaFunctionStarted',
    'LambdaFunctionSucceeded',
    'TaskStateExited',
    'ExecutionSucceeded',
  ]);
  assert.equal(events[2]?.lambdaFunctionScheduledEventDetails?.resource, fnArn('hello'));
  assert.ok(events.every((e) => e.timestamp instanceof Date));
  assert.doesNotMatch(JSON.stringify(events), /outpost/, 'no engine internals in public history');
  // A closed execution's name is never reused, whatever the input (AWS's rule).
  await assert.rejects(client.send(new StartExecutionCommand({ stateMachineArn: smArn('greeting'), name: 'g1', input: '{"name":"Ada"}' })), { name: 'ExecutionAlreadyExists' });

  // Retry with a function that fails once; Catch of a function's own error type.
  await client.send(new CreateStateMachineCommand({
    name: 'robust',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/x`,
    definition: JSON.stringify({
      StartAt: 'Flaky',
      States: {
        Flaky: { Type: 'Task', Resource: fnArn('flaky'), Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 2 }], ResultPath: '$.flaky', Next: 'Picky' },
        Picky: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'picky', 'Payload.$': '$' }, Catch: [{ ErrorEquals: ['Rejected'], ResultPath: '$.caught', Next: 'Done' }], End: true },
        Done: { Type: 'Pass', End: true },
      },
    }),
  }));
  const robust = await client.send(new StartExecutionCommand({ stateMachineArn: smArn('robust'), input: '{"id":"r1"}' }));
  const r = await finished(client, robust.executionArn ?? '');
  assert.equal(r.status, 'SUCCEEDED');
  const out = JSON.parse(r.output ?? '') as { flaky: { attempt: number }; caught: { Error: string; Cause: string } };
  assert.equal(out.flaky.attempt, 2, 'the retry ran the function a second time');
  assert.equal(out.caught.Error, 'Rejected');
  const cause = JSON.parse(out.caught.Cause) as { errorMessage: string; errorType: string; trace: string[] };
  assert.equal(cause.errorMessage, 'not today');
  assert.equal(cause.errorType, 'Rejected');
  assert.ok(Array.isArray(cause.trace));
  const robustTypes = (await history(client, robust.executionArn ?? '')).map((e) => e.type);
  assert.equal(robustTypes.filter((x) => x === 'LambdaFunctionFailed').length, 1);
  assert.ok(robustTypes.includes('TaskFailed'), 'lambda:invoke failures are Task events');

  // .waitForTaskToken: the test plays the human who answers.
  await client.send(new CreateStateMachineCommand({
    name: 'approval',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/x`,
    definition: JSON.stringify({
      StartAt: 'Ask',
      States: { Ask: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Parameters: { FunctionName: fnArn('ask'), Payload: { question: 'ok?', 'token.$': '$$.Task.Token' } }, End: true } },
    }),
  }));
  const approval = await client.send(new StartExecutionCommand({ stateMachineArn: smArn('approval') }));
  const scheduled = await eventually(async () => (await history(client, approval.executionArn ?? '')).find((e) => e.type === 'TaskScheduled'), 10_000, 'the task');
  const token = (JSON.parse(scheduled.taskScheduledEventDetails?.parameters ?? '{}') as { Payload: { token: string } }).Payload.token;
  assert.equal((await client.send(new DescribeExecutionCommand({ executionArn: approval.executionArn }))).status, 'RUNNING');
  await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"approved":true}' }));
  const a = await finished(client, approval.executionArn ?? '');
  assert.equal(a.status, 'SUCCEEDED');
  assert.deepEqual(JSON.parse(a.output ?? ''), { approved: true });
  await assert.rejects(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })), { name: 'TaskTimedOut' });
  await assert.rejects(client.send(new SendTaskSuccessCommand({ taskToken: 'nope', output: '{}' })), { name: 'TaskDoesNotExist' });

  // Express: StartSyncExecution answers with the result.
  await client.send(new CreateStateMachineCommand({
    name: 'quick',
    type: 'EXPRESS',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/x`,
    definition: JSON.stringify({ StartAt: 'Hi', States: { Hi: { Type: 'Task', Resource: fnArn('hello'), End: true } } }),
  }));
  const sync = await client.send(new StartSyncExecutionCommand({ stateMachineArn: smArn('quick'), input: '{"name":"sync"}' }));
  assert.equal(sync.status, 'SUCCEEDED');
  assert.deepEqual(JSON.parse(sync.output ?? ''), { hello: 'sync' });
  assert.ok(sync.stopDate instanceof Date);
  await assert.rejects(client.send(new StartSyncExecutionCommand({ stateMachineArn: smArn('greeting') })), { name: 'StateMachineTypeNotSupported' });

  // Stop, update, list, errors.
  await client.send(new CreateStateMachineCommand({
    name: 'sleepy',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/x`,
    definition: JSON.stringify({ StartAt: 'Nap', States: { Nap: { Type: 'Wait', Seconds: 86_400, End: true } } }),
  }));
  const nap = await client.send(new StartExecutionCommand({ stateMachineArn: smArn('sleepy'), name: 'nap', input: '{"a":1}' }));
  // An open execution: the same name and input is idempotent, another input is refused.
  const again = await client.send(new StartExecutionCommand({ stateMachineArn: smArn('sleepy'), name: 'nap', input: '{"a":1}' }));
  assert.equal(again.executionArn, nap.executionArn);
  assert.equal(again.startDate?.getTime(), nap.startDate?.getTime());
  await assert.rejects(client.send(new StartExecutionCommand({ stateMachineArn: smArn('sleepy'), name: 'nap', input: '{"a":2}' })), { name: 'ExecutionAlreadyExists' });
  const stopped = await client.send(new StopExecutionCommand({ executionArn: nap.executionArn, error: 'Woken', cause: 'alarm' }));
  assert.ok(stopped.stopDate instanceof Date);
  const napped = await client.send(new DescribeExecutionCommand({ executionArn: nap.executionArn }));
  assert.equal(napped.status, 'ABORTED');
  assert.equal(napped.error, 'Woken');
  const updated = await client.send(new UpdateStateMachineCommand({ stateMachineArn: smArn('sleepy'), definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }) }));
  assert.ok(updated.updateDate instanceof Date);
  const runs = await client.send(new ListExecutionsCommand({ stateMachineArn: smArn('sleepy') }));
  assert.deepEqual(runs.executions?.map((e) => [e.name, e.status]), [['nap', 'ABORTED']]);
  await assert.rejects(client.send(new DescribeExecutionCommand({ executionArn: `arn:aws:states:us-east-1:${ACCOUNT}:execution:sleepy:nope` })), { name: 'ExecutionDoesNotExist' });
  await assert.rejects(client.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:sqs:us-east-1:0:q' })), { name: 'InvalidArn' });
  await assert.rejects(client.send(new StartExecutionCommand({ stateMachineArn: smArn('missing') })), { name: 'StateMachineDoesNotExist' });
  await assert.rejects(client.send(new CreateStateMachineCommand({ name: 'sleepy', roleArn: 'arn:aws:iam::0:role/x', definition: '{"StartAt":"X","States":{"X":{"Type":"Succeed"}}}' })), { name: 'StateMachineAlreadyExists' });
});

test('definitions are validated with every problem listed: the API, and a deploy that changes nothing', async (t) => {
  const bad = {
    StartAt: 'Missing',
    States: {
      A: { Type: 'Pass', Next: 'Nowhere' },
      B: { Type: 'Task', Resource: fnArn('hello') },
      C: { Type: 'Choice', Choices: [] },
    },
  };
  const node = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0', '--aws-port', '0', '--quiet']);
  const token = (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  const client = sfn(await awsUrl(node));
  t.after(() => client.destroy());

  const validation = await client.send(new ValidateStateMachineDefinitionCommand({ definition: JSON.stringify(bad) }));
  assert.equal(validation.result, 'FAIL');
  const codes = new Set(validation.diagnostics?.map((d) => d.code));
  for (const code of ['MISSING_TRANSITION_TARGET', 'MISSING_NEXT_OR_END']) assert.ok(codes.has(code), `${code} in ${[...codes].join(', ')}`);
  assert.ok((validation.diagnostics?.length ?? 0) >= 4, 'every problem is listed');
  assert.ok(validation.diagnostics?.every((d) => d.severity === 'ERROR' && d.location?.startsWith('/')));
  assert.equal((await client.send(new ValidateStateMachineDefinitionCommand({ definition: '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}' }))).result, 'OK');
  await assert.rejects(client.send(new CreateStateMachineCommand({ name: 'bad', roleArn: 'arn:aws:iam::0:role/x', definition: JSON.stringify(bad) })), (error: Error) => {
    assert.equal(error.name, 'InvalidDefinition');
    assert.match(error.message, /MISSING_TRANSITION_TARGET/);
    assert.match(error.message, /MISSING_NEXT_OR_END/);
    assert.match(error.message, /\/States\/A\/Next/);
    return true;
  });

  // A project whose state machine is invalid is not deployed at all.
  const project = await writeProject(t, samProject(`  Broken:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: broken
      Definition:
        StartAt: Missing
        States:
          A:
            Type: Pass
            Next: Nowhere
`));
  const remote = ['--to', node.url, '--token', token];
  const rejected = await runCli(['deploy', project, ...remote]);
  assert.equal(rejected.code, 1, rejected.stdout);
  assert.match(rejected.stderr, /broken: .*MISSING_TRANSITION_TARGET/);
  assert.match(rejected.stderr, /broken: .*Nowhere/);
  assert.match(rejected.stderr, /nothing was deployed/);
  const ls = JSON.parse((await runCli(['ls', ...remote, '--json'])).stdout) as unknown[];
  assert.deepEqual(ls, [], 'no function was deployed either');
  assert.deepEqual((await client.send(new ListStateMachinesCommand({}))).stateMachines, []);

  // The fixed project deploys; the CLI lists, starts, describes and shows history.
  const good = await writeProject(t, samProject());
  const deployed = await runCli(['deploy', good, ...remote]);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(deployed.stdout, /state machine greeting v1 is live/);
  assert.match((await runCli(['deploy', good, ...remote])).stdout, /state machine greeting v1 unchanged/);
  const machines = await runCli(['workflows', 'list', ...remote]);
  assert.equal(machines.code, 0, machines.stderr);
  assert.match(machines.stdout, /greeting\s+STANDARD\s+v1/);
  const started = await runCli(['workflows', 'start', 'greeting', '--input', '{"name":"cli"}', '--name', 'from-cli', '--wait', ...remote]);
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, /status\s+SUCCEEDED/);
  assert.match(started.stdout, /output\s+\{"hello":"cli"\}/);
  const described = JSON.parse((await runCli(['workflows', 'describe', 'greeting/from-cli', '--json', ...remote])).stdout) as { status: string; arn: string };
  assert.equal(described.status, 'SUCCEEDED');
  const shown = await runCli(['workflows', 'history', described.arn, ...remote]);
  assert.match(shown.stdout, /1 .*ExecutionStarted/);
  assert.match(shown.stdout, /LambdaFunctionSucceeded/);
  const executions = await runCli(['workflows', 'list', 'greeting', ...remote]);
  assert.match(executions.stdout, /SUCCEEDED\s+from-cli/);
  const missing = await runCli(['workflows', 'describe', 'greeting/nope', ...remote]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Execution Does Not Exist/);
});

test('a function starts and reads workflow executions through its binding', async (t) => {
  const node = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0', '--aws-port', '0', '--quiet']);
  const token = (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  const remote = ['--to', node.url, '--token', token];
  assert.equal((await runCli(['deploy', await writeProject(t, samProject()), ...remote])).code, 0);

  // outpost.toml has no workflow binding syntax yet: upload a manifest that declares one.
  const dir = await writeProject(t, worker('starter', `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/start') return Response.json(await env.FLOW.start({ name: 'via-binding', input: { name: 'binding' } }));
    return Response.json(await env.FLOW.describe(url.searchParams.get('arn')));
  },
};`));
  const project = await loadProject(dir, { dev: false });
  const fn = project.functions[0];
  assert.ok(fn);
  const bundle = await buildFunction(fn, project.root);
  const upload = {
    project: 'starter',
    functions: [{
      manifest: { ...fn, entry: relative(project.root, fn.entry), bindings: [{ type: 'workflow', name: 'FLOW', stateMachine: smArn('greeting') }] },
      bundle: Buffer.from(bundle.code).toString('base64'),
      sourceMap: Buffer.from(bundle.map).toString('base64'),
      digest: bundle.digest,
    }],
  };
  const deployed = await fetch(`${node.url}/_outpost/api/deploy`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(upload) });
  assert.equal(deployed.status, 200, await deployed.clone().text());

  const started = (await (await fetch(`${node.url}/starter/start`)).json()) as { executionArn: string };
  assert.equal(started.executionArn, `arn:aws:states:us-east-1:${ACCOUNT}:execution:greeting:via-binding`);
  const done = await eventually(async () => {
    const d = (await (await fetch(`${node.url}/starter/describe?arn=${encodeURIComponent(started.executionArn)}`)).json()) as { status: string; output?: unknown };
    return d.status === 'RUNNING' ? undefined : d;
  }, 10_000, 'the execution');
  assert.equal(done.status, 'SUCCEEDED');
  assert.deepEqual(done.output, { hello: 'binding' });
});

test('kill -9 with 100 executions in flight: after a restart all complete and no recorded task runs twice', async (t) => {
  const state = await tempDir(t);
  const args = ['serve', '--state', state, '--port', '0', '--aws-port', '0'];
  const first = await startOutpost(t, args);
  const token = (await first.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  const project = await writeProject(t, {
    'template.yaml': `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  count:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: count
      Runtime: nodejs22.x
      CodeUri: fns/
      Handler: count.handler
  Slow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: slow
      Definition:
        StartAt: Pause
        States:
          Pause:
            Type: Wait
            Seconds: 1
            Next: Count
          Count:
            Type: Task
            Resource: !GetAtt count.Arn
            Parameters:
              execution.$: $$.Execution.Name
            End: true
`,
    // The side effect: one log line per run, written before the result goes back.
    // Each run takes a little while, so the kill lands with many tasks still to run.
    'fns/count.mjs': 'export const handler = async ({ execution }) => { await new Promise((r) => setTimeout(r, 25)); console.log(`RAN ${execution}`); return { counted: execution }; };\n',
  });
  const deployed = await runCli(['deploy', project, '--to', first.url, '--token', token]);
  assert.equal(deployed.code, 0, deployed.stderr);

  const client = sfn(await awsUrl(first));
  t.after(() => client.destroy());
  const names = Array.from({ length: 100 }, (_, i) => `run-${String(i).padStart(3, '0')}`);
  await Promise.all(names.map((name) => client.send(new StartExecutionCommand({ stateMachineArn: smArn('slow'), name, input: '{}' }))));
  // Kill the node while some tasks have run and others have not.
  await first.waitFor(/RAN run-\d+[\s\S]*RAN run-\d+[\s\S]*RAN run-\d+[\s\S]*RAN run-\d+[\s\S]*RAN run-\d+/, 30_000);
  await first.stop('SIGKILL');
  const firstRuns = [...first.stdout().matchAll(/RAN (run-\d+)/g)].map((m) => m[1] as string);

  // What the dead node had recorded as succeeded.
  const store = openSqliteStore({ dir: state });
  const recorded = new Set<string>();
  for (const name of names) {
    const events = (await store.meta.list<StoredEvent>(`history/slow/${name.replace(/[^A-Za-z0-9_-]/g, '')}/`)).map((e) => e.value);
    if (events.some((e) => e.type === 'LambdaFunctionSucceeded')) recorded.add(name);
  }
  await store.close();
  assert.ok(recorded.size < 100, `the kill came before every task was recorded (${recorded.size} were)`);
  t.diagnostic(`at the kill: ${firstRuns.length} task runs logged, ${recorded.size} recorded as succeeded`);

  const second = await startOutpost(t, args);
  const client2 = sfn(await awsUrl(second));
  t.after(() => client2.destroy());
  await eventually(async () => {
    const { executions } = await client2.send(new ListExecutionsCommand({ stateMachineArn: smArn('slow'), maxResults: 1000 }));
    return executions?.length === 100 && executions.every((e) => e.status === 'SUCCEEDED') ? true : undefined;
  }, 60_000, 'all 100 executions to succeed');
  const secondRuns = [...second.stdout().matchAll(/RAN (run-\d+)/g)].map((m) => m[1] as string);
  for (const name of recorded) assert.ok(!secondRuns.includes(name), `${name} was recorded as succeeded and ran again`);
  const all = [...firstRuns, ...secondRuns];
  for (const name of names) assert.ok(all.includes(name), `${name} ran`);
  for (const name of names) {
    const events = await history(client2, `arn:aws:states:us-east-1:${ACCOUNT}:execution:slow:${name}`);
    assert.equal(events.filter((e) => e.type === 'LambdaFunctionSucceeded').length, 1, `${name}: one recorded success`);
    assert.equal(events.filter((e) => e.type === 'ExecutionStarted').length, 1);
    assert.deepEqual(events.map((e) => e.id), events.map((_e, i) => i + 1));
  }
});
