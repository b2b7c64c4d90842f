// Concurrency controls end to end, over real HTTP: reserved concurrency as a cap (429 with
// Retry-After, or a bounded wait), Lambda Invoke's TooManyRequestsException through the official
// SDK, provisioned instances warm before a deploy's switch (read from the node's JSON log), and a
// burst of first requests that starts only the instances it needs.
//
// Functions that must be caught mid-invocation wait on a loopback "gate" server the test holds
// and releases, so nothing depends on timing.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';

type Cleanup = { after(fn: () => unknown): void };

/** A loopback server whose requests hang until the test releases them. */
async function gate(t: Cleanup): Promise<{ url: string; arrivals(): number; release(): void; open(): void }> {
  const held: ServerResponse[] = [];
  let arrivals = 0;
  let opened = false;
  const server = createServer((_req, res) => {
    arrivals++;
    if (opened) res.end('go');
    else held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const res of held.splice(0)) res.end('go');
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    arrivals: () => arrivals,
    release: () => {
      for (const res of held.splice(0)) res.end('go');
    },
    /** Releases every held request and lets later ones through at once. */
    open: () => {
      opened = true;
      for (const res of held.splice(0)) res.end('go');
    },
  };
}

/** Live instances and in-flight invocations of a function, from the control API (dev: no token). */
async function runtime(url: string, fn: string): Promise<{ instances: number; inFlight: number }> {
  return ((await (await fetch(`${url}/_outpost/api/functions/${fn}`)).json()) as { runtime: { instances: number; inFlight: number } }).runtime;
}

/** Counts its own concurrent invocations in module state; `/max` answers the most seen at once. */
const COUNTING_WORKER = `
let running = 0;
let max = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith('/max')) return new Response(String(max));
    running++;
    max = Math.max(max, running);
    // Yield a few turns so that concurrent invocations overlap.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
    running--;
    return new Response('ok');
  },
};
`;

describe('reserved concurrency', () => {
  test('is never exceeded under 200 concurrent clients; the rest get 429 with Retry-After, or wait when queue_timeout_ms allows', async (t) => {
    const dir = await writeProject(t, {
      'capped/outpost.toml': 'name = "capped"\nmain = "index.js"\n[limits]\nreserved_concurrency = 5\n',
      'capped/index.js': COUNTING_WORKER,
      'queued/outpost.toml': 'name = "queued"\nmain = "index.js"\n[limits]\nreserved_concurrency = 5\nqueue_timeout_ms = 60000\nmax_queued = 500\n',
      'queued/index.js': COUNTING_WORKER,
    });
    const dev = await startOutpost(t, ['dev', dir, '--port', '0', '--state', await tempDir(t)]);

    const storm = (fn: string): Promise<Response[]> => Promise.all(Array.from({ length: 200 }, () => fetch(`${dev.url}/${fn}/work`)));
    const capped = await storm('capped');
    const throttled = capped.filter((r) => r.status === 429);
    assert.ok(capped.some((r) => r.status === 200), 'some invocations ran');
    assert.ok(throttled.length > 0, 'invocations over the reservation were refused');
    assert.equal(throttled.length + capped.filter((r) => r.status === 200).length, 200, 'every answer is 200 or 429');
    for (const r of throttled) {
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(r.headers.get('x-outpost-error'), 'THROTTLED');
    }
    const body = (await throttled[0]?.json()) as { error: { code: string; hint: string } };
    assert.equal(body.error.code, 'THROTTLED');
    assert.match(body.error.hint, /reserved_concurrency/);
    assert.ok(Number(await (await fetch(`${dev.url}/capped/max`)).text()) <= 5, 'never more than 5 at once');
    await dev.waitFor(/\[429\] GET \/capped\/work capped@1 \S+ throttled/, 10_000);

    const queued = await storm('queued');
    assert.deepEqual(new Set(queued.map((r) => r.status)), new Set([200]), 'with a queue, every client is served in turn');
    const max = Number(await (await fetch(`${dev.url}/queued/max`)).text());
    assert.ok(max <= 5 && max >= 1, `at most 5 at once, saw ${max}`);
  });

  test('a deploy whose reservations exceed the node total is refused and changes nothing', async (t) => {
    const dir = await writeProject(t, {
      'outpost.toml': 'name = "greedy"\nmain = "index.js"\n[limits]\nreserved_concurrency = 150\n',
      'index.js': 'export default { fetch() { return new Response("v1"); } };\n',
    });
    const node = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0', '--quiet', '--max-concurrency', '200']);
    const token = (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
    const refused = await runCli(['deploy', dir, '--to', node.url, '--token', token]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /RESERVED_CONCURRENCY_EXCEEDED|only 100 can be reserved/);
    assert.equal((await fetch(`${node.url}/greedy/`)).status, 404, 'nothing was deployed');
    await writeProject(t, { 'outpost.toml': 'name = "greedy"\nmain = "index.js"\n[limits]\nreserved_concurrency = 100\n' }, dir);
    assert.equal((await runCli(['deploy', dir, '--to', node.url, '--token', token])).code, 0, 'within the total it deploys');
    assert.equal(await (await fetch(`${node.url}/greedy/`)).text(), 'v1');
  });
});

describe('event sources at the cap', () => {
  test('a throttled queue batch keeps its lease and runs once a slot frees: not a failure, not dead-lettered', async (t) => {
    const held = await gate(t);
    const dir = await writeProject(t, {
      // One slot. HTTP requests wait for it up to 60 s; a queue delivery waits wall_ms (1 s).
      'outpost.toml': 'name = "worker"\nmain = "index.js"\n[limits]\nreserved_concurrency = 1\nwall_ms = 1000\nqueue_timeout_ms = 60000\n\n[[queues.consumers]]\nqueue = "jobs"\nmax_batch_size = 1\nmax_retries = 0\ndead_letter_queue = "jobs-dlq"\n',
      'index.js': `const seen = [];
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/seen') return Response.json(seen);
    await (await fetch(url.searchParams.get('gate'))).text();
    return new Response('held');
  },
  async queue(batch) { for (const m of batch.messages) { seen.push(m.body); m.ack(); } },
};
`,
    });
    const dev = await startOutpost(t, ['dev', dir, '--port', '0', '--state', await tempDir(t)]);
    const aws = (await dev.waitFor(/aws api on (http:\/\/\S+)/))[1] as string;
    // The function's only slot is taken by a request the test holds (wall_ms ends it after 1 s),
    // and five more wait for it ahead of the queue's delivery: 5 s of waiting, not 1.
    const from = dev.stdout().length;
    const holds = Array.from({ length: 6 }, () => fetch(`${dev.url}/hold?gate=${encodeURIComponent(held.url)}`).then((r) => r.status));
    await eventually(() => (held.arrivals() > 0 ? true : undefined), 10_000, 'the slot to be held');
    const sent = await fetch(aws, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
      body: JSON.stringify({ QueueUrl: `${aws}/000000000000/jobs`, MessageBody: 'hello' }),
    });
    assert.equal(sent.status, 200, await sent.text());
    await dev.waitFor(/queue jobs → worker: throttled; the batch of 1 is kept/, 20_000, from);
    held.open();
    await Promise.all(holds);
    const seen = await eventually(async () => {
      const got = (await (await fetch(`${dev.url}/seen`)).json()) as string[];
      return got.length > 0 ? got : undefined;
    }, 20_000, 'the message to be delivered');
    assert.deepEqual(seen, ['hello'], 'delivered once, although max_retries = 0 would have dead-lettered a failure');
    assert.doesNotMatch(dev.stdout().slice(from), /jobs-dlq|failed 1 times/);
  });
});

describe('Lambda Invoke over the reservation', () => {
  test('answers TooManyRequestsException with AWS\'s Reason, and the next invocation after the slot frees runs', async (t) => {
    const dir = await writeProject(t, {
      'package.json': '{ "name": "throttle-e2e", "private": true, "type": "module" }',
      'template.yaml': 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\nResources:\n  One:\n    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: one\n      Handler: src/one.handler\n      Runtime: nodejs20.x\n      CodeUri: .\n      ReservedConcurrentExecutions: 1\n',
      'src/one.js': 'export const handler = async (event) => { if (event.gate) await (await fetch(event.gate)).text(); return { ok: true }; };\n',
    });
    const dev = await startOutpost(t, ['dev', dir, '--port', '0', '--state', await tempDir(t), '--quiet']);
    const aws = (await dev.waitFor(/aws api on (http:\/\/\S+)/))[1] as string;
    const client = new LambdaClient({ endpoint: aws, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    t.after(() => client.destroy());
    const held = await gate(t);
    const first = client.send(new InvokeCommand({ FunctionName: 'one', Payload: new TextEncoder().encode(JSON.stringify({ gate: held.url })) }));
    await eventually(() => (held.arrivals() === 1 ? true : undefined), 10_000, 'the first invocation to hold its slot');

    const error = await client.send(new InvokeCommand({ FunctionName: 'one', Payload: new TextEncoder().encode('{}') })).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof TooManyRequestsException, `expected TooManyRequestsException, got ${String(error)}`);
    assert.equal(error.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(error.Type, 'User');
    assert.equal(error.message, 'Rate Exceeded.');
    assert.equal(error.retryAfterSeconds, '1');
    assert.equal(error.$metadata.httpStatusCode, 429);

    held.release();
    assert.equal((await first).StatusCode, 200);
    const after = await client.send(new InvokeCommand({ FunctionName: 'one', Payload: new TextEncoder().encode('{}') }));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(after.Payload)), { ok: true });
  });
});

describe('provisioned concurrency', () => {
  test('instances are warm before a deploy moves the pointer: the first concurrent requests log no cold start', async (t) => {
    const dir = await writeProject(t, {
      'package.json': '{ "name": "prov-e2e", "private": true, "type": "module" }',
      'serverless.yml': 'service: pv\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  warm:\n    handler: src/warm.handler\n    provisionedConcurrency: 2\n    events:\n      - httpApi: GET /warm\n',
      'src/warm.js': 'export const handler = async (event) => { const gate = event.queryStringParameters?.gate; if (gate) await (await fetch(gate)).text(); return { statusCode: 200, body: "v1" }; };\n',
    });
    const node = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0', '--allow-private-network']);
    const token = (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
    const remote = ['--to', node.url, '--token', token];
    const held = await gate(t);

    for (const body of ['v1', 'v2']) {
      if (body === 'v2') await writeProject(t, { 'src/warm.js': 'export const handler = async (event) => { const gate = event.queryStringParameters?.gate; if (gate) await (await fetch(gate)).text(); return { statusCode: 200, body: "v2" }; };\n' }, dir);
      const deployed = await runCli(['deploy', dir, ...remote]);
      assert.equal(deployed.code, 0, deployed.stderr);
      const from = node.stdout().length;
      // Two invocations at once: a Lambda instance runs one, so both need a loaded instance.
      const gateBefore = held.arrivals();
      const pair = [0, 1].map(() => fetch(`${node.url}/warm?gate=${encodeURIComponent(held.url)}`).then((r) => r.text()));
      await eventually(() => (held.arrivals() === gateBefore + 2 ? true : undefined), 10_000, 'both invocations running');
      held.release();
      assert.deepEqual(await Promise.all(pair), [body, body]);
      const records = await eventually(() => {
        const lines = node.stdout().slice(from).split('\n').filter((l) => l.startsWith('{'));
        const found = lines.map((l) => JSON.parse(l) as { type: string; function?: string; coldStart?: boolean; version?: number }).filter((r) => r.type === 'invocation' && r.function === 'warm');
        return found.length >= 2 ? found : undefined;
      }, 10_000, 'two invocation records');
      assert.deepEqual(records.map((r) => r.coldStart), [false, false], `no cold start after deploying ${body}`);
    }
  });
});

describe('a storm of first requests', () => {
  test('starts only the instances it needs, capped by the reservation, and queues the rest', async (t) => {
    const held = await gate(t);
    const dir = await writeProject(t, {
      // Lambda-style concurrency 1; the reservation (6) caps instances below max_instances (50).
      'storm/outpost.toml': 'name = "storm"\nmain = "index.js"\n[limits]\nconcurrency = 1\nmax_instances = 50\nreserved_concurrency = 6\nqueue_timeout_ms = 60000\n',
      'storm/index.js': 'export default { async fetch(request) { const gate = new URL(request.url).searchParams.get("gate"); if (gate) await (await fetch(gate)).text(); return new Response("done"); } };\n',
      // Workers-style concurrency 10: 35 concurrent first requests need ceil(35 / 10) = 4 instances.
      'wide/outpost.toml': 'name = "wide"\nmain = "index.js"\n[limits]\nconcurrency = 10\n',
      'wide/index.js': 'export default { async fetch(request) { const gate = new URL(request.url).searchParams.get("gate"); if (gate) await (await fetch(gate)).text(); return new Response("done"); } };\n',
    });
    const dev = await startOutpost(t, ['dev', dir, '--port', '0', '--state', await tempDir(t)]);

    const from = dev.stdout().length;
    const burst = Array.from({ length: 20 }, () => fetch(`${dev.url}/storm/?gate=${encodeURIComponent(held.url)}`).then((r) => r.text()));
    await eventually(() => (held.arrivals() === 6 ? true : undefined), 15_000, 'six invocations running');
    assert.deepEqual(await runtime(dev.url, 'storm'), { instances: 6, inFlight: 6 }, 'one instance per reserved slot, no more');
    // Each release lets the queued invocations take the freed slots, on the same instances.
    while (held.arrivals() < 20) {
      const seen = held.arrivals();
      held.release();
      await eventually(() => (held.arrivals() > seen ? true : undefined), 10_000, 'the next queued invocations');
      assert.ok((await runtime(dev.url, 'storm')).instances <= 6);
    }
    held.release();
    assert.deepEqual(await Promise.all(burst), Array.from({ length: 20 }, () => 'done'));
    held.release();
    assert.equal((await runtime(dev.url, 'storm')).instances, 6, 'the queued ones reused the same six');
    // The deploy's probe instance served the first request warm; five more were started.
    await eventually(() => ((dev.stdout().slice(from).match(/storm@1 [\d.]+ms/g) ?? []).length === 20 ? true : undefined), 10_000, 'twenty records');
    assert.equal((dev.stdout().slice(from).match(/storm@1 [\d.]+ms \(cold start/g) ?? []).length, 5);

    const before = held.arrivals();
    const wide = Array.from({ length: 35 }, () => fetch(`${dev.url}/wide/?gate=${encodeURIComponent(held.url)}`).then((r) => r.text()));
    await eventually(() => (held.arrivals() === before + 35 ? true : undefined), 15_000, 'all 35 running');
    assert.deepEqual(await runtime(dev.url, 'wide'), { instances: 4, inFlight: 35 });
    held.release();
    assert.equal((await Promise.all(wide)).length, 35);
  });
});
