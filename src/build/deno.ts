/**
 * @module
 * What bundling a Deno module needs beyond compat aliases: the import map from deno.json
 * (`imports`, exact keys and `prefix/` keys) applied before anything else resolves,
 * `npm:pkg@version/sub` read as the installed `pkg/sub`, well-known std URLs and `jsr:@std/http`
 * sent to the compat shim, and `import.meta.main` true (the entry is the main module on Deploy).
 * Any other `jsr:` or remote import is a build error that says why.
 */
import path from 'node:path';
import type { Plugin } from 'esbuild';
import type { FunctionSpec } from '../project/spec.ts';
import { compatUrl } from './compat.ts';

function readImports(fn: FunctionSpec): Array<[string, string]> {
  const raw = fn.platform['importMap'];
  if (raw === undefined) return [];
  try {
    const imports = (JSON.parse(raw) as { imports?: unknown }).imports;
    if (typeof imports !== 'object' || imports === null) return [];
    // Longest key first: the most specific mapping wins, as in import maps.
    return Object.entries(imports as Record<string, unknown>)
      .filter((e): e is [string, string] => typeof e[1] === 'string')
      .sort((a, b) => b[0].length - a[0].length);
  } catch {
    return [];
  }
}

/** Applies the import map's `imports` to a specifier (undefined when no key matches). */
export function mapSpecifier(specifier: string, imports: ReadonlyArray<readonly [string, string]>): string | undefined {
  for (const [key, target] of imports) {
    if (key === specifier) return target;
    if (key.endsWith('/') && specifier.startsWith(key)) return target + specifier.slice(key.length);
  }
  return undefined;
}

/** `npm:preact@10/hooks` → `preact/hooks`. */
export function npmSpecifier(specifier: string): string {
  const rest = specifier.replace(/^npm:\/?/, '');
  const m = /^((?:@[^/@]+\/)?[^/@]+)(?:@[^/]*)?(\/.*)?$/.exec(rest);
  return m ? `${m[1]}${m[2] ?? ''}` : rest;
}

export function denoPlugin(fn: FunctionSpec, root: string): Plugin {
  const imports = readImports(fn);
  return {
    name: 'outpost-deno',
    setup(build) {
      build.initialOptions.define = { ...build.initialOptions.define, 'import.meta.main': 'true' };
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === 'outpost-deno') return undefined;
        const mapped = mapSpecifier(args.path, imports);
        const specifier = mapped ?? args.path;
        const shim = compatUrl(specifier);
        if (shim) return { path: shim };
        if (specifier.startsWith('jsr:')) {
          return { errors: [{ text: `${specifier} cannot be fetched: Outpost builds offline and knows only jsr:@std/http. Vendor the module into your project or use an npm: package installed in node_modules.` }] };
        }
        if (specifier.startsWith('npm:')) {
          const found = await build.resolve(npmSpecifier(specifier), { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'outpost-deno' });
          return found.errors.length > 0 ? { errors: found.errors } : { path: found.path, ...(found.external ? { external: true } : {}) };
        }
        if (mapped === undefined) return undefined;
        // Mapped to a file: relative targets are relative to deno.json, at the project root.
        if (mapped.startsWith('./') || mapped.startsWith('../') || mapped.startsWith('/')) return { path: path.resolve(root, mapped) };
        const found = await build.resolve(mapped, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'outpost-deno' });
        return found.errors.length > 0 ? { errors: found.errors } : { path: found.path, ...(found.external ? { external: true } : {}) };
      });
    },
  };
}
