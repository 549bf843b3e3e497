// The package as users get it: `npm pack`, then `npm install` of the tarball into an empty Node
// project and into an empty Vite + React app, each running the README's quick start for real
// (a real QueryClient in Node; the built app in Debian's Chromium).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, rmSync, copyFileSync } from 'node:fs'
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
  for (const f of ['js/index.js', 'js/index.d.ts', 'js/react.js', 'js/react.d.ts', 'pkg/querywire.js', 'pkg/querywire_bg.wasm']) {
    assert.ok(names.includes(f), `the tarball ships ${f}`)
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
import { createRealtime } from 'querywire'
const queryClient = new QueryClient()
let fetches = 0
new QueryObserver(queryClient, { queryKey: ['list', 'work_orders', 'f1', { page: 1 }], queryFn: async () => ++fetches }).subscribe(() => {})
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

test('an empty Vite + React app: npm install the tarball, vite build, and the page patches a doc in Chromium', async () => {
  const app = join(dir, 'vite-app')
  mkdirSync(join(app, 'src'), { recursive: true })
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module' }))
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@tanstack/react-query@5',
    '@tanstack/query-core@5', 'react@19', 'react-dom@19', 'vite@8'], app)
  writeFileSync(join(app, 'index.html'), '<!doctype html><html><body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>')
  copyFileSync(join(root, 'tests/pack/app-main.jsx'), join(app, 'src/main.jsx'))
  run(join(app, 'node_modules/.bin/vite'), ['build'], app)

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
    await page.goto(`http://127.0.0.1:${srv.address().port}/`)
    await page.waitForFunction(() => document.querySelector('#out')?.textContent.startsWith('patched'), null, { timeout: 15_000 })
    const text = await page.textContent('#out')
    assert.match(text, /^patched \| disconnected \| channels doc:work_orders:12,factory:f1$/)
    assert.deepEqual(errors, [])
  } finally {
    await browser.close()
    srv.close()
  }
})
