// Deno Deploy projects under `outpost dev`, unchanged: Deno.serve overloads and info.remoteAddr,
// Deno.env, Deno KV (ordering, list selectors, atomic checks that a concurrent writer defeats,
// sum, expireIn, versionstamps, one database per function), Deno.cron through the cron trigger,
// and std `serve` imported from its deno.land URL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Running } from './helpers.ts';
import { eventually, startOutpost, tempDir, writeProject } from './helpers.ts';

const MAIN = `const kv = await Deno.openKv();
let cronRuns = 0;
Deno.cron("count runs", "*/30 * * * *", async () => {
  cronRuns++;
  await kv.atomic().sum(["cron-runs"], 1n).commit();
});
const json = (v: unknown) => new Response(JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x), { headers: { "content-type": "application/json" } });

const server = Deno.serve({ port: 8080, hostname: "0.0.0.0", onListen: () => {} }, async (req, info) => {
  const url = new URL(req.url);
  switch (url.pathname) {
    case "/whoami":
      return json({ remote: info.remoteAddr, env: Deno.env.get("APP_MODE") ?? null, region: Deno.env.get("DENO_REGION"), addr: server.addr.port, main: import.meta.main });
    case "/order": {
      const parts = [true, 3n, 2.5, "b", new Uint8Array([7]), false, -1n, "a", -10];
      for (const p of parts) await kv.set(["order", p], String(p));
      const keys = [];
      for await (const e of kv.list({ prefix: ["order"] })) keys.push(e.key[1] instanceof Uint8Array ? "bytes" : typeof e.key[1] + ":" + String(e.key[1]));
      return json(keys);
    }
    case "/select": {
      for (const n of [1, 2, 3, 4, 5]) await kv.set(["s", n], n);
      const take = async (iter: Deno.KvListIterator<unknown>) => { const out = []; for await (const e of iter) out.push(e.value); return out; };
      const page = kv.list({ prefix: ["s"] }, { limit: 2 });
      const first = await take(page);
      return json({
        range: await take(kv.list({ start: ["s", 2], end: ["s", 4] })),
        reverse: await take(kv.list({ prefix: ["s"] }, { reverse: true, limit: 3 })),
        fromStart: await take(kv.list({ prefix: ["s"], start: ["s", 4] })),
        first,
        rest: await take(kv.list({ prefix: ["s"] }, { cursor: page.cursor })),
      });
    }
    case "/race": {
      await kv.set(["acct"], 100);
      const seen = await kv.get(["acct"]);
      // A second writer commits between the read and our commit.
      await kv.set(["acct"], 50);
      const stale = await kv.atomic().check(seen).set(["acct"], 90).set(["audit"], "debit").commit();
      const now = await kv.get(["acct"]);
      const fresh = await kv.atomic().check(now).set(["acct"], 40).commit();
      return json({ stale, audit: (await kv.get(["audit"])).value, freshOk: fresh.ok, value: (await kv.get(["acct"])).value, stamps: [seen.versionstamp, now.versionstamp, fresh.ok ? fresh.versionstamp : null] });
    }
    case "/hits": {
      await kv.atomic().sum(["hits"], 1n).commit();
      const v = (await kv.get(["hits"])).value as Deno.KvU64;
      return json({ hits: v.value, isU64: v instanceof Deno.KvU64 });
    }
    case "/expire":
      if (req.method === "POST") { await kv.set(["temp"], "soon gone", { expireIn: 50 }); return json({ set: true }); }
      return json({ value: (await kv.get(["temp"])).value });
    case "/cron-runs":
      return json({ inMemory: cronRuns, stored: (await kv.get(["cron-runs"])).value?.value ?? 0n });
    case "/throw":
      throw new Error("handler failed");
  }
  return new Response("Not Found", { status: 404 });
});
`;

const STD = `import { serve } from "https://deno.land/std@0.177.0/http/server.ts";
serve((req, conn) => new Response(\`std \${new URL(req.url).pathname} \${conn.remoteAddr.hostname}\`), { port: 8000 });
`;

describe('Deno Deploy projects', () => {
  let node: Running;
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  before(async () => {
    const project = await writeProject(t, {
      'deno.json': JSON.stringify({ tasks: { dev: 'deno run -A --unstable-kv --env-file main.ts' }, unstable: ['kv', 'cron'] }),
      '.env': 'APP_MODE=testing\n',
      'main.ts': MAIN,
    });
    node = await startOutpost(t, ['dev', project, '--port', '0', '--state', await tempDir(t), '--quiet']);
  });

  const get = async (path: string, init?: RequestInit): Promise<unknown> => {
    const res = await fetch(`${node.url}${path}`, init);
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    return res.json();
  };

  test('Deno.serve with options + handler: info.remoteAddr, Deno.env, server.addr, import.meta.main', async () => {
    const body = await get('/whoami', { headers: { 'x-forwarded-for': '203.0.113.50' } });
    assert.deepEqual(body, { remote: { transport: 'tcp', hostname: '203.0.113.50', port: 0 }, env: 'testing', region: 'local', addr: 8080, main: true });
    assert.equal((await fetch(`${node.url}/nope`)).status, 404);
    assert.equal((await fetch(`${node.url}/throw`)).status, 500);
  });

  test('Deno KV orders keys by type, then value', async () => {
    assert.deepEqual(await get('/order'), ['bytes', 'string:a', 'string:b', 'number:-10', 'number:2.5', 'bigint:-1', 'bigint:3', 'boolean:false', 'boolean:true']);
  });

  test('Deno KV list selectors: start/end, reverse + limit, prefix + start, cursor', async () => {
    assert.deepEqual(await get('/select'), { range: [2, 3], reverse: [5, 4, 3], fromStart: [4, 5], first: [1, 2], rest: [3, 4, 5] });
  });

  test('atomic: a concurrent write makes the check fail and nothing is applied; versionstamps increase', async () => {
    const body = await get('/race') as { stale: unknown; audit: unknown; freshOk: boolean; value: number; stamps: string[] };
    assert.deepEqual(body.stale, { ok: false });
    assert.equal(body.audit, null);
    assert.equal(body.freshOk, true);
    assert.equal(body.value, 40);
    for (const s of body.stamps) assert.match(s, /^[0-9a-f]{20}$/);
    assert.deepEqual([...body.stamps].sort(), body.stamps);
  });

  test('sum on a KvU64 counter, concurrently, loses nothing', async () => {
    await Promise.all(Array.from({ length: 10 }, () => get('/hits')));
    const last = await get('/hits') as { hits: string; isU64: boolean };
    assert.equal(last.hits, '11');
    assert.equal(last.isU64, true);
  });

  test('expireIn: the value is gone once it expires', async () => {
    await get('/expire', { method: 'POST' });
    await eventually(async () => ((await get('/expire')) as { value: unknown }).value === null || undefined, 10_000, 'expiry');
  });

  test('Deno.cron: the scheduler runs the registered job (dev /__scheduled)', async () => {
    const res = await fetch(`${node.url}/__scheduled?cron=${encodeURIComponent('*/30 * * * *')}`);
    assert.equal(res.status, 200, await res.text());
    assert.deepEqual(await get('/cron-runs'), { inMemory: 1, stored: '1' });
  });
});

test('std serve imported from deno.land runs unchanged, and each Deno function has its own KV database', async (t) => {
  const kvA = await writeProject(t, { 'deno.json': '{}', 'main.ts': 'const kv = await Deno.openKv();\nDeno.serve(async (req) => { if (req.method === "POST") await kv.set(["k"], "from a"); return Response.json((await kv.get(["k"])).value); });\n' }, `${await tempDir(t)}/app-a`);
  const kvB = await writeProject(t, { 'deno.json': '{}', 'main.ts': 'const kv = await Deno.openKv();\nDeno.serve(async () => Response.json((await kv.get(["k"])).value));\n' }, `${await tempDir(t)}/app-b`);
  const std = await writeProject(t, { 'deno.json': '{}', 'main.ts': STD }, `${await tempDir(t)}/std-app`);
  const state = await tempDir(t);
  const node = await startOutpost(t, ['dev', std, '--port', '0', '--state', state, '--quiet']);
  const res = await fetch(`${node.url}/hello`, { headers: { 'x-forwarded-for': '192.0.2.8' } });
  assert.equal(await res.text(), 'std /hello 192.0.2.8');
  await node.stop();

  const a = await startOutpost(t, ['dev', kvA, '--port', '0', '--state', state, '--quiet']);
  assert.equal(await (await fetch(`${a.url}/`, { method: 'POST' })).json(), 'from a');
  await a.stop();
  const b = await startOutpost(t, ['dev', kvB, '--port', '0', '--state', state, '--quiet']);
  // Same state dir, so app-a is still deployed too: address each function under /<name>/.
  assert.equal(await (await fetch(`${b.url}/app-b/`)).json(), null, 'app-b does not see app-a\'s database');
  assert.equal(await (await fetch(`${b.url}/app-a/`)).json(), 'from a', 'app-a still sees its own');
});
