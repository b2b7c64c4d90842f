// Nodes on the NATS JetStream store, end to end: `outpost serve --store nats://…` deploys and
// serves with every bit of state in JetStream; a second node on the same NATS serves what the
// first deployed (and what it writes to KV) with its own empty state directory.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { sharedNatsServer } from '../src/store/nats/testing.ts';
import { eventually, runCli, startOutpost, tempDir, worker, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const nats = sharedNatsServer();
after(() => nats.stop());

/** The fleet's admin token: printed once, by the first node ever started on this NATS; kept for the file's later tests. */
let fleetToken: string | undefined;
async function adminToken(node: Running): Promise<string> {
  fleetToken ??= (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  return fleetToken;
}

const counter = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'POST') { await env.DATA.put(url.pathname, await request.text()); return new Response('stored'); }
    return new Response((await env.DATA.get(url.pathname)) ?? 'nothing at ' + url.pathname);
  },
};`;

test('a node on NATS deploys and serves; a second node on the same NATS serves the same functions and KV', async (t) => {
  const store = await nats.url();
  const first = await startOutpost(t, ['serve', '--store', store, '--name', 'node-1', '--region', 'eu-west', '--state', await tempDir(t), '--port', '0', '--quiet']);
  const token = await adminToken(first);
  const project = await writeProject(t, worker('notes', counter, '[[kv_namespaces]]\nbinding = "DATA"\nid = "notes-data"\n'));
  const deployed = await runCli(['deploy', project, '--to', first.url, '--token', token]);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.equal(await (await fetch(`${first.url}/notes/a`, { method: 'POST', body: 'from node-1' })).text(), 'stored');
  assert.equal(await (await fetch(`${first.url}/notes/a`)).text(), 'from node-1');

  // The second node starts with an empty state dir: functions, bundles, tokens and KV come from NATS.
  const second = await startOutpost(t, ['serve', '--store', store, '--name', 'node-2', '--region', 'eu-west', '--state', await tempDir(t), '--port', '0', '--quiet']);
  assert.doesNotMatch(second.stderr(), /admin token/, 'the fleet already has an admin token');
  assert.equal(await (await fetch(`${second.url}/notes/a`)).text(), 'from node-1');
  const ls = await runCli(['ls', '--to', second.url, '--token', token, '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual((JSON.parse(ls.stdout) as Array<{ name: string }>).map((f) => f.name), ['notes']);

  // A redeploy through node-2 reaches node-1 through the metadata watch.
  const v2 = await writeProject(t, worker('notes', `export default { fetch: () => new Response('v2') };`, '[[kv_namespaces]]\nbinding = "DATA"\nid = "notes-data"\n'));
  const redeployed = await runCli(['deploy', v2, '--to', second.url, '--token', token]);
  assert.equal(redeployed.code, 0, redeployed.stderr);
  await eventually(async () => ((await (await fetch(`${first.url}/notes/a`)).text()) === 'v2' ? true : undefined), 10_000, 'node-1 to serve v2');
});

test('serve refuses a --store that is not a NATS URL, and reports a NATS that does not answer', async (t) => {
  const bad = await runCli(['serve', '--store', 'redis://x:6379', '--state', await tempDir(t), '--port', '0']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /STORE_URL_INVALID|not a NATS URL/);
  const down = await runCli(['serve', '--store', 'nats://127.0.0.1:1', '--state', await tempDir(t), '--port', '0']);
  assert.notEqual(down.code, 0);
  assert.match(down.stderr, /could not connect to NATS/);
});

const jobs = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'POST') {
      const n = Number(url.searchParams.get('n'));
      await env.JOBS.sendBatch(Array.from({ length: n }, (_, i) => ({ body: { i } })));
      return new Response('sent');
    }
    const { keys } = await env.DONE.list();
    return Response.json(keys.map((k) => k.name));
  },
  async queue(batch, env) {
    for (const m of batch.messages) await env.DONE.put('job-' + m.body.i + '-attempt-' + m.attempts, 'done');
  },
};`;

const JOBS_TOML = `[[kv_namespaces]]
binding = "DONE"
id = "jobs-done"

[[queues.producers]]
binding = "JOBS"
queue = "jobs"

[[queues.consumers]]
queue = "jobs"
max_batch_size = 5
max_batch_timeout = 0
`;

test('two nodes on NATS consume one queue together: a batch sent through one node is handled once, on either node', async (t) => {
  const store = await nats.url();
  const first = await startOutpost(t, ['serve', '--store', store, '--name', 'jobs-1', '--state', await tempDir(t), '--port', '0', '--quiet']);
  const token = await adminToken(first);
  const second = await startOutpost(t, ['serve', '--store', store, '--name', 'jobs-2', '--state', await tempDir(t), '--port', '0', '--quiet']);
  const deployed = await runCli(['deploy', await writeProject(t, worker('jobs', jobs, JOBS_TOML)), '--to', first.url, '--token', token]);
  assert.equal(deployed.code, 0, deployed.stderr);
  await eventually(async () => ((await fetch(`${second.url}/jobs/`)).ok ? true : undefined), 10_000, 'node-2 to serve jobs');

  assert.equal(await (await fetch(`${second.url}/jobs/?n=30`, { method: 'POST' })).text(), 'sent');
  const done = await eventually(async () => {
    const keys = (await (await fetch(`${first.url}/jobs/`)).json()) as string[];
    return keys.length >= 30 ? keys : undefined;
  }, 20_000, 'all 30 jobs handled');
  assert.deepEqual(done.sort(), Array.from({ length: 30 }, (_, i) => `job-${i}-attempt-1`).sort(), 'each job handled once, at its first attempt');
});
