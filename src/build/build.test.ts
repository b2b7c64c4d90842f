/** @module Tests for buildFunction: TypeScript bundles and source maps, build errors with file and line, Node built-ins and nodejs_compat, remote imports, Web globals and digests. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { isOutpostError } from '../errors.ts';
import type { OutpostError } from '../errors.ts';
import { DEFAULT_LIMITS } from '../project/spec.ts';
import type { FunctionSpec } from '../project/spec.ts';
import { buildFunction } from './index.ts';
import type { BuildProblem } from './index.ts';

async function project(t: TestContext, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'outpost-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), content);
  }
  return root;
}

function spec(root: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name: 'fn',
    style: 'workers-module',
    entry: join(root, 'src/index.ts'),
    handlerExport: 'default',
    vars: {},
    secrets: {},
    bindings: [],
    routes: [],
    triggers: [],
    limits: { ...DEFAULT_LIMITS, concurrency: 100 },
    nodeCompat: false,
    compatibilityFlags: [],
    platform: {},
    ...overrides,
  };
}

const utf8 = (data: Uint8Array): string => new TextDecoder().decode(data);

/** Imports a bundle's text as an ES module. */
async function evaluate(code: Uint8Array): Promise<Record<string, unknown>> {
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as Record<string, unknown>;
}

/** Runs `build`, expecting OutpostError BUILD_FAILED; returns it and its problems. */
async function buildFails(build: Promise<unknown>): Promise<{ error: OutpostError; problems: BuildProblem[] }> {
  let caught: unknown;
  try {
    await build;
  } catch (e) {
    caught = e;
  }
  assert.ok(isOutpostError(caught, 'BUILD_FAILED'), `expected BUILD_FAILED, got ${String(caught)}`);
  const problems = caught.details?.['problems'];
  assert.ok(Array.isArray(problems), 'details.problems is a list');
  return { error: caught, problems: problems as BuildProblem[] };
}

const TS_WORKER = `interface Env { GREETING?: string }
type Handler = { fetch(request: Request, env: Env): Promise<Response> };
const greet = (name: string): string => \`hello \${name}\`;
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    return new Response(greet(new URL(request.url).searchParams.get('name') ?? 'world'));
  },
} satisfies Handler;
`;

describe('buildFunction', () => {
  test('a TypeScript Worker builds into a runnable ES module', async (t) => {
    const root = await project(t, { 'src/index.ts': TS_WORKER });
    const bundle = await buildFunction(spec(root), root);
    const mod = await evaluate(bundle.code);
    const worker = mod['default'] as { fetch(request: Request, env: object): Promise<Response> };
    const response = await worker.fetch(new Request('https://x.test/?name=outpost'), {});
    assert.equal(await response.text(), 'hello outpost');
  });

  test('the source map lists src/index.ts relative to the project, with its content', async (t) => {
    const root = await project(t, { 'src/index.ts': TS_WORKER });
    const bundle = await buildFunction(spec(root), root);
    const map = JSON.parse(utf8(bundle.map)) as { sources: string[]; sourcesContent?: string[]; mappings: string };
    assert.deepEqual(map.sources, ['src/index.ts']);
    assert.equal(map.sourcesContent?.[0], TS_WORKER);
    assert.ok(map.mappings.length > 0);
    assert.equal(utf8(bundle.code).includes(root), false, 'no absolute paths in the bundle');
  });

  test('a syntax error fails with BUILD_FAILED naming src/index.ts and the line', async (t) => {
    const root = await project(t, { 'src/index.ts': 'const ok = 1;\n\nexport default {\n  fetch() { return new Response("x" }\n};\n' });
    const { error, problems } = await buildFails(buildFunction(spec(root), root));
    assert.equal(error.status, 400);
    assert.equal(error.fault, 'user');
    assert.equal(problems[0]?.file, 'src/index.ts');
    assert.equal(problems[0]?.line, 4);
    assert.ok((problems[0]?.column ?? 0) > 1);
    assert.match(error.message, /src\/index\.ts:4:\d+: /);
  });

  test('a Web-style function importing node:fs fails, naming nodejs_compat and the importing file', async (t) => {
    const root = await project(t, {
      'src/index.ts': 'import { readme } from "./lib/files.ts";\nexport default { fetch() { return new Response(readme()); } };\n',
      'src/lib/files.ts': '// reads a file\nimport { readFileSync } from "node:fs";\nexport const readme = () => readFileSync("README.md", "utf8");\n',
    });
    const { error, problems } = await buildFails(buildFunction(spec(root), root));
    assert.match(error.message, /nodejs_compat/);
    assert.match(error.message, /src\/lib\/files\.ts:2:/);
    assert.equal(problems[0]?.file, 'src/lib/files.ts');
    assert.equal(problems[0]?.line, 2);
    assert.match(problems[0]?.message ?? '', /"node:fs" is a Node\.js built-in/);
  });

  test('built-ins without the node: prefix are refused too', async (t) => {
    const root = await project(t, { 'src/index.ts': 'import { join } from "path";\nimport "crypto";\nexport default { fetch() { return new Response(join("a", "b")); } };\n' });
    const { problems } = await buildFails(buildFunction(spec(root), root));
    assert.deepEqual(problems.map((p) => [p.file, p.line]), [['src/index.ts', 1], ['src/index.ts', 2]]);
  });

  test('with nodeCompat the same function builds and keeps node:fs as an import', async (t) => {
    const root = await project(t, {
      'src/index.ts': 'import { readme } from "./lib/files.ts";\nimport { sep } from "path";\nexport default { fetch() { return new Response(readme() + sep); } };\n',
      'src/lib/files.ts': 'import { readFileSync } from "node:fs";\nexport const readme = () => readFileSync("README.md", "utf8");\n',
    });
    const bundle = await buildFunction(spec(root, { nodeCompat: true }), root);
    const code = utf8(bundle.code);
    assert.match(code, /import\s*\{[^}]*readFileSync[^}]*\}\s*from\s*"node:fs"/);
    assert.match(code, /from\s*"path"/);
    assert.equal(code.includes('function readFileSync'), false, 'the built-in is not bundled');
  });

  test('a remote https:// import fails with a clear message', async (t) => {
    const root = await project(t, { 'src/index.ts': 'import { serve } from "https://deno.land/std@0.200.0/http/server.ts";\nexport default { fetch: serve };\n' });
    const { error, problems } = await buildFails(buildFunction(spec(root), root));
    assert.match(error.message, /remote import https:\/\/deno\.land\/std@0\.200\.0\/http\/server\.ts cannot be fetched/);
    assert.match(error.message, /Vendor the module/);
    assert.equal(problems[0]?.file, 'src/index.ts');
    assert.equal(problems[0]?.line, 1);
  });

  test('Buffer and setImmediate compile to undefined in a Web-style bundle, not with nodeCompat', async (t) => {
    const root = await project(t, {
      'src/index.ts': 'export const seen = [typeof Buffer, typeof setImmediate, typeof clearImmediate, process.env.NODE_ENV];\nexport default { fetch() { return new Response("ok"); } };\n',
    });
    const web = await evaluate((await buildFunction(spec(root), root)).code);
    assert.deepEqual(web['seen'], ['undefined', 'undefined', 'undefined', 'production']);
    const node = await evaluate((await buildFunction(spec(root, { nodeCompat: true }), root)).code);
    assert.deepEqual(node['seen'], ['function', 'function', 'function', 'production']);
  });

  test('package exports resolve with the worker condition for Web-style and node for nodeCompat', async (t) => {
    const root = await project(t, {
      'src/index.ts': 'import { where } from "dual";\nexport const seen = where;\nexport default { fetch() { return new Response(where); } };\n',
      'node_modules/dual/package.json': JSON.stringify({ name: 'dual', exports: { '.': { workerd: './worker.js', node: './node.js', default: './default.js' } } }),
      'node_modules/dual/worker.js': 'export const where = "worker";\n',
      'node_modules/dual/node.js': 'export const where = "node";\n',
      'node_modules/dual/default.js': 'export const where = "default";\n',
    });
    assert.equal((await evaluate((await buildFunction(spec(root), root)).code))['seen'], 'worker');
    assert.equal((await evaluate((await buildFunction(spec(root, { nodeCompat: true }), root)).code))['seen'], 'node');
  });

  test('an npm package that shares a built-in\'s name is bundled for a Web-style function', async (t) => {
    const root = await project(t, {
      'src/index.ts': 'import { EventEmitter } from "events";\nexport const seen = new EventEmitter().kind;\nexport default { fetch() { return new Response("ok"); } };\n',
      'node_modules/events/package.json': JSON.stringify({ name: 'events', main: 'events.js' }),
      'node_modules/events/events.js': 'export class EventEmitter { kind = "npm-events"; }\n',
    });
    const mod = await evaluate((await buildFunction(spec(root), root)).code);
    assert.equal(mod['seen'], 'npm-events');
  });

  test('the digest is the sha-256 of the code, stable for identical input and different when the source changes', async (t) => {
    const root = await project(t, { 'src/index.ts': TS_WORKER });
    const a = await buildFunction(spec(root), root);
    const b = await buildFunction(spec(root), root);
    assert.match(a.digest, /^[0-9a-f]{64}$/);
    assert.equal(a.digest, createHash('sha256').update(a.code).digest('hex'));
    assert.equal(b.digest, a.digest);
    const elsewhere = await project(t, { 'src/index.ts': TS_WORKER });
    assert.equal((await buildFunction(spec(elsewhere), elsewhere)).digest, a.digest, 'the same source in another folder has the same digest');
    await writeFile(join(root, 'src/index.ts'), TS_WORKER.replace('hello', 'howdy'));
    const c = await buildFunction(spec(root), root);
    assert.notEqual(c.digest, a.digest);
  });
});
