// The package under a page's Content Security Policy (README "Content Security Policy"): the wasm comes
// inside dist/index.js and is compiled from bytes, so `script-src 'self' 'wasm-unsafe-eval'` is all it
// needs (no connect-src for a .wasm file, no 'unsafe-eval'). Without 'wasm-unsafe-eval' the import
// still works (the keys need no wasm) and createRealtime rejects with the browser's refusal.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { readFileSync, existsSync } from 'node:fs'
import { extname, join, normalize } from 'node:path'
import { launchBrowser } from './harness.mjs'
import { repoRoot } from './demoServer.mjs'

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' }
let server, base, browser

before(async () => {
  assert.ok(existsSync(join(repoRoot, 'dist/index.js')), 'dist/index.js is built (bash scripts/build.sh)')
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    const p = normalize(join(repoRoot, decodeURIComponent(url.pathname)))
    if (!p.startsWith(repoRoot)) return res.writeHead(403).end()
    let body
    try { body = readFileSync(p) } catch { return res.writeHead(404).end() }
    const headers = { 'content-type': MIME[extname(p)] ?? 'application/octet-stream', 'cache-control': 'no-store' }
    if (extname(p) === '.html') headers['content-security-policy'] = url.searchParams.get('csp')
    res.writeHead(200, headers).end(body)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${server.address().port}`
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  server?.close()
})

async function load(csp) {
  const page = await browser.newPage()
  const violations = []
  page.on('console', (m) => { if (/Content Security Policy|wasm-unsafe-eval/.test(m.text())) violations.push(m.text()) })
  const requests = []
  page.on('request', (r) => requests.push(new URL(r.url()).pathname))
  await page.goto(`${base}/tests/browser/csp.html?csp=${encodeURIComponent(csp)}`)
  await page.waitForFunction(() => window.result)
  const result = await page.evaluate(() => window.result)
  await page.close()
  return { result, violations, requests }
}

test("script-src 'self' 'wasm-unsafe-eval': the engine loads from dist/index.js alone and reads an event", async () => {
  const { result, violations, requests } = await load("default-src 'none'; img-src data:; script-src 'self' 'nonce-qw' 'wasm-unsafe-eval'")
  assert.deepEqual(result.key, ['doc', 'work_orders', '12'])
  assert.equal(result.created, true, result.error)
  assert.equal(result.received, 1)
  assert.deepEqual(violations, [])
  assert.ok(!requests.some((p) => p.endsWith('.wasm')), `no .wasm request: ${requests}`)
})

test("without 'wasm-unsafe-eval': the import and the keys work, createRealtime rejects with the refusal", async () => {
  const { result } = await load("default-src 'none'; img-src data:; script-src 'self' 'nonce-qw'")
  assert.deepEqual(result.key, ['doc', 'work_orders', '12'])
  assert.equal(result.created, false)
  assert.match(result.error, /^CompileError: .*Content Security Policy/)
})
