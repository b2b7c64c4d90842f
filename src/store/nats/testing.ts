/**
 * @module
 * A throwaway nats-server for tests and benchmarks: `nats-server -js` on random loopback ports
 * (`-p -1 -m -1`, so no port is guessed) with its store in a temp dir, started on first use and
 * stopped (and its dir removed) when the caller is done. One server per test file; each store
 * opened on it takes its own bucket prefix, so tests never share state. `startNatsCluster` starts
 * a real JetStream cluster instead (routes between the servers, optional placement tags) for the
 * fleet, fault and residency tests and bench/fleet.ts.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServerProcess {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  /** The HTTP monitoring endpoint (`/varz` counts messages), for benchmarks that show what was sent. */
  readonly monitorUrl: string;
  stop(): Promise<void>;
}

/** Starts nats-server with JetStream; resolves once it accepts clients. */
export async function startNatsServer(timeoutMs = 15_000): Promise<NatsServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-nats-'));
  const proc = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', '-1', '-m', '-1', '-sd', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The server never outlives the process that started it, even when that one crashes.
  const orphaned = (): void => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', orphaned);
  const stop = async (): Promise<void> => {
    process.off('exit', orphaned);
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const { client, monitor } = await listeningPorts(proc, timeoutMs);
    return { url: `nats://127.0.0.1:${client}`, monitorUrl: `http://127.0.0.1:${monitor}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listeningPorts(proc: ChildProcess, timeoutMs: number): Promise<{ client: number; monitor: number }> {
  return new Promise((resolve, reject) => {
    let log = '';
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`nats-server did not start within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    // The pipes stay drained after start (a full pipe would stall the server), but unread.
    const onData = (chunk: Buffer): void => {
      if (ready) return;
      log += chunk.toString();
      const client = /Listening for client connections on [^\s]*:(\d+)/.exec(log);
      const monitor = /Starting http monitor on [^\s]*:(\d+)/.exec(log);
      if (client && monitor && log.includes('Server is ready')) {
        ready = true;
        clearTimeout(timer);
        resolve({ client: Number(client[1]), monitor: Number(monitor[1]) });
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run nats-server (install it: apt-get install nats-server): ${error.message}`));
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited with ${String(code)} before it was ready:\n${log}`));
    });
  });
}

/**
 * One server for a whole test file, started on first `url()` and stopped by `stop()` (register
 * it with node:test's `after`).
 */
export function sharedNatsServer(): { url(): Promise<string>; stop(): Promise<void> } {
  let started: Promise<NatsServerProcess> | undefined;
  return {
    url: async () => (await (started ??= startNatsServer())).url,
    stop: async () => {
      if (started) await (await started).stop();
    },
  };
}

export interface NatsClusterServer extends NatsServerProcess {
  readonly name: string;
  /** Its JetStream store directory (residency tests look for data on disk). */
  readonly storeDir: string;
  /** The running process (fault tests SIGKILL it). */
  readonly pid: number;
  /** Kills the server at once, as a crash would (its store dir stays until `stop`). */
  kill(): void;
}

export interface NatsCluster {
  readonly servers: NatsClusterServer[];
  /** Every server, as `--store` takes them (`nats://a:1,b:2`). */
  readonly url: string;
  /** The servers as `--store` takes them, `first` (an index) first: a node placed beside that server. */
  urlFrom(first: number): string;
  stop(): Promise<void>;
}

/**
 * A real JetStream cluster on loopback: `size` servers with routes between all of them, each
 * with its own store dir, tagged `server_tags` (per server, e.g. `region:eu`) for placement.
 * JetStream clustering needs the routes configured up front, so the route ports are taken from
 * the OS (listen on port 0, close, hand the number over) just before the servers start.
 */
export async function startNatsCluster(options: { size?: number; tags?: string[][]; timeoutMs?: number } = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const root = await mkdtemp(join(tmpdir(), 'outpost-nats-cluster-'));
  const servers: NatsClusterServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    const started = routePorts.map(async (routePort, i) => {
      const name = `n${i + 1}`;
      const tags = options.tags?.[i] ?? [];
      const config = [
        `server_name: ${name}`,
        'listen: 127.0.0.1:-1',
        'http: 127.0.0.1:-1',
        `server_tags: ${JSON.stringify(tags)}`,
        `jetstream { store_dir: ${JSON.stringify(join(root, name))} }`,
        `cluster { name: outpost-test, listen: 127.0.0.1:${routePort}, routes: [${routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}] }`,
      ].join('\n');
      const file = join(root, `${name}.conf`);
      await writeFile(file, config);
      const proc = spawn('nats-server', ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      const orphaned = (): void => void proc.kill('SIGKILL');
      process.once('exit', orphaned);
      const stop = async (): Promise<void> => {
        process.off('exit', orphaned);
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise((resolve) => proc.once('exit', resolve));
          proc.kill('SIGTERM');
          await exited;
        }
      };
      const server: NatsClusterServer = { name, storeDir: join(root, name), url: '', monitorUrl: '', pid: proc.pid ?? 0, kill: () => void proc.kill('SIGKILL'), stop };
      servers.push(server);
      const { client, monitor } = await listeningPorts(proc, options.timeoutMs ?? 20_000);
      Object.assign(server, { url: `nats://127.0.0.1:${client}`, monitorUrl: `http://127.0.0.1:${monitor}` });
      return server;
    });
    const ready = await Promise.all(started);
    servers.sort((a, b) => a.name.localeCompare(b.name));
    await jetStreamReady(ready[0]?.monitorUrl ?? '', options.timeoutMs ?? 20_000);
    const urlFrom = (first: number): string => `nats://${[...ready.slice(first), ...ready.slice(0, first)].map((s) => s.url.slice('nats://'.length)).join(',')}`;
    return { servers: ready, url: urlFrom(0), urlFrom, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Waits until the cluster has elected a JetStream meta leader (before that, creating a bucket fails). */
async function jetStreamReady(monitorUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await (await fetch(`${monitorUrl}/jsz`)).json().catch(() => ({}))) as { meta_cluster?: { leader?: string } };
    if (info.meta_cluster?.leader) return;
    if (Date.now() > deadline) throw new Error(`the NATS cluster elected no JetStream leader within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
