/**
 * @module
 * Local secrets for Workers projects, read the way wrangler does: `.dev.vars` (or
 * `.dev.vars.<env>` when an environment is chosen) in dotenv syntax; when no `.dev.vars` file
 * exists, `.env` (and `.env.<env>`) instead. Parsing is Node's own `util.parseEnv`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Returns the secrets and the file they came from (relative to root), if any. */
export async function loadDevVars(root: string, env?: string): Promise<{ vars: Record<string, string>; file?: string }> {
  for (const base of ['.dev.vars', '.env']) {
    const names = env ? [`${base}.${env}`, base] : [base];
    for (const name of names) {
      const text = await readOptional(join(root, name));
      if (text === undefined) continue;
      const parsed = parseEnv(text);
      const vars: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') vars[k] = v;
      return { vars, file: name };
    }
  }
  return { vars: {} };
}
