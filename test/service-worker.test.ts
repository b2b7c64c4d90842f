// Cloudflare Workers in service-worker syntax under `outpost dev`, unchanged: the loader detects
// the script (no default export, an `addEventListener('fetch', …)`), bindings and vars are
// globals, respondWith answers, waitUntil work finishes after the response, passThroughOnException
// falls through to the origin, and `scheduled` listeners run from the cron trigger.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { eventually, startOutpost, tempDir, writeProject } from './helpers.ts';

const SCRIPT = `
addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.pathname === '/boom') {
    event.passThroughOnException();
    throw new Error('boom');
  }
  if (url.pathname === '/later' || url.pathname === '/cron') {
    event.respondWith(STORE.get(url.pathname.slice(1)).then((v) => new Response(v ?? 'none')));
    return;
  }
  event.waitUntil(STORE.put('later', 'written after ' + url.pathname));
  event.respondWith(handle(event.request));
});

async function handle(request) {
  return new Response(GREETING + ' ' + request.cf.country + ' ' + typeof process + ' ' + typeof addEventListener, { headers: { 'x-style': 'service-worker' } });
}

addEventListener('scheduled', (event) => {
  event.waitUntil(STORE.put('cron', event.cron));
});
`;

test('a service-worker script: globals, respondWith, waitUntil, passThroughOnException and scheduled', async (t) => {
  const origin = createServer((req, res) => res.end(`origin saw ${req.url}`));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => origin.close(() => resolve())));
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;

  const project = await writeProject(t, {
    'outpost.toml': `name = "sw"\nmain = "worker.js"\norigin = "${originUrl}"\n[vars]\nGREETING = "hello"\n[[kv_namespaces]]\nbinding = "STORE"\nid = "sw-store"\n[triggers]\ncrons = ["*/10 * * * *"]\n`,
    'worker.js': SCRIPT,
  });
  const node = await startOutpost(t, ['dev', project, '--port', '0', '--state', await tempDir(t), '--quiet']);

  const res = await fetch(`${node.url}/first`, { headers: { 'cf-ipcountry': 'se' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-style'), 'service-worker');
  assert.equal(await res.text(), 'hello SE undefined function');
  await eventually(async () => ((await (await fetch(`${node.url}/later`)).text()) === 'written after /first' ? true : undefined), 10_000, 'the waitUntil write');

  const boom = await fetch(`${node.url}/boom?x=1`);
  assert.equal(await boom.text(), 'origin saw /boom?x=1');

  const cron = await fetch(`${node.url}/__scheduled?cron=${encodeURIComponent('*/10 * * * *')}`);
  assert.equal(cron.status, 200, await cron.text());
  assert.equal(await (await fetch(`${node.url}/cron`)).text(), '*/10 * * * *', 'the run finished only after its waitUntil work');
});
