// The set-up of the React browser tests: a page of tests/browser bundled with Vite (development
// mode, so React's StrictMode really double-mounts effects) into a temp dir, served statically, next
// to the demo server (REST API and WebSocket) and Debian's Chromium.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'vite'
import { launchBrowser, staticServer } from './harness.mjs'
import { startDemoServer, repoRoot } from './demoServer.mjs'

/**
 * Bundles `tests/browser/<html>` and starts a static server for it, the demo server (`demo`: its
 * options) and Chromium. Resolves `{ browser, statics, server, stop() }`; `stop()` closes all of
 * them and removes the bundle.
 */
export async function startReactApp(html, { demo = {} } = {}) {
  const app = { browser: undefined, statics: undefined, server: undefined, outDir: undefined }
  app.stop = async () => {
    await app.browser?.close()
    await app.statics?.close()
    await app.server?.stop()
    if (app.outDir) rmSync(app.outDir, { recursive: true, force: true })
  }
  try {
    app.outDir = mkdtempSync(join(tmpdir(), `querywire-${html.replace(/\.html$/, '')}-`))
    await build({
      configFile: false,
      root: join(repoRoot, 'tests/browser'),
      base: './',
      mode: 'development',
      logLevel: 'error',
      define: { 'process.env.NODE_ENV': JSON.stringify('development') },
      resolve: { dedupe: ['react', 'react-dom', '@tanstack/react-query', '@tanstack/query-core'] },
      build: {
        outDir: app.outDir,
        emptyOutDir: true,
        minify: false,
        target: 'es2022',
        rollupOptions: { input: join(repoRoot, 'tests/browser', html) },
      },
    })
    app.statics = await staticServer(app.outDir)
    app.server = await startDemoServer(demo)
    app.browser = await launchBrowser()
  } catch (e) {
    await app.stop()
    throw e
  }
  return app
}
