/**
 * @module
 * `npm run bench`: every benchmark in turn, each with its baseline in the same run; the
 * markdown tables they print are what docs/BENCHMARKS.md records. Pass names to run a subset:
 * `npm run bench -- throughput cold-start`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ALL = [
  'throughput', 'adapters', 'cold-start', 'cold-start-storm', 'memory', 'deploy', 'queues', 'workflows', 's3', 'kv',
  'observability', 'logs', 'dashboard', 'gateway-policies', 'edge-auth', 'versions', 'store-nats', 'fleet', 'region-routing',
];
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ALL;
let failed = false;
for (const name of chosen) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(file)) {
    console.error(`no benchmark named ${name} (have: ${ALL.join(', ')})`);
    failed = true;
    continue;
  }
  console.error(`\n▶ ${name}`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
