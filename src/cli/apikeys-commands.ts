/**
 * @module
 * `outpost apikeys create|list|delete`: API keys for routes that require `x-api-key` (routes in
 * src/traffic/api-keys.ts). The value is printed once, by create; the node keeps only its hash.
 */
import type { Values } from './commands.ts';
import { EXIT, UsageError } from './output.ts';
import { api, clientFrom as client, printResult as print } from './client.ts';

interface ApiKeyRow {
  name: string;
  createdAt: string;
}

export async function apikeys(values: Values, positionals: string[]): Promise<number> {
  const [verb, name] = positionals;
  const c = client(values);
  switch (verb) {
    case 'list':
    case undefined: {
      const { keys } = await api<{ keys: ApiKeyRow[] }>(c, 'GET', 'apikeys');
      const rows = keys.map((k) => `${k.name.padEnd(32)} ${k.createdAt}`);
      print(values, keys, keys.length === 0 ? 'no API keys (outpost apikeys create <name>)' : `${'NAME'.padEnd(32)} CREATED\n${rows.join('\n')}`);
      return EXIT.ok;
    }
    case 'create': {
      if (!name) throw new UsageError('name the key: outpost apikeys create <name>');
      const key = await api<ApiKeyRow & { value: string }>(c, 'POST', 'apikeys', { name });
      print(values, key, `✔ created API key ${key.name} (the value is shown once, keep it)\n  x-api-key: ${key.value}`);
      return EXIT.ok;
    }
    case 'delete': {
      if (!name) throw new UsageError('name the key: outpost apikeys delete <name>');
      const result = await api<{ deleted: string }>(c, 'DELETE', `apikeys/${encodeURIComponent(name)}`);
      print(values, result, `✔ deleted API key ${name}; requests with it are refused from now on`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown verb ${verb}: outpost apikeys <create|list|delete>`);
  }
}
