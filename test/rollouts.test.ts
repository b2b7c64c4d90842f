// Versions, aliases, weighted splits with affinity, overrides and automatic rollouts, through
// the real CLI and real HTTP on a `serve` node.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { eventually, runCli, startOutpost, tempDir, worker, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const labelled = (label: string) => `export default { async fetch() { return new Response('${label}'); } };`;

async function node(t: TestContext): Promise<{ node: Running; token: string; remote: string[] }> {
  const n = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0', '--quiet']);
  const token = (await n.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  return { node: n, token, remote: ['--to', n.url, '--token', token] };
}

/** Deploys `labels[0]` live, then uploads the others without serving them (versions 2, 3, …). */
async function versions(t: TestContext, remote: string[], name: string, labels: string[]): Promise<string> {
  const project = await writeProject(t, worker(name, labelled(labels[0] ?? 'v1')));
  const first = await runCli(['deploy', project, ...remote]);
  assert.equal(first.code, 0, first.stderr);
  for (const label of labels.slice(1)) {
    await writeFile(join(project, 'src/index.ts'), labelled(label));
    const up = await runCli(['versions', 'upload', project, ...remote]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /uploaded; live still serves @1/);
  }
  return project;
}

async function fetchText(url: string, headers: Record<string, string> = {}): Promise<string> {
  return (await fetch(url, { headers })).text();
}

test('a 10/90 split holds over 10,000 requests, and each client keeps its version', async (t) => {
  const { node: n, token, remote } = await node(t);
  await versions(t, remote, 'split', ['v1', 'v2']);
  assert.equal(await fetchText(`${n.url}/split/`), 'v1', 'an upload does not change what live serves');

  const set = await runCli(['versions', 'deploy', 'split@2=10%', 'split@1=90%', ...remote]);
  assert.equal(set.code, 0, set.stderr);
  const aliases = (await (await fetch(`${n.url}/_outpost/api/functions/split/aliases`, { headers: { authorization: `Bearer ${token}` } })).json()) as unknown;
  assert.deepEqual(aliases, { aliases: [{ name: 'live', versions: [{ version: 2, weight: 10 }, { version: 1, weight: 90 }] }] });

  // 10,000 clients, each with its own version key. The share of v2 is binomial(10000, 0.1):
  // sd = sqrt(10000 · 0.1 · 0.9) = 30 requests = 0.3 %, so ±2 % (200 requests) is 6.7 sd — a
  // correct split never fails it, a wrong one (say 15/85 or 5/95) always does.
  const counts = new Map<string, number>();
  const total = 10_000;
  for (let i = 0; i < total; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => fetchText(`${n.url}/split/`, { 'cloudflare-workers-version-key': `client-${i + j}` })));
    for (const body of batch) counts.set(body, (counts.get(body) ?? 0) + 1);
  }
  const share = (counts.get('v2') ?? 0) / total;
  assert.equal((counts.get('v1') ?? 0) + (counts.get('v2') ?? 0), total);
  assert.ok(Math.abs(share - 0.1) <= 0.02, `v2 served ${(share * 100).toFixed(2)} % of requests`);

  // The same key gets the same version 200 times.
  const first = await fetchText(`${n.url}/split/`, { 'cloudflare-workers-version-key': 'client-7' });
  for (let i = 0; i < 200; i++) assert.equal(await fetchText(`${n.url}/split/`, { 'cloudflare-workers-version-key': 'client-7' }), first);

  // Without a key the gateway sets a cookie, and the cookie keeps the version.
  const fresh = await fetch(`${n.url}/split/`);
  const cookie = (fresh.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  assert.match(cookie, /^outpost-vk=/);
  const served = await fresh.text();
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${n.url}/split/`, { headers: { cookie } });
    assert.equal(r.headers.get('set-cookie'), null);
    assert.equal(await r.text(), served);
  }
});

test('the version override is honoured only with the node token', async (t) => {
  const { node: n, token, remote } = await node(t);
  await versions(t, remote, 'pinned', ['v1', 'v2']);
  assert.equal((await runCli(['versions', 'deploy', 'pinned@2=50%', 'pinned@1=50%', ...remote])).code, 0);
  // A client whose key hashes to v1.
  let key = '';
  for (let i = 0; key === ''; i++) if ((await fetchText(`${n.url}/pinned/`, { 'cloudflare-workers-version-key': `k${i}` })) === 'v1') key = `k${i}`;
  const override = { 'cloudflare-workers-version-key': key, 'cloudflare-workers-version-overrides': 'pinned="2"' };
  assert.equal(await fetchText(`${n.url}/pinned/`, override), 'v1', 'no token: ignored');
  assert.equal(await fetchText(`${n.url}/pinned/`, { ...override, authorization: 'Bearer op_000000000000_nope' }), 'v1', 'a wrong token: ignored');
  assert.equal(await fetchText(`${n.url}/pinned/`, { ...override, authorization: `Bearer ${token}` }), 'v2');
});

test('aliases: invalid splits change nothing, other aliases answer under /<fn>@<alias>/, deploy and rollback move live', async (t) => {
  const { node: n, remote } = await node(t);
  const project = await versions(t, remote, 'aliased', ['v1', 'v2', 'v3']);

  const refused = [
    ['aliased', 'live', '2=50%', '1=40%'],
    ['aliased', 'live', '9'],
    ['aliased', 'live', '1=20%', '2=20%', '3=20%', '1=20%', '2=20%'],
  ];
  for (const args of refused) {
    const r = await runCli(['aliases', 'set', ...args, ...remote]);
    assert.equal(r.code, 1, `${args.join(' ')} should be refused`);
    assert.match(r.stderr, /alias live of aliased was not changed/);
  }
  assert.equal(await fetchText(`${n.url}/aliased/`), 'v1', 'a refused change leaves live alone');

  assert.equal((await runCli(['aliases', 'set', 'aliased', 'staging', '3', ...remote])).code, 0);
  assert.equal(await fetchText(`${n.url}/aliased@staging/`), 'v3');
  assert.equal(await fetchText(`${n.url}/aliased/`), 'v1');
  const ls = JSON.parse((await runCli(['aliases', 'ls', 'aliased', ...remote, '--json'])).stdout) as { aliases: Array<{ name: string }> };
  assert.deepEqual(ls.aliases.map((a) => a.name), ['live', 'staging']);
  const listed = (await runCli(['versions', 'aliased', ...remote])).stdout;
  assert.match(listed, /^\* v1 .* live$/m);
  assert.match(listed, /^ {2}v3 .* staging$/m);

  assert.equal((await runCli(['aliases', 'delete', 'aliased', 'staging', ...remote])).code, 0);
  await eventually(async () => ((await fetch(`${n.url}/aliased@staging/`)).status === 404 ? true : undefined));
  assert.equal((await runCli(['aliases', 'delete', 'aliased', 'live', ...remote])).code, 1, 'live cannot be deleted');

  // A deploy points live at the new version alone; a rollback points it back.
  assert.equal((await runCli(['versions', 'deploy', 'aliased@3=50%', 'aliased@2=50%', ...remote])).code, 0);
  await writeFile(join(project, 'src/index.ts'), labelled('v4'));
  assert.match((await runCli(['deploy', project, ...remote])).stdout, /aliased@4 is live/);
  assert.equal(await fetchText(`${n.url}/aliased/`), 'v4');
  assert.equal((await runCli(['rollback', 'aliased', '--version', '2', ...remote])).code, 0);
  assert.equal(await fetchText(`${n.url}/aliased/`), 'v2');
});

/** Sends requests (as new clients) while `done` is polled beside them, until it says stop. */
async function traffic(url: string, done: () => Promise<boolean>): Promise<void> {
  let stop = false;
  const load = (async () => {
    while (!stop) await Promise.all(Array.from({ length: 10 }, () => fetch(url).then((r) => r.arrayBuffer())));
  })();
  try {
    await eventually(async () => ((await done()) ? true : undefined), 30_000, 'the rollout to end');
  } finally {
    stop = true;
    await load;
  }
}

async function rolloutState(remote: string[], fn: string): Promise<{ state: string; log: Array<{ message: string }> }> {
  const r = await runCli(['rollout', 'status', fn, ...remote, '--json']);
  return (JSON.parse(r.stdout) as { rollout: { state: string; log: Array<{ message: string }> } }).rollout;
}

test('a rollout halts and rolls back by itself when the new version throws', async (t) => {
  const { node: n, token, remote } = await node(t);
  const project = await writeProject(t, worker('risky', labelled('v1')));
  assert.equal((await runCli(['deploy', project, ...remote])).code, 0);
  // v2 throws on about 40 % of requests.
  await writeFile(join(project, 'src/index.ts'), `export default { async fetch() { if (Math.random() < 0.4) throw new Error('flaky'); return new Response('v2'); } };`);
  assert.equal((await runCli(['versions', 'upload', project, ...remote])).code, 0);

  const start = await runCli(['rollout', 'risky', '--to', '2', '--steps', '50,100', '--every', '2s', '--min-requests', '20', '--max-error-rate-increase', '0.1', ...remote]);
  assert.equal(start.code, 0, start.stderr);
  let status = { state: 'running', log: [] as Array<{ message: string }> };
  await traffic(`${n.url}/risky/`, async () => {
    status = await rolloutState(remote, 'risky');
    return status.state !== 'running';
  });
  assert.equal(status.state, 'rolled-back', JSON.stringify(status.log));
  assert.match(status.log.map((l) => l.message).join('\n'), /rolled back to v1: v2 is worse: error rate/);
  const { aliases } = (await (await fetch(`${n.url}/_outpost/api/functions/risky/aliases`, { headers: { authorization: `Bearer ${token}` } })).json()) as { aliases: unknown };
  assert.deepEqual(aliases, [{ name: 'live', versions: [{ version: 1, weight: 100 }] }]);
  await eventually(async () => {
    for (let i = 0; i < 20; i++) if ((await fetchText(`${n.url}/risky/`)) !== 'v1') return undefined;
    return true;
  });
});

test('a healthy rollout steps through to 100 % and is logged', async (t) => {
  const { node: n, remote } = await node(t);
  await versions(t, remote, 'steady', ['v1', 'v2']);
  const refused = await runCli(['rollout', 'steady', '--to', '2', '--steps', '50,20', ...remote]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /steps must rise[\s\S]*last step must be 100/);

  const start = await runCli(['rollout', 'steady', '--to', '2', '--steps', '30,100', '--every', '300ms', ...remote]);
  assert.equal(start.code, 0, start.stderr);
  let status = { state: 'running', log: [] as Array<{ message: string }> };
  await traffic(`${n.url}/steady/`, async () => {
    status = await rolloutState(remote, 'steady');
    return status.state !== 'running';
  });
  assert.equal(status.state, 'done', JSON.stringify(status.log));
  assert.deepEqual(
    status.log.map((l) => l.message.replace(/ every .*/, '')),
    ['planned: steady v1 → v2 in steps 30, 100 %', 'step 1/2: v2 takes 30 %', 'step 2/2: v2 takes 100 %', 'done: v2 serves 100 %'],
  );
  assert.equal(await fetchText(`${n.url}/steady/`), 'v2');
  const text = await runCli(['rollout', 'status', 'steady', ...remote]);
  assert.match(text.stdout, /steady: v1 → v2 {2}done/);
});

test('service-binding calls follow live\'s split like any other caller', async (t) => {
  const { node: n, remote } = await node(t);
  await versions(t, remote, 'callee', ['v1', 'v2']);
  const caller = await writeProject(t, worker('caller', 'export default { async fetch(request, env) { return env.CALLEE.fetch(request); } };', '[[services]]\nbinding = "CALLEE"\nservice = "callee"\n'));
  const deployed = await runCli(['deploy', caller, ...remote]);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.equal(await fetchText(`${n.url}/caller/`), 'v1');
  const set = await runCli(['versions', 'deploy', 'callee@2=50%', 'callee@1=50%', ...remote]);
  assert.equal(set.code, 0, set.stderr);
  // 200 calls at 50/50: P(all on one version) = 2 · 0.5^200, never in practice.
  const seen = await eventually(async () => {
    const bodies = new Set(await Promise.all(Array.from({ length: 200 }, () => fetchText(`${n.url}/caller/`))));
    return bodies.size === 2 ? bodies : undefined;
  }, 10_000, 'both versions reached through the binding');
  assert.deepEqual([...seen].sort(), ['v1', 'v2']);
});
