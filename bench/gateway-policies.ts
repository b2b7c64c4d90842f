/**
 * @module
 * What route policies cost on the hot path: hello-world throughput through the gateway on a
 * route without policies, against routes of the same function with a rate limit and a response
 * cache lookup, and with an HS256 JWT authorizer in front of both. The function answers
 * `Cache-Control: no-store` on those routes, so every request pays the bucket, the cache lookup,
 * the response observer and the invocation — the worst case, not the cached one. A last route
 * is served from the cache, to show what a hit saves. All routes are on one node and take turns
 * within each round; the median of the rounds is reported with the ratio to the plain route.
 *
 * Besides req/s, the node's CPU time per request (user + system, all its threads, from
 * /proc/<pid>/stat) is reported: on a shared machine the scheduler decides throughput, and a
 * path that runs on one thread (a cache hit) gets fewer time slices than one that also wakes a
 * worker thread, so CPU per request is the figure that says what a policy costs. Last, the same
 * policy chains run in this process without HTTP around them (decisions, the response wrapper
 * and the cache's observer), timed by CPU over many requests: the policies' own cost, compared
 * with a whole request's CPU on the route without policies.
 *
 *   node bench/gateway-policies.ts [--rounds 5] [--seconds 5]
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { policySink } from '../src/gateway/http-sink.ts';
import { loadProject } from '../src/project/index.ts';
import { compilePolicies, nodeState } from '../src/traffic/index.ts';
import type { PolicyNode } from '../src/traffic/index.ts';
import { runPolicies } from '../src/traffic/policy.ts';
import type { PolicyRequest } from '../src/traffic/policy.ts';
import type { HttpSink } from '../src/runtime/instance.ts';
import { CLI, CORES, MACHINE, cleanup, ensureWrk, freePort, median, startServer, table, tempDir, wrk, writeFiles } from './lib.ts';
import type { WrkResult } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU seconds `pid` has used (user + system, every thread), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const SECRET = 'bench-secret-0123456789abcdef0123456789';
const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify({ sub: 'bench', exp: Math.floor(Date.now() / 1000) + 86_400 }))}`;
const TOKEN = `${unsigned}.${base64url(createHmac('sha256', SECRET).update(unsigned).digest())}`;

// Every policy route lets every request through: the rate is far above what one core serves.
const LIMIT = 'rate_limit = { rate = 1000000000, burst = 1000000000 }';
const CACHE = 'cache = { ttl_seconds = 300 }';

ensureWrk();
const dir = tempDir('outpost-bench-policies-');
writeFiles(dir, {
  'hello/outpost.toml': `name = "hello"
main = "index.js"

[vars]
JWT_SECRET = "${SECRET}"

[[route_rules]]
path = "/plain"

[[route_rules]]
path = "/limited"
${LIMIT}
${CACHE}

[[route_rules]]
path = "/guarded"
jwt = { secret = "JWT_SECRET", identity_source = "$request.querystring.token" }
${LIMIT}
${CACHE}

[[route_rules]]
path = "/hits"
${CACHE}
`,
  'hello/index.js': `export default {
  fetch(request) {
    const cacheable = request.url.endsWith('/hits');
    return new Response('Hello World', { headers: { 'cache-control': cacheable ? 'max-age=300' : 'no-store' } });
  },
};
`,
});

const routes = [
  { name: 'no policies', path: '/plain' },
  { name: 'rate limit + cache lookup (miss)', path: '/limited' },
  { name: 'JWT (HS256) + rate limit + cache lookup', path: `/guarded?token=${TOKEN}` },
  { name: 'cache hit (function not invoked)', path: '/hits' },
];

const results = new Map<string, WrkResult[]>();
/** Node CPU µs per request, per route and round. */
const cpu = new Map<string, number[]>();
for (let round = 1; round <= rounds; round++) {
  const port = await freePort();
  const server = await startServer(process.execPath, [CLI, 'dev', `${dir}/hello`, '--port', String(port), '--aws-port', '0', '--state', `${dir}/state-${round}`, '--quiet'], `http://127.0.0.1:${port}/plain`, { core: CORES.server, readyLine: true });
  const origin = server.url.replace(/\/plain$/, '');
  // Every route must answer 200 before it is measured (checked first, on fresh connections).
  for (const route of routes) {
    const check = await fetch(`${origin}${route.path}`);
    if (check.status !== 200) throw new Error(`${route.path} answered ${check.status}: ${await check.text()}`);
    await check.arrayBuffer();
  }
  for (const route of routes) {
    const url = `${origin}${route.path}`;
    wrk(url, { seconds: 1 }); // warm-up
    const pid = server.proc.pid ?? 0;
    const before = cpuSeconds(pid);
    const r = wrk(url, { seconds });
    const perRequestUs = ((cpuSeconds(pid) - before) * 1e6) / (r.rps * seconds);
    results.set(route.name, [...(results.get(route.name) ?? []), r]);
    cpu.set(route.name, [...(cpu.get(route.name) ?? []), perRequestUs]);
    console.error(`round ${round}: ${route.name.padEnd(42)} ${r.rps.toFixed(0)} req/s  p99 ${r.p99Ms} ms  ${perRequestUs.toFixed(0)} µs CPU/request`);
  }
  await server.stop();
}

/** Node CPU µs per request the policy chain of `path`'s route costs: decisions, the response wrapper, observers. */
async function policyCpuUs(path: string, iterations: number): Promise<number> {
  const spec = await loadProject(`${dir}/hello`, { dev: true });
  const fn = spec.functions[0];
  const bare = path.split('?')[0] ?? path;
  const route = fn?.routes.find((r) => r.path === bare);
  if (!fn || !route) throw new Error(`no route ${bare}`);
  const node: PolicyNode = { state: nodeState(), invoke: () => Promise.reject(new Error('not used')), now: Date.now };
  const policies = compilePolicies({ functionName: fn.name, manifest: fn, route, node });
  const q = path.indexOf('?');
  const request: PolicyRequest = {
    requestId: 'bench', method: 'GET', host: '127.0.0.1', path: bare, search: q === -1 ? '' : path.slice(q),
    headers: { host: '127.0.0.1', 'user-agent': 'wrk' }, ip: '127.0.0.1', functionName: fn.name,
  };
  const body = new TextEncoder().encode('Hello World');
  const noop: HttpSink = { pull: async () => null, head: () => undefined, chunk: async () => undefined, end: () => undefined, fail: () => undefined };
  const once = async (): Promise<void> => {
    const outcome = await runPolicies(policies, request);
    if (outcome.reply) return;
    const sink = policySink(noop, outcome.pass.responseHeaders, outcome.pass.observers);
    sink.head(200, ['content-type', 'text/plain;charset=UTF-8', 'cache-control', bare === '/hits' ? 'max-age=300' : 'no-store'], body, false);
  };
  for (let i = 0; i < 2_000; i++) await once(); // warm-up (and the cache's first store)
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await once();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

const micro = [];
for (const route of routes.slice(1)) micro.push({ name: route.name, us: median([await policyCpuUs(route.path, 50_000), await policyCpuUs(route.path, 50_000), await policyCpuUs(route.path, 50_000)]) });
cleanup(dir);

const summary = routes.map((route) => {
  const rs = results.get(route.name) ?? [];
  return { name: route.name, rps: median(rs.map((r) => r.rps)), cpuUs: median(cpu.get(route.name) ?? []), p50: median(rs.map((r) => r.p50Ms)), p99: median(rs.map((r) => r.p99Ms)) };
});
const plain = summary[0]?.rps ?? 1;
const plainCpu = summary[0]?.cpuUs ?? 1;
console.log(`\n### Route policies, hello world (median of ${rounds} rounds × ${seconds} s, wrk -t1 -c50, server on core ${CORES.server}, wrk on core ${CORES.load})\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(
  table(
    ['route', 'req/s', 'req/s vs no policies', 'CPU µs/request', 'CPU vs no policies', 'p50 ms', 'p99 ms'],
    summary.map((s) => [
      s.name,
      s.rps.toFixed(0),
      `${(((s.rps - plain) / plain) * 100).toFixed(1)} %`,
      s.cpuUs.toFixed(0),
      `${(((s.cpuUs - plainCpu) / plainCpu) * 100).toFixed(1)} %`,
      s.p50.toFixed(2),
      s.p99.toFixed(2),
    ]),
  ),
);
const requestCpu = summary[0]?.cpuUs ?? 1;
console.log(`\n#### The policies alone (in process, median of 3 × 50,000 requests), against ${requestCpu.toFixed(0)} µs of CPU for a whole request without policies\n`);
console.log(table(['route', 'policy CPU µs/request', 'of a request without policies'], micro.map((m) => [m.name, m.us.toFixed(2), `${((m.us / requestCpu) * 100).toFixed(1)} %`])));
