/**
 * @module
 * Helpers the loader tests share: throwaway project folders under the OS temp dir, the shared
 * acceptance fixtures' location (computed from this file, so the repo can live anywhere), and an
 * assertion that a load failed with problems at the expected file and key.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './problems.ts';
import type { ConfigProblem } from './problems.ts';

interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

/** Writes `files` (relative path → content) into a fresh temp folder removed after the test. */
export async function tempProject(t: AfterHook, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-loader-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(dir, name);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, content);
  }
  return dir;
}

/** Absolute path of a shared acceptance fixture (`/…/shared/fixtures/<name>`). */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../../shared/fixtures/${name}`, import.meta.url));
}

/** Runs `load` expecting a ConfigError; checks each expected (file, key) has an error problem and returns them all. */
export async function expectProblems(load: () => Promise<unknown>, expected: ReadonlyArray<{ file: string; key: string; message?: RegExp }>): Promise<readonly ConfigProblem[]> {
  let error: unknown;
  try {
    await load();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error instanceof Error ? error.stack : String(error)}`);
  const errors = error.problems.filter((p) => p.severity === 'error');
  for (const exp of expected) {
    const hit = errors.find((p) => p.file === exp.file && p.key === exp.key && (exp.message === undefined || exp.message.test(p.message)));
    assert.ok(hit, `no error at ${exp.file}: ${exp.key}${exp.message ? ` matching ${exp.message}` : ''}; got:\n${errors.map((p) => `  ${p.file}: ${p.key}: ${p.message}`).join('\n')}`);
  }
  return error.problems;
}
