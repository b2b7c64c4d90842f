/**
 * @module
 * `npm test`: type-check, then every unit test (beside the code: src/**\/*.test.ts and
 * dashboard/src/*.test.ts) and every end-to-end test (test/*.test.ts) with Node's test runner.
 * Anything a test needs from the system is installed here first, so a fresh clone needs nothing
 * but `npm install`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

function run(label: string, command: string, args: string[]): void {
  process.stdout.write(`\n▶ ${label}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stdout.write(`✘ ${label} failed\n`);
    process.exit(result.status ?? 1);
  }
}

/**
 * Installs a Debian package when its program is missing (CI runs as root on a fresh machine).
 * `apt-get update` runs once, before the first install.
 */
let aptUpdated = false;
export function ensureDebianPackage(program: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0) return;
  if (!aptUpdated) {
    run('apt-get update', 'apt-get', ['update', '-qq']);
    aptUpdated = true;
  }
  run(`install ${pkg} (for ${program})`, 'apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg]);
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(relative(root, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

// src/store/nats/*.test.ts and test/nats-node.test.ts start their own nats-server (JetStream).
ensureDebianPackage('nats-server', 'nats-server');
// test/metrics.test.ts scrapes a node with a real Prometheus.
ensureDebianPackage('prometheus', 'prometheus');
// test/dashboard.test.ts drives Debian's Chromium.
ensureDebianPackage('chromium', 'chromium');
run('type-check (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', '.']);
run('type-check the dashboard (tsc --noEmit -p dashboard)', bin('tsc'), ['--noEmit', '-p', 'dashboard']);
run('build the dashboard (skipped when current)', process.execPath, [join(root, 'scripts', 'build-dashboard.ts')]);
const only = process.argv.slice(2);
const files = only.length > 0 ? only : [...testFiles('src'), ...testFiles('dashboard/src'), ...testFiles('test')];
run(`tests (${files.length} files)`, process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files]);
