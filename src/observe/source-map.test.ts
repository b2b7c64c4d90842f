import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as esbuild from 'esbuild';
import { StackMapper } from './source-map.ts';

const DIGEST = 'ab'.repeat(32);

test('an index.js frame maps to the line of the user source that threw', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-map-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const source = 'const a: number = 1;\nexport function boom(): never {\n  throw new Error("x" + a);\n}\n';
  await writeFile(join(dir, 'index.ts'), source);
  const out = await esbuild.build({ entryPoints: [join(dir, 'index.ts')], absWorkingDir: dir, outfile: join(dir, 'index.js'), bundle: true, write: false, format: 'esm', sourcemap: 'linked', logLevel: 'silent' });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const map = out.outputFiles.find((f) => f.path.endsWith('.map'))?.text ?? '';
  await writeFile(join(dir, 'index.js.map'), map);
  const lines = js.split('\n');
  const at = lines.findIndex((l) => l.includes('throw new Error'));
  const column = (lines[at] ?? '').indexOf('throw') + 1;
  const mapper = new StackMapper();
  await mapper.prepare(DIGEST, async () => join(dir, 'index.js.map'));
  const stack = `Error: x1\n    at boom (file:///state/blobs/bundles/${DIGEST}/index.js:${at + 1}:${column})\n    at serveHttp (file:///tmp/outpost-runtime/instance-1.mjs:4915:17)\n    at MessagePort.<anonymous> (node:internal/per_context/messageport:23:28)`;
  assert.equal(mapper.map(stack), 'Error: x1\n    at boom (index.ts:3:3)');
});

test('frames Node already mapped lose the bundle folder; other frames stay', () => {
  const mapper = new StackMapper();
  const stack = `Error: kaboom\n    at Object.fetch (/state/blobs/bundles/${DIGEST}/src/index.ts:5:11)\n    at helper (/elsewhere/lib.js:1:2)`;
  assert.equal(mapper.map(stack), 'Error: kaboom\n    at Object.fetch (src/index.ts:5:11)\n    at helper (/elsewhere/lib.js:1:2)');
  assert.equal(mapper.map(undefined), undefined);
});
