/**
 * @module
 * What end-to-end tests share: start the real `outpost` CLI as a child process on port 0 and
 * wait for its ready line, write temporary projects, and poll with a deadline instead of
 * sleeping. Everything is cleaned up through the test context.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const CLI = join(REPO, 'bin', 'outpost.js');
export const FIXTURES = fileURLToPath(new URL('../../shared/fixtures/', import.meta.url));

type Cleanup = Pick<TestContext, 'after'> | { after(fn: () => unknown): void };

/** A temp dir removed after the test. */
export async function tempDir(t: Cleanup, prefix = 'outpost-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `files` (path → content) under a new temp dir and returns it. */
export async function writeProject(t: Cleanup, files: Record<string, string>, dir?: string): Promise<string> {
  const root = dir ?? (await tempDir(t, 'outpost-project-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

export interface Running {
  url: string;
  port: number;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the next stdout/stderr text matching `re` (after `from` characters). */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `outpost <args>` until it prints its ready line. */
export async function startOutpost(t: Cleanup, args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<Running> {
  // The AWS port defaults to 4566; tests never take a fixed port, so it is 0 unless given.
  const awsPort = (args[0] === 'dev' || args[0] === 'serve') && !args.includes('--aws-port') ? ['--aws-port', '0'] : [];
  const proc = spawn(process.execPath, [CLI, ...args, ...awsPort], {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of waiters) w();
  };
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    notify();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    notify();
  });
  let exited = false;
  proc.on('exit', () => {
    exited = true;
    notify();
  });
  const waitFor = (re: RegExp, timeoutMs = 15_000, from = 0): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = (out + err).slice(from).match(re);
        if (m) {
          done();
          resolve(m);
        } else if (exited) {
          done();
          reject(new Error(`outpost exited before printing ${re}:\n${out}\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${re}:\n${out}\n${err}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (exited) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await gone;
  };
  t.after(() => stop('SIGKILL'));
  const m = await waitFor(/ready on (http:\/\/[\d.]+:(\d+))/, options.timeoutMs ?? 30_000);
  return { url: m[1] as string, port: Number(m[2]), proc, stdout: () => out, stderr: () => err, waitFor, stop };
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Calls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A one-file Workers project. */
export function worker(name: string, source: string, extraToml = ''): Record<string, string> {
  return {
    'outpost.toml': `name = "${name}"\nmain = "src/index.ts"\n${extraToml}`,
    'src/index.ts': source,
  };
}
