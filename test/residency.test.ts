// Data residency: a JetStream cluster with servers tagged by region (two in eu, one in us) and a
// node in each region. A KV namespace pinned to eu (`--pin kv:<ns>=eu`) is stored only on the eu
// servers — its bytes never reach the us server's disk — whichever node writes it; pinned with
// `:refuse`, a node of another region is turned away with DATA_RESIDENCY — so its gateway forwards
// requests for such a function to a live node of the pin's region (region routing).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startNatsCluster } from '../src/store/nats/testing.ts';
import { eventually, runCli, startOutpost, tempDir, worker, writeProject } from './helpers.ts';

const cluster = await startNatsCluster({ size: 3, tags: [['region:eu'], ['region:eu'], ['region:us']] });
after(() => cluster.stop());

let adminToken: Promise<string> | undefined;
/** The fleet's admin token: the first node started against the cluster prints it. */
const tokenOf = (node: { waitFor(pattern: RegExp): Promise<RegExpMatchArray> }): Promise<string> =>
  (adminToken ??= node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/).then((m) => m[1] as string));

/** True when any file under `dir` contains `marker`. */
async function onDisk(dir: string, marker: string): Promise<boolean> {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && (await readFile(join(entry.parentPath, entry.name))).includes(marker)) return true;
  }
  return false;
}

const regional = `export default {
  async fetch(request, env) {
    const [, binding, key] = new URL(request.url).pathname.split('/');
    try {
      if (request.method === 'PUT') { await env[binding].put(key, await request.text()); return new Response('stored'); }
      return new Response((await env[binding].get(key)) ?? 'none');
    } catch (error) {
      return new Response(String(error && error.message), { status: 403 });
    }
  },
};`;

test('a namespace pinned to a region is stored only on the servers of that region; :refuse turns other regions away', async (t) => {
  const pins = ['--pin', 'kv:eu-private=eu:refuse', '--pin', 'kv:eu-shared=eu'];
  const node = async (region: string, server: number) =>
    startOutpost(t, ['serve', '--store', cluster.urlFrom(server), '--store-replicas', '2', '--region', region, ...pins, '--name', `${region}-node`, '--state', await tempDir(t), '--port', '0', '--quiet']);
  const eu = await node('eu', 0);
  const token = await tokenOf(eu);
  const us = await node('us', 2);
  const toml = '[[kv_namespaces]]\nbinding = "PRIVATE"\nid = "eu-private"\n\n[[kv_namespaces]]\nbinding = "SHARED"\nid = "eu-shared"\n';
  const deployed = await runCli(['deploy', await writeProject(t, worker('regional', regional, toml)), '--to', eu.url, '--token', token]);
  assert.equal(deployed.code, 0, deployed.stderr);
  await eventually(async () => ((await fetch(`${us.url}/regional/SHARED/x`, { headers: { 'x-outpost-forwarded-by': 'test' } })).ok ? true : undefined), 10_000, 'the us node to serve');

  const privateValue = `private-${randomUUID()}`;
  const sharedValue = `shared-${randomUUID()}`;
  // The function binds a namespace pinned eu:refuse, so the us gateway would forward its requests
  // to eu; a request already marked as forwarded is served where it lands, which is what these
  // checks of the store itself need.
  const here = { headers: { 'x-outpost-forwarded-by': 'test' } };
  assert.equal(await (await fetch(`${eu.url}/regional/PRIVATE/k`, { method: 'PUT', body: privateValue })).text(), 'stored');
  // :proxy (the default): the us node writes and reads through NATS; the data is stored in eu.
  assert.equal(await (await fetch(`${us.url}/regional/SHARED/k`, { ...here, method: 'PUT', body: sharedValue })).text(), 'stored');
  assert.equal(await (await fetch(`${eu.url}/regional/SHARED/k`)).text(), sharedValue);
  assert.equal(await (await fetch(`${us.url}/regional/SHARED/k`, here)).text(), sharedValue);
  // :refuse: the us node may not touch it.
  const refused = await fetch(`${us.url}/regional/PRIVATE/k`, here);
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /pinned to region eu/);
  assert.equal(await (await fetch(`${eu.url}/regional/PRIVATE/k`)).text(), privateValue);

  const [eu1, eu2, usServer] = cluster.servers;
  for (const value of [privateValue, sharedValue]) {
    for (const server of [eu1, eu2]) await eventually(async () => ((await onDisk(server?.storeDir ?? '', value)) ? true : undefined), 10_000, `${value} on ${server?.name}'s disk`);
    assert.equal(await onDisk(usServer?.storeDir ?? '', value), false, `${value} reached the us server's disk`);
  }
});

const resident = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'PUT') await env.PRIVATE.put('k', await request.text());
    const value = (await env.PRIVATE.get('k')) ?? 'none';
    return new Response(value + ' ' + url.search + ' forwarded by ' + request.headers.get('x-outpost-forwarded-by'));
  },
};`;

test('requests for a function bound to a namespace pinned :refuse to another region are served by a node of that region', async (t) => {
  const pins = ['--pin', 'kv:eu-resident=eu:refuse'];
  const node = async (name: string, region: string, server: number) =>
    startOutpost(t, ['serve', '--store', cluster.urlFrom(server), '--store-replicas', '2', '--region', region, ...pins, '--name', name, '--state', await tempDir(t), '--port', '0', '--quiet']);
  const eu = await node('eu-router', 'eu', 0);
  const us = await node('us-router', 'us', 2);
  const token = await tokenOf(eu);
  const deployed = await runCli(['deploy', await writeProject(t, worker('resident', resident, '[[kv_namespaces]]\nbinding = "PRIVATE"\nid = "eu-resident"\n')), '--to', eu.url, '--token', token]);
  assert.equal(deployed.code, 0, deployed.stderr);

  // Written through the us node: method, query and body reach the eu node, which stores it in eu.
  const value = `resident-${randomUUID()}`;
  const written = await eventually(async () => {
    const r = await fetch(`${us.url}/resident/?q=1`, { method: 'PUT', body: value });
    return r.ok ? r.text() : undefined;
  }, 10_000, 'the us node to forward');
  assert.equal(written, `${value} ?q=1 forwarded by us-router`);
  assert.equal(await (await fetch(`${eu.url}/resident/`)).text(), `${value}  forwarded by null`);
  const [, , usServer] = cluster.servers;
  assert.equal(await onDisk(usServer?.storeDir ?? '', value), false, 'the value reached the us server');

  // With the eu node gone, no node may serve it: the us node says so instead of running it.
  await eu.stop();
  const unavailable = await eventually(async () => {
    const r = await fetch(`${us.url}/resident/`);
    return r.status === 503 ? r.json() : undefined;
  }, 10_000, 'the us node to answer 503');
  assert.equal((unavailable as { error: { code: string } }).error.code, 'REGION_UNAVAILABLE');
});
