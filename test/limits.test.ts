// Limits, enforced: a sync loop, a microtask loop, a timer storm and a memory bomb (heap and
// ArrayBuffer) each end with a clear error response and a log line, the instance is recycled,
// and a neighbour function answers every request without an error meanwhile.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const LIMITS = `[limits]\ncpu_ms = 300\nmemory_mb = 64\nwall_ms = 4000\nstartup_ms = 500\n`;

/** A Worker whose `/attack` runs `attack` and whose `/` counts requests served by this instance. */
function attacker(name: string, attack: string): Record<string, string> {
  return {
    [`${name}/outpost.toml`]: `name = "${name}"\nmain = "index.js"\n${LIMITS}`,
    [`${name}/index.js`]: `let served = 0;
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === '/attack') { ${attack} }
    return new Response('ok ' + ++served);
  },
};`,
  };
}

const ATTACKS = {
  spin: 'for (;;) {}',
  microtasks: 'for (;;) await null;',
  timers: `await new Promise(() => { for (let i = 0; i < 50; i++) setInterval(() => { let x = 0; for (let j = 0; j < 1e5; j++) x += j; }, 0); });`,
  heap: 'const keep = []; for (;;) keep.push(new Array(1e5).fill(Math.random()));',
  buffers: 'const keep = []; for (;;) { keep.push(new Uint8Array(8 * 1024 * 1024).fill(1)); await null; }',
} as const;

const EXPECTED: Record<keyof typeof ATTACKS, { status: number; code: string; outcome: string }> = {
  spin: { status: 503, code: 'EXCEEDED_CPU', outcome: 'exceeded-cpu' },
  microtasks: { status: 503, code: 'EXCEEDED_CPU', outcome: 'exceeded-cpu' },
  timers: { status: 503, code: 'EXCEEDED_CPU', outcome: 'exceeded-cpu' },
  heap: { status: 503, code: 'EXCEEDED_MEMORY', outcome: 'exceeded-memory' },
  buffers: { status: 503, code: 'EXCEEDED_MEMORY', outcome: 'exceeded-memory' },
};

describe('limits', { concurrency: false }, () => {
  let node: Running;
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  before(async () => {
    const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
    const files: Record<string, string> = {
      'neighbour/outpost.toml': 'name = "neighbour"\nmain = "index.js"\n',
      'neighbour/index.js': 'export default { fetch() { return new Response("still here"); } };',
      'slowstart/outpost.toml': `name = "slowstart"\nmain = "index.js"\n${LIMITS}`,
      'slowstart/index.js': 'const end = Date.now() + 5000; while (Date.now() < end) {}\nexport default { fetch() { return new Response("never"); } };',
    };
    for (const name of Object.keys(ATTACKS)) Object.assign(files, attacker(name, ATTACKS[name as keyof typeof ATTACKS]));
    const root = await writeProject(t, files);
    node = await startOutpost(t, ['dev', root, '--port', '0', '--state', await tempDir(t)], { timeoutMs: 60_000 });
  });

  for (const name of Object.keys(ATTACKS) as Array<keyof typeof ATTACKS>) {
    test(`${name}: clear error, instance recycled, neighbour unaffected`, async () => {
      assert.equal(await (await fetch(`${node.url}/${name}/`)).text(), 'ok 1');
      const from = node.stdout().length;
      let neighbourErrors = 0;
      let neighbourCalls = 0;
      let attacking = true;
      const neighbour = (async () => {
        while (attacking) {
          neighbourCalls++;
          const r = await fetch(`${node.url}/neighbour/`).catch(() => undefined);
          if (r?.status !== 200 || (await r.text()) !== 'still here') neighbourErrors++;
        }
      })();
      const response = await fetch(`${node.url}/${name}/attack`);
      attacking = false;
      await neighbour;
      const body = (await response.json()) as { error: { code: string; requestId: string } };
      const want = EXPECTED[name];
      assert.equal(response.status, want.status);
      assert.equal(response.headers.get('x-outpost-error'), want.code);
      assert.equal(body.error.code, want.code);
      assert.equal(response.headers.get('x-request-id'), body.error.requestId);
      assert.ok(neighbourCalls > 0);
      assert.equal(neighbourErrors, 0, `the neighbour failed ${neighbourErrors} of ${neighbourCalls} requests`);
      await node.waitFor(new RegExp(`\\[${want.status}\\] GET /${name}/attack ${name}@1 .*${want.outcome}`), 5_000, from);
      // A fresh instance serves again: module state starts over.
      const after = await eventually(async () => {
        const r = await fetch(`${node.url}/${name}/`);
        return r.status === 200 ? r.text() : undefined;
      }, 10_000, `${name} to serve again`);
      assert.equal(after, 'ok 1');
    });
  }

  test('startup past its limit is refused with a clear error while others keep serving', async () => {
    assert.match(node.stderr(), /slowstart failed to start: .*startup.*exceeded its time limit/);
    assert.match(node.stderr(), /startup_ms/);
    const r = await fetch(`${node.url}/slowstart/`);
    assert.equal(r.status, 404, 'a function that never started is not routed');
    assert.equal(await (await fetch(`${node.url}/neighbour/`)).text(), 'still here');
  });
});
