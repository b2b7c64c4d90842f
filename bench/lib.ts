/**
 * @module
 * What the benchmarks share: start a server process and wait until it answers, run wrk and
 * parse it, pin processes to cores, and summarise samples. Every benchmark runs its baseline
 * in the same run and reports ratios, because absolute figures move ±15–20 % between runs on
 * these machines.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const CLI = join(REPO, 'bin', 'outpost.js');
/**
 * workerd, the baseline runtime, is installed by the benchmarks on first use rather than listed
 * in package.json: the registry here lacks its macOS and Windows binary packages for the pinned
 * version, which leaves the lock file unable to satisfy `npm ci`.
 */
const WORKERD_VERSION = '1.20261117.1';
const WORKERD_DIR = join(tmpdir(), `outpost-bench-workerd-${WORKERD_VERSION}`);
export const WORKERD = join(WORKERD_DIR, 'node_modules', '.bin', 'workerd');

export function ensureWorkerd(): string {
  if (existsSync(WORKERD)) return WORKERD;
  console.error(`installing workerd@${WORKERD_VERSION} for the baseline (npm)…`);
  mkdirSync(WORKERD_DIR, { recursive: true });
  writeFileSync(join(WORKERD_DIR, 'package.json'), '{ "private": true }\n');
  execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `workerd@${WORKERD_VERSION}`], { cwd: WORKERD_DIR, stdio: 'inherit' });
  return WORKERD;
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** wrk comes from Debian; install it when missing (benchmarks run as root here). */
export function ensureWrk(): void {
  if (hasCommand('wrk')) return;
  console.error('installing wrk (apt-get)…');
  execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq wrk'], { stdio: 'inherit' });
}

/** Cores for the server and for the load generator: different ones when there are two. */
export const CORES = { server: '0', load: availableParallelism() > 1 ? '1' : '0' };
export const MACHINE = `${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, Node ${process.version}`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** Servers still running are killed when the benchmark exits, even on a crash. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export interface Server {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `command args` pinned to `core` and waits until `url` answers (and, for Outpost, until
 * it printed its ready line: the health endpoint answers before dev has deployed everything).
 */
export async function startServer(command: string, args: string[], url: string, options: { core?: string; env?: Record<string, string>; cwd?: string; readyLine?: boolean; setup?: () => void; onStdout?: (text: string) => void } = {}): Promise<Server> {
  options.setup?.();
  const pinned = options.core !== undefined && hasCommand('taskset');
  const proc = spawn(pinned ? 'taskset' : command, pinned ? ['-c', options.core as string, command, ...args] : args, {
    stdio: ['ignore', options.readyLine ? 'pipe' : 'ignore', 'inherit'],
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? REPO,
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  const deadline = Date.now() + 120_000;
  if (options.readyLine) {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      proc.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (/ready on /.test(out)) resolve();
      });
      proc.once('exit', () => reject(new Error(`${command} exited before it was ready`)));
    });
    if (options.onStdout) {
      options.onStdout(out);
      proc.stdout?.on('data', (d: Buffer) => options.onStdout?.(d.toString()));
    } else proc.stdout?.resume();
  }
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${command} did not answer at ${url}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    proc,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

export function wrk(url: string, options: { seconds?: number; connections?: number } = {}): WrkResult {
  const args = ['-t1', `-c${options.connections ?? 50}`, `-d${options.seconds ?? 5}s`, '--latency', url];
  const out = execFileSync(hasCommand('taskset') ? 'taskset' : 'wrk', hasCommand('taskset') ? ['-c', CORES.load, 'wrk', ...args] : args, { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  return { rps, p50Ms: p50, p99Ms: p99 };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A markdown table from rows of cells. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Resident memory of a process in MB (Linux). */
export function rssMb(pid: number): number {
  const status = execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' });
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}
