/**
 * @module
 * `outpost keys create|list|delete`: access keys for the S3 API on the AWS port (routes in
 * src/aws/access-keys.ts). The secret is printed once, by create.
 */
import type { Values } from './commands.ts';
import { EXIT, UsageError } from './output.ts';
import { api, clientFrom as client, printResult as print } from './client.ts';



interface KeyRow {
  accessKeyId: string;
  label: string;
  createdAt: string;
}

export async function keys(values: Values, positionals: string[]): Promise<number> {
  const [verb, id] = positionals;
  const c = client(values);
  switch (verb) {
    case 'list':
    case undefined: {
      const { keys: all } = await api<{ keys: KeyRow[] }>(c, 'GET', 'keys');
      const rows = all.map((k) => `${k.accessKeyId.padEnd(22)} ${k.createdAt.padEnd(26)} ${k.label || '-'}`);
      print(values, all, all.length === 0 ? 'no access keys (outpost keys create)' : `${'ACCESS KEY ID'.padEnd(22)} ${'CREATED'.padEnd(26)} LABEL\n${rows.join('\n')}`);
      return EXIT.ok;
    }
    case 'create': {
      const label = typeof values['label'] === 'string' ? values['label'] : '';
      const key = await api<KeyRow & { secretAccessKey: string }>(c, 'POST', 'keys', { label });
      print(
        values,
        key,
        `✔ created access key (the secret is shown once, keep it)\n  AWS_ACCESS_KEY_ID=${key.accessKeyId}\n  AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`,
      );
      return EXIT.ok;
    }
    case 'delete': {
      if (!id) throw new UsageError('name the key: outpost keys delete <access-key-id>');
      const result = await api<{ deleted: string }>(c, 'DELETE', `keys/${encodeURIComponent(id)}`);
      print(values, result, `✔ deleted access key ${id}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown verb ${verb}: outpost keys <create|list|delete>`);
  }
}
