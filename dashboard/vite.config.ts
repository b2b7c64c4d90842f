/**
 * @module
 * Vite build of the dashboard. The node serves the output under `/_outpost/`, so that is the
 * base; assets get content hashes in their names, which lets the node cache them for a year.
 * Everything is bundled (no CDN): a node may have no route to the internet. The root is the
 * folder of this file (scripts/build-dashboard.ts passes it).
 */
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  base: '/_outpost/',
  plugins: [preact()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
});
