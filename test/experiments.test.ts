// A/B experiments from outpost.toml on a real node: sticky assignment by cookie, the variant
// in a request header and request.cf, exposure on the invocation record, and a variant served by its version.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';

const source = (label: string) => `export default { async fetch(request) { return new Response('${label}:' + request.headers.get('x-outpost-experiment-checkout') + ':' + request.cf['experiment.checkout']); } };`;
const toml = (newVersion?: number) =>
  `name = "shop"\nmain = "src/index.ts"\n\n[[experiments]]\nname = "checkout"\nvariants = [{ name = "control", weight = 50 }, { name = "new", weight = 50${newVersion === undefined ? '' : `, version = ${newVersion}`} }]\n`;

test('experiments assign sticky variants, tell the function, log exposure and route to versions', async (t) => {
  const node = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0']);
  const token = (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  const remote = ['--to', node.url, '--token', token];
  const project = await writeProject(t, { 'outpost.toml': toml(), 'src/index.ts': source('old') });
  assert.equal((await runCli(['deploy', project, ...remote])).code, 0);

  // New clients are assigned by weight and told by cookie; the function sees the variant.
  const seen = new Map<string, string>();
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`${node.url}/shop/`);
    const variant = /^outpost-exp-checkout=(control|new);/.exec(res.headers.get('set-cookie') ?? '')?.[1];
    assert.ok(variant, 'a first visit gets the experiment cookie');
    assert.equal(await res.text(), `old:${variant}:${variant}`, 'the variant reaches the header and request.cf');
    seen.set(variant, res.headers.get('x-request-id') ?? '');
  }
  assert.deepEqual([...seen.keys()].sort(), ['control', 'new'], '40 clients at 50/50 see both variants');

  // A returning client keeps its variant and gets no new cookie.
  for (const variant of ['control', 'new']) {
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${node.url}/shop/`, { headers: { cookie: `outpost-exp-checkout=${variant}` } });
      assert.equal(res.headers.get('set-cookie'), null);
      assert.equal(await res.text(), `old:${variant}:${variant}`);
    }
  }

  // Exposure: the request's invocation record names its variant.
  const exposed = await eventually(() => {
    const line = node.stdout().split('\n').find((l) => l.includes(`"requestId":"${seen.get('new') ?? ''}"`) && l.includes('"type":"invocation"'));
    return line === undefined ? undefined : (JSON.parse(line) as { experiments?: Record<string, string> });
  });
  assert.deepEqual(exposed.experiments, { checkout: 'new' });

  // A variant with a version is served by it: v2 holds the new code, v3 (live) the old code
  // and the experiment.
  await writeFile(join(project, 'src/index.ts'), source('new-code'));
  assert.equal((await runCli(['versions', 'upload', project, ...remote])).code, 0);
  await writeFile(join(project, 'src/index.ts'), source('old-code'));
  await writeFile(join(project, 'outpost.toml'), toml(2));
  const live = await runCli(['deploy', project, ...remote]);
  assert.match(live.stdout, /shop@3 is live/);
  await eventually(async () => ((await (await fetch(`${node.url}/shop/`, { headers: { cookie: 'outpost-exp-checkout=new' } })).text()) === 'new-code:new:new' ? true : undefined));
  for (let i = 0; i < 20; i++) {
    assert.equal(await (await fetch(`${node.url}/shop/`, { headers: { cookie: 'outpost-exp-checkout=new' } })).text(), 'new-code:new:new');
    assert.equal(await (await fetch(`${node.url}/shop/`, { headers: { cookie: 'outpost-exp-checkout=control' } })).text(), 'old-code:control:control');
  }
});

test('an invalid experiment is refused by the loader and deploys nothing', async (t) => {
  const node = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0', '--quiet']);
  const token = (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  const project = await writeProject(t, {
    'outpost.toml': 'name = "shop"\nmain = "src/index.ts"\n\n[[experiments]]\nname = "checkout"\nvariants = [{ name = "a", weight = 70 }, { name = "b", weight = 20 }]\n',
    'src/index.ts': source('x'),
  });
  const r = await runCli(['deploy', project, '--to', node.url, '--token', token]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /experiments\[0\]\.variants.*weights sum to 90, not 100/);
  assert.equal((await fetch(`${node.url}/shop/`)).status, 404);
});
