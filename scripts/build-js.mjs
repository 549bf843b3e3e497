#!/usr/bin/env node
// Builds the npm package's JavaScript, dist/, from the js/ sources and pkg/querywire.js (esbuild:
// bundled, minified, a source map beside each file). package.json's `exports` point here; the tests
// run on js/ and tests/pack runs on the packed dist/. Run after the wasm build (scripts/build.sh runs
// it); `npm pack` runs it again (`prepack`).
//
//   node scripts/build-js.mjs [--keep-names]
//
// One file per entry, so that a page without a bundler loads `querywire` in one module round trip
// before the wasm's fetch (bench/init.html):
//   dist/index.js      js/index.js, every js/ file it imports statically and the wasm-bindgen glue
//   dist/connectSupabase.js, dist/connectCentrifuge.js   the connectors, import()ed on first use
//   dist/react.js      js/react.js; imports ./index.js
//   dist/replay.js     js/replay.js; imports ./index.js (loadWasm and the plan decoder, so one
//                      wasm instance serves createRealtime and replayTrace)
//   dist/devtools.js   js/devtools.js; imports ./react.js and ./replay.js
// A js/ module that two entries need is bundled once, into dist/index.js; the others import it from
// there (SHARED below). The build fails if an entry would carry a second copy of any module.
// --keep-names keeps every identifier (whitespace and syntax minification only): +1.9 KB gzip on
// dist/index.js (docs/SIZE.md), so not the default; the source maps give the names back.
import * as esbuild from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT = path.join(ROOT, 'dist')
const keepNames = process.argv.includes('--keep-names')
const log = (...a) => console.error('[build-js]', ...a) // stderr: `npm pack --json` owns stdout
const js = (f) => path.join(ROOT, 'js', f)
const GLUE = path.join(ROOT, 'pkg', 'querywire.js')

// Modules of dist/index.js that another entry imports, and the names dist/index.js exports for them
// (`name` as is when it is public, `name: alias` when it is not: those aliases are the package's own
// wiring, in no .d.ts). Another entry's import of such a module becomes an import from ./index.js.
const SHARED = {
  'index.js': null, // the whole public module
  'keys.js': { docKey: 'docKey', listKey: 'listKey', listPrefix: 'listPrefix' },
  'loadWasm.js': { loadWasm: '__qwLoadWasm' },
  'applyPlan.js': { createPlanDecoder: '__qwPlanDecoder' },
}
const ENTRIES = ['react.js', 'replay.js', 'devtools.js'] // besides index.js; each may import the ones before it
// Function names kept in the minified React entries: React DevTools and React's own warnings show
// components by name (RealtimeProvider, QuerywireDevtools), +94 B / +178 B gzip.
const NAMED = new Set(['react.js', 'devtools.js'])

if (!fs.existsSync(GLUE)) {
  log('pkg/querywire.js is missing: build the wasm first (bash scripts/build.sh)')
  process.exit(1)
}

const minify = keepNames ? { minifyWhitespace: true, minifySyntax: true } : { minify: true }
const common = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  external: ['@tanstack/query-core', '@tanstack/react-query', 'react'],
  outdir: OUT,
  metafile: true,
  ...minify,
}

// The glue's own fallback URL (used only when no URL is passed, which js/loadWasm.js always does)
// names the wasm beside the glue; from dist/ that is ../pkg/, so bundlers that resolve every
// `new URL(..., import.meta.url)` find the file.
const glueUrl = {
  name: 'glue-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]pkg[\\/]querywire\.js$/ }, (args) => {
      const src = fs.readFileSync(args.path, 'utf8')
      const from = "new URL('querywire_bg.wasm', import.meta.url)"
      if (src.split(from).length !== 2) throw new Error(`pkg/querywire.js: expected one ${from}`)
      return { contents: src.replace(from, "new URL('../pkg/querywire_bg.wasm', import.meta.url)"), loader: 'js' }
    })
  },
}

fs.rmSync(OUT, { recursive: true, force: true })

// dist/index.js: the public module plus the aliases; the connectors' import() become chunks of their own.
const aliases = Object.entries(SHARED).flatMap(([file, names]) =>
  Object.entries(names ?? {}).filter(([n, a]) => n !== a).map(([n, a]) => `export { ${n} as ${a} } from './js/${file}'`))
const indexEntry = ["export * from './js/index.js'", ...aliases].join('\n')
const index = await esbuild.build({
  ...common,
  stdin: { contents: indexEntry, resolveDir: ROOT, sourcefile: 'index.js', loader: 'js' },
  entryNames: 'index',
  splitting: true,
  chunkNames: '[name]',
  plugins: [glueUrl],
})
const inIndex = new Set(Object.keys(index.metafile.inputs).map((f) => path.resolve(ROOT, f)))
// dist/index.js is one module round trip: a static import of a chunk of ours (esbuild makes one for
// code that dist/index.js shares with a connector, e.g. a namespace-import helper) would add another.
const chunks = Object.entries(index.metafile.outputs).filter(([f]) => path.basename(f) === 'index.js')
  .flatMap(([, o]) => o.imports).filter((i) => i.kind === 'import-statement' && !i.external)
if (chunks.length) {
  log(`dist/index.js imports ${chunks.map((i) => i.path).join(', ')} statically: one more round trip before the wasm; keep what it shares with the connectors out of it`)
  process.exit(1)
}

// The other entries: a shared module becomes a re-export from ./index.js, an earlier entry stays external.
for (const entry of ENTRIES) {
  const shared = {
    name: 'shared',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.namespace === 'shared') return { path: args.path, external: true }
        const file = path.resolve(args.resolveDir, args.path)
        const rel = path.relative(path.join(ROOT, 'js'), file)
        if (rel === entry) return undefined
        if (ENTRIES.includes(rel) && ENTRIES.indexOf(rel) < ENTRIES.indexOf(entry)) return { path: './' + rel, external: true }
        if (rel === 'index.js') return { path: './index.js', external: true }
        if (rel in SHARED) return { path: rel, namespace: 'shared' }
        return undefined
      })
      b.onLoad({ filter: /.*/, namespace: 'shared' }, (args) => ({
        contents: `export { ${Object.entries(SHARED[args.path]).map(([n, a]) => (n === a ? n : `${a} as ${n}`)).join(', ')} } from './index.js'`,
        loader: 'js',
      }))
    },
  }
  const r = await esbuild.build({ ...common, entryPoints: [js(entry)], plugins: [shared, glueUrl], keepNames: NAMED.has(entry) })
  const copied = Object.keys(r.metafile.inputs).map((f) => path.resolve(ROOT, f)).filter((f) => inIndex.has(f))
  if (copied.length) {
    log(`dist/${entry} would carry a second copy of ${copied.map((f) => path.relative(ROOT, f)).join(', ')} (in dist/index.js): add them to SHARED in scripts/build-js.mjs`)
    process.exit(1)
  }
}

const files = fs.readdirSync(OUT).filter((f) => f.endsWith('.js')).sort()
log(`dist/: ${files.join(' ')} (${keepNames ? 'names kept' : 'minified'}, with source maps)`)
