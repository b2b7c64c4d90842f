// End-to-end tests of the bindings through real functions on a real node: secrets (CLI, env,
// redaction, never in any output), service bindings, D1 (binding and CLI) and least privilege.
// One `outpost dev` process on loopback port 0 with a temp state dir; polling with deadlines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { CLI, REPO, eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const SECRET_1 = 'sk_live_first_9f8e7d6c5b';
const SECRET_2 = 'sk_live_second_1a2b3c4d5e';
const DEV_SECRET = 'dev-only-value-7777';
const OTHER_SECRET = 'other-function-secret-4242';

/** Runs the CLI with `input` on stdin. */
function cliWithInput(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    proc.stdin.end(input);
  });
}

const API = `
const reverse = (s) => (s === undefined ? null : s.split('').reverse().join(''));
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/secret':
        console.log('the key is', env.API_KEY, 'and dev is', env.DEV_SECRET);
        return Response.json({ key: reverse(env.API_KEY), dev: reverse(env.DEV_SECRET), plain: env.PLAIN });
      case '/throw':
        throw new Error('failed with ' + env.API_KEY);
      case '/svc': {
        const r = await env.OTHER.fetch('http://callee.internal/echo?x=1', { method: 'POST', body: 'hello', headers: { 'x-test': 'yes' } });
        return new Response(await r.text(), { status: r.status, headers: { 'x-callee': r.headers.get('x-callee') ?? '' } });
      }
      case '/svc-stream': {
        const r = await env.OTHER.fetch('http://callee.internal/stream');
        const reader = r.body.getReader();
        let chunks = 0, bytes = 0;
        for (;;) { const { done, value } = await reader.read(); if (done) break; chunks++; bytes += value.byteLength; }
        const cancelled = await env.OTHER.fetch('http://callee.internal/stream');
        const first = await cancelled.body.getReader().read();
        await cancelled.body.cancel().catch(() => {});
        return Response.json({ chunks, bytes, firstChunk: first.value.byteLength > 0, after: await (await env.OTHER.fetch('http://callee.internal/echo', { method: 'PUT', body: 'x' })).status });
      }
      case '/d1': {
        const out = {};
        await env.DB.exec('CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, data BLOB);\\nDELETE FROM users;');
        const ins = await env.DB.prepare('INSERT INTO users (name, data) VALUES (?1, ?2)').bind("Robert'); DROP TABLE users; --", new Uint8Array([1, 2])).run();
        out.insert = { success: ins.success, changes: ins.meta.changes, last_row_id: ins.meta.last_row_id, hasDuration: typeof ins.meta.duration === 'number' };
        const batch = await env.DB.batch([
          env.DB.prepare('INSERT INTO users (name) VALUES (?)').bind('ada'),
          env.DB.prepare('INSERT INTO users (name) VALUES (?)').bind('bob'),
        ]);
        out.batch = batch.map((r) => r.meta.changes);
        try {
          await env.DB.batch([env.DB.prepare('INSERT INTO users (name) VALUES (?)').bind('carl'), env.DB.prepare('INSERT INTO nope VALUES (1)')]);
        } catch (e) { out.batchError = e.message; }
        out.count = await env.DB.prepare('SELECT COUNT(*) AS n FROM users').first('n');
        out.first = await env.DB.prepare('SELECT id, name, data FROM users ORDER BY id LIMIT 1').first();
        out.all = await env.DB.prepare('SELECT name FROM users WHERE id > ? ORDER BY id').bind(1).all();
        out.raw = await env.DB.prepare('SELECT id, name FROM users ORDER BY id').raw({ columnNames: true });
        try { await env.DB.prepare('SELECT * FROM missing').all(); } catch (e) { out.error = e.message; }
        try { await env.DB.prepare('SELECT 1 AS a').first('b'); } catch (e) { out.column = e.message; }
        try { await env.DB.exec("ATTACH 'x.sqlite' AS x"); } catch (e) { out.attach = e.message; }
        return Response.json(out);
      }
      case '/cache': {
        const key = new Request('https://cache.test/item');
        const before = await caches.default.match(key);
        await caches.default.put(key, new Response('cached-body', { headers: { 'cache-control': 'max-age=60', etag: '"e1"' } }));
        const hit = await caches.default.match(key);
        const cond = await caches.default.match(new Request('https://cache.test/item', { headers: { 'if-none-match': '"e1"' } }));
        const named = await caches.open('shared');
        await named.put('https://cache.test/n', new Response('n', { headers: { 'cache-control': 'max-age=60' } }));
        await caches.default.put('https://cache.test/private', new Response('p', { headers: { 'cache-control': 'private, max-age=60' } }));
        let postError;
        try { await caches.default.put(new Request('https://cache.test/p', { method: 'POST' }), new Response('x')); } catch (e) { postError = e.message; }
        return Response.json({
          before: before !== undefined, status: hit.status, body: await hit.text(), cfStatus: hit.headers.get('cf-cache-status'), conditional: cond.status,
          private: (await caches.default.match('https://cache.test/private')) === undefined, postError,
          deleted: await caches.default.delete(key), after: (await caches.default.match(key)) === undefined,
        });
      }
      default:
        return new Response('not found', { status: 404 });
    }
  },
};`;

const CALLEE = `
export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === '/stream') {
      let n = 0;
      return new Response(new ReadableStream({ pull(c) { if (n++ < 8) c.enqueue(new Uint8Array(65536).fill(n)); else c.close(); } }));
    }
    await env.SEEN.put('last', request.method + ' ' + new URL(request.url).pathname);
    return Response.json({ method: request.method, url: request.url, header: request.headers.get('x-test'), body: await request.text(), seen: await env.SEEN.get('last') }, { status: 201, headers: { 'x-callee': 'callee' } });
  },
};`;

/** Tries every way user code has to reach what another function declared. */
const PROBE = `
export default {
  async fetch(request, env) {
    const out = { env: Object.keys(env).sort(), typeofOther: typeof env.OTHER, secret: env.API_KEY ?? null };
    const url = new URL(request.url);
    try { await fetch(url.searchParams.get('control') + '/_outpost/api/functions/api/secrets'); out.control = 'reached'; } catch (e) { out.control = e.code ?? e.message; }
    out.kv = await env.MINE.get('shared-key');
    try { await env.DB.exec("ATTACH '" + url.searchParams.get('file') + "' AS other"); out.attach = 'attached'; } catch (e) { out.attach = e.message; }
    out.tables = (await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").raw()).flat();
    out.sharedCache = (await (await caches.open('shared')).match('https://cache.test/n'))?.status ?? null;
    out.globals = ['__outpostRpc', 'rpc', 'Deno'].filter((g) => g in globalThis);
    return Response.json(out);
  },
};`;

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  const text = await r.text();
  assert.equal(r.status, 200, `${url}: ${text}`);
  return JSON.parse(text) as T;
}

test('bindings end to end: secrets, service bindings, D1, least privilege', { timeout: 120_000 }, async (t) => {
  const root = await tempDir(t, 'outpost-bindings-');
  await writeProject(t, {
    'outpost.toml': 'name = "api"\nmain = "src/index.js"\n[vars]\nPLAIN = "plain-var"\n[[services]]\nbinding = "OTHER"\nservice = "callee"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "api-db"\n',
    'src/index.js': API,
    '.dev.vars': `DEV_SECRET=${DEV_SECRET}\n`,
  }, `${root}/api`);
  await writeProject(t, {
    'outpost.toml': 'name = "callee"\nmain = "src/index.js"\n[[kv_namespaces]]\nbinding = "SEEN"\nid = "callee-ns"\n',
    'src/index.js': CALLEE,
  }, `${root}/callee`);
  await writeProject(t, {
    'outpost.toml': 'name = "probe"\nmain = "src/index.js"\n[[kv_namespaces]]\nbinding = "MINE"\nid = "probe-ns"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "probe-db"\n',
    'src/index.js': PROBE,
  }, `${root}/probe`);
  await writeProject(t, {
    'outpost.toml': 'name = "lonely"\nmain = "src/index.js"\n[[services]]\nbinding = "GONE"\nservice = "nope"\n',
    'src/index.js': 'export default { async fetch(r, env) { try { await env.GONE.fetch("http://x/"); return new Response("reached"); } catch (e) { return new Response(e.code + " " + e.message, { status: 502 }); } } };',
  }, `${root}/lonely`);
  await writeProject(t, {
    'outpost.toml': 'name = "nodey"\nmain = "src/index.js"\ncompatibility_flags = ["nodejs_compat"]\n',
    'src/index.js': 'export default { fetch: (r, env) => Response.json({ env: process.env.NODE_SECRET === env.NODE_SECRET, length: process.env.NODE_SECRET?.length ?? null }) };',
  }, `${root}/nodey`);
  const state = await tempDir(t, 'outpost-state-');
  const node: Running = await startOutpost(t, ['dev', root, '--port', '0', '--state', state]);
  const base = node.url;
  const to = ['--to', base];

  await t.test('secrets: put from stdin, injected on env, changed at once, listed by name only, deleted', async () => {
    const put = await cliWithInput(['secret', 'put', 'API_KEY', '--function', 'api', ...to], `${SECRET_1}\n`);
    assert.equal(put.code, 0, put.stderr);
    const first = await eventually(async () => {
      const r = await getJson<{ key: string | null; dev: string | null; plain: string }>(`${base}/api/secret`);
      return r.key === null ? undefined : r;
    });
    assert.equal(first.key, [...SECRET_1].reverse().join(''));
    assert.equal(first.dev, [...DEV_SECRET].reverse().join(''), '.dev.vars secrets still reach the function in dev');
    assert.equal(first.plain, 'plain-var');
    assert.equal((await cliWithInput(['secret', 'put', 'API_KEY', '--function', 'api', ...to], SECRET_2)).code, 0);
    await eventually(async () => ((await getJson<{ key: string }>(`${base}/api/secret`)).key === [...SECRET_2].reverse().join('') ? true : undefined), 10_000, 'the new secret value');
    const list = await runCli(['secret', 'list', '--function', 'api', '--json', ...to]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as Array<{ name: string }>).map((s) => s.name), ['API_KEY']);
    assert.ok(!list.stdout.includes(SECRET_2));
    const inProject = await runCli(['secret', 'list', '--json', ...to], { cwd: `${root}/api` });
    assert.deepEqual((JSON.parse(inProject.stdout) as Array<{ name: string }>).map((s) => s.name), ['API_KEY'], 'the project folder names the function, as with wrangler');
    // A function that throws with its secret in the message: the log shows [REDACTED].
    assert.equal((await fetch(`${base}/api/throw`)).status, 500);
    await node.waitFor(/\[REDACTED\]/);
    // Node-style functions see secrets in process.env too.
    assert.equal((await cliWithInput(['secret', 'put', 'NODE_SECRET', '--function', 'nodey', ...to], SECRET_1)).code, 0);
    assert.deepEqual(await eventually(async () => {
      const r = await getJson<{ env: boolean; length: number | null }>(`${base}/nodey/`);
      return r.length === null ? undefined : r;
    }), { env: true, length: SECRET_1.length });
    // Another function's secret, for the least-privilege probe below.
    assert.equal((await cliWithInput(['secret', 'put', 'API_KEY', '--function', 'callee', ...to], OTHER_SECRET)).code, 0);
    const versions = await (await fetch(`${base}/_outpost/api/functions/api/versions`)).text();
    const fn = await (await fetch(`${base}/_outpost/api/functions/api`)).text();
    for (const text of [versions, fn]) {
      assert.ok(!text.includes(DEV_SECRET) && !text.includes(SECRET_2), 'no API returns secret values');
      assert.ok(text.includes('DEV_SECRET'), 'names are still listed');
    }
  });

  await t.test('service bindings: in-process call with the callee\'s own bindings; a missing service is a clear error', async () => {
    const r = await fetch(`${base}/api/svc`);
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('x-callee'), 'callee');
    const body = (await r.json()) as Record<string, unknown>;
    assert.deepEqual(body, { method: 'POST', url: 'http://callee.internal/echo?x=1', header: 'yes', body: 'hello', seen: 'POST /echo' });
    const streamed = await getJson<{ chunks: number; bytes: number; firstChunk: boolean; after: number }>(`${base}/api/svc-stream`);
    assert.equal(streamed.bytes, 8 * 65536);
    assert.ok(streamed.chunks > 1, 'the body arrived in several chunks');
    assert.deepEqual([streamed.firstChunk, streamed.after], [true, 201]);
    const lonely = await fetch(`${base}/lonely/`);
    assert.equal(lonely.status, 502);
    assert.match(await lonely.text(), /^SERVICE_NOT_FOUND .*nope/);
  });

  await t.test('D1: prepare/bind/first/all/raw/run, batch in one transaction, exec, D1 errors, no ATTACH', async () => {
    const out = await getJson<Record<string, unknown>>(`${base}/api/d1`);
    assert.deepEqual(out['insert'], { success: true, changes: 1, last_row_id: 1, hasDuration: true });
    assert.deepEqual(out['batch'], [1, 1]);
    assert.match(String(out['batchError']), /^D1_ERROR: no such table: nope: SQLITE_ERROR/);
    assert.equal(out['count'], 3, 'the failed batch left nothing behind');
    assert.deepEqual(out['first'], { id: 1, name: "Robert'); DROP TABLE users; --", data: [1, 2] });
    const all = out['all'] as { success: boolean; results: unknown[]; meta: Record<string, unknown> };
    assert.equal(all.success, true);
    assert.deepEqual(all.results, [{ name: 'ada' }, { name: 'bob' }]);
    assert.deepEqual(Object.keys(all.meta).sort(), ['changed_db', 'changes', 'duration', 'last_row_id', 'rows_read', 'rows_written', 'size_after']);
    assert.deepEqual(out['raw'], [['id', 'name'], [1, "Robert'); DROP TABLE users; --"], [2, 'ada'], [3, 'bob']]);
    assert.match(String(out['error']), /^D1_ERROR: no such table: missing: SQLITE_ERROR/);
    assert.match(String(out['column']), /^D1_COLUMN_NOTFOUND/);
    assert.match(String(out['attach']), /^D1_EXEC_ERROR: not authorized/);

    const exec = await runCli(['d1', 'execute', 'api-db', '--command', 'SELECT name FROM users ORDER BY id; SELECT COUNT(*) AS n FROM users', '--json', ...to]);
    assert.equal(exec.code, 0, exec.stderr);
    const results = JSON.parse(exec.stdout) as Array<{ results: unknown[] }>;
    assert.deepEqual(results.map((r) => r.results), [[{ name: "Robert'); DROP TABLE users; --" }, { name: 'ada' }, { name: 'bob' }], [{ n: 3 }]]);
    const migrations = await writeProject(t, {
      '0001_create.sql': 'CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT);',
      '0002_seed.sql': "INSERT INTO items (label) VALUES ('one');\nINSERT INTO items (label) VALUES ('two');",
    });
    const apply = await runCli(['d1', 'migrations', 'apply', 'api-db', '--dir', migrations, '--json', ...to]);
    assert.equal(apply.code, 0, apply.stderr);
    assert.deepEqual((JSON.parse(apply.stdout) as { applied: string[] }).applied, ['0001_create.sql', '0002_seed.sql']);
    const again = await runCli(['d1', 'migrations', 'apply', 'api-db', '--dir', migrations, '--json', ...to]);
    assert.deepEqual(JSON.parse(again.stdout), { applied: [], skipped: 2 });
    const count = await runCli(['d1', 'execute', 'api-db', '--command', 'SELECT COUNT(*) AS n FROM items', '--json', ...to]);
    assert.deepEqual((JSON.parse(count.stdout) as Array<{ results: unknown[] }>)[0]?.results, [{ n: 2 }]);
    const bad = await runCli(['d1', 'execute', 'api-db', '--command', 'SELEC nothing', ...to]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /D1_ERROR/);
  });

  await t.test('Cache API: caches.default and caches.open inside a Worker', async () => {
    const out = await getJson<Record<string, unknown>>(`${base}/api/cache`);
    assert.deepEqual(out, { before: false, status: 200, body: 'cached-body', cfStatus: 'HIT', conditional: 304, private: true, postError: 'Cannot cache response to non-GET request.', deleted: true, after: true });
  });

  await t.test('KV CLI: namespaces, keys and wrangler-shaped bulk files through the control API', async () => {
    const create = await runCli(['kv', 'namespace', 'create', 'bulk-ns', '--json', ...to]);
    assert.equal(create.code, 0, create.stderr);
    const files = await writeProject(t, {
      'bad.json': JSON.stringify([{ key: 'a', value: '1' }, { key: 'c', value: 'x', expiration_ttl: 30 }]),
      'good.json': JSON.stringify([{ key: 'a', value: '1' }, { key: 'b', value: Buffer.from('bin').toString('base64'), base64: true, metadata: { m: 1 } }]),
      'keys.json': JSON.stringify(['a', 'b', 'z']),
    });
    const bad = await runCli(['kv', 'bulk', 'put', `${files}/bad.json`, '--namespace', 'bulk-ns', ...to]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Expiration TTL must be at least 60/);
    const empty = await runCli(['kv', 'key', 'list', '--namespace', 'bulk-ns', '--json', ...to]);
    assert.deepEqual(JSON.parse(empty.stdout), [], 'a bad bulk file writes nothing');
    assert.equal((await runCli(['kv', 'bulk', 'put', `${files}/good.json`, '--namespace', 'bulk-ns', ...to])).code, 0);
    const listed = await runCli(['kv', 'key', 'list', '--namespace', 'bulk-ns', '--json', ...to]);
    assert.deepEqual((JSON.parse(listed.stdout) as Array<{ name: string }>).map((k) => k.name), ['a', 'b']);
    assert.equal((await runCli(['kv', 'key', 'get', 'a', '--namespace', 'bulk-ns', ...to])).stdout, '1');
    const bulkGet = await runCli(['kv', 'bulk', 'get', `${files}/keys.json`, '--namespace', 'bulk-ns', ...to]);
    assert.deepEqual(JSON.parse(bulkGet.stdout), { a: '1', b: 'bin', z: null });
    assert.equal((await runCli(['kv', 'key', 'put', 'greeting', 'hi', '--namespace', 'bulk-ns', '--metadata', '{"x":1}', ...to])).code, 0);
    assert.equal((await runCli(['kv', 'key', 'delete', 'a', '--namespace', 'bulk-ns', ...to])).code, 0);
    const after = await runCli(['kv', 'key', 'list', '--namespace', 'bulk-ns', '--json', ...to]);
    assert.deepEqual((JSON.parse(after.stdout) as Array<{ name: string }>).map((k) => k.name), ['b', 'greeting']);
    const namespaces = await runCli(['kv', 'namespace', 'list', '--json', ...to]);
    const ids = (JSON.parse(namespaces.stdout) as Array<{ id: string }>).map((n) => n.id);
    assert.ok(ids.includes('bulk-ns') && ids.includes('callee-ns'), ids.join(','));
  });

  await t.test('least privilege: a function reaches only what it declared', async () => {
    const r = await getJson<Record<string, unknown>>(`${base}/probe/?control=${encodeURIComponent(base)}&file=${encodeURIComponent(`${state}/d1/api-db.sqlite`)}`);
    assert.deepEqual(r['env'], ['DB', 'MINE']);
    assert.equal(r['typeofOther'], 'undefined');
    assert.equal(r['secret'], null);
    assert.equal(r['control'], 'EGRESS_DENIED');
    assert.equal(r['kv'], null);
    assert.match(String(r['attach']), /not authorized/);
    assert.deepEqual(r['tables'], []);
    assert.deepEqual(r['globals'], []);
    assert.equal(r['sharedCache'], 200, 'named caches are shared by the functions of a node, as Workers share one per zone');
  });

  await t.test('secret delete takes effect; no secret value ever reached the node\'s output', async () => {
    const del = await runCli(['secret', 'delete', 'API_KEY', '--function', 'api', ...to]);
    assert.equal(del.code, 0, del.stderr);
    await eventually(async () => ((await getJson<{ key: string | null }>(`${base}/api/secret`)).key === null ? true : undefined), 10_000, 'the secret gone');
    const missing = await runCli(['secret', 'delete', 'API_KEY', '--function', 'api', ...to]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no secret named API_KEY/);
    const output = node.stdout() + node.stderr();
    for (const value of [SECRET_1, SECRET_2, DEV_SECRET, OTHER_SECRET]) assert.ok(!output.includes(value), `the node's output contains ${value}`);
    assert.match(output, /the key is \[REDACTED\] and dev is \[REDACTED\]/);
  });
});

test('outpost deploy never uploads .dev.vars', { timeout: 60_000 }, async (t) => {
  const state = await tempDir(t, 'outpost-state-');
  const node = await startOutpost(t, ['serve', '--port', '0', '--state', state]);
  const token = (await node.waitFor(/admin token \(shown once, keep it\): (\S+)/))[1] as string;
  const project = await writeProject(t, {
    'outpost.toml': 'name = "deployed"\nmain = "src/index.js"\n',
    'src/index.js': 'export default { fetch: (r, env) => new Response(String(env.DEV_SECRET)) };',
    '.dev.vars': `DEV_SECRET=${DEV_SECRET}\n`,
  });
  const deploy = await runCli(['deploy', project, '--to', node.url, '--token', token]);
  assert.equal(deploy.code, 0, deploy.stderr);
  assert.equal(await (await fetch(`${node.url}/deployed/`)).text(), 'undefined');
  const versions = await (await fetch(`${node.url}/_outpost/api/functions/deployed/versions`, { headers: { authorization: `Bearer ${token}` } })).text();
  assert.ok(!versions.includes(DEV_SECRET));
});
