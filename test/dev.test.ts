// `outpost dev`: serves a project at the root, reloads on save, keeps the last good version
// when a save breaks the build, and reads .dev.vars.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, REPO, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';

test('hot reload on save; a broken save keeps the last good version', async (t) => {
  const project = await writeProject(t, {
    'wrangler.toml': 'name = "reloader"\nmain = "src/index.ts"\n[vars]\nGREETING = "hi"\n',
    '.dev.vars': 'SECRET="from dev vars"\n',
    'src/index.ts': 'export default { fetch(_r: Request, env: { GREETING: string; SECRET: string }) { return new Response(`v1 ${env.GREETING} ${env.SECRET}`); } };',
  });
  const node = await startOutpost(t, ['dev', project, '--port', '0', '--state', await tempDir(t)]);
  assert.equal(await (await fetch(`${node.url}/`)).text(), 'v1 hi from dev vars', 'a lone project is served at the root');

  await writeFile(join(project, 'src/index.ts'), 'export default { fetch() { return new Response("v2"); } };');
  await eventually(async () => ((await (await fetch(`${node.url}/`)).text()) === 'v2' ? true : undefined), 15_000, 'the reload');
  await node.waitFor(/reloaded reloader@2/);

  const from = node.stdout().length + node.stderr().length;
  await writeFile(join(project, 'src/index.ts'), 'export default { fetch() { return new Response("v3" }; };');
  await node.waitFor(/src\/index\.ts:1:\d+/, 15_000, from);
  assert.equal(await (await fetch(`${node.url}/`)).text(), 'v2', 'the last good version keeps serving');
});

test('dev needs no token on loopback; the CLI manages what dev serves', async (t) => {
  const project = await writeProject(t, { 'outpost.toml': 'name = "plain"\nmain = "i.js"\n', 'i.js': 'export default { fetch() { return new Response("plain"); } };' });
  const node = await startOutpost(t, ['dev', project, '--port', '0', '--state', await tempDir(t), '--quiet']);
  const ls = await runCli(['ls', '--to', node.url]);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /plain\s+v1/);
  const invoked = await runCli(['invoke', 'plain', '--to', node.url, '--path', '/x']);
  assert.equal(invoked.code, 0, invoked.stderr);
  assert.match(invoked.stdout, /^200\nplain/);
});

test('a folder with no project is a usage error, exit code 2', async () => {
  const result = await runCli(['dev', join(import.meta.dirname, 'no-such-dir'), '--port', '0']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /no project found/);
});

test('an invalid config lists every problem with file and key, exit code 1', async (t) => {
  const project = await writeProject(t, { 'wrangler.toml': 'name = "Bad Name!"\nmain = "missing.ts"\nvars = 3\n' });
  const result = await runCli(['deploy', project, '--to', 'http://127.0.0.1:9']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /wrangler\.toml: name: "Bad Name!" is not valid/);
  assert.match(result.stderr, /wrangler\.toml: vars: expected a table/);
  assert.match(result.stderr, /wrangler\.toml: main: the entry file missing\.ts does not exist/);
});

test('npm start: every project under examples/ deploys, and the README tour answers', async (t) => {
  const node = await startOutpost(t, ['dev', join(REPO, 'examples'), '--port', '0', '--state', await tempDir(t), '--quiet'], { timeoutMs: 90_000 });
  assert.doesNotMatch(node.stderr(), /✘/, 'no example failed to deploy');
  assert.match(await (await fetch(`${node.url}/hello-worker/`)).text(), /Hello from Outpost/);
  assert.deepEqual(await (await fetch(`${node.url}/kv-counter/a`)).json(), { page: '/a', count: 1 });
  assert.match(await (await fetch(`${node.url}/hello?name=Ada`)).text(), /Hello, Ada!/);
  assert.equal(((await (await fetch(`${node.url}/api/hello`)).json()) as { hello: string }).hello, 'world');
  assert.equal(((await (await fetch(`${node.url}/deno-app/visits`)).json()) as { visits: string }).visits, '1');
  assert.deepEqual(await (await fetch(`${node.url}/api/HttpHello?name=Kim`)).json(), { message: 'Hello, Kim!' });
});
