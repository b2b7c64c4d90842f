import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isOutpostError } from '../errors.ts';
import { DEFAULT_LIMITS } from '../project/spec.ts';
import type { Limits } from '../project/spec.ts';
import { BlankPool, Dispatcher } from './index.ts';
import type { RunnableVersion } from './index.ts';

/**
 * A Lambda-style handler that waits `event.ms`, or until the test's loopback `event.gate`
 * answers, so invocations overlap.
 */
const HANDLER = 'export const handler = async (event) => { if (event.gate) await (await fetch(event.gate)).text(); else await new Promise((r) => setTimeout(r, event.ms ?? 0)); return { ok: true }; };\n';

async function setup(t: { after(fn: () => unknown): void }): Promise<{ dispatcher: Dispatcher; version(name: string, limits: Partial<Limits>): RunnableVersion }> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-dispatch-'));
  const bundlePath = join(dir, 'bundle.js');
  await writeFile(bundlePath, HANDLER);
  const blanks = new BlankPool({ size: 1 });
  const dispatcher = new Dispatcher({ blanks, hooks: { log: () => undefined, limit: () => undefined }, totalConcurrency: 200 });
  t.after(async () => {
    await dispatcher.close();
    await blanks.close();
    await rm(dir, { recursive: true, force: true });
  });
  const version = (name: string, limits: Partial<Limits>): RunnableVersion => ({
    key: `${name}@1`,
    functionName: name,
    version: 1,
    limits: { ...DEFAULT_LIMITS, concurrency: 1, ...limits },
    bindings: () => Promise.resolve(undefined),
    load: {
      functionName: name,
      version: 1,
      style: 'lambda',
      handlerExport: 'handler',
      bundlePath,
      vars: {},
      secretNames: [],
      bindings: [],
      nodeCompat: true,
      subrequestLimit: 10,
      egress: { allowPrivate: true, denyHosts: [] },
      platform: {},
      dev: true,
      host: { region: 'local', gatewayUrl: 'http://127.0.0.1:1' },
    },
  });
  return { dispatcher, version };
}

test('provision loads instances in parallel, keeps them through idle eviction, and 0 releases them', async (t) => {
  const { dispatcher, version } = await setup(t);
  const v = version('prov', { idleMs: 0 });
  dispatcher.register(v);
  await dispatcher.provision(v.key, 3);
  assert.deepEqual(dispatcher.stats(v.key), { instances: 3, inFlight: 0, provisioned: 3 });
  // idle_timeout 0: only provisioning keeps them; the watchdog has had time to look.
  const { record } = await dispatcher.event(v.key, 'invoke', { ms: 0 }, 'r1');
  assert.equal(record.coldStart, false, 'a provisioned instance serves the first invocation');
  assert.equal(dispatcher.stats(v.key).instances, 3);
  await dispatcher.provision(v.key, 0);
  await waitFor(() => dispatcher.stats(v.key).instances === 0, 'released instances to stop when idle');
  await assert.rejects(dispatcher.provision('nope@1', 1), (e: unknown) => isOutpostError(e, 'VERSION_GONE'));
});

test('a reservation caps concurrent invocations across calls; the rest are THROTTLED at once', async (t) => {
  const { dispatcher, version } = await setup(t);
  const v = version('capped', { reservedConcurrency: 2, maxInstances: 50 });
  dispatcher.register(v);
  const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => dispatcher.event(v.key, 'invoke', { ms: 200 }, `r${i}`)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
  for (const r of results.filter((r) => r.status === 'rejected')) assert.ok(isOutpostError(r.reason, 'THROTTLED') && r.reason.status === 429);
  assert.ok(dispatcher.stats(v.key).instances <= 2, 'no more instances than the reservation can fill');
});

test('event sources wait for a slot instead of being throttled', async (t) => {
  const { dispatcher, version } = await setup(t);
  const v = version('patient', { reservedConcurrency: 1 });
  dispatcher.register(v);
  const all = await Promise.all(Array.from({ length: 3 }, (_, i) => dispatcher.event(v.key, 'invoke', { ms: 20 }, `r${i}`, { queueTimeoutMs: 30_000 })));
  assert.equal(all.length, 3);
  assert.equal(dispatcher.stats(v.key).instances, 1);
});

test('a burst of first invocations starts ceil(demand / concurrency) instances, within max_instances', async (t) => {
  const { dispatcher, version } = await setup(t);
  const v = version('burst', { maxInstances: 4 });
  dispatcher.register(v);
  const held: ServerResponse[] = [];
  const gate = createServer((_req, res) => void held.push(res));
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    gate.closeAllConnections();
    gate.close();
  });
  const url = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/`;
  const burst = Array.from({ length: 10 }, (_, i) => dispatcher.event(v.key, 'invoke', { gate: url }, `r${i}`));
  await waitFor(() => held.length === 4, 'four invocations at the gate');
  assert.deepEqual(dispatcher.stats(v.key), { instances: 4, inFlight: 4, provisioned: 0 }, 'capped at max_instances');
  const release = setInterval(() => {
    for (const res of held.splice(0)) res.end('go');
  }, 10);
  const records = await Promise.all(burst);
  clearInterval(release);
  assert.equal(dispatcher.stats(v.key).instances, 4, 'the queued invocations reused the four');
  // Each new instance's first invocation is a cold start; the queued ones reuse them.
  assert.equal(records.filter((r) => r.record.coldStart).length, 4);
  assert.equal(new Set(records.map((r) => r.record.instance)).size, 4);
});

test('a reservation over what the node can spare is refused', async (t) => {
  const { dispatcher } = await setup(t);
  assert.throws(() => dispatcher.checkReservation('greedy', 101), (e: unknown) => isOutpostError(e, 'RESERVED_CONCURRENCY_EXCEEDED'));
  dispatcher.checkReservation('fine', 100);
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
