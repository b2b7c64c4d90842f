/** @module Tests for the Deno adapter: Deno.serve overloads, info.remoteAddr, onError, shutdown, Deno.env, Deno.cron. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
import { cronExpression, denoAdapter, registeredCrons, serveArguments } from './deno.ts';

interface DenoApi {
  serve(...args: unknown[]): { addr: { hostname: string; port: number }; finished: Promise<void>; shutdown(): Promise<void> };
  env: { get(k: string): string | undefined; set(k: string, v: string): void; has(k: string): boolean; delete(k: string): void; toObject(): Record<string, string> };
  cron(...args: unknown[]): Promise<void>;
  openKv(): Promise<unknown>;
}

const setup: AdapterSetup = { functionName: 'app', version: 2, handlerExport: 'Deno.serve', env: {}, variables: { GREETING: 'hi' }, bindings: [], platform: { runtime: 'deno' }, dev: true, host: { region: 'eu-test', gatewayUrl: 'http://127.0.0.1:1' } };
const http: HttpInvocation = { meta: { ip: '198.51.100.23', cf: { colo: 'eu-test' } }, event: { kind: 'fetch' }, params: {} };
const ctx: InvocationContext = { requestId: 'r', signal: new AbortController().signal, deadline: Date.now() + 10_000, waitUntil() {}, passThroughOnException() {} };

/** Installs a fresh Deno global, runs `main` as the module's top level, and creates the adapter. */
function load(main: (deno: DenoApi) => void, module: Record<string, unknown> = {}) {
  denoAdapter.prepare?.(setup);
  const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
  main(deno);
  return { deno, adapter: denoAdapter.create(module, setup) };
}

describe('Deno adapter', () => {
  test('serveArguments reads every overload', () => {
    const h = (): Response => new Response('x');
    assert.equal(serveArguments(h, undefined).handler, h);
    assert.equal(serveArguments({ port: 1 }, h).handler, h);
    assert.deepEqual(serveArguments({ port: 1 }, h).options, { port: 1 });
    assert.equal(serveArguments({ handler: h, port: 2 }, undefined).handler, h);
    assert.equal(serveArguments({ fetch: h }, undefined).handler, h);
    assert.throws(() => serveArguments({ port: 3 }, undefined), TypeError);
  });

  for (const [name, call] of [
    ['Deno.serve(handler)', (d: DenoApi, h: unknown) => d.serve(h)],
    ['Deno.serve(options, handler)', (d: DenoApi, h: unknown) => d.serve({ port: 9000, hostname: '127.0.0.1' }, h)],
    ['Deno.serve({ handler })', (d: DenoApi, h: unknown) => d.serve({ handler: h, port: 9000 })],
    ['Deno.serve({ fetch })', (d: DenoApi, h: unknown) => d.serve({ fetch: h })],
  ] as const) {
    test(`${name} serves requests with info.remoteAddr from the gateway`, async () => {
      const { adapter } = load((deno) => void call(deno, (req: Request, info: { remoteAddr: { hostname: string; transport: string } }) => new Response(`${req.method} ${new URL(req.url).pathname} from ${info.remoteAddr.transport}:${info.remoteAddr.hostname}`)));
      const res = await adapter.fetch(new Request('http://h/a'), http, ctx);
      assert.equal(await res.text(), 'GET /a from tcp:198.51.100.23');
    });
  }

  test('the server object: addr, onListen, finished and shutdown', async () => {
    let listened: unknown;
    let server: ReturnType<DenoApi['serve']> | undefined;
    const { adapter } = load((deno) => {
      server = deno.serve({ port: 4242, onListen: (addr: unknown) => (listened = addr) }, () => new Response('up'));
    });
    await Promise.resolve();
    assert.deepEqual(listened, { transport: 'tcp', hostname: '0.0.0.0', port: 4242 });
    assert.equal(server?.addr.port, 4242);
    assert.equal(await (await adapter.fetch(new Request('http://h/'), http, ctx)).text(), 'up');
    await server?.shutdown();
    await server?.finished;
    assert.equal((await adapter.fetch(new Request('http://h/'), http, ctx)).status, 503);
  });

  test('onError answers for a handler that throws; without it the error propagates', async () => {
    const { adapter } = load((deno) => void deno.serve({ onError: (e: unknown) => new Response(`caught ${(e as Error).message}`, { status: 500 }) }, () => {
      throw new Error('boom');
    }));
    const res = await adapter.fetch(new Request('http://h/'), http, ctx);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'caught boom');
    const bare = load((deno) => void deno.serve(() => 'not a response'));
    await assert.rejects(bare.adapter.fetch(new Request('http://h/'), http, ctx), /must be a response/);
  });

  test('`deno serve` modules: export default { fetch }', async () => {
    const { adapter } = load(() => {}, { default: { fetch: (req: Request) => new Response(`default ${new URL(req.url).pathname}`) } });
    assert.equal(await (await adapter.fetch(new Request('http://h/d'), http, ctx)).text(), 'default /d');
  });

  test('a module that serves nothing is refused at load', () => {
    assert.throws(() => load(() => {}), /did not call Deno\.serve/);
  });

  test('Deno.env: the function variables, DENO_REGION, DENO_DEPLOYMENT_ID; set/delete are local', () => {
    const { deno } = load((d) => void d.serve(() => new Response('')));
    assert.equal(deno.env.get('GREETING'), 'hi');
    assert.equal(deno.env.get('DENO_REGION'), 'eu-test');
    assert.equal(deno.env.get('DENO_DEPLOYMENT_ID'), 'app-2');
    assert.equal(deno.env.get('HOME'), undefined, 'the host environment is not visible');
    deno.env.set('X', '1');
    assert.equal(deno.env.has('X'), true);
    deno.env.delete('X');
    assert.equal(deno.env.toObject()['X'], undefined);
    assert.throws(() => deno.env.get(''), TypeError);
  });

  test('Deno.openKv needs the denokv binding', async () => {
    const { deno } = load((d) => void d.serve(() => new Response('')));
    await assert.rejects(deno.openKv(), /not available/);
  });

  test('Deno.cron registers jobs; a scheduled event runs one by name or by schedule', async () => {
    const ran: string[] = [];
    const { adapter } = load((deno) => {
      void deno.cron('cleanup', '0 * * * *', () => void ran.push('cleanup'));
      void deno.cron('report', { minute: { every: 15 } }, { backoffSchedule: [1000] }, async () => void ran.push('report'));
      assert.throws(() => deno.cron('cleanup', '* * * * *', () => {}), /already exists/);
      assert.throws(() => deno.cron('bad/name', '* * * * *', () => {}), TypeError);
    });
    assert.deepEqual(registeredCrons(), [{ name: 'cleanup', schedule: '0 * * * *' }, { name: 'report', schedule: '*/15 * * * *' }]);
    assert.deepEqual(await adapter.event('scheduled', { name: 'report' }, ctx), { ran: ['report'] });
    assert.deepEqual(await adapter.event('scheduled', { cron: '0  * * * *', scheduledTime: 0 }, ctx), { ran: ['cleanup'] });
    assert.deepEqual(ran, ['report', 'cleanup']);
    await assert.rejects(adapter.event('scheduled', { name: 'nope' }, ctx), /no Deno\.cron job/);
    await assert.rejects(adapter.event('queue', {}, ctx), /cannot receive queue/);
  });

  test('cronExpression converts Deno.cron object schedules', () => {
    assert.equal(cronExpression({ hour: { exact: [0, 12] }, minute: 30 }), '30 0,12 * * *');
    assert.equal(cronExpression({ dayOfWeek: { start: 1, end: 5 }, minute: { exact: 0 }, hour: { exact: 9 } }), '0 9 * * 1-5');
  });
});
