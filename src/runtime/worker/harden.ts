/**
 * @module
 * Turns a blank worker thread into a Web-standard isolate before user code runs: removes
 * Node's globals (process, Buffer, require paths), refuses `node:` and file imports other
 * than the function's own bundle, and closes cross-isolate channels. Functions that opted into
 * Node compatibility keep Node's globals but still cannot import the modules that would reach
 * outside their isolate (child processes, workers, the inspector, native addons).
 *
 * This runs after the bootstrap captured what the host side needs, so nothing privileged is
 * reachable from a global afterwards.
 */
import { builtinModules, registerHooks } from 'node:module';

/** Built-ins no function may import, Node-compatible or not: they reach past the isolate. */
const ALWAYS_DENIED = new Set([
  'child_process', 'cluster', 'worker_threads', 'inspector', 'inspector/promises', 'v8', 'vm', 'repl',
  'trace_events', 'wasi', 'module', 'process', 'sqlite', 'dgram', 'net', 'tls', 'http2', 'fs', 'fs/promises',
  'os', 'diagnostics_channel', 'test', 'sea',
]);
const BUILTINS = new Set(builtinModules);

export interface HardenOptions {
  nodeCompat: boolean;
  /** The only file: URL that may be imported (the bundle itself). */
  bundleUrl: string;
}

function denied(specifier: string, why: string): Error {
  const error = new Error(`import of "${specifier}" is not allowed in Outpost: ${why}`);
  (error as Error & { code: string }).code = 'ERR_ACCESS_DENIED';
  return error;
}

function builtinName(specifier: string): string | undefined {
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  return specifier.startsWith('node:') || BUILTINS.has(bare) ? bare : undefined;
}

/** Installs the module hooks; call once, after the bootstrap imported what it needs. */
export function restrictImports(options: HardenOptions): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const builtin = builtinName(specifier);
      if (builtin !== undefined) {
        if (!options.nodeCompat) throw denied(specifier, 'Node built-ins need Node compatibility (compatibility_flags = ["nodejs_compat"])');
        if (ALWAYS_DENIED.has(builtin)) throw denied(specifier, 'it reaches outside the function\'s isolate');
        return nextResolve(specifier, context);
      }
      const resolved = nextResolve(specifier, context);
      if (resolved.url.startsWith('file:') && resolved.url !== options.bundleUrl) {
        throw denied(specifier, 'functions can only load their own bundle');
      }
      return resolved;
    },
  });
}

/**
 * Globals that exist in Node but not in the Web-standard runtimes Outpost imitates. Node's own
 * fetch (undici) reads `Buffer`, `setImmediate` and `clearImmediate` from the global object, so
 * those stay on it; the build rewrites the function's own references to them to `undefined`
 * (see build/index.ts), which is what `typeof Buffer` checks in user code see.
 */
const NODE_ONLY_GLOBALS = ['process', 'global', 'require', 'module', 'exports', '__filename', '__dirname'];

/** Removes Node-only globals and cross-thread channels; Web-standard functions only. */
export function stripNodeGlobals(userAgent: string): void {
  const g = globalThis as Record<string, unknown>;
  for (const name of NODE_ONLY_GLOBALS) delete g[name];
  delete g['BroadcastChannel']; // would connect to other functions' threads in this process
  Object.defineProperty(globalThis, 'navigator', {
    value: Object.freeze({ userAgent, hardwareConcurrency: 1, language: 'en' }),
    configurable: false,
    writable: false,
  });
}

/** Node-compatible functions keep process, but not the parts that act on the host. */
export function fenceProcess(): void {
  const p = process as unknown as Record<string, unknown>;
  const refuse = (name: string) => () => {
    throw denied(`process.${name}`, 'it acts on the host process');
  };
  for (const name of ['binding', '_linkedBinding', 'dlopen', 'kill', 'abort', 'chdir', 'setuid', 'setgid', 'setgroups', 'seteuid', 'setegid', 'initgroups', 'reallyExit', '_kill', 'exit', 'getBuiltinModule']) {
    if (name in p) p[name] = refuse(name);
  }
  delete g()['BroadcastChannel'];
}

function g(): Record<string, unknown> {
  return globalThis as Record<string, unknown>;
}
