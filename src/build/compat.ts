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
export const COMPAT_MODULES: Record<string, string> = {
  'next/server': compat('next-server.ts'),
  'next/server.js': compat('next-server.ts'),
  '@vercel/functions': compat('vercel-functions.ts'),
  '@vercel/edge': compat('vercel-edge.ts'),
  'firebase-functions': compat('firebase-functions.ts'),
  'firebase-functions/v1': compat('firebase-functions.ts'),
  'firebase-functions/v2': compat('firebase-functions-v2.ts'),
  'firebase-functions/v2/https': compat('firebase-functions-https.ts'),
  'firebase-functions/https': compat('firebase-functions-https.ts'),
  'firebase-functions/logger': compat('firebase-functions-logger.ts'),
  'firebase-functions/params': compat('firebase-functions-params.ts'),
  '@google-cloud/functions-framework': compat('functions-framework.ts'),
  '@azure/functions': compat('azure-functions.ts'),
};

/**
 * Well-known remote specifiers (Deno's std http server from deno.land at any version, and
 * `jsr:@std/http`) → compat module, for Deno functions (build/deno.ts applies them: the shim
 * needs the Deno runtime). Every other remote import stays a build error.
 */
export const COMPAT_URLS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^https:\/\/deno\.land\/std(?:@[^/]+)?\/http\/(?:server|mod|cookie|http_status|status)\.ts$/, compat('deno-std-http.ts')],
  [/^jsr:\/?@std\/http(?:@[^/]+)?(?:\/(?:server|cookie|status))?$/, compat('deno-std-http.ts')],
];

/** The compat module for a remote specifier, if one imitates it. */
export function compatUrl(specifier: string): string | undefined {
  return COMPAT_URLS.find(([re]) => re.test(specifier))?.[1];
}

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
