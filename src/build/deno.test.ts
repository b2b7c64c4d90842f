/** @module Tests for building Deno modules: std http URLs and jsr:@std/http map to the shim, import maps, npm: specifiers, import.meta.main, unknown remotes refused. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { isOutpostError } from '../errors.ts';
import { DEFAULT_LIMITS } from '../project/spec.ts';
import type { FunctionSpec } from '../project/spec.ts';
import { compatUrl } from './compat.ts';
import { mapSpecifier, npmSpecifier } from './deno.ts';
import { buildFunction } from './index.ts';

async function project(t: TestContext, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'outpost-deno-build-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), content);
  }
  return root;
}

function denoSpec(root: string, platform: Record<string, string> = {}): FunctionSpec {
  return {
    name: 'app', style: 'deno', entry: join(root, 'main.ts'), handlerExport: 'Deno.serve', vars: {}, secrets: {}, bindings: [], routes: [], triggers: [],
    limits: { ...DEFAULT_LIMITS, concurrency: 100 }, nodeCompat: false, compatibilityFlags: [], platform: { runtime: 'deno', ...platform },
  };
}

const text = (data: Uint8Array): string => new TextDecoder().decode(data);

test('std http server URLs of any version, and jsr:@std/http, resolve to the built-in shim', () => {
  for (const url of [
    'https://deno.land/std@0.140.0/http/server.ts',
    'https://deno.land/std@0.224.0/http/server.ts',
    'https://deno.land/std/http/server.ts',
    'https://deno.land/std@0.200.0/http/mod.ts',
    'jsr:@std/http',
    'jsr:@std/http@^1.0.0',
    'jsr:@std/http@1/cookie',
  ]) assert.match(compatUrl(url) ?? '', /deno-std-http\.ts$/, url);
  assert.equal(compatUrl('https://deno.land/x/oak@v12.6.1/mod.ts'), undefined);
  assert.equal(compatUrl('https://deno.land/std@0.200.0/fs/mod.ts'), undefined);
});

test('a module importing std serve builds offline, with import.meta.main true', async (t) => {
  const root = await project(t, {
    'main.ts': `import { serve } from "https://deno.land/std@0.177.0/http/server.ts";
import { getCookies } from "jsr:@std/http@1.0.0";
export const main = import.meta.main;
serve((req) => new Response(JSON.stringify(getCookies(req.headers))), { port: 8000 });
`,
  });
  const bundle = await buildFunction(denoSpec(root), root);
  const code = text(bundle.code);
  assert.match(code, /function serve\(/);
  assert.doesNotMatch(code, /deno\.land/);
  assert.match(code, /main = true/);
});

test('the import map in deno.json applies: bare names, prefixes, files, npm:', async (t) => {
  const root = await project(t, {
    'main.ts': `import { STATUS_CODE } from "@std/http";
import { greet } from "@/lib/greet.ts";
import { double } from "helper";
Deno.serve(() => new Response(greet(String(double(STATUS_CODE.OK)))));
`,
    'src/lib/greet.ts': 'export const greet = (s: string): string => `hi ${s}`;\n',
    'node_modules/helper-pkg/package.json': JSON.stringify({ name: 'helper-pkg', main: 'index.js' }),
    'node_modules/helper-pkg/index.js': 'export const double = (n) => n * 2;\n',
  });
  const importMap = JSON.stringify({ imports: { '@std/http': 'jsr:@std/http@^1.0.0', '@/': './src/', helper: 'npm:helper-pkg@1.2.3' } });
  const code = text((await buildFunction(denoSpec(root, { importMap }), root)).code);
  assert.match(code, /hi \$\{s\}/);
  assert.match(code, /n \* 2/);
  assert.deepEqual([mapSpecifier('@/a/b.ts', [['@/', './src/']]), mapSpecifier('x', [['@/', './src/']])], ['./src/a/b.ts', undefined]);
  assert.deepEqual([npmSpecifier('npm:preact@10/hooks'), npmSpecifier('npm:@scope/pkg@^2'), npmSpecifier('npm:lodash')], ['preact/hooks', '@scope/pkg', 'lodash']);
});

test('other remote and jsr: imports stay clear build errors', async (t) => {
  const root = await project(t, { 'main.ts': 'import { Application } from "https://deno.land/x/oak@v12.6.1/mod.ts";\nconsole.log(Application);\n' });
  await assert.rejects(buildFunction(denoSpec(root), root), (e: unknown) => isOutpostError(e, 'BUILD_FAILED') && /remote import https:\/\/deno\.land\/x\/oak.*cannot be fetched/.test(e.message));
  const jsr = await project(t, { 'main.ts': 'import { assert } from "jsr:@std/assert";\nconsole.log(assert);\n' });
  await assert.rejects(buildFunction(denoSpec(jsr), jsr), (e: unknown) => isOutpostError(e, 'BUILD_FAILED') && /jsr:@std\/assert cannot be fetched/.test(e.message));
});
