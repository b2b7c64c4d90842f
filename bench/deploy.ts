/**
 * @module
 * Deploy-to-serving: from the deploy request leaving the client to the first response of the
 * new version, for a small function on a running node (bundle built beforehand, as
 * `outpost deploy` does before uploading). The baseline is workerd, which needs a restart to
 * change code: process start → first response with the new code, in the same run.
 *
 *   node bench/deploy.ts [--deploys 20]
 */
import { parseArgs } from 'node:util';
import { buildFunction } from '../src/build/index.ts';
import { DEFAULT_LIMITS } from '../src/project/spec.ts';
import type { FunctionSpec } from '../src/project/spec.ts';
import { ensureWorkerd, CLI, CORES, MACHINE, WORKERD, cleanup, freePort, median, percentile, startServer, table, tempDir, writeFiles } from './lib.ts';

ensureWorkerd();

const { values } = parseArgs({ options: { deploys: { type: 'string', default: '20' } } });
const deploys = Number(values.deploys);
const dir = tempDir('outpost-deploy-');

// A dev node: its control API needs no token on loopback, and deploys take the same path.
const devPort = await freePort();
const dev = await startServer(process.execPath, [CLI, 'dev', `${dir}/empty`, '--port', String(devPort), '--state', `${dir}/dev-state`, '--quiet'], `http://127.0.0.1:${devPort}/_outpost/health`, {
  core: CORES.server,
  readyLine: true,
  setup: () => writeFiles(dir, { 'empty/outpost.toml': 'name = "seed"\nmain = "i.js"\n', 'empty/i.js': 'export default { fetch() { return new Response("seed"); } };' }),
});

const times: number[] = [];
for (let i = 1; i <= deploys; i++) {
  writeFiles(dir, { [`fn/v${i}.js`]: `export default { fetch() { return new Response('v${i}'); } };\n` });
  const spec: FunctionSpec = {
    name: 'target', style: 'workers-module', entry: `${dir}/fn/v${i}.js`, handlerExport: 'default', vars: {}, secrets: {}, bindings: [], routes: [], triggers: [],
    limits: { ...DEFAULT_LIMITS, concurrency: 100 }, nodeCompat: false, compatibilityFlags: [], platform: {},
  };
  const bundle = await buildFunction(spec, `${dir}/fn`);
  const body = JSON.stringify({ project: 'target', functions: [{ manifest: { ...spec, entry: `v${i}.js` }, bundle: Buffer.from(bundle.code).toString('base64'), sourceMap: Buffer.from(bundle.map).toString('base64'), digest: bundle.digest }] });
  const t0 = performance.now();
  const r = await fetch(`http://127.0.0.1:${devPort}/_outpost/api/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!r.ok) throw new Error(`deploy failed: ${await r.text()}`);
  await r.arrayBuffer();
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${devPort}/target/`);
    if ((await res.text()) === `v${i}`) break;
  }
  times.push(performance.now() - t0);
}
await dev.stop();

const workerdTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const wport = await freePort();
  writeFiles(dir, {
    'workerd/w.js': `export default { fetch() { return new Response('w${i}'); } };\n`,
    'workerd/config.capnp': `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = ( services = [ (name = "main", worker = .w) ], sockets = [ ( name = "http", address = "127.0.0.1:${wport}", http = (), service = "main" ) ] );
const w :Workerd.Worker = ( modules = [ (name = "w.js", esModule = embed "w.js") ], compatibilityDate = "2025-06-01" );
`,
  });
  const t0 = performance.now();
  const w = await startServer(WORKERD, ['serve', `${dir}/workerd/config.capnp`], `http://127.0.0.1:${wport}/`, { core: CORES.server });
  workerdTimes.push(performance.now() - t0);
  await w.stop();
}
cleanup(dir);

console.log(`\n### Deploy to serving (${deploys} deploys of a small function to a running node)\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(
  table(['case', 'p50 ms', 'p99 ms'], [
    ['outpost: deploy request → first response of the new version', median(times).toFixed(1), percentile(times, 99).toFixed(1)],
    ['workerd: restart → first response (1 worker)', median(workerdTimes).toFixed(1), percentile(workerdTimes, 99).toFixed(1)],
  ]),
);
