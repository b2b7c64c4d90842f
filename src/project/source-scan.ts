/**
 * @module
 * Reading facts out of user source without running it: export names through esbuild's metafile
 * (a transform only — imports are not resolved, so `firebase-functions` or `next/server` need not
 * be installed), comment stripping so commented-out code is not mistaken for a registration, and
 * balanced-bracket extraction for option objects passed to calls such as `app.http('x', { … })`.
 * These are text scans: code that builds names or options at run time is out of their reach.
 */
import path from 'node:path';
import { build } from 'esbuild';

/** Export names of a module (ESM `export`s; a CommonJS module shows only `default`), or undefined when it does not parse. */
export async function moduleExports(file: string): Promise<string[] | undefined> {
  try {
    const result = await build({
      entryPoints: [file],
      bundle: false,
      write: false,
      metafile: true,
      format: 'esm',
      logLevel: 'silent',
      outdir: path.join(path.dirname(file), '.outpost-scan'),
      absWorkingDir: path.dirname(file),
    });
    const outputs = Object.values(result.metafile.outputs);
    return outputs.flatMap((o) => o.exports);
  } catch {
    return undefined;
  }
}

/**
 * Replaces comments with spaces (keeping offsets and line breaks) while leaving string and
 * template-literal contents alone, so later regex scans see only live code.
 */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      while (i < src.length && src[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      const start = i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      i++;
      out += src.slice(start, i);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const CLOSE: Readonly<Record<string, string>> = { '{': '}', '[': ']', '(': ')' };

/** Text from the bracket at `open` to its match (inclusive), skipping strings; undefined when unbalanced. */
export function balanced(src: string, open: number): string | undefined {
  const first = src[open] ?? '';
  if (!(first in CLOSE)) return undefined;
  const stack: string[] = [];
  for (let i = open; i < src.length; i++) {
    const c = src[i] ?? '';
    if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      continue;
    }
    const close = CLOSE[c];
    if (close !== undefined) stack.push(close);
    else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return src.slice(open, i + 1);
    }
  }
  return undefined;
}

/** The property at the top level of an object literal's text (`{ a: 1, b: { a: 2 } }` → only the outer `a`). */
export function topLevelProperty(objectText: string, name: string): string | undefined {
  // Blank out nested brackets so a property of an inner object is not picked up.
  let flat = '';
  let depth = 0;
  for (let i = 0; i < objectText.length; i++) {
    const c = objectText[i] ?? '';
    if (c === '"' || c === "'" || c === '`') {
      const start = i++;
      while (i < objectText.length && objectText[i] !== c) i += objectText[i] === '\\' ? 2 : 1;
      flat += depth <= 1 ? objectText.slice(start, i + 1) : ' '.repeat(i + 1 - start);
      continue;
    }
    if (c === '{' || c === '[' || c === '(') depth++;
    flat += depth <= 1 || c === '\n' ? c : ' ';
    if (c === '}' || c === ']' || c === ')') depth--;
  }
  const m = new RegExp(`[{,\\s]${name}\\s*:`).exec(flat);
  if (!m) return undefined;
  const start = m.index + m[0].length;
  const rest = objectText.slice(start).trimStart();
  const offset = objectText.length - rest.length;
  const head = objectText[offset] ?? '';
  if (head in CLOSE) return balanced(objectText, offset);
  const q = /^(['"`])((?:\\.|(?!\1).)*)\1/.exec(rest);
  if (q) return q[0];
  return /^[^,}\n]*/.exec(rest)?.[0]?.trim();
}

/** A quoted JS string literal's value (`'a'`, `"a"`, `` `a` `` without `${}`), else undefined. */
export function stringLiteral(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(['"`])((?:\\.|(?!\1).)*)\1\s*$/.exec(text);
  if (!m || (m[1] === '`' && (m[2] ?? '').includes('${'))) return undefined;
  return (m[2] ?? '').replace(/\\(.)/g, '$1');
}

/** The string literals of an array literal's text (`['GET', 'POST']`). */
export function stringArrayLiteral(text: string | undefined): string[] | undefined {
  if (text === undefined || !text.trim().startsWith('[')) return undefined;
  const out: string[] = [];
  for (const m of text.matchAll(/(['"`])((?:\\.|(?!\1).)*)\1/g)) out.push(m[2] ?? '');
  return out;
}
