// shareConnection under React <StrictMode> in each tab: tests/browser/share-react.html is bundled
// with Vite (development mode, so StrictMode really double-mounts: the engine is created twice and
// the connect effect runs connect → disconnect → connect) and opened in 3 pages of one context.
// Needs: pkg/ (bash scripts/build.sh --no-setup) and the demo server binary.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { sleep, waitFor } from './harness.mjs'
import { api } from './demoServer.mjs'
import { startReactApp } from './reactApp.mjs'

let app
let browser
let statics
let server

before(async () => {
  app = await startReactApp('share-react.html')
  ;({ browser, statics, server } = app)
})

after(async () => {
  await app?.stop()
})

test('StrictMode in each of 3 tabs: one connection, every tab connected, an update refetches each tab once', async () => {
  const context = await browser.newContext()
  try {
    const { body } = await api(server.base, 'GET', '/api/work_orders?factory_id=f1&pageSize=1')
    const row = body.items[0]
    const pages = []
    const logs = []
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage()
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`))
      await page.goto(`${statics.url}/share-react.html?api=${encodeURIComponent(server.base)}&id=${row.id}`)
      pages.push(page)
    }
    for (const p of pages) {
      await p.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'connected', null, { timeout: 10_000 })
      await p.waitForFunction(() => document.querySelector('[data-testid=doc]')?.dataset.version !== '', null, { timeout: 10_000 })
    }
    await waitFor(async () => (await api(server.base, 'GET', '/api/stats')).body.connections.ws === 1, { timeoutMs: 10_000, message: 'one connection' })
    await sleep(500)
    assert.equal((await api(server.base, 'GET', '/api/stats')).body.connections.ws, 1)
    const roleOf = (p) => p.evaluate(() => window.rt.shareRole())
    const roles = await Promise.all(pages.map(roleOf))
    assert.deepEqual(roles.slice().sort(), ['follower', 'follower', 'leader'], String(roles))
    const before_ = await Promise.all(pages.map((p) => p.evaluate(() => window.fetches)))
    const changed = (await api(server.base, 'PATCH', `/api/work_orders/${row.id}`, { title: 'strict update' })).body
    for (const p of pages) {
      await p.waitForFunction((v) => document.querySelector('[data-testid=doc]')?.dataset.version === String(v), changed.version, { timeout: 10_000 })
    }
    await sleep(500)
    const after_ = await Promise.all(pages.map((p) => p.evaluate(() => window.fetches)))
    assert.deepEqual(after_.map((n, i) => n - before_[i]), [1, 1, 1], 'one refetch per tab')
    assert.deepEqual(logs, [])
  } finally {
    await context.close()
  }
})
