/** @module Tests for the service-worker adapter: FetchEvent.respondWith/waitUntil, scheduled events, bindings as globals. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
import { serviceWorkerAdapter } from './service-worker.ts';

type Listen = (type: string, listener: (event: never) => unknown) => void;

const setup = (env: Record<string, unknown> = {}): AdapterSetup => ({ functionName: 'sw', version: 1, handlerExport: 'default', env, variables: {}, bindings: [], platform: {}, dev: true });
const http: HttpInvocation = { meta: { ip: '192.0.2.1', cf: { colo: 'local', country: 'NL' } }, event: { kind: 'fetch' }, params: {} };

function context(waits: unknown[] = [], passThrough: { on: boolean } = { on: false }): InvocationContext {
  return { requestId: 'r', signal: new AbortController().signal, deadline: Date.now() + 10_000, waitUntil: (p) => void waits.push(p), passThroughOnException: () => void (passThrough.on = true) };
}

function load(script: (addEventListener: Listen, g: Record<string, unknown>) => void, env: Record<string, unknown> = {}) {
  serviceWorkerAdapter.prepare?.(setup(env));
  const g = globalThis as unknown as Record<string, unknown>;
  script(g['addEventListener'] as Listen, g);
  return serviceWorkerAdapter.create({}, setup(env));
}

interface FetchEventLike {
  request: Request & { cf?: Record<string, unknown> };
  respondWith(r: Response | Promise<Response>): void;
  waitUntil(p: Promise<unknown>): void;
  passThroughOnException(): void;
}

describe('service-worker adapter', () => {
  test('respondWith answers; waitUntil and passThroughOnException reach the invocation; request.cf is set', async () => {
    const waits: unknown[] = [];
    const pass = { on: false };
    const adapter = load((on) => {
      on('fetch', (event: FetchEventLike) => {
        event.passThroughOnException();
        event.waitUntil(Promise.resolve('logged'));
        event.respondWith((async () => new Response(`hello ${event.request.cf?.['country'] as string} ${new URL(event.request.url).pathname}`))());
      });
    });
    const res = await adapter.fetch(new Request('http://h/p'), http, context(waits, pass));
    assert.equal(await res.text(), 'hello NL /p');
    assert.equal(waits.length, 1);
    assert.equal(pass.on, true);
  });

  test('listeners run in order until one responds; respondWith twice is an error', async () => {
    const calls: string[] = [];
    const adapter = load((on) => {
      on('fetch', () => void calls.push('observer'));
      on('fetch', (event: FetchEventLike) => {
        calls.push('responder');
        event.respondWith(new Response('first'));
        assert.throws(() => event.respondWith(new Response('again')), /already been called/);
      });
      on('fetch', () => void calls.push('never'));
    });
    assert.equal(await (await adapter.fetch(new Request('http://h/'), http, context())).text(), 'first');
    assert.deepEqual(calls, ['observer', 'responder']);
  });

  test('no respondWith is an error; so is a listener that throws', async () => {
    const silent = load((on) => on('fetch', () => {}));
    await assert.rejects(silent.fetch(new Request('http://h/'), http, context()), /respondWith/);
    const throws = load((on) => on('fetch', () => {
      throw new Error('listener failed');
    }));
    await assert.rejects(throws.fetch(new Request('http://h/'), http, context()), /listener failed/);
  });

  test('bindings and vars are globals', async () => {
    const kv = { get: async (k: string) => `value of ${k}` };
    const adapter = load((on, g) => {
      on('fetch', (event: FetchEventLike) => {
        const store = g['MY_KV'] as typeof kv;
        event.respondWith(store.get('a').then((v) => new Response(`${g['GREETING'] as string}: ${v}`)));
      });
    }, { MY_KV: kv, GREETING: 'hi' });
    assert.equal(await (await adapter.fetch(new Request('http://h/'), http, context())).text(), 'hi: value of a');
  });

  test('scheduled events: the listener gets cron and scheduledTime, and the run waits for waitUntil', async () => {
    let finished = false;
    const adapter = load((on) => {
      on('scheduled', (event: { cron: string; scheduledTime: number; waitUntil(p: Promise<unknown>): void; noRetry(): void }) => {
        assert.equal(event.cron, '*/5 * * * *');
        assert.equal(event.scheduledTime, 1234);
        event.waitUntil(new Promise((resolve) => setImmediate(resolve)).then(() => void (finished = true)));
      });
    });
    assert.deepEqual(await adapter.event('scheduled', { cron: '*/5 * * * *', scheduledTime: 1234 }, context()), { retry: true });
    assert.equal(finished, true);
    const fetchOnly = load((on) => on('fetch', (e: FetchEventLike) => e.respondWith(new Response(''))));
    await assert.rejects(fetchOnly.event('scheduled', { cron: '* * * * *', scheduledTime: 0 }, context()), /cannot receive scheduled/);
  });

  test('a script with no listener is refused at load', () => {
    assert.throws(() => load(() => {}), /registered no event listener/);
  });
});
