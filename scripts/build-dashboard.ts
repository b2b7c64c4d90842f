/**
 * @module
 * `npm run build:dashboard`: builds the web dashboard (dashboard/) with Vite into
 * dashboard/dist/, which the node serves at `/_outpost/`. Skips the build when dist is newer
 * than every source file, so `npm start` and `npm test` pay for it only after a change.
 * `--force` always builds. Vite runs in-process through its JavaScript API.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dashboard = fileURLToPath(new URL('../dashboard/', import.meta.url));
const dist = join(dashboard, 'dist');
const SOURCES = ['index.html', 'vite.config.ts', 'tsconfig.json', 'src'];

/** Newest modification time (ms) of a file or of the files under a folder; 0 when missing. */
function newest(path: string): number {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** True when dist/index.html exists and is newer than every dashboard source. */
export function dashboardIsCurrent(): boolean {
  const built = newest(join(dist, 'index.html'));
  return built > 0 && SOURCES.every((s) => newest(join(dashboard, s)) <= built);
}

/** Builds the dashboard unless it is current (or always, with `force`). */
export async function buildDashboard(options: { force?: boolean } = {}): Promise<'built' | 'current'> {
  if (!options.force && dashboardIsCurrent()) return 'current';
  const { build } = await import('vite');
  await build({ root: dashboard, configFile: join(dashboard, 'vite.config.ts'), logLevel: 'warn' });
  return 'built';
}

if (import.meta.main) {
  const started = performance.now();
  const result = await buildDashboard({ force: process.argv.includes('--force') });
  process.stdout.write(result === 'current' ? 'dashboard is up to date (dashboard/dist)\n' : `dashboard built in ${Math.round(performance.now() - started)} ms (dashboard/dist)\n`);
}
