/**
 * @module
 * A fleet on a three-server JetStream cluster on this machine (loopback: no network latency
 * between "regions", so region figures show the extra server hop only):
 * 1. Deploy propagation: a new version deployed through node 1 — time from the deploy command
 *    returning until each of three nodes serves it (node 1 is the baseline).
 * 2. KV read latency on the store, from a client connected to an eu server: a namespace pinned
 *    to eu (stored on that server) against one pinned to us (stored on the other region's
 *    server, reached through a route).
 * 3. Queue throughput: messages consumed per second by one node, then by three.
 *
 *   node bench/fleet.ts [--rounds 5] [--reads 2000] [--messages 1000] [--replicas 3]
 *
 * `--replicas 1` shows the queue figures without the compare-and-set ordering that replicated
 * buckets need on nats-server < 2.9.21 (store/nats/cas.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { openNatsStore } from '../src/store/index.ts';
import { startNatsCluster } from '../src/store/nats/testing.ts';
import type { NatsCluster } from '../src/store/nats/testing.ts';
import { CLI, MACHINE, cleanup, median, percentile, table, tempDir, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, reads: { type: 'string', default: '2000' }, messages: { type: 'string', default: '1000' }, replicas: { type: 'string', default: '3' } } });
const REPLICAS = values.replicas;
const ROUNDS = Number(values.rounds);
const READS = Number(values.reads);
const MESSAGES = Number(values.messages);
const dir = tempDir('outpost-bench-fleet-');

interface Node {
  url: string;
  proc: ChildProcess;
}

/** Starts `outpost serve` on the cluster; resolves with its URL (and the admin token when it printed one). */
async function serve(cluster: NatsCluster, name: string, server: number, extra: string[] = []): Promise<Node & { token?: string }> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--store', cluster.urlFrom(server), '--store-replicas', REPLICAS, '--name', name, '--state', `${dir}/${name}`, '--port', '0', '--aws-port', '0', '--quiet', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const url = /ready on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ url, proc, ...(/admin token \(shown once, keep it\): (op_\S+)/.exec(out)?.[1] ? { token: /admin token \(shown once, keep it\): (op_\S+)/.exec(out)?.[1] as string } : {}) });
    };
    proc.stdout.on('data', (d: Buffer) => ((out += d.toString()), check()));
    proc.stderr.on('data', (d: Buffer) => ((out += d.toString()), check()));
    proc.once('exit', () => reject(new Error(`outpost serve exited:\n${out}`)));
  });
}

async function stop(node: Node): Promise<void> {
  if (node.proc.exitCode !== null) return;
  const gone = new Promise((resolve) => node.proc.once('exit', resolve));
  node.proc.kill('SIGTERM');
  await gone;
}

function deploy(project: string, url: string, token: string): void {
  execFileSync(process.execPath, [CLI, 'deploy', project, '--to', url, '--token', token], { stdio: 'ignore' });
}

/** Polls `url` until its body is `want`; resolves with the ms since `since`. */
async function servedAfter(url: string, want: string, since: number): Promise<number> {
  for (;;) {
    const body = await fetch(url).then((r) => r.text(), () => '');
    if (body === want) return performance.now() - since;
    if (performance.now() - since > 30_000) throw new Error(`${url} did not serve ${want} within 30 s`);
  }
}

// ---- 1. Deploy propagation --------------------------------------------------------------

const cluster = await startNatsCluster({ size: 3, tags: [['region:eu'], ['region:eu'], ['region:us']] });
const first = await serve(cluster, 'node-1', 0);
const token = first.token ?? '';
const nodes: Node[] = [first, await serve(cluster, 'node-2', 1), await serve(cluster, 'node-3', 2)];
const propagation: number[][] = [[], [], []];
for (let round = 1; round <= ROUNDS; round++) {
  const want = `v${round}`;
  writeFiles(dir, { 'hello/outpost.toml': 'name = "hello"\nmain = "index.js"\n', 'hello/index.js': `export default { fetch() { return new Response('${want}'); } };\n` });
  deploy(`${dir}/hello`, first.url, token);
  const since = performance.now();
  const times = await Promise.all(nodes.map((n) => servedAfter(`${n.url}/hello/`, want, since)));
  times.forEach((ms, i) => propagation[i]?.push(ms));
  console.error(`round ${round}: served after ${times.map((ms) => ms.toFixed(0)).join(' / ')} ms`);
}

// ---- 3. Queue throughput, 1 node vs 3 -----------------------------------------------------

writeFiles(dir, {
  'drain/outpost.toml': `name = "drain"\nmain = "index.js"\n\n[[queues.producers]]\nbinding = "Q"\nqueue = "drain"\n\n[[queues.consumers]]\nqueue = "drain"\nmax_batch_size = 10\nmax_batch_timeout = 0\n`,
  'drain/index.js': `export default {
  async fetch(request, env) {
    const n = Number(new URL(request.url).searchParams.get('n'));
    for (let i = 0; i < n; i += 100) await env.Q.sendBatch(Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ body: i + j })));
    return new Response('sent');
  },
  async queue() {},
};\n`,
});
deploy(`${dir}/drain`, first.url, token);

async function remaining(url: string): Promise<number> {
  const { queues } = (await (await fetch(`${url}/_outpost/api/queues`, { headers: { authorization: `Bearer ${token}` } })).json()) as { queues: Array<{ name: string; stats: { visible: number; inFlight: number; delayed: number } }> };
  const q = queues.find((x) => x.name === 'drain');
  return q ? q.stats.visible + q.stats.inFlight + q.stats.delayed : MESSAGES;
}

/** Sends MESSAGES with consumers on `active` nodes only (the others are stopped), and times the drain. */
async function drainRate(active: Node[]): Promise<number> {
  // The consumers start as soon as messages arrive, so time from the send.
  const started = performance.now();
  const sent = await fetch(`${active[0]?.url}/drain/?n=${MESSAGES}`, { method: 'POST' });
  if ((await sent.text()) !== 'sent') throw new Error('send failed');
  while ((await remaining(active[0]?.url ?? '')) > 0) await new Promise((r) => setTimeout(r, 20));
  return MESSAGES / ((performance.now() - started) / 1000);
}

const threeNodes: number[] = [];
const oneNode: number[] = [];
for (let round = 1; round <= Math.min(ROUNDS, 3); round++) threeNodes.push(await drainRate(nodes));
await stop(nodes[1] as Node);
await stop(nodes[2] as Node);
for (let round = 1; round <= Math.min(ROUNDS, 3); round++) oneNode.push(await drainRate([first]));
await stop(first);

// ---- 2. KV read latency: local region vs remote region ----------------------------------

const store = await openNatsStore({ servers: [cluster.servers[0]?.url ?? ''], name: 'bench-eu', region: 'eu', cacheDir: `${dir}/kv-cache`, prefix: 'benchkv', replicas: 1, pins: [{ kind: 'kv', name: 'near', region: 'eu', access: 'proxy' }, { kind: 'kv', name: 'far', region: 'us', access: 'proxy' }] });
const value = new TextEncoder().encode('v'.repeat(100));
const reads: Record<string, number[]> = { near: [], far: [] };
for (const ns of ['near', 'far']) await store.kv.put(ns, 'k', { value });
for (let round = 0; round < ROUNDS; round++) {
  for (const ns of ['near', 'far']) {
    for (let i = 0; i < READS / ROUNDS; i++) {
      const t = performance.now();
      await store.kv.get(ns, 'k');
      reads[ns]?.push(performance.now() - t);
    }
  }
}
await store.close();
await cluster.stop();
cleanup(dir);

const p = (xs: number[], q: number): string => percentile(xs, q).toFixed(0);
console.log(`\nFleet on a 3-server JetStream cluster (replicas ${REPLICAS}), ${MACHINE}\n`);
console.log(table(['deploy → served', 'p50 ms', 'max ms'], propagation.map((xs, i) => [i === 0 ? 'node-1 (deployed through; baseline)' : `node-${i + 1}`, p(xs, 50), p(xs, 100)])));
const everyNode = Array.from({ length: ROUNDS }, (_, r) => Math.max(...propagation.map((xs) => xs[r] ?? 0)));
console.log(`until every node serves it: p50 ${p(everyNode, 50)} ms, max ${p(everyNode, 100)} ms (target p50 ≤ 300 ms)\n`);
console.log(table(['KV get from an eu client', 'p50 ms', 'p99 ms'], [
  ['namespace pinned to eu (local region)', percentile(reads['near'] ?? [], 50).toFixed(3), percentile(reads['near'] ?? [], 99).toFixed(3)],
  ['namespace pinned to us (remote region)', percentile(reads['far'] ?? [], 50).toFixed(3), percentile(reads['far'] ?? [], 99).toFixed(3)],
]));
console.log('');
console.log(table(['queue drain', 'msg/s (median)'], [['1 node', median(oneNode).toFixed(0)], ['3 nodes', median(threeNodes).toFixed(0)]]));
console.log(`3 nodes / 1 node: ${(median(threeNodes) / median(oneNode)).toFixed(2)}×`);
process.exit(0);
