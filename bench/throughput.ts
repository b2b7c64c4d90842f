/**
 * @module
 * Warm throughput of a hello-world function through the whole gateway, against raw node:http
 * and workerd serving the same handler. Each server is pinned to one core and wrk to the
 * other; servers take turns, round after round, and the median of the rounds is reported.
 *
 *   node bench/throughput.ts [--rounds 6] [--seconds 5]
 */
import { parseArgs } from 'node:util';
import { ensureWorkerd, CLI, CORES, MACHINE, WORKERD, cleanup, ensureWrk, freePort, median, startServer, table, tempDir, wrk, writeFiles } from './lib.ts';
import type { Server, WrkResult } from './lib.ts';

ensureWorkerd();

const HELLO = `export default { fetch() { return new Response('Hello World'); } };\n`;

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, seconds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

ensureWrk();
const dir = tempDir('outpost-bench-');
writeFiles(dir, {
  'raw.mjs': `import { createServer } from 'node:http';\ncreateServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain;charset=UTF-8' }); res.end('Hello World'); }).listen(Number(process.argv[2]), '127.0.0.1');\n`,
  'hello/wrangler.toml': 'name = "hello"\nmain = "index.js"\n',
  'hello/index.js': HELLO,
  'workerd/w.js': HELLO,
});

interface Contender {
  name: string;
  start(port: number): Promise<Server>;
}

const contenders: Contender[] = [
  { name: 'raw node:http', start: (port) => startServer(process.execPath, [`${dir}/raw.mjs`, String(port)], `http://127.0.0.1:${port}/`, { core: CORES.server }) },
  {
    name: 'workerd',
    start: (port) => {
      writeFiles(dir, {
        'workerd/config.capnp': `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ ( name = "http", address = "127.0.0.1:${port}", http = (), service = "main" ) ]
);
const w :Workerd.Worker = ( modules = [ (name = "w.js", esModule = embed "w.js") ], compatibilityDate = "2025-06-01" );
`,
      });
      return startServer(WORKERD, ['serve', `${dir}/workerd/config.capnp`], `http://127.0.0.1:${port}/`, { core: CORES.server });
    },
  },
  {
    name: 'outpost (Workers module)',
    start: (port) => startServer(process.execPath, [CLI, 'dev', `${dir}/hello`, '--port', String(port), '--state', `${dir}/state-${port}`, '--quiet'], `http://127.0.0.1:${port}/`, { core: CORES.server, readyLine: true }),
  },
];

const results = new Map<string, WrkResult[]>();
for (let round = 1; round <= rounds; round++) {
  for (const c of contenders) {
    const port = await freePort();
    const server = await c.start(port);
    wrk(server.url, { seconds: 1 }); // warm-up
    const r = wrk(server.url, { seconds });
    await server.stop();
    results.set(c.name, [...(results.get(c.name) ?? []), r]);
    console.error(`round ${round}: ${c.name.padEnd(26)} ${r.rps.toFixed(0)} req/s  p99 ${r.p99Ms} ms`);
  }
}
cleanup(dir);

const summary = contenders.map((c) => {
  const rs = results.get(c.name) ?? [];
  return { name: c.name, rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50Ms)), p99: median(rs.map((r) => r.p99Ms)) };
});
const raw = summary[0]?.rps ?? 1;
const workerd = summary[1]?.rps ?? 1;
console.log(`\n### Warm throughput, hello world (median of ${rounds} rounds × ${seconds} s, wrk -t1 -c50, server on core ${CORES.server}, wrk on core ${CORES.load})\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(
  table(
    ['server', 'req/s', '% of raw node:http', '× workerd', 'p50 ms', 'p99 ms'],
    summary.map((s) => [s.name, s.rps.toFixed(0), `${((s.rps / raw) * 100).toFixed(0)} %`, (s.rps / workerd).toFixed(2), s.p50.toFixed(2), s.p99.toFixed(2)]),
  ),
);
