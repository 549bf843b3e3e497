// The set-up shared by the shareConnection browser tests (share.test.mjs, share-supabase.test.mjs):
// a demo server on its own SQLite file and one browser context per test (one origin, as a user's
// tabs), tabs of a share page (./sharePage.mjs), and the waits and reads the tests assert with.
import assert from 'node:assert/strict'
import { sleep, waitFor } from './harness.mjs'
import { startDemoServer, tempDb, api } from './demoServer.mjs'

/**
 * A demo server and a context of `browser`, closed after `t`. `open(url, startArgs)` is a new tab:
 * opens `url`, waits for the page script, calls `qws.start({ apiBase, ...startArgs })`.
 */
export async function shareSetup(t, browser) {
  const db = tempDb()
  const server = await startDemoServer({ dbPath: db.path })
  const context = await browser.newContext()
  const logs = []
  t.after(async () => {
    await context.close()
    await server.stop()
    db.cleanup()
  })
  const base = server.base
  const rows = (await api(base, 'GET', '/api/work_orders?factory_id=f1&pageSize=5')).body.items
  return {
    server,
    base,
    context,
    logs,
    rows,
    async open(url, startArgs) {
      const page = await context.newPage()
      page.on('console', (m) => logs.push(m.text()))
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`))
      await page.goto(url)
      await page.waitForFunction(() => window.qwsReady === true)
      await page.evaluate((o) => qws.start(o), { apiBase: base, ...startArgs })
      return page
    },
    stats: async () => (await api(base, 'GET', '/api/stats')).body,
    update: (id, fields) => api(base, 'PATCH', `/api/work_orders/${id}`, fields),
    create: (row) => api(base, 'POST', '/api/work_orders', row),
  }
}

export const doc = (id) => ({ kind: 'doc', type: 'work_orders', id })
export const list = (factoryId) => ({ kind: 'list', type: 'work_orders', factoryId })
export const state = (page) => page.evaluate(() => qws.state())
export const roles = (pages) => Promise.all(pages.map(async (p) => (await state(p)).role))

export async function allConnected(pages, timeoutMs = 10_000) {
  await waitFor(async () => (await Promise.all(pages.map(state))).every((s) => s.status === 'connected'), { timeoutMs, message: 'every tab connected' })
}

/** Waits until the server holds `n` connections of `kind` (`ws`, `supabase`), then 300 ms more to see it stay. */
export async function holdsConnections(h, n, kind) {
  await waitFor(async () => (await h.stats()).connections[kind] === n, { timeoutMs: 10_000, message: `${n} ${kind} connections` })
  await sleep(300)
  assert.equal((await h.stats()).connections[kind], n)
}

export async function leaderOf(pages) {
  const r = await roles(pages)
  assert.equal(r.filter((x) => x === 'leader').length, 1, `one leader: ${r}`)
  return pages[r.indexOf('leader')]
}

/** Waits until each of `pages` that has a view of doc `docId` holds `version` of it, and each with the f1 list sees `createdId` first. */
export async function sawHandoverChanges(pages, docId, version, createdId) {
  for (const p of pages) {
    const s = await state(p)
    if (s.counts[`doc:${docId}`] !== undefined) {
      await waitFor(async () => (await p.evaluate((n) => qws.data(n), `doc:${docId}`))?.version === version, { message: 'the update made during the handover' })
    }
    if (s.counts['list:f1'] !== undefined) {
      await waitFor(async () => (await p.evaluate((n) => qws.data(n), 'list:f1'))?.items?.[0]?.id === createdId, { message: 'the row created during the handover' })
    }
  }
}

/**
 * After the leader went (at `t0`, wall time): every remaining tab connected again, the server holds one `kind`
 * connection within 3 s, the changes made meanwhile reached the tabs (`sawHandoverChanges`), and one
 * connection stays. Resolves to the tabs' states 500 ms later, with what each view's refetch count grew by
 * since `before` (the tabs' states before the leader went) as `grew`.
 */
export async function tookOver(t, h, rest, before, { kind, t0, docId, version, createdId }) {
  await allConnected(rest)
  await waitFor(async () => (await h.stats()).connections[kind] === 1, { timeoutMs: 10_000, message: 'one connection again' })
  const handoverMs = Date.now() - t0
  t.diagnostic(`handover took ${handoverMs} ms (wall time)`)
  assert.ok(handoverMs < 3000, `a new leader holds the connection within 3 s (took ${handoverMs} ms)`)
  await sawHandoverChanges(rest, docId, version, createdId)
  await holdsConnections(h, 1, kind)
  await sleep(500)
  const after = await Promise.all(rest.map(state))
  return after.map((s, i) => ({ ...s, grew: Object.fromEntries(Object.keys(s.counts).map((k) => [k, s.counts[k] - before[i].counts[k]])) }))
}

/** Crashes `page`'s renderer (no unload, as a killed tab) and resolves once it is gone. */
export async function crashPage(page) {
  const cdp = await page.context().newCDPSession(page)
  const crashed = new Promise((r) => page.once('crash', r))
  cdp.send('Page.crash').catch(() => {}) // the renderer dies; the call itself never answers
  await crashed
}
