// The package as users get it: `npm pack`, then `npm install` of the tarball into an empty Node
// project and into an empty Vite + React app, each running the README's quick start for real
// (a real QueryClient in Node; the built app in Debian's Chromium).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, readdirSync, rmSync, copyFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join, extname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
let dir, tarball

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 })

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'qw-pack-'))
  const out = run('npm', ['pack', '--json', '--pack-destination', dir], root)
  const [{ filename, files }] = JSON.parse(out)
  tarball = join(dir, filename)
  const names = files.map((f) => f.path)
  // The built package (scripts/build-js.mjs, run by `prepack`): dist/ with a source map per file, the
  // declarations beside the sources they describe; not the js/ sources, the glue nor the wasm (both in dist/index.js).
  for (const f of ['dist/index.js', 'dist/index.js.map', 'dist/react.js', 'dist/devtools.js', 'dist/replay.js', 'dist/connectSupabase.js',
    'dist/connectCentrifuge.js', 'js/index.d.ts', 'js/react.d.ts', 'js/devtools.d.ts', 'js/replay.d.ts',
    'docs/API.md', 'docs/PROTOCOL.md', 'README.md']) {
    assert.ok(names.includes(f), `the tarball ships ${f}`)
  }
  for (const f of ['js/index.js', 'js/createRealtime.js', 'pkg/querywire.js', 'pkg/querywire_bg.wasm', 'pkg/querywire_wasm.js']) assert.ok(!names.includes(f), `the tarball leaves out ${f}`)
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  for (const [entry, { default: file }] of Object.entries(pkg.exports).filter(([, v]) => typeof v === 'object')) {
    assert.ok(names.includes(file.slice(2)), `exports[${entry}] (${file}) is in the tarball`)
  }
})

after(() => rmSync(dir, { recursive: true, force: true }))

test('an empty Node project: npm install the tarball, then the quick start coalesces DELETE+INSERT into one refetch', () => {
  const app = join(dir, 'node-app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'node-app', private: true, type: 'module' }))
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@tanstack/query-core@5'], app)
  writeFileSync(join(app, 'index.mjs'), `
import { QueryClient, QueryObserver } from '@tanstack/query-core'
import { createRealtime, listKey } from 'querywire'
const queryClient = new QueryClient()
let fetches = 0
new QueryObserver(queryClient, { queryKey: listKey('work_orders', 'f1'), queryFn: async () => ++fetches }).subscribe(() => {})
await new Promise((r) => setTimeout(r, 20))
const errors = []
const rt = await createRealtime({ queryClient, debounceMs: 20, scope: { factoryId: 'f1' }, onError: (e) => errors.push(e.code) })
const change = (eventType, row) => ({ schema: 'public', table: 'work_orders', commit_timestamp: 't', eventType,
  new: eventType === 'DELETE' ? {} : row, old: eventType === 'INSERT' ? {} : row, errors: null })
rt.ingest('supabase', change('DELETE', { id: 1, factory_id: 'f1' }))
rt.ingest('supabase', change('INSERT', { id: 2, factory_id: 'f1' }))
rt.ingest('supabase', 42)
await new Promise((r) => setTimeout(r, 150))
console.log(JSON.stringify({ refetches: fetches - 1, errors, stats: rt.stats() }))
rt.dispose()
`)
  const result = JSON.parse(run('node', ['index.mjs'], app).trim().split('\n').at(-1))
  assert.equal(result.refetches, 1)
  assert.deepEqual(result.errors, ['not_object'])
  assert.equal(result.stats.dropped.invalid, 1)
})

test('the Node project replays a trace with querywire/replay (no React installed)', () => {
  const app = join(dir, 'node-app')
  writeFileSync(join(app, 'replay.mjs'), `
import { QueryClient } from '@tanstack/query-core'
import { createRealtime, docKey } from 'querywire'
import { replayTrace } from 'querywire/replay'
const rt = await createRealtime({ queryClient: new QueryClient(), debounceMs: 10 })
const records = []
rt.inspect((r) => records.push(r))
for (let i = 0; i < 20; i++) rt.ingest('event', { type: 'work_orders', id: i % 3, action: 'update', version: i })
await new Promise((r) => setTimeout(r, 60))
rt.dispose()
const { same, plans } = await replayTrace({ version: 1, options: records[0].options, records })
console.log(JSON.stringify({ same, plans: plans.length, keys: plans[0].plan.invalidate.map((o) => o.queryHash), want: JSON.stringify(docKey('work_orders', 0)) }))
`)
  const r = JSON.parse(run('node', ['replay.mjs'], app).trim().split('\n').at(-1))
  // One engine module: dist/replay.js (and react, devtools) import ./index.js, which alone holds the
  // loader, the glue and the wasm (as a string: 180 KB and more), so createRealtime and replayTrace share one wasm instance.
  const dist = join(app, 'node_modules/querywire/dist')
  const js = readdirSync(dist).filter((f) => f.endsWith('.js'))
  const loaders = js.filter((f) => readFileSync(join(dist, f), 'utf8').includes('querywire needs WebAssembly SIMD'))
  assert.deepEqual(loaders, ['index.js'], 'only dist/index.js loads the wasm')
  assert.deepEqual(js.filter((f) => readFileSync(join(dist, f)).length > 180_000), ['index.js'], 'only dist/index.js holds the wasm')
  assert.match(readFileSync(join(dist, 'replay.js'), 'utf8'), /from\s*"\.\/index\.js"/)
  assert.equal(r.same, true)
  assert.equal(r.plans, 1)
  assert.equal(r.keys.length, 3)
  assert.ok(r.keys.includes(r.want))
})

test('an empty Vite + React app: npm install the tarball, vite build, and the page patches a doc in Chromium', async () => {
  const app = join(dir, 'vite-app')
  mkdirSync(join(app, 'src'), { recursive: true })
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module' }))
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@tanstack/react-query@5',
    '@tanstack/query-core@5', 'react@19', 'react-dom@19', 'vite@8'], app)
  writeFileSync(join(app, 'index.html'), '<!doctype html><html><body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>')
  copyFileSync(join(root, 'tests/pack/app-main.jsx'), join(app, 'src/main.jsx'))
  copyFileSync(join(root, 'tests/pack/app-devtools.jsx'), join(app, 'src/devtools.jsx'))
  run(join(app, 'node_modules/.bin/vite'), ['build'], app)
  // The devtools are a separate entry loaded on demand (import()): the main chunk holds none of them.
  const assets = readdirSync(join(app, 'dist/assets')).filter((f) => f.endsWith('.js'))
  const holding = (needle) => assets.filter((f) => readFileSync(join(app, 'dist/assets', f), 'utf8').includes(needle))
  const entry = readFileSync(join(app, 'dist/index.html'), 'utf8').match(/assets\/([^"]+\.js)/)[1]
  assert.ok(holding('qw-devtools-toggle').length === 1 && !holding('qw-devtools-toggle').includes(entry), `devtools in their own chunk: ${assets}`)
  assert.ok(holding('useRealtimeQuery: pass a view').includes(entry), 'querywire/react is in the main chunk')
  // The connectors load on first use (import() in js/createRealtime.js): each in a chunk of its own,
  // none in the main chunk, and the app above never calls them.
  const supabaseChunk = holding('expected a supabase-js v2 client')
  const centrifugeChunk = holding('expected a centrifuge-js v5 Centrifuge client')
  assert.ok(supabaseChunk.length === 1 && !supabaseChunk.includes(entry), `connectSupabase in its own chunk: ${assets}`)
  assert.ok(centrifugeChunk.length === 1 && !centrifugeChunk.includes(entry) && centrifugeChunk[0] !== supabaseChunk[0], `connectCentrifuge in its own chunk: ${assets}`)

  // An app that imports only the keys: the wasm's early compile (js/loadWasm.js, evaluated with the
  // module) is marked pure, so the bundler drops it with the loader and the wasm's bytes.
  writeFileSync(join(app, 'src/keys.js'), "import { docKey } from 'querywire'\ndocument.title = JSON.stringify(docKey('qw_keys_only', 1))\n")
  writeFileSync(join(app, 'vite.keys.config.mjs'), "export default { build: { outDir: 'dist-keys', rollupOptions: { input: 'src/keys.js' } } }\n")
  run(join(app, 'node_modules/.bin/vite'), ['build', '--config', 'vite.keys.config.mjs'], app)
  const keysJs = readdirSync(join(app, 'dist-keys/assets')).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(app, 'dist-keys/assets', f), 'utf8'))
  assert.ok(keysJs.some((t) => t.includes('qw_keys_only')), 'the keys-only app is built')
  const keysBytes = keysJs.reduce((n, t) => n + Buffer.byteLength(t), 0)
  assert.ok(keysBytes < 20_000 && !keysJs.some((t) => t.includes('needs WebAssembly SIMD')), `a keys-only app carries no wasm nor loader (${keysBytes} B)`)
  // The app that creates an engine carries the wasm in its main chunk, the string as the package wrote
  // it (a byte a character: under 1.1 bytes per wasm byte), and asks for no .wasm file.
  const entryBytes = readFileSync(join(app, 'dist/assets', entry)).length
  const wasmBytes = readFileSync(join(root, 'pkg/querywire_bg.wasm')).length
  assert.ok(holding('needs WebAssembly SIMD').includes(entry) && entryBytes > wasmBytes && entryBytes < wasmBytes * 1.1 + 400_000,
    `the main chunk holds the loader and the wasm (${entryBytes} B for a ${wasmBytes} B wasm)`)
  assert.ok(!readdirSync(join(app, 'dist/assets')).some((f) => f.endsWith('.wasm')), 'the build emits no .wasm asset')

  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' }
  const srv = createServer((req, res) => {
    const p = join(app, 'dist', req.url === '/' ? 'index.html' : req.url.split('?')[0])
    try {
      const body = readFileSync(p)
      res.writeHead(200, { 'content-type': types[extname(p)] ?? 'application/octet-stream' })
      res.end(body)
    } catch {
      res.writeHead(404)
      res.end()
    }
  }).listen(0, '127.0.0.1')
  await new Promise((r) => srv.once('listening', r))
  const { chromium } = await import(join(root, 'node_modules/playwright-core/index.mjs'))
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'] })
  try {
    const page = await browser.newPage()
    const errors = []
    page.on('pageerror', (e) => errors.push(e.message))
    const requested = []
    page.on('request', (r) => requested.push(new URL(r.url()).pathname.split('/').pop()))
    await page.goto(`http://127.0.0.1:${srv.address().port}/`)
    await page.waitForFunction(() => document.querySelector('#out')?.textContent.startsWith('patched'), null, { timeout: 15_000 })
    const text = await page.textContent('#out')
    assert.match(text, /^patched \| disconnected \| channels doc:work_orders:12,factory:f1 \| fetches 1$/)
    assert.ok(!requested.includes(supabaseChunk[0]) && !requested.includes(centrifugeChunk[0]), `no connector chunk fetched: ${requested}`)
    assert.ok(!requested.some((f) => f.endsWith('.wasm')), `no .wasm request: ${requested}`)
    // rt.connectCentrifuge fetches its chunk, then subscribes the open view's channels. The client is
    // a stand-in with centrifuge-js's method names (the app does not install centrifuge-js); the real
    // client through this same lazy path is tests/browser/centrifugo.test.mjs.
    const subscribed = await page.evaluate(async () => {
      const made = []
      const sub = () => ({ state: 'unsubscribed', on() {}, removeListener() {}, subscribe() { this.state = 'subscribing' }, unsubscribe() {} })
      const off = window.rt.connectCentrifuge({ state: 'connected', on() {}, removeListener() {}, getSubscription: () => null,
        newSubscription: (name) => { made.push(name); return sub() }, removeSubscription() {} })
      await window.rt._connectorsLoaded
      for (let i = 0; i < 100 && made.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
      off()
      return made.sort()
    })
    assert.deepEqual(subscribed, ['doc:work_orders:12', 'factory:f1'])
    assert.ok(requested.includes(centrifugeChunk[0]) && !requested.includes(supabaseChunk[0]), `only the centrifuge chunk fetched: ${requested}`)
    // The devtools chunk loads when asked for, opens, and shows the patch as a flush.
    await page.click('#load-devtools')
    await page.click('[data-testid=qw-devtools-toggle]')
    await page.waitForSelector('[data-testid=qw-devtools]')
    await page.evaluate(() => {
      window.rt.ingest('event', { type: 'work_orders', id: 12, action: 'update', version: 3, changedKeys: ['title'], data: { title: 'patched again' } })
      window.rt.flush()
    })
    await page.waitForSelector('[data-testid=qw-flush]')
    assert.match(await page.textContent('[data-testid=qw-flush]'), /1 key/)
    assert.match(await page.textContent('[data-testid=qw-flush-key]'), /^patch\["doc","work_orders","12"\]/)
    assert.deepEqual(errors, [])
  } finally {
    await browser.close()
    srv.close()
  }
})
