/**
 * @module
 * How the CLI talks to people: errors read as what failed, the details, and how to fix it;
 * `--json` prints machine-readable results instead.
 */
import { OutpostError } from '../errors.ts';
import { ConfigError, formatProblems } from '../project/index.ts';

/** Exit codes: 0 ok, 1 the operation failed, 2 the command line was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {}

export function printError(error: unknown): void {
  if (error instanceof ConfigError) {
    process.stderr.write(`✘ The project config has problems:\n${formatProblems(error.problems)}\n`);
    return;
  }
  if (error instanceof OutpostError) {
    process.stderr.write(`✘ ${error.message}\n`);
    const stack = error.details?.['stack'];
    if (typeof stack === 'string') process.stderr.write(`${stack.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
    if (error.hint) process.stderr.write(`  → ${error.hint}\n`);
    return;
  }
  process.stderr.write(`✘ ${(error as Error).message ?? String(error)}\n`);
}
