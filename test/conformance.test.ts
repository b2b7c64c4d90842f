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
    // The AWS line follows the ready line; wait for it rather than racing it.
    const aws = (await node.waitFor(/aws api on (http:\/\/\S+)/, 5_000).catch(() => undefined))?.[1] ?? 'http://127.0.0.1:9';
    const result = await replay(dir, node.url, aws);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /\d+ passed, 0 failed/);
  });
}
