// The isolate boundary: a Web-standard function cannot reach Node, the host, another function
// or the node's own API; values it receives pass `instanceof` checks in its own realm.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const probes = `
const results = {};
const dyn = (specifier) => import(specifier); // runtime imports: the bundler cannot see them
async function probe(name, fn) {
  try { const v = await fn(); results[name] = v === undefined ? 'undefined' : typeof v === 'object' ? 'object' : String(v); }
  catch (e) { results[name] = 'threw ' + (e && e.name); }
}
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/escapes') {
      await probe('function constructor', () => this.constructor.constructor('return typeof process')());
      await probe('Response constructor', () => Response.constructor.constructor('return typeof process')());
      await probe('host promise', () => Promise.resolve().constructor.constructor('return typeof process')());
      await probe('error constructor', () => new Error().constructor.constructor('return typeof require')());
      await probe('TextEncoder result', () => new TextEncoder().encode('x').constructor.constructor('return typeof process')());
      await probe('globalThis.process', () => typeof globalThis.process);
      await probe('typeof process', () => typeof process);
      await probe('globalThis.require', () => typeof globalThis.require);
      await probe('typeof Buffer', () => typeof Buffer);
      await probe('BroadcastChannel', () => typeof globalThis.BroadcastChannel);
      await probe('import node:fs', () => dyn('node:fs').then(() => 'loaded'));
      await probe('import fs', () => dyn('fs').then(() => 'loaded'));
      await probe('import child_process', () => dyn('node:child_process').then(() => 'loaded'));
      await probe('import another file', () => dyn('file:///etc/passwd').then(() => 'loaded'));
      await probe('stack frames', () => { let leaked = 'none'; const prev = Error.prepareStackTrace; Error.prepareStackTrace = (e, frames) => { for (const f of frames) { const fn = f.getFunction && f.getFunction(); if (fn) leaked = 'function'; } return ''; }; new Error().stack; Error.prepareStackTrace = prev; return leaked; });
      await probe('setTimeout this', () => new Promise((resolve) => setTimeout(function () { resolve(this && this.process ? 'process' : 'none'); }, 0)));
      await probe('navigator.userAgent', () => navigator.userAgent);
      return Response.json(results);
    }
    if (url.pathname === '/globals') {
      const names = ['fetch', 'Request', 'Response', 'Headers', 'FormData', 'Blob', 'File', 'URL', 'URLSearchParams', 'URLPattern', 'TextEncoder', 'TextDecoder', 'TextEncoderStream', 'TextDecoderStream', 'atob', 'btoa', 'crypto', 'CryptoKey', 'SubtleCrypto', 'ReadableStream', 'WritableStream', 'TransformStream', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy', 'CompressionStream', 'DecompressionStream', 'AbortController', 'AbortSignal', 'Event', 'EventTarget', 'structuredClone', 'queueMicrotask', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'performance', 'console', 'navigator', 'DOMException', 'WebAssembly'];
      const missing = names.filter((n) => typeof globalThis[n] === 'undefined');
      const digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')))].slice(0, 4);
      const gz = await new Response(new Blob(['hello']).stream().pipeThrough(new CompressionStream('gzip')).pipeThrough(new DecompressionStream('gzip'))).text();
      const pattern = new URLPattern({ pathname: '/users/:id' }).exec('https://x.test/users/7')?.pathname.groups.id;
      return Response.json({ missing, digest, gz, pattern, uuid: /^[0-9a-f-]{36}$/.test(crypto.randomUUID()), now: typeof performance.now() });
    }
    if (url.pathname === '/realm') {
      const body = await request.arrayBuffer();
      const bytes = new Uint8Array(body);
      let fetchError;
      try { await fetch('not a url'); } catch (e) { fetchError = e; }
      return Response.json({
        request: request instanceof Request,
        headers: request.headers instanceof Headers,
        arrayBuffer: body instanceof ArrayBuffer,
        uint8: bytes instanceof Uint8Array,
        error: fetchError instanceof Error && fetchError instanceof TypeError,
        url: new URL(request.url) instanceof URL,
        clone: structuredClone(new Map([[1, 2]])) instanceof Map,
        bytes: bytes.length,
      });
    }
    if (url.pathname === '/fetch') {
      const target = url.searchParams.get('to');
      try { const r = await fetch(target); return new Response('reached ' + r.status); }
      catch (e) { return new Response((e && e.code) + ': ' + e.message, { status: 502 }); }
    }
    return new Response('ok');
  },
};`;

const polluter = `export default { async fetch() {
  Object.prototype.polluted = 'yes';
  Response.prototype.text = async () => 'hijacked';
  Array.prototype.push = () => 0;
  Map.prototype.get = () => undefined;
  return new Response('polluted');
} };`;

const victim = `export default { async fetch() {
  const r = new Response('real body');
  return Response.json({ polluted: ({}).polluted ?? null, text: await r.clone().text(), push: [].push(1) });
} };`;

describe('isolation', () => {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let dev: Running;
  let served: Running;
  let token: string;
  let upstream: number;
  before(async () => {
    const root = await writeProject(t, {
      'prober/outpost.toml': 'name = "prober"\nmain = "index.js"\n',
      'prober/index.js': probes,
      'victim/outpost.toml': 'name = "victim"\nmain = "index.js"\n',
      'polluter/outpost.toml': 'name = "polluter"\nmain = "index.js"\n',
      'polluter/index.js': polluter,
      'victim/index.js': victim,
    });
    const server = createServer((_req, res) => res.end('upstream'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => server.close());
    upstream = (server.address() as { port: number }).port;
    dev = await startOutpost(t, ['dev', root, '--port', '0', '--state', await tempDir(t), '--quiet']);
    served = await startOutpost(t, ['serve', '--port', '0', '--state', await tempDir(t), '--quiet']);
    token = (await served.waitFor(/(op_\S+)/))[1] as string;
    const { runCli } = await import('./helpers.ts');
    const deployed = await runCli(['deploy', `${root}/prober`, '--to', served.url, '--token', token]);
    assert.equal(deployed.code, 0, deployed.stderr);
  });

  test('escape attempts from ISOLATION.md all fail', async () => {
    const results = (await (await fetch(`${dev.url}/prober/escapes`)).json()) as Record<string, string>;
    assert.deepEqual(results, {
      'function constructor': 'undefined',
      'Response constructor': 'undefined',
      'host promise': 'undefined',
      'error constructor': 'undefined',
      'TextEncoder result': 'undefined',
      'globalThis.process': 'undefined',
      'typeof process': 'undefined',
      'globalThis.require': 'undefined',
      'typeof Buffer': 'undefined',
      BroadcastChannel: 'undefined',
      'import node:fs': 'threw Error',
      'import fs': 'threw Error',
      'import child_process': 'threw Error',
      'import another file': 'threw Error',
      'stack frames': 'none',
      'setTimeout this': 'none',
      'navigator.userAgent': 'Cloudflare-Workers',
    });
  });

  test('the WinterTC minimum common API is all there', async () => {
    const r = (await (await fetch(`${dev.url}/prober/globals`)).json()) as Record<string, unknown>;
    assert.deepEqual(r, { missing: [], digest: [186, 120, 22, 191], gz: 'hello', pattern: '7', uuid: true, now: 'number' });
  });

  test('instanceof holds for everything a function receives', async () => {
    const r = await fetch(`${dev.url}/prober/realm`, { method: 'POST', body: new Uint8Array(300_000) });
    assert.deepEqual(await r.json(), { request: true, headers: true, arrayBuffer: true, uint8: true, error: true, url: true, clone: true, bytes: 300_000 });
  });

  test('tampering with shared prototypes in one function does not reach another', async () => {
    assert.equal(await (await fetch(`${dev.url}/polluter/`)).text(), 'polluted');
    assert.deepEqual(await (await fetch(`${dev.url}/victim/`)).json(), { polluted: null, text: 'real body', push: 1 });
    // The runtime inside the polluted isolate keeps its own bookkeeping working.
    const again = await fetch(`${dev.url}/polluter/`);
    assert.equal(again.status, 200);
    assert.equal(await again.text(), 'polluted');
  });

  test('outbound fetch cannot reach the node itself, and in serve not loopback either', async () => {
    const self = await fetch(`${dev.url}/prober/fetch?to=${encodeURIComponent(`${dev.url}/_outpost/api/functions`)}`);
    assert.equal(self.status, 502);
    assert.match(await self.text(), /EGRESS_DENIED: .*this Outpost node's own API/);
    const devLoopback = await fetch(`${dev.url}/prober/fetch?to=${encodeURIComponent(`http://127.0.0.1:${upstream}/`)}`);
    assert.equal(await devLoopback.text(), 'reached 200', 'outpost dev lets functions call local services');
    const serveLoopback = await fetch(`${served.url}/prober/fetch?to=${encodeURIComponent(`http://127.0.0.1:${upstream}/`)}`);
    assert.equal(serveLoopback.status, 502);
    assert.match(await serveLoopback.text(), /EGRESS_DENIED: .*loopback or private address/);
    const privateRange = await fetch(`${served.url}/prober/fetch?to=${encodeURIComponent('http://10.1.2.3/')}`);
    assert.match(await privateRange.text(), /EGRESS_DENIED/);
  });
});
