/**
 * @module
 * Lambda handler strings (`src/handlers/hello.handler`) to a source file and an export name.
 * AWS's Node runtime splits the last path segment at its first dot: everything before is the
 * module, everything after the (possibly nested, `a.b`) export. Users run TypeScript sources
 * through esbuild/serverless-esbuild before deploying, so the `.ts` file counts as the module too.
 */
import path from 'node:path';
import { firstExisting } from './loader-util.ts';

/** Extensions tried, in order, for a Lambda module path; the first file that exists wins. */
export const LAMBDA_EXTENSIONS: readonly string[] = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

export interface HandlerParts {
  /** Module path without extension, relative to the code folder (`src/handlers/hello`). */
  module: string;
  /** Export holding the handler (`handler`, or nested `handlers.main`). */
  exportName: string;
}

/** Splits `dir/file.export` the way the Lambda Node runtime does; undefined when there is no export part. */
export function splitHandler(handler: string): HandlerParts | undefined {
  const slash = handler.lastIndexOf('/');
  const dir = handler.slice(0, slash + 1);
  const base = handler.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) return undefined;
  return { module: `${dir}${base.slice(0, dot)}`, exportName: base.slice(dot + 1) };
}

/** The candidate files for a module path, in the order they are tried. */
export function moduleCandidates(codeDir: string, modulePath: string): string[] {
  const base = path.resolve(codeDir, modulePath);
  // A module path that already names its extension (esbuild EntryPoints: app.ts) is tried as is first.
  const own = path.extname(base) !== '' && LAMBDA_EXTENSIONS.includes(path.extname(base)) ? [base] : [];
  return [...own, ...LAMBDA_EXTENSIONS.map((ext) => `${base}${ext}`)];
}

/** Absolute path of the first existing file for `modulePath` under `codeDir`. */
export async function resolveModuleFile(codeDir: string, modulePath: string): Promise<string | undefined> {
  return firstExisting(moduleCandidates(codeDir, modulePath));
}
