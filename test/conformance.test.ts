// The shared acceptance fixtures, replayed unchanged by ../shared/conformance/run.mjs against
// `outpost dev`. A fixture whose capability is not built yet runs as a todo with the reason,
// so its progress stays visible without failing the suite.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FIXTURES, startOutpost, tempDir } from './helpers.ts';

const RUNNER = fileURLToPath(new URL('../../shared/conformance/run.mjs', import.meta.url));

/** Fixtures that wait for a later capability, and which one. */
const PENDING: Record<string, string> = {
  'workers-cron-queue': 'queues and cron (events capability)',
  'lambda-apigw': 'Lambda adapter (platform compatibility)',
  'sam-httpapi': 'Lambda adapter (platform compatibility)',
  'lambda-edge-ab': 'Lambda@Edge adapter (platform compatibility)',
  'vercel-edge': 'Vercel adapter (platform compatibility)',
  'deno-deploy': 'Deno adapter and Deno KV (platform compatibility)',
  'gcf-firebase': 'Google adapter (platform compatibility)',
  'azure-functions': 'Azure adapter (platform compatibility)',
  'sam-order-workflow': 'Step Functions API (workflows capability)',
};

function replay(fixture: string, base: string, aws: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [RUNNER, fixture, '--base', base, '--aws', aws], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    proc.on('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}

for (const name of readdirSync(FIXTURES, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
  const pending = PENDING[name];
  test(`fixture ${name}`, pending ? { todo: `waits for: ${pending}` } : {}, async (t) => {
    const dir = join(FIXTURES, name);
    const node = await startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(t), '--quiet']);
    const aws = /aws api on (http:\/\/\S+)/.exec(node.stdout())?.[1] ?? 'http://127.0.0.1:9';
    const result = await replay(dir, node.url, aws);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /\d+ passed, 0 failed/);
  });
}
