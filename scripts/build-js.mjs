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
//   dist/shareSession.js  the tabs' session behind `shareConnection`, import()ed by js/share.js
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

// Modules of dist/index.js that another entry imports, and how that entry reaches them: `name: name`
// for a public export of dist/index.js; `name: null` for the package's own wiring, which is no export
// (the public module's names are README's and index.d.ts's only): dist/index.js's `createRealtime`
// returns them when called with the registered symbol INTERNAL instead of options (a function
// declaration, no module-level side effect: a bundler still drops createRealtime, the glue and the
// loader from an app that imports only `docKey`). Another entry's import of such a module becomes
// a read from ./index.js.
const SHARED = {
  'index.js': null, // the whole public module
  'keys.js': { docKey: 'docKey', listKey: 'listKey', listPrefix: 'listPrefix' },
  'loadWasm.js': { loadWasm: null, engineTimer: null },
  'applyPlan.js': { createPlanDecoder: null },
}
const INTERNAL = "Symbol.for('querywire.internal')"
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

// dist/index.js: the public module, its createRealtime answering INTERNAL with the wiring (a local
// export shadows the same name of `export *`); the connectors' and the share session's import()
// become chunks of their own.
const internal = Object.entries(SHARED).flatMap(([file, names]) =>
  Object.entries(names ?? {}).filter(([, a]) => a === null).map(([n]) => [n, file]))
const indexEntry = [
  "export * from './js/index.js'",
  "import { createRealtime as create } from './js/index.js'",
  ...internal.map(([n, file]) => `import { ${n} } from './js/${file}'`),
  `export function createRealtime(options) { return options === ${INTERNAL} ? { ${internal.map(([n]) => n).join(', ')} } : create(options) }`,
].join('\n')
const index = await esbuild.build({
  ...common,
  stdin: { contents: indexEntry, resolveDir: ROOT, sourcefile: 'index.js', loader: 'js' },
  entryNames: 'index',
  splitting: true,
  chunkNames: '[name]',
  plugins: [glueUrl],
})
// js/loadWasm.js starts the wasm's fetch at module evaluation, in a call marked /* @__PURE__ */ so
// that a bundler drops it from an app that never creates an engine. esbuild's minifier removes that
// comment: the call carries the argument 'early-start' instead, which becomes the annotation again here
// (same length, so the source map stays exact).
const PURE_MARK = /([\w$]+)\("early-start"\)/g
const indexFile = path.join(OUT, 'index.js')
const indexText = fs.readFileSync(indexFile, 'utf8')
if ((indexText.match(PURE_MARK) ?? []).length !== 1) {
  log("dist/index.js: expected one call with 'early-start' (js/loadWasm.js's early fetch)")
  process.exit(1)
}
fs.writeFileSync(indexFile, indexText.replace(PURE_MARK, '/*@__PURE__*/$1()'))
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
      b.onLoad({ filter: /.*/, namespace: 'shared' }, (args) => {
        const names = Object.entries(SHARED[args.path])
        const pub = names.filter(([, a]) => a !== null).map(([n]) => n)
        const wired = names.filter(([, a]) => a === null).map(([n]) => n)
        return {
          contents: [
            pub.length ? `export { ${pub.join(', ')} } from './index.js'` : '',
            wired.length ? `import { createRealtime } from './index.js'\nexport const { ${wired.join(', ')} } = createRealtime(${INTERNAL})` : '',
          ].join('\n'),
          loader: 'js',
        }
      })
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
