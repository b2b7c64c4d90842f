// A fleet end to end: three Outpost nodes on a real three-server JetStream cluster (routes
// between the servers, every bucket with three replicas). A deploy through one node is served by
// all; KV written on one node is read on another; a cron schedule fires once per tick across the
// fleet; one queue's messages are consumed by several nodes, each message once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startNatsCluster } from '../src/store/nats/testing.ts';
import type { NatsCluster } from '../src/store/nats/testing.ts';
import { eventually, runCli, startOutpost, tempDir, worker, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const cleanups: Array<() => unknown> = [];
const fileScope = { after: (fn: () => unknown) => void cleanups.push(fn) };
let cluster: NatsCluster;
let nodes: Running[] = [];
let token = '';

before(async () => {
  cluster = await startNatsCluster({ size: 3 });
  const start = async (name: string, server: number): Promise<Running> => {
    // Each node is given every server, its own first, as a node beside each server would be.
    return startOutpost(fileScope, ['serve', '--store', cluster.urlFrom(server), '--store-replicas', '3', '--name', name, '--state', await tempDir(fileScope), '--port', '0'], { env: { OUTPOST_LEASE_SECONDS: '2' } });
  };
  const first = await start('node-1', 0);
  token = (await first.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  nodes = [first, ...(await Promise.all([start('node-2', 1), start('node-3', 2)]))];
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  await cluster.stop();
});

async function deploy(files: Record<string, string>, through: Running): Promise<void> {
  const deployed = await runCli(['deploy', await writeProject(fileScope, files), '--to', through.url, '--token', token]);
  assert.equal(deployed.code, 0, deployed.stderr);
}

const notes = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'PUT') { await env.NOTES.put(url.pathname, await request.text()); return new Response('stored'); }
    return new Response((await env.NOTES.get(url.pathname)) ?? 'none');
  },
};`;

test('a deploy through one node is served by every node; KV written on one node is read on the others', async () => {
  await deploy(worker('notes', notes, '[[kv_namespaces]]\nbinding = "NOTES"\nid = "fleet-notes"\n'), nodes[1] as Running);
  for (const node of nodes) await eventually(async () => ((await fetch(`${node.url}/notes/x`)).ok ? true : undefined), 10_000, `${node.url} to serve notes`);
  assert.equal(await (await fetch(`${nodes[2]?.url}/notes/greeting`, { method: 'PUT', body: 'written on node-3' })).text(), 'stored');
  for (const node of nodes) assert.equal(await (await fetch(`${node.url}/notes/greeting`)).text(), 'written on node-3');
});

const ticker = `export default {
  async fetch(request, env) {
    const { keys } = await env.TICKS.list();
    return Response.json(keys.map((k) => k.name));
  },
  async scheduled(controller, env) {
    await env.TICKS.put('tick-' + controller.scheduledTime + '-' + crypto.randomUUID(), '1');
  },
};`;

test('a cron schedule fires once per tick across the fleet', async () => {
  await deploy(worker('ticker', ticker, '[triggers]\ncrons = ["* * * * * *"]\n\n[[kv_namespaces]]\nbinding = "TICKS"\nid = "fleet-ticks"\n'), nodes[0] as Running);
  const runs = await eventually(async () => {
    const res = await fetch(`${nodes[2]?.url}/ticker/`);
    const keys = res.ok ? ((await res.json()) as string[]) : [];
    return new Set(keys.map((k) => k.split('-')[1])).size >= 5 ? keys : undefined;
  }, 20_000, 'five ticks');
  const perTick = new Map<string, number>();
  for (const key of runs) perTick.set(key.split('-')[1] ?? '', (perTick.get(key.split('-')[1] ?? '') ?? 0) + 1);
  for (const [tick, count] of perTick) assert.equal(count, 1, `tick ${new Date(Number(tick)).toISOString()} ran ${count} times`);
  // Every node had the schedule armed; the store decided who ran each tick.
  await deploy(worker('ticker', ticker, '[[kv_namespaces]]\nbinding = "TICKS"\nid = "fleet-ticks"\n'), nodes[0] as Running);
});

const jobs = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'POST') {
      const n = Number(url.searchParams.get('n'));
      for (let i = 0; i < n; i += 50) await env.JOBS.sendBatch(Array.from({ length: Math.min(50, n - i) }, (_, j) => ({ body: { i: i + j } })));
      return new Response('sent');
    }
    const { keys } = await env.DONE.list({ limit: 1000 });
    return Response.json(keys.map((k) => k.name));
  },
  async queue(batch, env) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const m of batch.messages) await env.DONE.put('job-' + m.body.i + '-' + m.attempts, 'done');
  },
};`;

const JOBS_TOML = `[[kv_namespaces]]
binding = "DONE"
id = "fleet-jobs-done"

[[queues.producers]]
binding = "JOBS"
queue = "fleet-jobs"

[[queues.consumers]]
queue = "fleet-jobs"
max_batch_size = 5
max_batch_timeout = 0
`;

/** `outpost_invocations_total` for `fn` with trigger `queue` on one node. */
async function queueInvocations(node: Running, fn: string): Promise<number> {
  const text = await (await fetch(`${node.url}/_outpost/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('outpost_invocations_total{') && line.includes(`function="${fn}"`) && line.includes('trigger="queue"')) total += Number(line.split(' ').at(-1));
  return total;
}

test('one queue is consumed by several nodes at once, each message handled once', async () => {
  await deploy(worker('jobs', jobs, JOBS_TOML), nodes[0] as Running);
  for (const node of nodes) await eventually(async () => ((await fetch(`${node.url}/jobs/`)).ok ? true : undefined), 10_000, `${node.url} to serve jobs`);
  assert.equal(await (await fetch(`${nodes[1]?.url}/jobs/?n=120`, { method: 'POST' })).text(), 'sent');
  const done = await eventually(async () => {
    const keys = (await (await fetch(`${nodes[0]?.url}/jobs/`)).json()) as string[];
    return keys.length >= 120 ? keys : undefined;
  }, 40_000, 'all 120 jobs handled');
  assert.deepEqual(done.sort(), Array.from({ length: 120 }, (_, i) => `job-${i}-1`).sort(), 'each job handled once, at its first attempt');
  const perNode = await Promise.all(nodes.map((node) => queueInvocations(node, 'jobs')));
  assert.ok(perNode.filter((n) => n > 0).length >= 2, `batches ran on several nodes (per node: ${perNode.join(', ')})`);
});
