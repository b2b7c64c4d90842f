/**
 * @module
 * Memory per deployed-and-warm function, and what 1,000 deployed functions cost with scale to
 * zero. Outpost: N functions are deployed, the node restarted on that state, RSS read, every
 * function warmed with one request, RSS read again. workerd, the baseline, serves the same N
 * functions (one socket each) in the same run, measured the same way.
 *
 *   node bench/memory.ts [--functions 100] [--fleet 1000]
 */
import { parseArgs } from 'node:util';
import { ensureWorkerd, CLI, CORES, MACHINE, WORKERD, cleanup, freePort, rssMb, startServer, table, tempDir, writeFiles } from './lib.ts';

ensureWorkerd();

const { values } = parseArgs({ options: { functions: { type: 'string', default: '100' }, fleet: { type: 'string', default: '1000' } } });
const n = Number(values.functions);
const fleet = Number(values.fleet);

function project(root: string, count: number, idleSeconds?: number): void {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const limits = idleSeconds === undefined ? '' : `[limits]\nidle_timeout_s = ${idleSeconds}\n`;
    files[`f${i}/outpost.toml`] = `name = "f${i}"\nmain = "index.js"\n${limits}`;
    files[`f${i}/index.js`] = `const id = ${i};\nexport default { fetch() { return new Response('hello from ' + id); } };\n`;
  }
  writeFiles(root, files);
}

async function hit(url: string): Promise<void> {
  const r = await fetch(url);
  await r.text();
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
}

async function outpostPerFunction(dir: string): Promise<{ before: number; after: number }> {
  project(`${dir}/warm`, n);
  let port = await freePort();
  let node = await startServer(process.execPath, [CLI, 'dev', `${dir}/warm`, '--port', String(port), '--state', `${dir}/warm-state`, '--quiet'], `http://127.0.0.1:${port}/_outpost/health`, { core: CORES.server, readyLine: true });
  await node.stop();
  port = await freePort();
  node = await startServer(process.execPath, [CLI, 'serve', '--port', String(port), '--state', `${dir}/warm-state`, '--quiet'], `http://127.0.0.1:${port}/_outpost/health`, { core: CORES.server, readyLine: true });
  await hit(`http://127.0.0.1:${port}/f0/`);
  const before = rssMb(node.proc.pid ?? 0);
  for (let i = 1; i < n; i++) await hit(`http://127.0.0.1:${port}/f${i}/`);
  const after = rssMb(node.proc.pid ?? 0);
  await node.stop();
  return { before, after };
}

/** workerd loads every configured worker at start, so it is measured as two runs: 1 worker, then n. */
async function workerdRss(dir: string, count: number): Promise<number> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const files: Record<string, string> = {};
  const services: string[] = [];
  const sockets: string[] = [];
  const workers: string[] = [];
  for (let i = 0; i < count; i++) {
    files[`workerd/w${i}.js`] = `const id = ${i};\nexport default { fetch() { return new Response('hello from ' + id); } };\n`;
    services.push(`(name = "s${i}", worker = .w${i})`);
    sockets.push(`( name = "h${i}", address = "127.0.0.1:${ports[i]}", http = (), service = "s${i}" )`);
    workers.push(`const w${i} :Workerd.Worker = ( modules = [ (name = "w${i}.js", esModule = embed "w${i}.js") ], compatibilityDate = "2025-06-01" );`);
  }
  files['workerd/config.capnp'] = `using Workerd = import "/workerd/workerd.capnp";\nconst config :Workerd.Config = ( services = [ ${services.join(', ')} ], sockets = [ ${sockets.join(', ')} ] );\n${workers.join('\n')}\n`;
  writeFiles(dir, files);
  const server = await startServer(WORKERD, ['serve', `${dir}/workerd/config.capnp`], `http://127.0.0.1:${ports[0]}/`, { core: CORES.server });
  for (let i = 1; i < count; i++) await hit(`http://127.0.0.1:${ports[i]}/`);
  const rss = rssMb(server.proc.pid ?? 0);
  await server.stop();
  return rss;
}

async function workerdPerFunction(dir: string): Promise<{ before: number; after: number }> {
  return { before: await workerdRss(dir, 1), after: await workerdRss(dir, n) };
}

async function fleetWithScaleToZero(dir: string): Promise<{ deployedMs: number; idle: number; peak: number; afterIdle: number }> {
  project(`${dir}/fleet`, fleet, 2);
  let port = await freePort();
  const t0 = performance.now();
  let node = await startServer(process.execPath, [CLI, 'dev', `${dir}/fleet`, '--port', String(port), '--state', `${dir}/fleet-state`, '--quiet'], `http://127.0.0.1:${port}/_outpost/health`, { core: CORES.server, readyLine: true });
  const deployedMs = performance.now() - t0;
  await node.stop();
  port = await freePort();
  node = await startServer(process.execPath, [CLI, 'serve', '--port', String(port), '--state', `${dir}/fleet-state`, '--quiet'], `http://127.0.0.1:${port}/_outpost/health`, { core: CORES.server, readyLine: true });
  const pid = node.proc.pid ?? 0;
  const idle = rssMb(pid);
  let peak = idle;
  for (let i = 0; i < fleet; i++) {
    await hit(`http://127.0.0.1:${port}/f${i}/`);
    if (i % 50 === 0) peak = Math.max(peak, rssMb(pid));
  }
  peak = Math.max(peak, rssMb(pid));
  // idle_timeout_s = 2: wait until the instances have stopped (the API reports them per function).
  const deadline = Date.now() + 30_000;
  let afterIdle = peak;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    afterIdle = rssMb(pid);
    if (afterIdle < peak * 0.6) break;
  }
  await node.stop();
  return { deployedMs, idle, peak, afterIdle };
}

const dir = tempDir('outpost-mem-');
const outpost = await outpostPerFunction(dir);
const workerd = await workerdPerFunction(dir);
const fleetResult = await fleetWithScaleToZero(dir);
cleanup(dir);

const per = (r: { before: number; after: number }) => ((r.after - r.before) / (n - 1)).toFixed(2);
console.log(`\n### Memory per warm function (${n} functions, RSS growth from 1 warm function to ${n})\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(
  table(['runtime', 'RSS with 1 warm (MB)', `RSS with ${n} warm (MB)`, 'MB per warm function'], [
    ['outpost', outpost.before.toFixed(1), outpost.after.toFixed(1), per(outpost)],
    ['workerd', workerd.before.toFixed(1), workerd.after.toFixed(1), per(workerd)],
  ]),
);
console.log(`\n### ${fleet} deployed functions with scale to zero (idle_timeout_s = 2)\n`);
console.log(
  table(['measure', 'value'], [
    [`deploy all ${fleet} in one \`outpost dev\` start (build + start-check each)`, `${(fleetResult.deployedMs / 1000).toFixed(1)} s`],
    ['RSS after restart, nothing running', `${fleetResult.idle.toFixed(0)} MB`],
    [`peak RSS while calling each of the ${fleet} once, in turn`, `${fleetResult.peak.toFixed(0)} MB`],
    ['RSS once idle instances stopped', `${fleetResult.afterIdle.toFixed(0)} MB`],
  ]),
);
