#!/usr/bin/env node
// Builds the npm package's JavaScript, dist/, from the js/ sources and pkg/querywire.js (esbuild:
// bundled, minified, a source map beside each file). package.json's `exports` point here; the tests
// run on js/ and tests/pack runs on the packed dist/. Run after the wasm build (scripts/build.sh runs
// it); `npm pack` runs it again (`prepack`).
//
//   node scripts/build-js.mjs [--keep-names]
//
// One file per entry, so that a page without a bundler loads `querywire` in one request, the wasm
// included (bench/init.html):
//   dist/index.js      js/index.js, every js/ file it imports statically, the wasm-bindgen glue and
//                      the wasm (pkg/querywire_wasm.js, written below from pkg/querywire_bg.wasm)
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
  // the wasm's string (pkg/querywire_wasm.js) as it is: esbuild's default (ascii) writes \xNN for
  // each of its characters above U+007E, twice the bytes
  charset: 'utf8',
  ...minify,
}

// The wasm travels inside the JS (pkg/querywire_wasm.js, imported by js/loadWasm.js), so a page makes
// one request for dist/index.js and none for the module. Each byte is one character of a string
// literal, through a permutation: the 118 characters that stay one UTF-8 byte and one source byte
// through esbuild (printable ASCII but the quote and backslash, most control characters, DEL) go to
// the module's most frequent bytes, the two-byte ones (\n \r \" \\ \b \v \f and U+0080-U+00FF) to the
// next, the three longest (\0, \x07, \x1B) to the rarest. A byte always becomes the same source
// bytes, so gzip's matches in the wasm survive (+1.8 % gzip over the .wasm; base64 costs +30 %:
// docs/SIZE.md). `wasmBytes()` undoes it when js/loadWasm.js is evaluated (its early compile): the text
// module's `d` (TEXT below, where the JS String Builtins are there) takes the string's units in one
// builtin call and maps each through the permutation's inverse; elsewhere TextEncoder writes the
// string's UTF-8 into the memory of DECODER (a 121-byte module), whose loop reads each character back
// and maps it. A JS charCodeAt loop over the module's ~175 K characters takes 2-5 ms in a fresh page (it
// runs interpreted until V8 optimizes it); DECODER 3.8 ms, TEXT 3.0 (medians of 15 fresh Chromium 156
// pages, load ~2, 2026-12-02: DECODER's encodeInto, 0.8 ms, is what goes). What is left: ~1.3 ms to
// compile and instantiate the small module (the page's first wasm), ~0.8 the units into the array, ~0.5
// the loop (in chunks, so that V8 tiers it up, no faster).
const DECODER = `(module
  (memory (export "m") 1)
  ;; UTF-8 at $i..$end (characters up to U+00FF: one or two bytes), the inverse table at 0..255:
  ;; writes one byte per character from $o on, returns the end of what it wrote.
  (func (export "d") (param $i i32) (param $end i32) (param $o i32) (result i32)
    (local $c i32)
    (loop $next
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.lt_u (local.get $c) (i32.const 128))
        (then (local.set $i (i32.add (local.get $i) (i32.const 1))))
        (else
          (local.set $c (i32.or (i32.shl (i32.and (local.get $c) (i32.const 31)) (i32.const 6))
                                (i32.and (i32.load8_u offset=1 (local.get $i)) (i32.const 63))))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))))
      (i32.store8 (local.get $o) (i32.load8_u (local.get $c)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $end))))
    (local.get $o)))`
// TEXT, a second module on the JS String Builtins (`wasm:js-string`: Chromium has them, checked here in 156), which
// take a JS string as an externref and copy its UTF-16 units into a GC i16 array in one call:
// - `d(W, out)` decodes the wasm's string (above) for `wasmBytes()`: each unit through the inverse
//   table at 0..255 of its memory, four bytes a store; no UTF-8 in between, no second pass.
// - `c(text, at)` is the payload copy (js/loadWasm.js `textWriter`), instantiated again on the
//   engine's memory: a payload's UTF-8 goes into wasm memory before the engine reads it, and in
//   Chromium that copy was a third of the text path (a charCodeAt loop 3.9 ns a unit,
//   TextEncoder.encodeInto ~230 ns a call plus ~1 ns a unit). It writes the leading ASCII units as
//   bytes, eight at a time, until the first unit that is not ASCII (encodeInto writes the rest):
//   0.5 us for a 280-unit payload where encodeInto took 1.1 and the loop 3.9 (2026-12-02, Chromium 156).
// Where the builtins or Wasm GC are missing the module does not compile or link: DECODER and
// encodeInto do it all.
const unit = [0, 1, 2, 3, 4, 5, 6, 7]
const get = (v) => unit.map((k) => `(local.set $u${k} ${v(`(array.get_u $u16 (local.get $b) (i32.add (local.get $i) (i32.const ${k})))`)})`).join('\n        ')
const pack = (k) => `(i32.or (i32.or (local.get $u${k}) (i32.shl (local.get $u${k + 1}) (i32.const 8)))
          (i32.or (i32.shl (local.get $u${k + 2}) (i32.const 16)) (i32.shl (local.get $u${k + 3}) (i32.const 24))))`
const store8 = `(i32.store (i32.add (local.get $at) (local.get $i)) ${pack(0)})
        (i32.store offset=4 (i32.add (local.get $at) (local.get $i)) ${pack(4)})`
const TEXT = `(module
  (type $u16 (array (mut i16)))
  (import "wasm:js-string" "length" (func $length (param externref) (result i32)))
  (import "wasm:js-string" "intoCharCodeArray" (func $into (param externref (ref null $u16) i32) (result i32)))
  (import "m" "memory" (memory 0))
  ;; the units' array, kept from call to call and replaced by a longer one when a string needs it
  (global $buf (mut (ref null $u16)) (ref.null $u16))
  ;; The units of $s in the array; returns it.
  (func $units (param $s externref) (param $n i32) (result (ref null $u16))
    (local $b (ref null $u16))
    (local.set $b (global.get $buf))
    (if (if (result i32) (ref.is_null (local.get $b)) (then (i32.const 1))
          (else (i32.gt_u (local.get $n) (array.len (local.get $b)))))
      (then
        (local.set $b (array.new_default $u16
          (select (local.get $n) (i32.const 4096) (i32.gt_u (local.get $n) (i32.const 4096)))))
        (global.set $buf (local.get $b))))
    (drop (call $into (local.get $s) (local.get $b) (i32.const 0)))
    (local.get $b))
  ;; Writes the leading ASCII units of $s as bytes from $at on; returns how many (its length when all are).
  (func (export "c") (param $s externref) (param $at i32) (result i32)
    (local $n i32) (local $i i32) (local $c i32) (local $b (ref null $u16))
    ${unit.map((k) => `(local $u${k} i32)`).join(' ')}
    (local.set $n (call $length (local.get $s)))
    (local.set $b (call $units (local.get $s) (local.get $n)))
    ;; eight units a time while all eight are ASCII
    (block $wide
      (loop $eight
        (br_if $wide (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
        ${get((x) => x)}
        (br_if $wide (i32.ge_u ${unit.slice(1).reduce((a, k) => `(i32.or ${a} (local.get $u${k}))`, '(local.get $u0)')} (i32.const 128)))
        ${store8}
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $eight)))
    ;; then one at a time, to the end or the first unit that is not ASCII
    (block $stop
      (loop $one
        (br_if $stop (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (array.get_u $u16 (local.get $b) (local.get $i)))
        (br_if $stop (i32.ge_u (local.get $c) (i32.const 128)))
        (i32.store8 (i32.add (local.get $at) (local.get $i)) (local.get $c))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $one)))
    (local.get $i))
  ;; Writes each unit of $s (all below 256) through the table at 0..255 as a byte from $at on; returns
  ;; the count. The array is let go after.
  (func (export "d") (param $s externref) (param $at i32) (result i32)
    (local $n i32) (local $i i32) (local $b (ref null $u16))
    ${unit.map((k) => `(local $u${k} i32)`).join(' ')}
    (local.set $n (call $length (local.get $s)))
    (local.set $b (call $units (local.get $s) (local.get $n)))
    (global.set $buf (ref.null $u16))
    (block $tail
      (loop $eight
        (br_if $tail (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
        ${get((x) => `(i32.load8_u ${x})`)}
        ${store8}
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $eight)))
    (block $end
      (loop $one
        (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $at) (local.get $i))
          (i32.load8_u (array.get_u $u16 (local.get $b) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $one)))
    (local.get $n)))`
const WASM = path.join(ROOT, 'pkg', 'querywire_bg.wasm')
const WASM_JS = path.join(ROOT, 'pkg', 'querywire_wasm.js')
if (!fs.existsSync(WASM)) {
  log('pkg/querywire_bg.wasm is missing: build the wasm first (bash scripts/build.sh)')
  process.exit(1)
}
{
  const bytes = fs.readFileSync(WASM)
  const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i)
  const longest = [0x00, 0x07, 0x1b]
  const twoBytes = [0x0a, 0x0d, 0x22, 0x5c, 0x08, 0x0b, 0x0c, ...range(0x80, 0xff)]
  const oneByte = [...range(0x20, 0x7f), ...range(0x01, 0x1f)].filter((c) => !twoBytes.includes(c) && !longest.includes(c))
  const chars = [...oneByte, ...twoBytes, ...longest]
  if (chars.length !== 256 || new Set(chars).size !== 256) throw new Error('build-js: the wasm character set is not 256 distinct characters')
  const count = new Array(256).fill(0)
  for (const b of bytes) count[b]++
  const byFrequency = range(0, 255).sort((a, b) => count[b] - count[a] || a - b)
  const charOf = new Array(256)
  byFrequency.forEach((b, i) => { charOf[b] = chars[i] })
  const ESC = { 0x0a: '\\n', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0b: '\\v', 0x0c: '\\f', 0x07: '\\x07', 0x1b: '\\x1B' }
  const literal = (codes) => {
    let out = ''
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]
      // \0 before a digit would be an octal escape (a syntax error in a module)
      out += c === 0 ? (codes[i + 1] >= 0x30 && codes[i + 1] <= 0x39 ? '\\x00' : '\\0') : ESC[c] ?? String.fromCharCode(c)
    }
    return `"${out}"`
  }
  const { default: binaryen } = await import('binaryen')
  const dec = binaryen.parseText(DECODER)
  dec.setFeatures(binaryen.Features.MVP)
  if (!dec.validate()) throw new Error('build-js: the wasm decoder does not validate')
  dec.optimize()
  const decoder = Array.from(dec.emitBinary())
  dec.dispose()
  const tm = binaryen.parseText(TEXT)
  tm.setFeatures(binaryen.Features.MVP | binaryen.Features.ReferenceTypes | binaryen.Features.GC)
  if (!tm.validate()) throw new Error('build-js: the text module does not validate')
  tm.optimize()
  const text = Array.from(tm.emitBinary())
  tm.dispose()
  fs.writeFileSync(WASM_JS, [
    '// Generated by scripts/build-js.mjs from querywire_bg.wasm (do not edit): the module\'s bytes, one',
    '// character each through the permutation P (P[byte] is its character); T\'s `d` decodes them (D without the builtins).',
    `const W = ${literal(Array.from(bytes, (b) => charOf[b]))}`,
    `const P = ${literal(charOf)}`,
    `const D = ${literal(decoder.map((b) => charOf[b]))}`,
    '// T: the text module (scripts/build-js.mjs TEXT), compiled with the js-string builtins where they are',
    '// there; it decodes W, and copies payload text into the engine\'s memory (textCopy, js/loadWasm.js).',
    `const T = ${literal(text.map((b) => charOf[b]))}`,
    '// the inverse of P (the byte of each character), and a small module\'s bytes from its string by it',
    'const inverse = () => { const inv = new Uint8Array(256); for (let i = 0; i < 256; i++) inv[P.charCodeAt(i)] = i; return inv }',
    'const bytesOf = (s, inv) => Uint8Array.from(s, (c) => inv[c.charCodeAt(0)])',
    'let text',
    'export function wasmBytes() {',
    '  const inv = inverse() // at 0..255 of either decoder\'s memory',
    '  try {',
    "    text = new WebAssembly.Module(bytesOf(T, inv), { builtins: ['js-string'] })",
    '    const memory = new WebAssembly.Memory({ initial: Math.ceil((256 + W.length) / 65536) })',
    '    const { d } = new WebAssembly.Instance(text, { m: { memory } }).exports',
    '    const u8 = new Uint8Array(memory.buffer)',
    '    u8.set(inv)',
    '    return u8.slice(256, 256 + d(W, 256))',
    '  } catch {',
    '    text = undefined // no builtins or no Wasm GC: D on the UTF-8',
    '  }',
    '  const { m, d } = new WebAssembly.Instance(new WebAssembly.Module(bytesOf(D, inv))).exports',
    '  m.grow(Math.ceil((256 + 3 * W.length) / 65536)) // the table, the UTF-8 (up to 2 bytes a character), the bytes',
    '  const u8 = new Uint8Array(m.buffer)',
    '  u8.set(inv)',
    '  const end = 256 + new TextEncoder().encodeInto(W, u8.subarray(256)).written',
    '  return u8.slice(end, d(256, end, end))',
    '}',
    '// The payload copy on `memory` (TEXT `c`), or undefined where wasmBytes found no builtins.',
    'export const textCopy = (memory) => (text ? new WebAssembly.Instance(text, { m: { memory } }).exports.c : undefined)',
    '',
  ].join('\n'))
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
})
// js/loadWasm.js starts the wasm's compile at module evaluation, in a call marked /* @__PURE__ */ so
// that a bundler drops it from an app that never creates an engine. esbuild's minifier removes that
// comment: the call carries the argument 'early-start' instead, which becomes the annotation again here
// (same length, so the source map stays exact).
const PURE_MARK = /([\w$]+)\("early-start"\)/g
const indexFile = path.join(OUT, 'index.js')
const indexText = fs.readFileSync(indexFile, 'utf8')
if ((indexText.match(PURE_MARK) ?? []).length !== 1) {
  log("dist/index.js: expected one call with 'early-start' (js/loadWasm.js's early compile)")
  process.exit(1)
}
fs.writeFileSync(indexFile, indexText.replace(PURE_MARK, '/*@__PURE__*/$1()'))
// The source map keeps no copy of the wasm's string (190 KB): its source is generated, not read.
const mapFile = indexFile + '.map'
const map = JSON.parse(fs.readFileSync(mapFile, 'utf8'))
const wasmSource = map.sources.findIndex((f) => f.endsWith('pkg/querywire_wasm.js'))
if (wasmSource < 0) {
  log('dist/index.js does not hold pkg/querywire_wasm.js (the wasm): js/loadWasm.js should import it')
  process.exit(1)
}
map.sourcesContent[wasmSource] = null
fs.writeFileSync(mapFile, JSON.stringify(map))
const inIndex = new Set(Object.keys(index.metafile.inputs).map((f) => path.resolve(ROOT, f)))
// dist/index.js is one module round trip: a static import of a chunk of ours (esbuild makes one for
// code that dist/index.js shares with a connector, e.g. a namespace-import helper) would add another.
const chunks = Object.entries(index.metafile.outputs).filter(([f]) => path.basename(f) === 'index.js')
  .flatMap(([, o]) => o.imports).filter((i) => i.kind === 'import-statement' && !i.external)
if (chunks.length) {
  log(`dist/index.js imports ${chunks.map((i) => i.path).join(', ')} statically: one more round trip before the engine; keep what it shares with the connectors out of it`)
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
  const r = await esbuild.build({ ...common, entryPoints: [js(entry)], plugins: [shared], keepNames: NAMED.has(entry) })
  const copied = Object.keys(r.metafile.inputs).map((f) => path.resolve(ROOT, f)).filter((f) => inIndex.has(f))
  if (copied.length) {
    log(`dist/${entry} would carry a second copy of ${copied.map((f) => path.relative(ROOT, f)).join(', ')} (in dist/index.js): add them to SHARED in scripts/build-js.mjs`)
    process.exit(1)
  }
}

const files = fs.readdirSync(OUT).filter((f) => f.endsWith('.js')).sort()
log(`dist/: ${files.join(' ')} (${keepNames ? 'names kept' : 'minified'}, with source maps)`)
