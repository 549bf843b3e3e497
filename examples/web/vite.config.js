// Vite config for the querywire demo app.
//   build:  npx vite build --config examples/web/vite.config.js
//   dev:    npx vite --config examples/web/vite.config.js   (proxies the API to the demo server on :8787)
// No package.json of its own: everything resolves from the repository root's node_modules, and
// `querywire` / `querywire/react` point at the shim sources in ../../js.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const apiTarget = process.env.QW_DEMO_SERVER ?? 'http://127.0.0.1:8787';

export default defineConfig({
  root: here,
  base: './',
  // JSX through Vite 8's built-in Oxc transform (no @vitejs/plugin-react needed).
  oxc: { jsx: { runtime: 'automatic' } },
  resolve: {
    alias: [
      { find: /^querywire\/react$/, replacement: path.join(repoRoot, 'js/react.js') },
      { find: /^querywire\/devtools$/, replacement: path.join(repoRoot, 'js/devtools.js') },
      { find: /^querywire$/, replacement: path.join(repoRoot, 'js/index.js') },
    ],
    dedupe: ['react', 'react-dom', '@tanstack/react-query', '@tanstack/query-core'],
  },
  build: {
    outDir: path.join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      onwarn(warning, warn) {
        // react-query's "use client" directives mean nothing in a client-only bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    fs: { allow: [repoRoot] },
    proxy: {
      '/api': apiTarget,
      '/sse': apiTarget,
      '/ws': { target: apiTarget, ws: true },
      '/realtime': { target: apiTarget, ws: true },
    },
  },
});
