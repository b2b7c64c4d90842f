/**
 * @module
 * What a version split costs per request: the same hello world served by one version, and by
 * a 50/50 split of two versions (the gateway picks a version per request by the affinity hash).
 * wrk sends no cookie, so every request is a new client: the split pays for a fresh version key
 * and a Set-Cookie each time, its worst case. Both run in the same round, taking turns.
 *
 *   node bench/versions.ts [--rounds 4] [--seconds 4]
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { CLI, CORES, MACHINE, cleanup, ensureWrk, freePort, median, startServer, table, tempDir, wrk, writeFiles } from './lib.ts';
import type { WrkResult } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '4' }, seconds: { type: 'string', default: '4' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

ensureWrk();
const dir = tempDir('outpost-bench-versions-');
const hello = (label: string): string => `export default { fetch() { return new Response('Hello World ${label}'); } };\n`;
writeFiles(dir, {
  'v1/wrangler.toml': 'name = "hello"\nmain = "index.js"\n',
  'v1/index.js': hello('1'),
  'v2/wrangler.toml': 'name = "hello"\nmain = "index.js"\n',
  'v2/index.js': hello('2'),
});

function cli(args: string[]): void {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`outpost ${args.join(' ')} failed: ${r.stderr}`);
}

const contenders = [
  { name: 'one version', split: false },
  { name: 'split 50/50, new client each request', split: true },
];
const results = new Map<string, WrkResult[]>();
for (let round = 1; round <= rounds; round++) {
  for (const c of contenders) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await startServer(process.execPath, [CLI, 'dev', `${dir}/v1`, '--port', String(port), '--state', `${dir}/state-${round}-${port}`, '--quiet'], `${url}/hello/`, { core: CORES.server, readyLine: true });
    if (c.split) {
      cli(['versions', 'upload', `${dir}/v2`, '--to', url]);
      cli(['versions', 'deploy', 'hello@2=50%', 'hello@1=50%', '--to', url]);
    }
    wrk(`${url}/hello/`, { seconds: 1 }); // warm-up
    const r = wrk(`${url}/hello/`, { seconds });
    await server.stop();
    results.set(c.name, [...(results.get(c.name) ?? []), r]);
    console.error(`round ${round}: ${c.name.padEnd(38)} ${r.rps.toFixed(0)} req/s  p99 ${r.p99Ms} ms`);
  }
}
cleanup(dir);

const summary = contenders.map((c) => {
  const rs = results.get(c.name) ?? [];
  return { name: c.name, rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50Ms)), p99: median(rs.map((r) => r.p99Ms)) };
});
const base = summary[0]?.rps ?? 1;
console.log(`\n### Version split overhead (median of ${rounds} rounds × ${seconds} s, wrk -t1 -c50, server on core ${CORES.server}, wrk on core ${CORES.load})\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(table(['served by', 'req/s', '% of one version', 'p50 ms', 'p99 ms'], summary.map((s) => [s.name, s.rps.toFixed(0), `${((s.rps / base) * 100).toFixed(0)} %`, s.p50.toFixed(2), s.p99.toFixed(2)])));
