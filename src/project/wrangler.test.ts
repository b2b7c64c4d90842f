/** @module Tests for Workers projects (wrangler.toml / wrangler.jsonc / outpost.toml, .dev.vars, environments, limits, routes) through loadProject and findProjects. */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, DEFAULT_LIMITS, findProjects, loadProject } from './index.ts';
import type { FunctionSpec, ProjectSpec } from './index.ts';
import { expectProblems, tempProject } from './testing.ts';

const WORKER = 'export default { fetch() { return new Response("ok"); } };\n';

function only(spec: ProjectSpec): FunctionSpec {
  assert.equal(spec.functions.length, 1);
  const fn = spec.functions[0];
  assert.ok(fn);
  return fn;
}

const FULL_TOML = `
name = "shop"
main = "src/index.ts"
compatibility_date = "2025-01-01"

[vars]
API_URL = "https://api.example.com"
RETRIES = 3
RATIO = 0.5
DEBUG = true

[[kv_namespaces]]
binding = "CACHE"
id = "abc123"

[[kv_namespaces]]
binding = "SESSIONS"

[[r2_buckets]]
binding = "UPLOADS"
bucket_name = "user-uploads"

[[d1_databases]]
binding = "DB"
database_name = "shop-db"
database_id = "0000"

[[services]]
binding = "AUTH"
service = "auth-worker"

[[queues.producers]]
binding = "ORDERS"
queue = "orders"

[[queues.consumers]]
queue = "orders"
max_batch_size = 10
max_batch_timeout = 5
max_retries = 3
retry_delay = 30
dead_letter_queue = "orders-dlq"
max_concurrency = 2
visibility_timeout_ms = 1500

[triggers]
crons = ["*/5 * * * *", "0 0 * * MON"]
`;

describe('wrangler.toml', () => {
  test('name, entry, vars, bindings and triggers are read', async (t) => {
    const root = await tempProject(t, { 'wrangler.toml': FULL_TOML, 'src/index.ts': WORKER });
    const spec = await loadProject(root, { dev: false });
    assert.equal(spec.format, 'wrangler');
    assert.equal(spec.name, 'shop');
    assert.equal(spec.root, root);
    assert.deepEqual(spec.configFiles, ['wrangler.toml']);
    const fn = only(spec);
    assert.equal(fn.name, 'shop');
    assert.equal(fn.style, 'workers-module');
    assert.equal(fn.entry, path.join(root, 'src/index.ts'));
    assert.equal(fn.handlerExport, 'default');
    assert.equal(fn.compatibilityDate, '2025-01-01');
    assert.equal(fn.nodeCompat, false);
    assert.deepEqual(fn.vars, { API_URL: 'https://api.example.com', RETRIES: '3', RATIO: '0.5', DEBUG: 'true' });
    assert.deepEqual(fn.secrets, {});
    assert.deepEqual(fn.bindings, [
      { type: 'kv', name: 'CACHE', namespace: 'abc123' },
      { type: 'kv', name: 'SESSIONS', namespace: 'SESSIONS' },
      { type: 'r2', name: 'UPLOADS', bucket: 'user-uploads' },
      { type: 'd1', name: 'DB', database: 'shop-db' },
      { type: 'service', name: 'AUTH', service: 'auth-worker' },
      { type: 'queue', name: 'ORDERS', queue: 'orders' },
    ]);
    assert.deepEqual(fn.triggers, [
      {
        type: 'queue', queue: 'orders', maxBatchSize: 10, maxBatchTimeoutSeconds: 5, maxRetries: 3, retryDelaySeconds: 30,
        deadLetterQueue: 'orders-dlq', maxConcurrency: 2, visibilityTimeoutSeconds: 1.5,
      },
      { type: 'cron', expression: '*/5 * * * *' },
      { type: 'cron', expression: '0 0 * * MON' },
    ]);
    assert.deepEqual(fn.limits, { ...DEFAULT_LIMITS, concurrency: 100 });
  });

  test('a syntax error reports its line number', async (t) => {
    const root = await tempProject(t, {
      'wrangler.toml': 'name = "a"\nmain = "src/index.ts"\n\n[vars]\nBROKEN = \n',
      'src/index.ts': WORKER,
    });
    const problems = await expectProblems(() => loadProject(root, { dev: false }), [{ file: 'wrangler.toml', key: '', message: /line 5/ }]);
    assert.match(problems[0]?.message ?? '', /not valid TOML/);
  });

  test('unknown keys alone do not stop the load', async (t) => {
    const root = await tempProject(t, {
      'wrangler.toml': 'name = "a"\nmain = "src/index.ts"\nmian = "typo"\naccount_id = "x"\n[frobnicate]\nx = 1\n[[kv_namespaces]]\nbinding = "K"\nid = "k"\nextra = 1\n',
      'src/index.ts': WORKER,
    });
    const fn = only(await loadProject(root, { dev: false }));
    assert.equal(fn.name, 'a');
    assert.deepEqual(fn.bindings, [{ type: 'kv', name: 'K', namespace: 'k' }]);
  });
});

describe('wrangler.jsonc', () => {
  test('comments and trailing commas are accepted; the same keys mean the same things', async (t) => {
    const root = await tempProject(t, {
      'wrangler.jsonc': `{
        // the worker's name
        "name": "api",
        "main": "./src/worker.js", /* entry */
        "vars": { "LEVEL": 2, "MODE": "fast", },
        "kv_namespaces": [{ "binding": "KV", "id": "ns1" },],
        "triggers": { "crons": ["0 * * * *"] },
      }`,
      'src/worker.js': WORKER,
    });
    const spec = await loadProject(root, { dev: false });
    assert.equal(spec.format, 'wrangler');
    assert.deepEqual(spec.configFiles, ['wrangler.jsonc']);
    const fn = only(spec);
    assert.equal(fn.name, 'api');
    assert.equal(fn.entry, path.join(root, 'src/worker.js'));
    assert.deepEqual(fn.vars, { LEVEL: '2', MODE: 'fast' });
    assert.deepEqual(fn.bindings, [{ type: 'kv', name: 'KV', namespace: 'ns1' }]);
    assert.deepEqual(fn.triggers, [{ type: 'cron', expression: '0 * * * *' }]);
  });

  test('a JSON syntax error reports its line number', async (t) => {
    const root = await tempProject(t, { 'wrangler.jsonc': '{\n  "name": "api",\n  "main" "src/worker.js"\n}\n', 'src/worker.js': WORKER });
    await expectProblems(() => loadProject(root, { dev: false }), [{ file: 'wrangler.jsonc', key: '', message: /line 3/ }]);
  });
});

describe('environments', () => {
  const TOML = `
name = "shop"
main = "src/index.ts"
routes = ["shop.example.com/*"]

[vars]
MODE = "production"

[env.staging]
routes = ["staging.shop.example.com/*"]
[env.staging.vars]
MODE = "staging"

[env.qa]
name = "shop-quality"
[env.qa.vars]
MODE = "qa"
`;

  test('stage picks [env.<stage>], which overrides the top level and suffixes the name', async (t) => {
    const root = await tempProject(t, { 'wrangler.toml': TOML, 'src/index.ts': WORKER });
    const spec = await loadProject(root, { dev: false, stage: 'staging' });
    const fn = only(spec);
    assert.equal(fn.name, 'shop-staging');
    assert.equal(spec.name, 'shop-staging');
    assert.deepEqual(fn.vars, { MODE: 'staging' });
    assert.deepEqual(fn.routes, [{ host: 'staging.shop.example.com', path: '/*', event: { kind: 'fetch' } }]);
  });

  test('an environment that sets its own name keeps it', async (t) => {
    const root = await tempProject(t, { 'wrangler.toml': TOML, 'src/index.ts': WORKER });
    const fn = only(await loadProject(root, { dev: false, stage: 'qa' }));
    assert.equal(fn.name, 'shop-quality');
    assert.deepEqual(fn.vars, { MODE: 'qa' });
  });

  test('without a stage the top level is used and the environments are ignored', async (t) => {
    const root = await tempProject(t, { 'wrangler.toml': TOML, 'src/index.ts': WORKER });
    const fn = only(await loadProject(root, { dev: false }));
    assert.equal(fn.name, 'shop');
    assert.deepEqual(fn.vars, { MODE: 'production' });
    assert.deepEqual(fn.routes, [{ host: 'shop.example.com', path: '/*', event: { kind: 'fetch' } }]);
  });

  test('an unknown environment is an error naming env.<stage>', async (t) => {
    const root = await tempProject(t, { 'wrangler.toml': 'name = "shop"\nmain = "src/index.ts"\n', 'src/index.ts': WORKER });
    await expectProblems(() => loadProject(root, { dev: false, stage: 'staging' }), [{ file: 'wrangler.toml', key: 'env.staging', message: /staging/ }]);
  });

  test('vars and bindings are not inherited from the top level by an environment', async (t) => {
    const root = await tempProject(t, {
      'wrangler.toml': 'name = "shop"\nmain = "src/index.ts"\n[vars]\nSECRET_MODE = "prod"\n[[kv_namespaces]]\nbinding = "DATA"\nid = "production-ns"\n[env.staging]\n',
      'src/index.ts': WORKER,
    });
    const fn = only(await loadProject(root, { dev: false, stage: 'staging' }));
    assert.deepEqual(fn.vars, {});
    assert.deepEqual(fn.bindings, []);
  });
});

describe('.dev.vars and .env', () => {
  const BASE = { 'wrangler.toml': 'name = "a"\nmain = "index.js"\n[env.staging]\n', 'index.js': WORKER };

  test('.dev.vars becomes secrets in dev and is listed as a config file', async (t) => {
    const root = await tempProject(t, { ...BASE, '.dev.vars': 'TOKEN=s3cret\n# comment\nQUOTED="a b"\n' });
    const spec = await loadProject(root, { dev: true });
    assert.deepEqual(only(spec).secrets, { TOKEN: 's3cret', QUOTED: 'a b' });
    assert.deepEqual(spec.configFiles, ['wrangler.toml', '.dev.vars']);
  });

  test('.dev.vars is not read outside dev', async (t) => {
    const root = await tempProject(t, { ...BASE, '.dev.vars': 'TOKEN=s3cret\n' });
    const spec = await loadProject(root, { dev: false });
    assert.deepEqual(only(spec).secrets, {});
    assert.deepEqual(spec.configFiles, ['wrangler.toml']);
  });

  test('.dev.vars.<env> is preferred for a stage; plain .dev.vars otherwise', async (t) => {
    const root = await tempProject(t, { ...BASE, '.dev.vars': 'WHICH=plain\n', '.dev.vars.staging': 'WHICH=staging\n' });
    const staged = await loadProject(root, { dev: true, stage: 'staging' });
    assert.deepEqual(only(staged).secrets, { WHICH: 'staging' });
    assert.deepEqual(staged.configFiles, ['wrangler.toml', '.dev.vars.staging']);
    assert.deepEqual(only(await loadProject(root, { dev: true })).secrets, { WHICH: 'plain' });
  });

  test('.dev.vars is used for a stage that has no .dev.vars.<env>', async (t) => {
    const root = await tempProject(t, { ...BASE, '.dev.vars': 'WHICH=plain\n' });
    assert.deepEqual(only(await loadProject(root, { dev: true, stage: 'staging' })).secrets, { WHICH: 'plain' });
  });

  test('.env is read only when there is no .dev.vars', async (t) => {
    const withBoth = await tempProject(t, { ...BASE, '.dev.vars': 'WHICH=dev-vars\n', '.env': 'WHICH=dotenv\nOTHER=1\n' });
    assert.deepEqual(only(await loadProject(withBoth, { dev: true })).secrets, { WHICH: 'dev-vars' });
    const envOnly = await tempProject(t, { ...BASE, '.env': 'WHICH=dotenv\n' });
    const spec = await loadProject(envOnly, { dev: true });
    assert.deepEqual(only(spec).secrets, { WHICH: 'dotenv' });
    assert.deepEqual(spec.configFiles, ['wrangler.toml', '.env']);
  });
});

describe('config errors', () => {
  test('a main file that does not exist is an error at wrangler.toml: main', async (t) => {
    const root = await tempProject(t, { 'wrangler.toml': 'name = "a"\nmain = "src/missing.ts"\n' });
    await expectProblems(() => loadProject(root, { dev: false }), [{ file: 'wrangler.toml', key: 'main', message: /src\/missing\.ts/ }]);
  });

  test('a missing main key is an error at main', async (t) => {
    const root = await tempProject(t, { 'wrangler.toml': 'name = "a"\n' });
    await expectProblems(() => loadProject(root, { dev: false }), [{ file: 'wrangler.toml', key: 'main', message: /missing/ }]);
  });

  test('every problem is reported at once', async (t) => {
    const root = await tempProject(t, { 'wrangler.toml': 'name = "my worker!"\nmain = "nope.ts"\nvars = "x"\n' });
    let error: unknown;
    try {
      await loadProject(root, { dev: false });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'INVALID_CONFIG');
    const keys = error.problems.filter((p) => p.severity === 'error').map((p) => p.key).sort();
    assert.deepEqual(keys, ['main', 'name', 'vars']);
    assert.match(error.message, /^3 problems/);
    assert.match(error.message, /wrangler\.toml: name/);
    assert.match(error.message, /wrangler\.toml: vars: expected a table/);
  });

  test('a binding missing its required keys names the key path', async (t) => {
    const root = await tempProject(t, {
      'wrangler.toml': 'name = "a"\nmain = "index.js"\n[[r2_buckets]]\nbinding = "B"\n[[kv_namespaces]]\nid = "x"\n',
      'index.js': WORKER,
    });
    await expectProblems(() => loadProject(root, { dev: false }), [
      { file: 'wrangler.toml', key: 'r2_buckets[0].bucket_name' },
      { file: 'wrangler.toml', key: 'kv_namespaces[0].binding' },
    ]);
  });
});

describe('outpost.toml limits', () => {
  test('every [limits] key reaches FunctionSpec.limits', async (t) => {
    const root = await tempProject(t, {
      'outpost.toml': `name = "a"\nmain = "index.js"\n[limits]\nmemory_mb = 256\ncpu_ms = 500\nwall_ms = 2000\nstartup_ms = 300\nrequest_body_mb = 1.5\nsubrequests = 50\nconcurrency = 8\nidle_timeout_s = 30\nmax_instances = 3\n`,
      'index.js': WORKER,
    });
    const spec = await loadProject(root, { dev: false });
    assert.equal(spec.format, 'outpost');
    assert.deepEqual(only(spec).limits, {
      memoryMb: 256, cpuMs: 500, wallMs: 2000, startupMs: 300, requestBodyBytes: 1_572_864, subrequests: 50, concurrency: 8, idleMs: 30_000, maxInstances: 3,
    });
  });

  test('limits left out keep their defaults', async (t) => {
    const root = await tempProject(t, { 'outpost.toml': 'name = "a"\nmain = "index.js"\n[limits]\nmemory_mb = 64\n', 'index.js': WORKER });
    assert.deepEqual(only(await loadProject(root, { dev: false })).limits, { ...DEFAULT_LIMITS, concurrency: 100, memoryMb: 64 });
  });

  test('out-of-range limits are errors naming the key', async (t) => {
    const root = await tempProject(t, {
      'outpost.toml': 'name = "a"\nmain = "index.js"\n[limits]\nmemory_mb = 8\ncpu_ms = 0\nconcurrency = 1.5\nwall_ms = 1000000\nidle_timeout_s = -1\nsubrequests = "many"\n',
      'index.js': WORKER,
    });
    await expectProblems(() => loadProject(root, { dev: false }), [
      { file: 'outpost.toml', key: 'limits.memory_mb', message: /out of range/ },
      { file: 'outpost.toml', key: 'limits.cpu_ms', message: /out of range/ },
      { file: 'outpost.toml', key: 'limits.concurrency', message: /out of range/ },
      { file: 'outpost.toml', key: 'limits.wall_ms', message: /out of range/ },
      { file: 'outpost.toml', key: 'limits.idle_timeout_s', message: /out of range/ },
      { file: 'outpost.toml', key: 'limits.subrequests', message: /expected a number/ },
    ]);
  });

  test('outpost.toml is preferred over wrangler.toml in the same folder', async (t) => {
    const root = await tempProject(t, {
      'outpost.toml': 'name = "from-outpost"\nmain = "index.js"\n',
      'wrangler.toml': 'name = "from-wrangler"\nmain = "index.js"\n',
      'index.js': WORKER,
    });
    const spec = await loadProject(root, { dev: false });
    assert.equal(only(spec).name, 'from-outpost');
    assert.deepEqual(spec.configFiles, ['outpost.toml']);
  });
});

describe('Node compatibility', () => {
  async function nodeCompat(t: { after(fn: () => Promise<void>): void }, settings: string): Promise<boolean> {
    const root = await tempProject(t, { 'wrangler.toml': `name = "a"\nmain = "index.js"\n${settings}\n`, 'index.js': WORKER });
    return only(await loadProject(root, { dev: false })).nodeCompat;
  }

  test('nodejs_compat turns it on; it is off by default', async (t) => {
    assert.equal(await nodeCompat(t, 'compatibility_flags = ["nodejs_compat"]'), true);
    assert.equal(await nodeCompat(t, 'compatibility_date = "2024-09-23"'), false);
    assert.equal(await nodeCompat(t, ''), false);
  });

  test('a compatibility_date on or after 2026-08-04 turns it on unless no_nodejs_compat is set', async (t) => {
    assert.equal(await nodeCompat(t, 'compatibility_date = "2026-08-03"'), false);
    assert.equal(await nodeCompat(t, 'compatibility_date = "2026-08-04"'), true);
    assert.equal(await nodeCompat(t, 'compatibility_date = "2027-01-01"'), true);
    assert.equal(await nodeCompat(t, 'compatibility_date = "2027-01-01"\ncompatibility_flags = ["no_nodejs_compat"]'), false);
  });

  test('the flags are kept on the function', async (t) => {
    const root = await tempProject(t, { 'wrangler.toml': 'name = "a"\nmain = "index.js"\ncompatibility_flags = ["nodejs_compat", "streams_enable_constructors"]\n', 'index.js': WORKER });
    assert.deepEqual(only(await loadProject(root, { dev: false })).compatibilityFlags, ['nodejs_compat', 'streams_enable_constructors']);
  });
});

describe('routes', () => {
  test('route patterns normalise to host + path', async (t) => {
    const root = await tempProject(t, {
      'wrangler.toml': `name = "a"\nmain = "index.js"\nroutes = ["Example.com/*", "*/api/*", { pattern = "x.com/a/*" }, "*.example.com/*", "bare.example.org", { pattern = "y.com/b", method = "post" }]\n`,
      'index.js': WORKER,
    });
    const fn = only(await loadProject(root, { dev: false }));
    const fetch = { kind: 'fetch' };
    assert.deepEqual(fn.routes, [
      { host: 'example.com', path: '/*', event: fetch },
      { path: '/api/*', event: fetch },
      { host: 'x.com', path: '/a/*', event: fetch },
      { host: '*.example.com', path: '/*', event: fetch },
      { host: 'bare.example.org', path: '/*', event: fetch },
      { host: 'y.com', path: '/b', method: 'POST', event: fetch },
    ]);
  });

  test('a single route key works too, and a bad pattern is an error at its index', async (t) => {
    const ok = await tempProject(t, { 'wrangler.toml': 'name = "a"\nmain = "index.js"\nroute = "example.com/app/*"\n', 'index.js': WORKER });
    assert.deepEqual(only(await loadProject(ok, { dev: false })).routes, [{ host: 'example.com', path: '/app/*', event: { kind: 'fetch' } }]);
    const bad = await tempProject(t, { 'wrangler.toml': 'name = "a"\nmain = "index.js"\nroutes = ["ok.com/*", 42]\n', 'index.js': WORKER });
    await expectProblems(() => loadProject(bad, { dev: false }), [{ file: 'wrangler.toml', key: 'routes[1]' }]);
  });
});

describe('findProjects', () => {
  test('a folder of projects lists each, in name order, skipping dot-folders, node_modules and non-projects', async (t) => {
    const root = await tempProject(t, {
      'b-worker/wrangler.toml': 'name = "b"\nmain = "index.js"\n',
      'b-worker/index.js': WORKER,
      'a-worker/wrangler.jsonc': '{ "name": "a", "main": "index.js" }',
      'a-worker/index.js': WORKER,
      '.hidden/wrangler.toml': 'name = "h"\nmain = "index.js"\n',
      'node_modules/pkg/wrangler.toml': 'name = "p"\nmain = "index.js"\n',
      'node_modules/wrangler.toml': 'name = "n"\nmain = "index.js"\n',
      'docs/readme.md': '# not a project\n',
    });
    await mkdir(path.join(root, 'empty'));
    assert.deepEqual(await findProjects(root), [path.join(root, 'a-worker'), path.join(root, 'b-worker')]);
  });

  test('a project folder is its own single project', async (t) => {
    const root = await tempProject(t, {
      'wrangler.toml': 'name = "top"\nmain = "index.js"\n',
      'index.js': WORKER,
      'nested/wrangler.toml': 'name = "nested"\nmain = "index.js"\n',
    });
    assert.deepEqual(await findProjects(root), [root]);
  });

  test('a folder with no projects gives an empty list', async (t) => {
    const root = await tempProject(t, { 'notes.txt': 'hi\n' });
    assert.deepEqual(await findProjects(root), []);
  });
});

describe('service-worker syntax', () => {
  test('an entry without a default export that adds a fetch listener is a service worker', async (t) => {
    const root = await tempProject(t, {
      'wrangler.toml': 'name = "sw"\nmain = "worker.js"\n',
      'worker.js': "// export default { fetch() {} }\nconst text = 'export default';\naddEventListener('fetch', (event) => event.respondWith(new Response(text)));\n",
    });
    const [fn] = (await loadProject(root, { dev: true })).functions;
    assert.equal(fn?.style, 'service-worker');
  });

  test('a module Worker stays a module Worker, even if it mentions addEventListener', async (t) => {
    const root = await tempProject(t, {
      'wrangler.toml': 'name = "mod"\nmain = "worker.js"\n',
      'worker.js': "addEventListener('fetch', () => {});\nexport default { fetch() { return new Response('m'); } };\n",
    });
    assert.equal((await loadProject(root, { dev: true })).functions[0]?.style, 'workers-module');
    const scheduledOnly = await tempProject(t, { 'wrangler.toml': 'name = "cron"\nmain = "w.js"\n', 'w.js': 'addEventListener("scheduled", (e) => e.waitUntil(Promise.resolve()));\n' });
    assert.equal((await loadProject(scheduledOnly, { dev: true })).functions[0]?.style, 'service-worker');
  });
});
