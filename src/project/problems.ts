/**
 * @module
 * Collects every problem found in a project's config before giving up, so a user fixes them
 * all in one pass instead of one per run. A problem names the file, the key, what was wrong
 * and how to fix it; {@link ConfigError} carries the whole list.
 */
import { OutpostError } from '../errors.ts';

export interface ConfigProblem {
  /** File the problem is in, relative to the project root. */
  file: string;
  /** Dotted key path inside the file (`kv_namespaces[0].binding`), or '' for the file itself. */
  key: string;
  message: string;
  /** How to fix it. */
  fix?: string;
  /** Problems that are only warnings (unknown keys) do not stop a deploy. */
  severity: 'error' | 'warning';
}

export class ConfigError extends OutpostError<'INVALID_CONFIG'> {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super('INVALID_CONFIG', `${errors.length} problem${errors.length === 1 ? '' : 's'} in the project config:\n${formatProblems(errors)}`, {
      fault: 'user',
      status: 400,
      hint: 'Fix the keys listed above; each line says what was expected.',
      details: { problems: errors },
    });
    this.problems = problems;
  }
}

/** One line per problem: `file: key: message (fix)`. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((p) => `  ${p.severity === 'warning' ? 'warning' : 'error'} ${p.file}${p.key ? `: ${p.key}` : ''}: ${p.message}${p.fix ? ` — ${p.fix}` : ''}`)
    .join('\n');
}

/** Accumulates problems for one file; `key` paths are relative to that file. */
export class ProblemList {
  readonly items: ConfigProblem[] = [];
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }
  error(key: string, message: string, fix?: string): void {
    this.items.push({ file: this.file, key, message, severity: 'error', ...(fix === undefined ? {} : { fix }) });
  }
  warn(key: string, message: string, fix?: string): void {
    this.items.push({ file: this.file, key, message, severity: 'warning', ...(fix === undefined ? {} : { fix }) });
  }
  get hasErrors(): boolean {
    return this.items.some((p) => p.severity === 'error');
  }
}

/** Throws a ConfigError when any list holds an error; returns the warnings otherwise. */
export function throwIfErrors(...lists: ProblemList[]): ConfigProblem[] {
  const all = lists.flatMap((l) => l.items);
  if (all.some((p) => p.severity === 'error')) throw new ConfigError(all);
  return all;
}
