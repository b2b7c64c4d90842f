/**
 * @module
 * The NATS JetStream store against the embedded SQLite store, in the same run:
 * 1. KvStore get and put, and a queue send → receive → ack, one at a time (latency) and with
 *    64 calls in flight (throughput), called directly on the store in this process;
 * 2. hello-world HTTP throughput of `outpost serve` on each store, with the NATS server's
 *    message counter read before and after, to show that the request path does not touch the
 *    store (routes and versions are served from memory).
 * Backends take turns round after round; medians are reported.
 *
 *   node bench/store-nats.ts [--rounds 3] [--ops 2000] [--seconds 5]
 */
import { execFileSync, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { openNatsStore, openSqliteStore } from '../src/store/index.ts';
import type { Store } from '../src/store/index.ts';
import { startNatsServer } from '../src/store/nats/testing.ts';
import { CLI, CORES, MACHINE, cleanup, ensureWrk, hasCommand, median, percentile, table, tempDir, wrk, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, ops: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '5' } } });
const ROUNDS = Number(values.rounds);
const OPS = Number(values.ops);
const SECONDS = Number(values.seconds);
const IN_FLIGHT = 64;

const nats = await startNatsServer();
const dir = tempDir('outpost-bench-store-nats-');
const value = new TextEncoder().encode('v'.repeat(100));

interface Micro {
  getP50: number;
  getP99: number;
  putP50: number;
  putP99: number;
  queueP50: number;
  queueP99: number;
  getOps: number;
  putOps: number;
  queueOps: number;
}

async function timed(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    samples.push(performance.now() - t);
  }
  return samples;
}

/** Operations per second with IN_FLIGHT calls running at once. */
async function throughput(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < n) await op(next++);
  }));
  return n / ((performance.now() - started) / 1000);
}

async function micro(store: Store, round: number): Promise<Micro> {
  const ns = `bench-${round}`;
  await store.kv.put(ns, 'warm', { value });
  const gets = await timed(OPS, () => store.kv.get(ns, 'warm'));
  const puts = await timed(OPS, (i) => store.kv.put(ns, `k${i}`, { value }));
  const queue = `bench-${round}`;
  await store.queues.createQueue(queue);
  const roundTrips = await timed(Math.min(OPS, 500), async () => {
    await store.queues.send(queue, [{ body: value }]);
    const [m] = await store.queues.receive(queue, { max: 1 });
    if (m) await store.queues.ack(queue, [m.receipt]);
  });
  const getOps = await throughput(OPS, () => store.kv.get(ns, 'warm'));
  const putOps = await throughput(OPS, (i) => store.kv.put(ns, `t${i}`, { value }));
  // Queue throughput: batches of 10 sent, then received and acknowledged in batches of 10.
  const batches = Math.max(1, Math.floor(OPS / 10 / 4));
  const qStarted = performance.now();
  await throughput(batches, () => store.queues.send(queue, Array.from({ length: 10 }, () => ({ body: value }))));
  let left = batches * 10;
  while (left > 0) {
    const got = await store.queues.receive(queue, { max: 10 });
    if (got.length === 0) break;
    await store.queues.ack(queue, got.map((m) => m.receipt));
    left -= got.length;
  }
  const queueOps = (batches * 10) / ((performance.now() - qStarted) / 1000);
  return {
    getP50: percentile(gets, 50), getP99: percentile(gets, 99), putP50: percentile(puts, 50), putP99: percentile(puts, 99),
    queueP50: percentile(roundTrips, 50), queueP99: percentile(roundTrips, 99), getOps, putOps, queueOps,
  };
}

const backends: Array<{ name: string; open(round: number): Promise<Store> }> = [
  { name: 'embedded (SQLite)', open: async (round) => openSqliteStore({ dir: `${dir}/sqlite-${round}` }) },
  { name: 'NATS JetStream', open: async (round) => openNatsStore({ servers: [nats.url], name: 'bench', region: 'bench', cacheDir: `${dir}/nats-${round}`, prefix: `bench${round}` }) },
];

const microResults = new Map<string, Micro[]>();
for (let round = 1; round <= ROUNDS; round++) {
  for (const b of backends) {
    const store = await b.open(round);
    const r = await micro(store, round);
    await store.close();
    microResults.set(b.name, [...(microResults.get(b.name) ?? []), r]);
    console.error(`round ${round}: ${b.name.padEnd(18)} get p50 ${r.getP50.toFixed(3)} ms, put p50 ${r.putP50.toFixed(3)} ms, queue p50 ${r.queueP50.toFixed(3)} ms`);
  }
}

// ---- HTTP: hello world on a node over each store ----------------------------------------

ensureWrk();
writeFiles(dir, { 'hello/outpost.toml': 'name = "hello"\nmain = "index.js"\n', 'hello/index.js': "export default { fetch() { return new Response('Hello World'); } };\n" });

/**
 * Starts `outpost serve`, deploys hello, and returns its URL and a stop function. The NATS
 * nodes of later rounds join the fleet of the first, which printed the admin token.
 */
const tokens = new Map<string, string>();
async function serveHello(fleet: string, args: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const command = hasCommand('taskset') ? 'taskset' : process.execPath;
  const argv = [...(hasCommand('taskset') ? ['-c', CORES.server, process.execPath] : []), CLI, 'serve', '--port', '0', '--aws-port', '0', '--quiet', ...args];
  const proc = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const seen = new Promise<{ url: string; token: string }>((resolve, reject) => {
    const check = (): void => {
      const url = /ready on (http:\/\/\S+)/.exec(out)?.[1];
      const token = /admin token \(shown once, keep it\): (op_\S+)/.exec(out)?.[1] ?? tokens.get(fleet);
      if (url && token) resolve({ url, token });
    };
    proc.stdout.on('data', (d: Buffer) => ((out += d.toString()), check()));
    proc.stderr.on('data', (d: Buffer) => ((out += d.toString()), check()));
    proc.once('exit', () => reject(new Error(`outpost serve exited:\n${out}`)));
  });
  const { url, token } = await seen;
  tokens.set(fleet, token);
  execFileSync(process.execPath, [CLI, 'deploy', `${dir}/hello`, '--to', url, '--token', token], { stdio: 'ignore' });
  return {
    url,
    stop: () => new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}

async function natsMessagesIn(): Promise<number> {
  return ((await (await fetch(`${nats.monitorUrl}/varz`)).json()) as { in_msgs: number }).in_msgs;
}

const http = new Map<string, Array<{ rps: number; p99: number; natsMsgs: number }>>();
for (let round = 1; round <= ROUNDS; round++) {
  const nodes: Array<{ name: string; fleet: string; args: string[] }> = [
    { name: 'embedded (SQLite)', fleet: `sqlite-${round}`, args: ['--state', `${dir}/serve-sqlite-${round}`] },
    { name: 'NATS JetStream', fleet: 'nats', args: ['--state', `${dir}/serve-nats-${round}`, '--store', nats.url, '--name', `bench-${round}`] },
  ];
  for (const n of nodes) {
    const node = await serveHello(n.fleet, n.args);
    wrk(`${node.url}/hello/`, { seconds: 1 }); // warm-up
    const before = await natsMessagesIn();
    const r = wrk(`${node.url}/hello/`, { seconds: SECONDS });
    const natsMsgs = (await natsMessagesIn()) - before;
    await node.stop();
    http.set(n.name, [...(http.get(n.name) ?? []), { rps: r.rps, p99: r.p99Ms, natsMsgs }]);
    console.error(`round ${round}: ${n.name.padEnd(18)} ${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms} ms, ${natsMsgs} messages into NATS during the run`);
  }
}

await nats.stop();
cleanup(dir);

const m = (name: string, pick: (r: Micro) => number): number => median((microResults.get(name) ?? []).map(pick));
const [sqlite, natsName] = backends.map((b) => b.name) as [string, string];
console.log(`\n### Store calls, NATS JetStream vs embedded (median of ${ROUNDS} rounds; ${OPS} calls each, 100-byte values; throughput with ${IN_FLIGHT} in flight)\n`);
console.log(`Machine: ${MACHINE}; nats-server on loopback, 1 replica\n`);
console.log(table(
  ['operation', 'embedded p50 / p99 ms', 'NATS p50 / p99 ms', 'embedded ops/s', 'NATS ops/s', 'NATS / embedded ops'],
  [
    ['KV get', `${m(sqlite, (r) => r.getP50).toFixed(3)} / ${m(sqlite, (r) => r.getP99).toFixed(3)}`, `${m(natsName, (r) => r.getP50).toFixed(3)} / ${m(natsName, (r) => r.getP99).toFixed(3)}`, m(sqlite, (r) => r.getOps).toFixed(0), m(natsName, (r) => r.getOps).toFixed(0), (m(natsName, (r) => r.getOps) / m(sqlite, (r) => r.getOps)).toFixed(2)],
    ['KV put', `${m(sqlite, (r) => r.putP50).toFixed(3)} / ${m(sqlite, (r) => r.putP99).toFixed(3)}`, `${m(natsName, (r) => r.putP50).toFixed(3)} / ${m(natsName, (r) => r.putP99).toFixed(3)}`, m(sqlite, (r) => r.putOps).toFixed(0), m(natsName, (r) => r.putOps).toFixed(0), (m(natsName, (r) => r.putOps) / m(sqlite, (r) => r.putOps)).toFixed(2)],
    ['queue send → receive → ack (messages)', `${m(sqlite, (r) => r.queueP50).toFixed(3)} / ${m(sqlite, (r) => r.queueP99).toFixed(3)}`, `${m(natsName, (r) => r.queueP50).toFixed(3)} / ${m(natsName, (r) => r.queueP99).toFixed(3)}`, m(sqlite, (r) => r.queueOps).toFixed(0), m(natsName, (r) => r.queueOps).toFixed(0), (m(natsName, (r) => r.queueOps) / m(sqlite, (r) => r.queueOps)).toFixed(2)],
  ],
));
const h = (name: string, pick: (r: { rps: number; p99: number; natsMsgs: number }) => number): number => median((http.get(name) ?? []).map(pick));
console.log(`\n### Hello world over HTTP, node on each store (median of ${ROUNDS} rounds × ${SECONDS} s, wrk -t1 -c50)\n`);
console.log(table(
  ['node store', 'req/s', 'p99 ms', 'messages into NATS during the run', 'req/s vs embedded'],
  [sqlite, natsName].map((name) => [name, h(name, (r) => r.rps).toFixed(0), h(name, (r) => r.p99).toFixed(2), h(name, (r) => r.natsMsgs).toFixed(0), (h(name, (r) => r.rps) / h(sqlite, (r) => r.rps)).toFixed(2)]),
));
