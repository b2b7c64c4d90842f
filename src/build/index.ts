/**
 * @module
 * Bundles one function with esbuild at deploy time (never per request): TypeScript or
 * JavaScript in, one ESM file and its source map out. Web-standard functions may not import
 * Node built-ins (a clear build error names the file and line); Node-style functions keep
 * them as runtime imports.
 */
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { relative } from 'node:path';
import * as esbuild from 'esbuild';
import type { Message, Plugin } from 'esbuild';
import { OutpostError } from '../errors.ts';
import type { FunctionSpec } from '../project/spec.ts';
import { compatPlugin } from './compat.ts';
import { denoPlugin } from './deno.ts';

export interface Bundle {
  code: Uint8Array;
  map: Uint8Array;
  /** sha-256 of the code, hex; the bundle's identity in the blob store. */
  digest: string;
}

export interface BuildProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

const BUILTINS = new Set(builtinModules);

/**
 * Node globals the isolate must keep for Node's own fetch implementation; a Web-standard
 * function's references to them are compiled to `undefined`, as they are on Workers.
 */
const WEB_DEFINES: Record<string, string> = {
  'process.env.NODE_ENV': '"production"',
  Buffer: 'undefined',
  setImmediate: 'undefined',
  clearImmediate: 'undefined',
};

function isBuiltin(path: string): boolean {
  return path.startsWith('node:') || BUILTINS.has(path) || BUILTINS.has(path.split('/')[0] ?? '');
}

const RESOLVING = Symbol('outpost-resolving');

/** Web-standard functions: refuse Node built-ins at build time, with the importing line. */
function refuseNodeBuiltins(): Plugin {
  return {
    name: 'outpost-refuse-node-builtins',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === RESOLVING || !isBuiltin(args.path)) return undefined;
        // A bare name such as "events" or "buffer" may be an installed npm package (a browser
        // polyfill), which Web-style functions may bundle; only `node:` names are always Node's.
        if (!args.path.startsWith('node:')) {
          const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVING });
          if (found.errors.length === 0 && found.path && !found.external) return { path: found.path };
        }
        return {
          errors: [{ text: `"${args.path}" is a Node.js built-in; turn on Node compatibility to use it (compatibility_flags = ["nodejs_compat"])` }],
        };
      });
    },
  };
}

/** Remote (https:) imports cannot be fetched at build time: say so plainly. */
function refuseRemoteImports(): Plugin {
  return {
    name: 'outpost-refuse-remote-imports',
    setup(build) {
      build.onResolve({ filter: /^https?:\/\// }, (args) => ({
        errors: [{ text: `remote import ${args.path} cannot be fetched: Outpost builds offline. Vendor the module into your project or use an npm package.` }],
      }));
    },
  };
}

function toProblem(root: string, m: Message): BuildProblem {
  return {
    file: m.location ? m.location.file : '',
    line: m.location?.line ?? 0,
    column: (m.location?.column ?? 0) + 1,
    message: m.text,
  };
}

export function formatBuildProblems(problems: readonly BuildProblem[]): string {
  return problems.map((p) => (p.file ? `${p.file}:${p.line}:${p.column}: ${p.message}` : p.message)).join('\n');
}

export interface BuildOptions {
  /** Extra esbuild plugins (compat module aliases from later capabilities). */
  plugins?: Plugin[];
}

/**
 * Bundles `fn` (rooted at `root`). Throws OutpostError BUILD_FAILED with every error's
 * file:line:column when esbuild reports any.
 */
export async function buildFunction(fn: FunctionSpec, root: string, options: BuildOptions = {}): Promise<Bundle> {
  const plugins: Plugin[] = [...(fn.style === 'deno' ? [denoPlugin(fn, root)] : []), compatPlugin(), refuseRemoteImports(), ...(options.plugins ?? [])];
  if (!fn.nodeCompat) plugins.push(refuseNodeBuiltins());
  let result: esbuild.BuildResult<{ write: false; outfile: string; sourcemap: 'linked' }>;
  try {
    result = await esbuild.build({
      entryPoints: [fn.entry],
      absWorkingDir: root,
      bundle: true,
      write: false,
      format: 'esm',
      // A virtual output path at the project root keeps source-map paths project-relative.
      outfile: `${root}/index.js`,
      platform: fn.nodeCompat ? 'node' : 'neutral',
      conditions: fn.nodeCompat ? ['node'] : ['workerd', 'worker', 'browser'],
      mainFields: fn.nodeCompat ? ['module', 'main'] : ['browser', 'module', 'main'],
      target: 'es2024',
      sourcemap: 'linked',
      sourcesContent: true,
      logLevel: 'silent',
      plugins,
      ...(fn.nodeCompat ? { external: ['node:*', ...builtinModules] } : {}),
      define: fn.nodeCompat ? { 'process.env.NODE_ENV': '"production"' } : WEB_DEFINES,
    });
  } catch (error) {
    const failure = error as esbuild.BuildFailure;
    const problems = (failure.errors ?? []).map((m) => toProblem(root, m));
    throw new OutpostError('BUILD_FAILED', `could not build ${fn.name}:\n${formatBuildProblems(problems) || (error as Error).message}`, {
      fault: 'user',
      status: 400,
      hint: 'fix the error at the file and line shown, then deploy again',
      details: { function: fn.name, problems },
    });
  }
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'));
  if (!js || !map) throw new OutpostError('BUILD_FAILED', `esbuild produced no output for ${fn.name}`);
  const digest = createHash('sha256').update(js.contents).digest('hex');
  return { code: js.contents, map: map.contents, digest };
}

/** Where an entry sits relative to its project, for messages. */
export function projectRelative(root: string, path: string): string {
  return relative(root, path) || path;
}
