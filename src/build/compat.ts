/**
 * @module
 * Modules a user imports from their platform's SDK — `next/server`, `firebase-functions`,
 * `@azure/functions`, Deno's std URLs — resolve to Outpost's own implementations in
 * src/compat/, so a project needs no node_modules to build. One map, specifier → file; a
 * project's own installed copy is not consulted, on purpose: the platform's SDK expects the
 * platform's runtime, ours expects Outpost's.
 */
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const compat = (file: string): string => fileURLToPath(new URL(`../compat/${file}`, import.meta.url));

/** Specifier → compat module. Add a line per module. */
export const COMPAT_MODULES: Record<string, string> = {};

/** Type-only packages: an import of them compiles to nothing. */
const TYPE_ONLY = new Set(['aws-lambda', '@cloudflare/workers-types', '@types/aws-lambda']);

export function compatPlugin(): Plugin {
  return {
    name: 'outpost-compat-modules',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        const target = COMPAT_MODULES[args.path];
        if (target) return { path: target };
        if (TYPE_ONLY.has(args.path)) return { path: args.path, namespace: 'outpost-empty' };
        return undefined;
      });
      build.onLoad({ filter: /.*/, namespace: 'outpost-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
    },
  };
}

export { compat as compatPath };
