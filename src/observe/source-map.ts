/**
 * @module
 * Error stacks in the user's terms: a frame in a deployed bundle reads `src/index.ts:12:5`,
 * not `/state/blobs/bundles/<digest>/index.js:340:11`, and the runtime's own frames (the
 * isolate host, Node internals) are left out.
 *
 * Decisions: the isolate already has Node's source maps switched on, so most frames arrive
 * mapped but prefixed with the bundle's folder — those only lose the prefix. Frames that still
 * point at `index.js` (source maps off in the isolate, a stack built by hand) are mapped here
 * with node:module's `SourceMap` and the map deploys store beside each bundle
 * (`keys.sourceMap(digest)`). Maps are located when a version is registered ({@link prepare})
 * and parsed on first use, so rewriting a stack stays synchronous and costs nothing until a
 * function fails.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import type { SourceMapPayload } from 'node:module';

/** A frame location inside a stored bundle: the folder prefix, the file in it, line, column. */
const BUNDLE_FRAME = /(?:file:\/\/)?[^\s()]*\/bundles\/([0-9a-f]{16,})\/([^\s():]+):(\d+):(\d+)/g;
/** Frames of Outpost's isolate host and of Node itself, which mean nothing to the function's author. */
const RUNTIME_FRAME = /^\s+at .*(?:\/outpost-runtime\/|node:internal\/|\(node:)/;

export class StackMapper {
  /** Digest → where its source map lives on this node. */
  readonly #paths = new Map<string, string>();
  /** Digest → parsed map (undefined: tried, unreadable). */
  readonly #maps = new Map<string, SourceMap | undefined>();

  /** Remembers where the map of bundle `digest` is, so later stacks from it can be mapped. */
  async prepare(digest: string, locate: () => Promise<string | undefined>): Promise<void> {
    if (this.#paths.has(digest)) return;
    const path = await locate().catch(() => undefined);
    if (path) this.#paths.set(digest, path);
  }

  /** Forgets bundles no longer served (their maps are parsed again if they come back). */
  retain(digests: ReadonlySet<string>): void {
    for (const digest of this.#paths.keys()) {
      if (digests.has(digest)) continue;
      this.#paths.delete(digest);
      this.#maps.delete(digest);
    }
  }

  /** The stack with bundle frames as `src/file.ts:L:C` and runtime frames removed. */
  map(stack: string | undefined): string | undefined {
    if (!stack) return stack;
    return stack
      .split('\n')
      .filter((line) => !RUNTIME_FRAME.test(line))
      .map((line) => line.replace(BUNDLE_FRAME, (_all, digest: string, file: string, line: string, column: string) => this.#frame(digest, file, Number(line), Number(column))))
      .join('\n');
  }

  #frame(digest: string, file: string, line: number, column: number): string {
    if (file === 'index.js') {
      const entry = this.#mapOf(digest)?.findEntry(line - 1, column - 1);
      if (entry && 'originalSource' in entry) return `${relativeSource(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    }
    return `${file}:${line}:${column}`;
  }

  #mapOf(digest: string): SourceMap | undefined {
    if (this.#maps.has(digest)) return this.#maps.get(digest);
    const path = this.#paths.get(digest);
    let map: SourceMap | undefined;
    try {
      if (path) map = new SourceMap(JSON.parse(readFileSync(path, 'utf8')) as SourceMapPayload);
    } catch {
      map = undefined;
    }
    this.#maps.set(digest, map);
    return map;
  }
}

/** esbuild writes sources relative to the project root; strip any URL or `./` form. */
function relativeSource(source: string): string {
  return source.replace(/^file:\/\/[^\s]*?\/bundles\/[0-9a-f]{16,}\//, '').replace(/^\.\//, '');
}
