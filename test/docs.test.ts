// The documentation promises: every error code the source raises is explained in
// docs/errors.md, and every doc the README points to exists.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from './helpers.ts';

function sources(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.includes('contract'))
    .map((e) => join(e.parentPath, e.name));
}

test('every error code raised in src/ is documented in docs/errors.md', () => {
  const codes = new Set<string>();
  const patterns = [/(?:OutpostError|InvocationError)(?:<[^>]*>)?\(\s*'([A-Z][A-Z0-9_]+)'/g, /\bcode(?::|\s*=)\s*'([A-Z][A-Z0-9_]{3,})'/g, /limitError\('([A-Z_]+)'\)/g];
  for (const file of sources('src')) {
    const text = readFileSync(file, 'utf8');
    for (const re of patterns) for (const m of text.matchAll(re)) codes.add(m[1] as string);
  }
  for (const code of readFileSync(join(REPO, 'src/runtime/protocol.ts'), 'utf8').match(/LIMIT_CODES = \[([^\]]+)\]/)?.[1]?.match(/[A-Z_]+/g) ?? []) codes.add(code);
  assert.ok(codes.size > 30, `found only ${codes.size} codes: the scan is broken`);
  const doc = readFileSync(join(REPO, 'docs/errors.md'), 'utf8');
  const missing = [...codes].filter((c) => !doc.includes(`\`${c}\``)).sort();
  assert.deepEqual(missing, [], 'codes raised in src/ but missing from docs/errors.md');
});

test('the documents the README points to exist', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const linked = [...readme.matchAll(/`(docs\/[\w./-]+\.md)`/g)].map((m) => m[1] as string);
  assert.ok(linked.length >= 5);
  assert.deepEqual(linked.filter((p) => !existsSync(join(REPO, p))), []);
});
