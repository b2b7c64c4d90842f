/** @module Tests for the Deno loader: fixture, entry discovery, JSONC, import maps and bad configs. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { DENO_KV_BINDING, denoCrons, detectDeno, loadDeno, taskEntry, taskEnvFile } from './deno.ts';
import { expectProblems, fixturePath, tempProject } from './testing.ts';

const SERVE = 'Deno.serve((_req) => new Response("ok"));\n';

test('deno-deploy fixture: task entry, unstable kv, catch-all route', async () => {
  const root = fixturePath('deno-deploy');
  assert.equal(await detectDeno(root), true);
  const spec = await loadDeno(root, { dev: true });
  assert.equal(spec.format, 'deno');
  assert.equal(spec.name, 'deno-deploy');
  const [fn] = spec.functions;
  assert.ok(fn);
  assert.equal(fn.name, 'deno-deploy');
  assert.equal(fn.style, 'deno');
  assert.equal(fn.entry, path.join(root, 'main.ts'));
  assert.equal(fn.handlerExport, 'Deno.serve');
  assert.deepEqual(fn.routes, [{ path: '/*', event: { kind: 'fetch' } }]);
  assert.equal(fn.nodeCompat, false);
  assert.equal(fn.limits.concurrency, 100);
  assert.equal(fn.platform['unstable'], 'kv');
});

test('task commands: flags skipped, chained commands, serve, env files', () => {
  assert.equal(taskEntry('deno run --watch -A --unstable-kv main.ts'), 'main.ts');
  assert.equal(taskEntry('deno fmt && deno run -A src/app.tsx --port 8000'), 'src/app.tsx');
  assert.equal(taskEntry('deno serve --watch server.ts'), 'server.ts');
  assert.equal(taskEntry('deno run -A npm:vite'), undefined);
  assert.equal(taskEnvFile('deno run --env-file -A main.ts'), '.env');
  assert.equal(taskEnvFile('deno run --env-file=.env.local main.ts'), '.env.local');
  assert.equal(taskEnvFile('deno run -A main.ts'), undefined);
});

test('deno.jsonc with comments, inline import map, default entry names, env file from the task', async (t) => {
  const root = await tempProject(t, {
    'deno.jsonc': `{
      // comments and trailing commas are fine
      "imports": { "@std/http": "jsr:@std/http@1", },
      "scopes": { "./vendor/": { "a": "./a.ts" } },
      "tasks": { "lint": "deno lint", "start": "deno run --env-file -A server.ts" },
    }`,
    'server.ts': SERVE,
    '.env': 'API=https://example.com\n',
  });
  const spec = await loadDeno(root, { dev: true });
  const fn = spec.functions[0];
  assert.ok(fn);
  assert.equal(fn.entry, path.join(root, 'server.ts'));
  assert.deepEqual(JSON.parse(fn.platform['importMap'] ?? ''), { imports: { '@std/http': 'jsr:@std/http@1' }, scopes: { './vendor/': { a: './a.ts' } } });
  assert.deepEqual(fn.vars, { API: 'https://example.com' });
  assert.deepEqual(spec.configFiles, ['deno.jsonc', '.env']);
});

test('entry order: deploy.entrypoint, then the usual names; deno serve modules use the default export', async (t) => {
  const deployRoot = await tempProject(t, {
    'deno.json': JSON.stringify({ deploy: { project: 'p', entrypoint: 'src/entry.ts' } }),
    'src/entry.ts': 'export default { fetch: () => new Response("hi") };\n',
    'main.ts': SERVE,
  });
  const a = (await loadDeno(deployRoot, { dev: true })).functions[0];
  assert.equal(a?.entry, path.join(deployRoot, 'src/entry.ts'));
  assert.equal(a?.handlerExport, 'default');
  const modRoot = await tempProject(t, { 'deno.json': '{}', 'mod.ts': SERVE, 'src/main.ts': SERVE });
  assert.equal((await loadDeno(modRoot, { dev: true })).functions[0]?.entry, path.join(modRoot, 'mod.ts'));
  const mapRoot = await tempProject(t, { 'deno.json': '{ "importMap": "./import_map.json" }', 'main.ts': SERVE, 'import_map.json': '{ "imports": { "x": "./x.ts" } }' });
  const m = await loadDeno(mapRoot, { dev: true });
  assert.equal(m.functions[0]?.platform['importMap'], '{"imports":{"x":"./x.ts"}}');
  assert.deepEqual(m.configFiles, ['deno.json', 'import_map.json']);
});

test('bad configs: syntax errors, missing entry, missing task script, wrong types', async (t) => {
  const syntax = await tempProject(t, { 'deno.json': '{ "tasks": { "dev": } }', 'main.ts': SERVE });
  await expectProblems(() => loadDeno(syntax, { dev: true }), [{ file: 'deno.json', key: '', message: /line 1/ }]);
  const noEntry = await tempProject(t, { 'deno.json': '{}' });
  await expectProblems(() => loadDeno(noEntry, { dev: true }), [{ file: 'deno.json', key: '', message: /no entry/ }]);
  const badTask = await tempProject(t, { 'deno.json': '{ "tasks": { "dev": "deno run -A app.ts" }, "unstable": "kv" }', 'main.ts': SERVE });
  await expectProblems(() => loadDeno(badTask, { dev: true }), [
    { file: 'deno.json', key: 'tasks.dev', message: /app\.ts does not exist/ },
    { file: 'deno.json', key: 'unstable' },
  ]);
});

test('every Deno function gets its own Deno KV database; literal Deno.cron calls become cron triggers', async (t) => {
  const root = await tempProject(t, {
    'deno.json': '{}',
    'main.ts': `${SERVE}Deno.cron("nightly cleanup", "0 3 * * *", () => {});\n// Deno.cron("commented", "* * * * *", () => {});\nDeno.cron('report', '*/15  * * * *', { backoffSchedule: [1000] }, async () => {});\n`,
  });
  const [fn] = (await loadDeno(root, { dev: true })).functions;
  assert.ok(fn);
  assert.deepEqual(fn.bindings, [{ type: 'denokv', name: DENO_KV_BINDING, database: fn.name }]);
  assert.deepEqual(fn.triggers, [{ type: 'cron', expression: '0 3 * * *' }, { type: 'cron', expression: '*/15 * * * *' }]);
  assert.deepEqual(JSON.parse(fn.platform['denoCrons'] ?? '[]'), [{ name: 'nightly cleanup', schedule: '0 3 * * *' }, { name: 'report', schedule: '*/15 * * * *' }]);
  assert.deepEqual(denoCrons('Deno.cron(name, "* * * * *", f)'), [], 'a name built at run time is not found');
});
