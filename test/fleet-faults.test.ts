// Faults in a fleet on a real three-server JetStream cluster (replicas 3): an Outpost node is
// killed with SIGKILL in the middle of queue work and of a workflow, or paused with SIGSTOP past
// its leases; then the NATS server leading the KV bucket is killed. Two nodes stay up throughout;
// each test starts its own victim node. Leases last 5 s here (OUTPOST_LEASE_SECONDS): short enough for a fast test, long enough that a node slowed by a loaded CI machine keeps renewing them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startNatsCluster } from '../src/store/nats/testing.ts';
import type { NatsCluster } from '../src/store/nats/testing.ts';
import { eventually, runCli, startOutpost, tempDir, worker, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const cleanups: Array<() => unknown> = [];
const fileScope = { after: (fn: () => unknown) => void cleanups.push(fn) };
let cluster: NatsCluster;
let survivors: Running[] = [];
let token = '';

async function startNode(name: string, server: number): Promise<Running> {
  return startOutpost(fileScope, ['serve', '--store', cluster.urlFrom(server), '--store-replicas', '3', '--name', name, '--state', await tempDir(fileScope), '--port', '0'], { env: { OUTPOST_LEASE_SECONDS: '5' } });
}

before(async () => {
  cluster = await startNatsCluster({ size: 3 });
  const first = await startNode('survivor-1', 0);
  token = (await first.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  survivors = [first, await startNode('survivor-2', 1)];
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  await cluster.stop();
});

async function deploy(files: Record<string, string>): Promise<void> {
  const deployed = await runCli(['deploy', await writeProject(fileScope, files), '--to', survivors[0]?.url ?? '', '--token', token]);
  assert.equal(deployed.code, 0, deployed.stderr);
}

const auth = (): Record<string, string> => ({ authorization: `Bearer ${token}` });
/** A request that gives up after 10 s, so a node that stalls fails one poll instead of the test. */
const within10s = (init: RequestInit = {}): RequestInit => ({ ...init, signal: AbortSignal.timeout(10_000) });

/** The sum of metric `name`'s samples for `fn` (and `trigger`, when given) on one node. */
async function metric(node: Running, name: string, fn: string, trigger?: string): Promise<number> {
  const text = await (await fetch(`${node.url}/_outpost/metrics`, within10s({ headers: auth() }))).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(`function="${fn}"`) && (!trigger || line.includes(`trigger="${trigger}"`))) total += Number(line.split(' ').at(-1));
  return total;
}

const queueInvocations = (node: Running, fn: string): Promise<number> => metric(node, 'outpost_invocations_total', fn, 'queue');

/** A consumer that records every delivery (job, attempt, a random id) before its batch is acknowledged. */
function consumer(name: string, batchMs: number, visibilityMs: number): Record<string, string> {
  const source = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'POST') {
      const n = Number(url.searchParams.get('n'));
      for (let i = 0; i < n; i += 50) await env.WORK.sendBatch(Array.from({ length: Math.min(50, n - i) }, (_, j) => ({ body: { i: i + j } })));
      return new Response('sent');
    }
    const names = [];
    let cursor;
    do {
      const page = await env.SEEN.list({ cursor });
      names.push(...page.keys.map((k) => k.name));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return Response.json(names);
  },
  async queue(batch, env) {
    for (const m of batch.messages) await env.SEEN.put('job-' + m.body.i + '-' + m.attempts + '-' + crypto.randomUUID(), '1');
    await new Promise((resolve) => setTimeout(resolve, ${batchMs}));
  },
};`;
  return worker(name, source, `[[kv_namespaces]]
binding = "SEEN"
id = "${name}-seen"

[[queues.producers]]
binding = "WORK"
queue = "${name}"

[[queues.consumers]]
queue = "${name}"
max_batch_size = 5
max_batch_timeout = 0
visibility_timeout_ms = ${visibilityMs}
`);
}

/** Deliveries per job: the attempts each job was recorded at. */
async function deliveries(node: Running, fn: string): Promise<Map<number, number[]>> {
  const res = await fetch(`${node.url}/${fn}/`, within10s());
  if (!res.ok) throw new Error(`${fn} answered ${res.status}: ${await res.text()}`);
  const names = (await res.json()) as string[];
  const jobs = new Map<number, number[]>();
  for (const name of names) {
    const [, i, attempt] = name.split('-');
    jobs.set(Number(i), [...(jobs.get(Number(i)) ?? []), Number(attempt)].sort((a, b) => a - b));
  }
  return jobs;
}

/** Every job was delivered; no attempt was delivered twice (two nodes never held one lease). */
function assertEachAttemptOnce(jobs: Map<number, number[]>, n: number): number {
  let redelivered = 0;
  for (let i = 0; i < n; i++) {
    const attempts = jobs.get(i);
    assert.ok(attempts && attempts.length > 0, `job ${i} was never handled`);
    // A killed node may have taken attempt 1 and died before recording it, so gaps are fine; repeats are not.
    assert.equal(new Set(attempts).size, attempts.length, `job ${i}: attempts ${attempts.join(',')} (each delivery is a new attempt)`);
    if (attempts.length > 1) redelivered += 1;
  }
  return redelivered;
}

test('kill -9 of a node mid-queue: its leased messages are redelivered elsewhere; nothing is lost; only unacknowledged work repeats', async (t) => {
  await deploy(consumer('crunch', 300, 3000));
  const victim = await startNode('victim-queue', 2);
  await eventually(async () => ((await fetch(`${victim.url}/crunch/`)).ok ? true : undefined), 10_000, 'the victim to serve crunch');
  assert.equal(await (await fetch(`${survivors[1]?.url}/crunch/?n=90`, { method: 'POST' })).text(), 'sent');
  await eventually(async () => ((await queueInvocations(victim, 'crunch')) >= 2 ? true : undefined), 20_000, 'the victim to run batches');
  await victim.stop('SIGKILL');

  const jobs = await eventually(async () => {
    const seen = await deliveries(survivors[0] as Running, 'crunch');
    return seen.size >= 90 ? seen : undefined;
  }, 40_000, 'all 90 jobs handled');
  const redelivered = assertEachAttemptOnce(jobs, 90);
  // Only what the victim held when it died can repeat: at most its batches in flight.
  assert.ok(redelivered <= 10, `${redelivered} jobs were delivered twice`);
  t.diagnostic(`${redelivered} of 90 jobs were redelivered after the kill`);
  const stats = await eventually(async () => {
    const { queues } = (await (await fetch(`${survivors[0]?.url}/_outpost/api/queues`, within10s({ headers: auth() }))).json()) as { queues: Array<{ name: string; stats: { visible: number; inFlight: number; delayed: number; dead: number } }> };
    const q = queues.find((x) => x.name === 'crunch');
    return q && q.stats.visible + q.stats.inFlight + q.stats.delayed === 0 ? q.stats : undefined;
  }, 20_000, 'the queue to drain');
  assert.equal(stats.dead, 0);
});

const stepFunction = 'export const handler = async ({ execution, step }) => { console.log(`STEP ${step} ${execution}`); return { done: step }; };\n';

function stepMachine(): Record<string, string> {
  const task = (step: number, next: string | undefined): string => `          Step${step}:
            Type: Task
            Resource: !GetAtt step.Arn
            Parameters:
              execution.$: $$.Execution.Name
              step: ${step}
            ${next ? `Next: ${next}` : 'End: true'}`;
  return {
    'template.yaml': `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  step:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: step
      Runtime: nodejs22.x
      CodeUri: fns/
      Handler: step.handler
  Steps:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: steps
      Definition:
        StartAt: Step1
        States:
${task(1, 'Pause')}
          Pause:
            Type: Wait
            Seconds: 8
            Next: Step2
${task(2, undefined)}
`,
    'fns/step.mjs': stepFunction,
  };
}

test('kill -9 of a node mid-workflow: another node resumes each execution after its lease; no recorded task runs again', async () => {
  await deploy(stepMachine());
  const victim = await startNode('victim-workflow', 2);
  const names = ['w-1', 'w-2', 'w-3'];
  const started = await Promise.all(names.map((name) => runCli(['workflows', 'start', 'steps', '--input', '{}', '--name', name, '--to', victim.url, '--token', token])));
  for (const run of started) assert.equal(run.code, 0, run.stderr);
  // Every first step has run on the victim (and is recorded before the Wait); kill it during the Wait.
  for (const name of names) await victim.waitFor(new RegExp(`STEP 1 ${name}`), 15_000);
  await victim.stop('SIGKILL');

  for (const name of names) {
    await eventually(async () => {
      const described = await runCli(['workflows', 'describe', `steps/${name}`, '--json', '--to', survivors[0]?.url ?? '', '--token', token]);
      return described.code === 0 && (JSON.parse(described.stdout) as { status: string }).status === 'SUCCEEDED' ? true : undefined;
    }, 30_000, `${name} to succeed on a surviving node`);
  }
  const logs = [victim, ...survivors].map((n) => n.stdout()).join('\n');
  for (const name of names) {
    assert.equal(logs.match(new RegExp(`STEP 1 ${name}\\b`, 'g'))?.length, 1, `${name}: step 1 ran once`);
    assert.equal(logs.match(new RegExp(`STEP 2 ${name}\\b`, 'g'))?.length, 1, `${name}: step 2 ran once, on one node`);
    assert.doesNotMatch(victim.stdout(), new RegExp(`STEP 2 ${name}\\b`));
  }
});

const slowTick = `export default {
  async fetch(request, env) {
    const { keys } = await env.TICKS.list();
    return Response.json(keys.map((k) => k.name));
  },
  async scheduled(controller, env) {
    await env.TICKS.put('start-' + controller.scheduledTime + '-' + crypto.randomUUID(), '1');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await env.TICKS.put('done-' + controller.scheduledTime + '-' + crypto.randomUUID(), '1');
  },
};`;

test('kill -9 of the node running a cron tick: another node takes the tick over after the lease and finishes it once', async (t) => {
  await deploy(worker('slowtick', slowTick, '[triggers]\ncrons = ["*/3 * * * * *"]\n\n[[kv_namespaces]]\nbinding = "TICKS"\nid = "slow-ticks"\n'));
  const victim = await startNode('victim-cron', 2);
  // Killed while it is running a tick.
  await eventually(async () => ((await metric(victim, 'outpost_concurrent_executions', 'slowtick')) >= 1 ? true : undefined), 30_000, 'the victim to run a tick');
  await victim.stop('SIGKILL');
  const killedAt = Date.now();
  const runs = (keys: string[], kind: string): Map<string, number> => {
    const count = new Map<string, number>();
    for (const key of keys) if (key.startsWith(`${kind}-`)) count.set(key.split('-')[1] ?? '', (count.get(key.split('-')[1] ?? '') ?? 0) + 1);
    return count;
  };
  // Wait until every tick started before the kill has finished somewhere.
  const keys = await eventually(async () => {
    const all = (await (await fetch(`${survivors[0]?.url}/slowtick/`, within10s())).json()) as string[];
    const started = [...runs(all, 'start').keys()].filter((tick) => Number(tick) <= killedAt);
    const done = runs(all, 'done');
    return started.length > 0 && started.every((tick) => done.has(tick)) ? all : undefined;
  }, 30_000, 'every tick started before the kill to finish');
  // Stop the schedule before counting, so no tick is half-way.
  await deploy(worker('slowtick', slowTick, '[[kv_namespaces]]\nbinding = "TICKS"\nid = "slow-ticks"\n'));
  const done = runs(keys, 'done');
  for (const [tick, count] of done) assert.equal(count, 1, `tick ${new Date(Number(tick)).toISOString()} finished ${count} times`);
  const interrupted = [...runs(keys, 'start')].filter(([, count]) => count > 1);
  t.diagnostic(`${interrupted.length} tick(s) were started again after the kill`);
  assert.ok(interrupted.length >= 1, 'the tick the victim was running was taken over (started a second time)');
});

test('SIGSTOP of a node past its leases: its messages are redelivered elsewhere; after SIGCONT its late acks change nothing', async (t) => {
  await deploy(consumer('pause', 2000, 4000));
  const victim = await startNode('victim-paused', 2);
  await eventually(async () => ((await fetch(`${victim.url}/pause/`)).ok ? true : undefined), 10_000, 'the victim to serve pause');
  assert.equal(await (await fetch(`${survivors[0]?.url}/pause/?n=200`, { method: 'POST' })).text(), 'sent');
  // Paused in the middle of its batches: it holds their messages' leases.
  await eventually(async () => ((await metric(victim, 'outpost_concurrent_executions', 'pause')) >= 1 ? true : undefined), 20_000, 'the victim to be running batches');
  victim.proc.kill('SIGSTOP');
  let resumed = false;
  t.after(() => {
    if (!resumed) victim.proc.kill('SIGCONT');
  });

  // The survivors handle everything, the paused node's leased messages after their 3 s lease.
  // Generous: on a loaded 2-core CI machine two nodes with 2 s batches need well over 40 s.
  await eventually(async () => {
    const handled = (await deliveries(survivors[1] as Running, 'pause')).size;
    if (handled < 200) throw new Error(`${handled} of 200 handled so far`);
    return true;
  }, 120_000, 'all 200 jobs handled while the node is paused');
  victim.proc.kill('SIGCONT');
  resumed = true;
  // The woken node finishes what it was running (recorded again) and its acks are refused harmlessly.
  await eventually(async () => ((await fetch(`${victim.url}/pause/`)).ok ? true : undefined), 10_000, 'the victim to answer again');
  const stats = await eventually(async () => {
    const { queues } = (await (await fetch(`${victim.url}/_outpost/api/queues`, within10s({ headers: auth() }))).json()) as { queues: Array<{ name: string; stats: { visible: number; inFlight: number; delayed: number; dead: number } }> };
    const q = queues.find((x) => x.name === 'pause');
    return q && q.stats.visible + q.stats.inFlight + q.stats.delayed === 0 ? q.stats : undefined;
  }, 20_000, 'the queue to drain');
  assert.equal(stats.dead, 0);
  const jobs = await deliveries(survivors[0] as Running, 'pause');
  const redelivered = assertEachAttemptOnce(jobs, 200);
  t.diagnostic(`${redelivered} of 200 jobs were delivered again after the pause`);
  assert.ok([...jobs.values()].some((attempts) => attempts.includes(2)), 'messages leased by the paused node were delivered again');
});

test('kill -9 of the NATS server leading the KV bucket (replicas 3): no acknowledged write is lost', async (t) => {
  await deploy(worker('ledger', `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'PUT') { await env.LEDGER.put(url.pathname, 'v'); return new Response('ok'); }
    return new Response((await env.LEDGER.get(url.pathname)) ?? 'missing', { status: (await env.LEDGER.get(url.pathname)) === null ? 404 : 200 });
  },
};`, '[[kv_namespaces]]\nbinding = "LEDGER"\nid = "ledger"\n'));
  const writer = survivors[0] as Running;
  const reader = survivors[1] as Running;
  await eventually(async () => ((await fetch(`${reader.url}/ledger/x`)).status === 404 ? true : undefined), 10_000, 'ledger on both nodes');
  const jsz = (await (await fetch(`${cluster.servers[0]?.monitorUrl}/jsz?streams=true`)).json()) as { account_details?: Array<{ stream_detail?: Array<{ name: string; cluster?: { leader?: string } }> }> };
  const leaderName = jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((s) => s.name === 'KV_outpost_kv')?.cluster?.leader;
  const leader = cluster.servers.find((s) => s.name === leaderName);
  assert.ok(leader, `found the KV bucket's leader (${String(leaderName)})`);

  // Writes go on through the election: a refused one is retried, an acknowledged one is counted.
  const acknowledged: string[] = [];
  let refused = 0;
  for (let i = 0; i < 60; i++) {
    if (i === 20) leader.kill();
    await eventually(async () => {
      const res = await fetch(`${writer.url}/ledger/k${i}`, { method: 'PUT' }).catch(() => undefined);
      await res?.text();
      if (res?.ok) return true;
      refused += 1;
      return undefined;
    }, 20_000, `write k${i} to be acknowledged`);
    acknowledged.push(`k${i}`);
  }
  t.diagnostic(`${refused} writes were refused during the failover and retried`);
  for (const key of acknowledged) assert.equal(await (await fetch(`${reader.url}/ledger/${key}`)).text(), 'v', `${key} was acknowledged and must be readable`);
});
