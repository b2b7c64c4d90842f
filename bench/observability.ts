/**
 * @module
 * What observability costs on the request path: warm hello-world throughput through the whole
 * gateway with telemetry on (log store, usage, Prometheus metrics, chart series, a trace per
 * request) against the same node started with `--telemetry off`, with raw node:http as the
 * reference. Servers take turns round after round (server pinned to one core, wrk on the
 * other) and the median of the rounds is reported with the on/off ratio; the target is at most
 * 10 % fewer requests per second with telemetry on. Beside req/s it reports the server's CPU
 * time per request (all its threads, from /proc): on a machine shared with other work, req/s
 * swings with whatever else runs on the server's core, CPU per request much less.
 *
 *   node bench/observability.ts [--rounds 5] [--seconds 5]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CLI, CORES, MACHINE, cleanup, ensureWrk, freePort, median, startServer, table, tempDir, wrk, writeFiles } from './lib.ts';
import type { Server, WrkResult } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

ensureWrk();
const dir = tempDir('outpost-bench-observe-');
writeFiles(dir, {
  'raw.mjs': `import { createServer } from 'node:http';\ncreateServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain;charset=UTF-8' }); res.end('Hello World'); }).listen(Number(process.argv[2]), '127.0.0.1');\n`,
  'hello/wrangler.toml': 'name = "hello"\nmain = "index.js"\n',
  'hello/index.js': `export default { fetch() { return new Response('Hello World'); } };\n`,
});

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system, every thread) the process has used so far, in ms. */
function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command name: field 14 (utime) and 15 (stime) are at index 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

interface Round extends WrkResult {
  cpuUsPerRequest: number;
}

interface Contender {
  name: string;
  start(port: number): Promise<Server>;
}

const outpost = (port: number, extra: string[]): Promise<Server> =>
  startServer(process.execPath, [CLI, 'dev', `${dir}/hello`, '--port', String(port), '--aws-port', '0', '--state', `${dir}/state-${port}`, '--quiet', ...extra], `http://127.0.0.1:${port}/`, { core: CORES.server, readyLine: true });

const contenders: Contender[] = [
  { name: 'raw node:http', start: (port) => startServer(process.execPath, [`${dir}/raw.mjs`, String(port)], `http://127.0.0.1:${port}/`, { core: CORES.server }) },
  { name: 'outpost --telemetry off', start: (port) => outpost(port, ['--telemetry', 'off']) },
  { name: 'outpost (logs+metrics+traces)', start: (port) => outpost(port, []) },
];

const results = new Map<string, Round[]>();
for (let round = 1; round <= rounds; round++) {
  for (const c of contenders) {
    const port = await freePort();
    const server = await c.start(port);
    wrk(server.url, { seconds: 1 }); // warm-up
    const before = cpuMs(server.proc.pid);
    const w = wrk(server.url, { seconds });
    const r: Round = { ...w, cpuUsPerRequest: ((cpuMs(server.proc.pid) - before) * 1000) / (w.rps * seconds) };
    await server.stop();
    results.set(c.name, [...(results.get(c.name) ?? []), r]);
    console.error(`round ${round}: ${c.name.padEnd(30)} ${r.rps.toFixed(0)} req/s  ${r.cpuUsPerRequest.toFixed(1)} µs CPU/req  p99 ${r.p99Ms} ms`);
  }
}
cleanup(dir);

const summary = contenders.map((c) => {
  const rs = results.get(c.name) ?? [];
  return { name: c.name, rps: median(rs.map((r) => r.rps)), cpu: median(rs.map((r) => r.cpuUsPerRequest)), p50: median(rs.map((r) => r.p50Ms)), p99: median(rs.map((r) => r.p99Ms)) };
});
const raw = summary[0]?.rps ?? 1;
const off = summary[1]?.rps ?? 1;
const offCpu = summary[1]?.cpu ?? 1;
console.log(`\n### Observability overhead, hello world (median of ${rounds} rounds × ${seconds} s, wrk -t1 -c50, server on core ${CORES.server}, wrk on core ${CORES.load})\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(
  table(
    ['server', 'req/s', '% of raw node:http', '% of telemetry off', 'CPU µs/request', 'p50 ms', 'p99 ms'],
    summary.map((s) => [s.name, s.rps.toFixed(0), `${((s.rps / raw) * 100).toFixed(0)} %`, s.name.startsWith('outpost') ? `${((s.rps / off) * 100).toFixed(1)} %` : '-', s.cpu.toFixed(1), s.p50.toFixed(2), s.p99.toFixed(2)]),
  ),
);
const overhead = (1 - (summary[2]?.rps ?? 0) / off) * 100;
const cpuOverhead = ((summary[2]?.cpu ?? 0) / offCpu - 1) * 100;
console.log(`\nTelemetry on costs ${overhead.toFixed(1)} % of throughput and ${cpuOverhead.toFixed(1)} % more CPU per request (target ≤ 10 %).`);
