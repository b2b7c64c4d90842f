/**
 * @module
 * `outpost secret put|list|delete --function <fn>`: a function's secrets on a node, through
 * the control API (routes in src/bindings/secrets/api.ts). `put` reads the value from stdin
 * (one trailing newline removed), so it never appears in shell history or `ps`.
 */
import { findProjects, loadProject } from '../project/index.ts';
import type { Values } from './commands.ts';
import { EXIT, UsageError } from './output.ts';
import { api, clientFrom as client, printResult as print } from './client.ts';



async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Enter the secret value, then Ctrl-D:\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * The function named by --function (or wrangler's --name); without either, the one function of
 * the project in the current folder, as wrangler uses its config's name.
 */
async function functionName(values: Values): Promise<string> {
  for (const flag of ['function', 'name']) {
    const v = values[flag];
    if (typeof v === 'string' && v !== '') return v;
  }
  const here = process.cwd();
  if ((await findProjects(here)).includes(here)) {
    const project = await loadProject(here, { dev: false });
    const only = project.functions.length === 1 ? project.functions[0] : undefined;
    if (only) return only.name;
  }
  throw new UsageError('name the function: --function <name> (or run this in a one-function project folder)');
}

export async function secret(values: Values, positionals: string[]): Promise<number> {
  const [verb, name] = positionals;
  const fn = await functionName(values);
  const base = `functions/${encodeURIComponent(fn)}/secrets`;
  const c = client(values);
  switch (verb) {
    case 'put': {
      if (!name) throw new UsageError('outpost secret put <name> --function <fn>  (the value is read from stdin)');
      const value = await readStdin();
      if (value === '') throw new UsageError('the secret value read from stdin is empty');
      const result = await api<{ function: string; name: string }>(c, 'PUT', `${base}/${encodeURIComponent(name)}`, { value });
      print(values, result, `✔ secret ${name} set for ${fn} (new instances see it)`);
      return EXIT.ok;
    }
    case 'list':
    case undefined: {
      const result = await api<{ function: string; secrets: Array<{ name: string; updatedAt: string }> }>(c, 'GET', base);
      print(values, result.secrets, result.secrets.length === 0 ? `${fn} has no secrets` : result.secrets.map((s) => `${s.name.padEnd(32)} updated ${s.updatedAt}`).join('\n'));
      return EXIT.ok;
    }
    case 'delete': {
      if (!name) throw new UsageError('outpost secret delete <name> --function <fn>');
      const result = await api<{ deleted: string }>(c, 'DELETE', `${base}/${encodeURIComponent(name)}`);
      print(values, result, `✔ secret ${name} deleted from ${fn}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown secret command "${verb}" (put, list, delete)`);
  }
}
