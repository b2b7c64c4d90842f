/**
 * @module
 * What region routing costs, on a three-server JetStream cluster on this machine (two servers
 * tagged eu, one us; loopback, so the forwarded figures show the extra gateway hop only, not
 * distance). Two nodes, eu and us, given `--pin kv:bench-resident=eu:refuse`; two functions:
 * `resident` binds that namespace (the us node forwards it to eu), `plain` binds nothing.
 * Sequential GETs, rounds interleaved, medians of per-request latency:
 * - resident through eu (served where it lands; the baseline) vs through us (forwarded);
 * - plain through eu (that node forwards nothing, so it runs no routing hook: the baseline) vs
 *   through us (its hook runs a second route match, then lets the request through).
 *
 *   node bench/region-routing.ts [--rounds 5] [--requests 400]
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startNatsCluster } from '../src/store/nats/testing.ts';
import type { NatsCluster } from '../src/store/nats/testing.ts';
import { CLI, MACHINE, cleanup, median, table, tempDir, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, requests: { type: 'string', default: '400' } } });
const ROUNDS = Number(values.rounds);
const REQUESTS = Number(values.requests);
const dir = tempDir('outpost-bench-regions-');

interface Node {
  url: string;
  proc: ChildProcess;
  token?: string;
}

/** Starts `outpost serve` in `region` on the cluster; resolves with its URL (and the admin token when it printed one). */
async function serve(cluster: NatsCluster, region: string, server: number): Promise<Node> {
  const args = [CLI, 'serve', '--store', cluster.urlFrom(server), '--store-replicas', '1', '--region', region, '--pin', 'kv:bench-resident=eu:refuse', '--name', `bench-${region}`, '--state', `${dir}/${region}`, '--port', '0', '--aws-port', '0', '--quiet'];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const url = /ready on (http:\/\/\S+)/.exec(out)?.[1];
      const token = /admin token \(shown once, keep it\): (op_\S+)/.exec(out)?.[1];
      if (url) resolve({ url, proc, ...(token ? { token } : {}) });
    };
    proc.stdout.on('data', (d: Buffer) => ((out += d.toString()), check()));
    proc.stderr.on('data', (d: Buffer) => ((out += d.toString()), check()));
    proc.once('exit', () => reject(new Error(`outpost serve exited:\n${out}`)));
  });
}

function project(name: string, toml: string): string {
  const root = `${dir}/${name}`;
  writeFiles(root, {
    'outpost.toml': `name = "${name}"\nmain = "src/index.ts"\n${toml}`,
    'src/index.ts': `export default { fetch: () => new Response('ok') };\n`,
  });
  return root;
}

/** Polls until `url` answers 200 (the function is routed there). */
async function ready(url: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while ((await fetch(url).then((r) => r.status, () => 0)) !== 200) if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within 30 s`);
}

const cluster = await startNatsCluster({ size: 3, tags: [['region:eu'], ['region:eu'], ['region:us']] });
const eu = await serve(cluster, 'eu', 0);
const us = await serve(cluster, 'us', 2);
const token = eu.token ?? us.token ?? '';
for (const [name, toml] of [['resident', '[[kv_namespaces]]\nbinding = "KV"\nid = "bench-resident"\n'], ['plain', '']] as const) {
  execFileSync(process.execPath, [CLI, 'deploy', project(name, toml), '--to', eu.url, '--token', token], { stdio: 'ignore' });
}
const cases = [
  ['resident through eu (baseline)', `${eu.url}/resident/`],
  ['resident through us (forwarded to eu)', `${us.url}/resident/`],
  ['plain through eu (no hook; baseline)', `${eu.url}/plain/`],
  ['plain through us (hook, not forwarded)', `${us.url}/plain/`],
] as const;
for (const [, url] of cases) await ready(url);

const samples = new Map<string, number[]>(cases.map(([label]) => [label, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [label, url] of cases) {
    for (let i = 0; i < REQUESTS / ROUNDS; i++) {
      const t = performance.now();
      await (await fetch(url)).text();
      samples.get(label)?.push(performance.now() - t);
    }
  }
}
// The nodes close their store connections before the cluster goes.
await Promise.all([eu, us].map((node) => new Promise((resolve) => (node.proc.once('exit', resolve), node.proc.kill('SIGTERM')))));
await cluster.stop();
cleanup(dir);

const med = (label: string): number => median(samples.get(label) ?? []);
console.log(`\nRegion routing on a 3-server JetStream cluster (loopback; 2 servers eu, 1 us), ${MACHINE}, ${REQUESTS} sequential GETs per case\n`);
console.log(table(['case', 'median ms', 'vs baseline'], cases.map(([label], i) => {
  const base = med((cases[i - (i % 2)] ?? cases[0])[0]);
  return [label, med(label).toFixed(3), `${(med(label) / base).toFixed(2)}×`];
})));
process.exit(0);
