/**
 * @module
 * The file every instance thread starts from. The instance runtime is TypeScript like the rest
 * of Outpost, but a worker that loads .ts sources pays for Node's type stripper (a WebAssembly
 * module) in every thread — measured at about 17 MB per warm function. So the runtime is
 * bundled to one plain JavaScript file once per process (esbuild, ~30 ms) and every worker
 * starts from that.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';

let entry: URL | undefined;

/** The bundled instance runtime (built on first use, cached by content hash). */
export function workerEntry(): URL {
  if (entry) return entry;
  const result = buildSync({
    entryPoints: [fileURLToPath(new URL('./worker/main.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents;
  if (!code) throw new Error('could not bundle the instance runtime');
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'outpost-runtime');
  const file = join(dir, `instance-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  }
  entry = pathToFileURL(file);
  return entry;
}
