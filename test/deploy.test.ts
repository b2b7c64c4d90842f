// Deploys through the control API with the real CLI: deploy → serve → redeploy → rollback,
// restarts on the same state, bad bundles rejected while the old version keeps serving.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, runCli, startOutpost, tempDir, worker, writeProject } from './helpers.ts';

const hello = (label: string) => `export default { async fetch(request) { return new Response('${label} ' + new URL(request.url).pathname); } };`;

test('deploy, redeploy, versions, rollback and restart on the same state', async (t) => {
  const state = await tempDir(t);
  const node = await startOutpost(t, ['serve', '--state', state, '--port', '0', '--quiet']);
  const token = (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  const remote = ['--to', node.url, '--token', token];
  const project = await writeProject(t, worker('greeter', hello('v1')));

  const first = await runCli(['deploy', project, ...remote]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /greeter@1 is live/);
  assert.equal(await (await fetch(`${node.url}/greeter/hi`)).text(), 'v1 /hi');

  await writeFile(join(project, 'src/index.ts'), hello('v2'));
  const second = await runCli(['deploy', project, ...remote]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /greeter@2 is live \(was @1\)/);
  assert.equal(await (await fetch(`${node.url}/greeter/hi`)).text(), 'v2 /hi');

  const again = await runCli(['deploy', project, ...remote]);
  assert.match(again.stdout, /greeter@2 unchanged/, 'an identical deploy creates no version');

  const versions = await runCli(['versions', 'greeter', ...remote, '--json']);
  const listed = JSON.parse(versions.stdout) as { active: number; versions: Array<{ version: number }> };
  assert.equal(listed.active, 2);
  assert.deepEqual(listed.versions.map((v) => v.version), [1, 2]);

  const back = await runCli(['rollback', 'greeter', ...remote]);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /now serves v1 \(was v2\)/);
  assert.equal(await (await fetch(`${node.url}/greeter/hi`)).text(), 'v1 /hi');

  const ls = JSON.parse((await runCli(['ls', ...remote, '--json'])).stdout) as Array<{ name: string; active: number }>;
  assert.deepEqual(ls.map((f) => [f.name, f.active]), [['greeter', 1]]);

  // A restarted node serves the same version from its first request.
  await node.stop();
  const restarted = await startOutpost(t, ['serve', '--state', state, '--port', '0', '--quiet']);
  assert.doesNotMatch(restarted.stderr(), /admin token/, 'the token is printed only at first start');
  assert.equal(await (await fetch(`${restarted.url}/greeter/hi`)).text(), 'v1 /hi');
  const stillValid = await runCli(['ls', '--to', restarted.url, '--token', token]);
  assert.equal(stillValid.code, 0, 'the token survives a restart');
});

test('the control API refuses calls without a valid token', async (t) => {
  const node = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0', '--quiet']);
  await node.waitFor(/admin token/);
  const none = await fetch(`${node.url}/_outpost/api/functions`);
  assert.equal(none.status, 401);
  assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  const wrong = await fetch(`${node.url}/_outpost/api/functions`, { headers: { authorization: 'Bearer op_000000000000_nope' } });
  assert.equal(wrong.status, 401);
  const cli = await runCli(['ls', '--to', node.url, '--token', 'op_000000000000_nope']);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /valid bearer token/);
});

test('a bundle that fails to build or start is rejected with file:line and the old version keeps serving', async (t) => {
  const node = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0', '--quiet']);
  const token = (await node.waitFor(/(op_\S+)/))[1] as string;
  const remote = ['--to', node.url, '--token', token];
  const project = await writeProject(t, worker('steady', hello('good')));
  assert.equal((await runCli(['deploy', project, ...remote])).code, 0);

  await writeFile(join(project, 'src/index.ts'), 'export default { async fetch() {\n  return new Response("x"\n} };\n');
  const syntax = await runCli(['deploy', project, ...remote]);
  assert.equal(syntax.code, 1);
  assert.match(syntax.stderr, /src\/index\.ts:3:\d+/, 'the syntax error names the file and line');

  await writeFile(join(project, 'src/index.ts'), 'const config = JSON.parse("{");\nexport default { fetch() { return new Response(String(config)); } };\n');
  const thrown = await runCli(['deploy', project, ...remote]);
  assert.equal(thrown.code, 1);
  assert.match(thrown.stderr, /failed to start: SyntaxError/);
  assert.match(thrown.stderr, /src\/index\.ts:1:\d+/, 'a top-level throw points at the user\'s line');

  await writeFile(join(project, 'src/index.ts'), 'export const handler = () => new Response("no default");\n');
  const shape = await runCli(['deploy', project, ...remote]);
  assert.equal(shape.code, 1);
  assert.match(shape.stderr, /no default export/);

  assert.equal(await (await fetch(`${node.url}/steady/`)).text(), 'good /');
  const versions = JSON.parse((await runCli(['versions', 'steady', ...remote, '--json'])).stdout) as { versions: unknown[] };
  assert.equal(versions.versions.length, 1, 'no version record was written for a rejected bundle');
});

test('requests in flight finish on the version they started on', async (t) => {
  // The held request waits on a loopback server the test controls; dev allows loopback egress.
  const { createServer } = await import('node:http');
  const arrived = Promise.withResolvers<() => void>();
  const gate = createServer((_req, res) => arrived.resolve(() => res.end('go')));
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', () => r()));
  t.after(() => gate.close());
  const gatePort = (gate.address() as { port: number }).port;
  const source = (label: string) =>
    `export default { async fetch(request) {
      if (new URL(request.url).pathname === '/slow') { await (await fetch('http://127.0.0.1:${gatePort}/')).text(); }
      return new Response('${label}');
    } };`;
  const project = await writeProject(t, worker('flight', source('old')));
  const node = await startOutpost(t, ['dev', project, '--port', '0', '--state', await tempDir(t), '--quiet']);
  const held = fetch(`${node.url}/slow`).then((r) => r.text());
  const release = await arrived.promise; // the old version is now blocked mid-request
  await writeFile(join(project, 'src/index.ts'), source('new'));
  await eventually(async () => ((await (await fetch(`${node.url}/`)).text()) === 'new' ? true : undefined), 15_000, 'the new version');
  release();
  assert.equal(await held, 'old');
});
