// Browser test harness: a static server for the repo root, Debian's Chromium through playwright-core
// (never `npx playwright install`), and the demo server (./demoServer.mjs).
import http from 'node:http'
import { createReadStream, statSync } from 'node:fs'
import { extname, join, normalize } from 'node:path'
import { before, after } from 'node:test'
import { chromium } from 'playwright-core'
import { repoRoot } from './demoServer.mjs'

export const CHROMIUM = process.env.QW_CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run']

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.map': 'application/json',
}

/** Serves `root` (default: the repo root) on 127.0.0.1; resolves `{ url, close() }`. */
export function staticServer(root = repoRoot) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    const p = normalize(join(root, decodeURIComponent(url.pathname)))
    if (!p.startsWith(root)) return res.writeHead(403).end()
    let st
    try { st = statSync(p) } catch { return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found') }
    if (!st.isFile()) return res.writeHead(404).end('not found')
    res.writeHead(200, { 'content-type': MIME[extname(p)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    createReadStream(p).pipe(res)
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()) }),
      })
    })
  })
}

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

/** Collects `page`'s console lines and its uncaught errors (`pageerror: …`) into the array it returns. */
export function pageLogs(page) {
  const logs = []
  page.on('console', (m) => logs.push(m.text()))
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`))
  return logs
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 25, message } = {}) {
  const start = Date.now()
  let last
  for (;;) {
    last = await fn()
    if (last) return last
    if (Date.now() - start > timeoutMs) throw new Error(`${message ?? 'waitFor'} timed out after ${timeoutMs} ms`)
    await sleep(intervalMs)
  }
}

/**
 * Registers before/after hooks of the calling test file that start a static server for the repo
 * root and Chromium, and close them; returns `{ browser, statics }`, filled in once `before` ran.
 */
export function browserAndStatics() {
  const env = { browser: undefined, statics: undefined }
  before(async () => {
    env.statics = await staticServer()
    env.browser = await launchBrowser()
  })
  after(async () => {
    await env.browser?.close()
    await env.statics?.close()
  })
  return env
}
