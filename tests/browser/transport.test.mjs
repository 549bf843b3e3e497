// The Rust WebSocket / EventSource transports in headless Chromium (Debian's /usr/bin/chromium via
// playwright-core) against the demo server binary (examples/server), with a real QueryClient in
// the page (tests/browser/page.html) whose queryFns fetch the server's REST API and count calls.
// Needs: bash scripts/build.sh --no-setup (pkg/), and
//        cargo build --release --manifest-path examples/server/Cargo.toml
// Run:   node --test tests/browser/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { browserAndStatics, sleep, waitFor, pageLogs } from './harness.mjs'
import { startDemoServer, tempDb, api } from './demoServer.mjs'
import { freePort } from '../e2e/harness.mjs'

const env = browserAndStatics()

/**
 * A demo server on a fixed port and SQLite file (so it can be killed and restarted with its data),
 * a fresh page with an engine, two active queries (a doc and the f1 list head) and their views.
 */
async function setup(t, { options = {}, views = true } = {}) {
  const db = tempDb()
  const port = await freePort()
  const srv = { server: await startDemoServer({ port, dbPath: db.path }) }
  const base = `http://127.0.0.1:${port}`
  srv.restart = async () => { srv.server = await startDemoServer({ port, dbPath: db.path }) }
  const context = await env.browser.newContext()
  const page = await context.newPage()
  const logs = pageLogs(page)
  t.after(async () => {
    await context.close()
    await srv.server.stop()
    db.cleanup()
  })
  await page.goto(`${env.statics.url}/tests/browser/page.html`)
  await page.waitForFunction(() => window.qwtReady === true)
  await page.evaluate((o) => qwt.start(o), { apiBase: base, options })
  const { body } = await api(base, 'GET', '/api/work_orders?factory_id=f1&pageSize=1')
  const row = body.items[0]
  await page.evaluate(({ id }) => {
    qwt.observe('doc', ['doc', 'work_orders', String(id)], `/api/work_orders/${id}`)
    qwt.observe('list', ['list', 'work_orders', 'f1', { page: 1 }], '/api/work_orders?factory_id=f1&page=1&pageSize=10')
  }, { id: row.id })
  if (views) {
    await page.evaluate(({ id }) => {
      qwt.subscribe({ kind: 'doc', type: 'work_orders', id })
      qwt.subscribe({ kind: 'list', type: 'work_orders' })
    }, { id: row.id })
  }
  await waitFor(async () => (await state(page)).counts.doc === 1 && (await state(page)).counts.list === 1 && (await page.evaluate(() => qwt.fetching())) === 0)
  return { page, base, row, srv, logs, ws: `ws://127.0.0.1:${port}/ws` }
}

const state = (page) => page.evaluate(() => qwt.state())
const dedupe = (xs) => xs.filter((x, i) => x !== xs[i - 1])

async function waitStatus(page, s, timeoutMs = 10000) {
  await waitFor(async () => (await state(page)).status === s, { timeoutMs, message: `status ${s}` }).catch(async (e) => {
    throw new Error(`${e.message}; statuses: ${(await state(page)).statuses.join(' → ')}`)
  })
}

/** Waits until the counts stop moving for `quietMs`, then returns them. */
async function quietCounts(page, quietMs = 800) {
  let last = JSON.stringify((await state(page)).counts)
  let since = Date.now()
  for (;;) {
    await sleep(100)
    const now = JSON.stringify((await state(page)).counts)
    if (now !== last) {
      last = now
      since = Date.now()
    } else if (Date.now() - since >= quietMs && (await page.evaluate(() => qwt.fetching())) === 0) {
      return JSON.parse(now)
    }
  }
}

test('WebSocket: a server-side PATCH reaches the cache; status sequence', async (t) => {
  const { page, base, row, ws } = await setup(t)
  await page.evaluate((url) => qwt.connectWebSocket(url, { backoff: { initialMs: 200, maxMs: 1000, maxAttempts: 3 } }), ws)
  await waitStatus(page, 'connected')
  const sub = (await state(page)).sent.map((s) => JSON.parse(s)).find((f) => f.type === 'subscribe')
  assert.deepEqual([...sub.channels].sort(), [`doc:work_orders:${row.id}`, 'factory:f1', 'list:work_orders:f1'])

  const title = `ws ${Date.now()}`
  const patched = await api(base, 'PATCH', `/api/work_orders/${row.id}`, { title })
  assert.equal(patched.status, 200)
  await waitFor(async () => (await page.evaluate(() => qwt.data('doc')))?.title === title, { message: 'patched title in the cache' })
  const counts = await quietCounts(page)
  // The demo server's frames are envelopes: a whole row, no changed columns, so the doc is
  // invalidated and refetched once (core adapt/envelope.rs: "refetch, don't patch").
  assert.equal(counts.doc, 2, 'the doc refetched exactly once')
  assert.equal(counts.list, 1, 'an update leaves the list alone')
  const s = await state(page)
  assert.deepEqual(dedupe(s.statuses), ['disconnected', 'connecting', 'connected'])
  assert.equal(s.errors.length, 0, JSON.stringify(s.errors))
})

test('WebSocket: kill and restart the server → reconnect with backoff, each active view refetched exactly once', async (t) => {
  const { page, base, row, srv, ws } = await setup(t)
  // maxAttempts 10: with 3, full jitter can spend all attempts before the server is back, and the
  // engine polls in between (contract-correct, tested below); here the plain reconnect is tested.
  await page.evaluate((url) => qwt.connectWebSocket(url, { backoff: { initialMs: 200, maxMs: 1000, maxAttempts: 10 } }), ws)
  await waitStatus(page, 'connected')
  // A change first, so the channels have seen a seq (the resubscribe carries `since`).
  await api(base, 'PATCH', `/api/work_orders/${row.id}`, { qty: 3 })
  await sleep(300)
  const before = await quietCounts(page, 300)
  const socketsBefore = (await state(page)).sockets
  const flushesBefore = (await state(page)).stats.flushes

  await srv.server.kill()
  await waitStatus(page, 'reconnecting', 5000)
  await sleep(400) // at least one attempt fails against the dead port
  await srv.restart()
  await waitStatus(page, 'connected', 10000)
  const after = await quietCounts(page, 1500)
  const flushes = (await state(page)).stats.flushes - flushesBefore
  // KNOWN CORE BUG (reported, not fixed here: src/ and crates/ belong to others): the server
  // answers the `since` resubscribe with one `{type:'recovered', ok:false}` frame per channel;
  // Link::handle_recovered turns each into its own Recover(Channels([ch])), and Realtime::drain_link
  // refetches (and flushes) per frame, so `factory:f1` refetches every view and `doc:`/`list:` each
  // refetch theirs again: 2 refetches per view instead of the contract's one.
  assert.equal(after.doc - before.doc, 1, `doc refetched exactly once (${flushes} flushes)`)
  assert.equal(after.list - before.list, 1, `list refetched exactly once (${flushes} flushes)`)
  const s = await state(page)
  assert.ok(s.sockets - socketsBefore >= 2, `a failed attempt, then the one that worked (${s.sockets - socketsBefore} attempts)`)
  const gaps = s.socketTimes.slice(socketsBefore).map((x, i, a) => (i ? x - a[i - 1] : 0)).slice(1)
  for (const g of gaps) assert.ok(g <= 1000 + 400, `retry gaps within backoff.maxMs: ${gaps.map(Math.round)}`)
  assert.deepEqual(dedupe(s.statuses).slice(-3), ['connected', 'reconnecting', 'connected'])
  const resub = s.sent.map((x) => JSON.parse(x)).filter((f) => f.type === 'subscribe').at(-1)
  assert.ok(resub.since && Object.keys(resub.since).length > 0, `resubscribe with since: ${JSON.stringify(resub)}`)

  // Still live after the restart.
  const title = `after restart ${Date.now()}`
  await api(base, 'PATCH', `/api/work_orders/${row.id}`, { title })
  await waitFor(async () => (await page.evaluate(() => qwt.data('doc')))?.title === title)
})

test('WebSocket: a server that stops answering pings is dropped and reconnected', async (t) => {
  const { page, base, ws } = await setup(t)
  await page.evaluate((url) => qwt.connectWebSocket(url, { backoff: { initialMs: 200, maxMs: 1000, maxAttempts: 10 }, heartbeat: { intervalMs: 500, timeoutMs: 500 } }), ws)
  await waitStatus(page, 'connected')
  await sleep(1500) // pongs flow: no reconnect
  assert.equal((await state(page)).sockets, 1, 'answered heartbeats keep the socket')
  const before = await quietCounts(page, 300)

  await api(base, 'POST', '/api/admin/realtime', { pong: false })
  await waitFor(async () => (await state(page)).sockets >= 2, { timeoutMs: 4000, message: 'a new socket after the missed pong' })
  assert.ok((await state(page)).statuses.includes('reconnecting'))
  await api(base, 'POST', '/api/admin/realtime', { pong: true })
  await waitStatus(page, 'connected')
  const n = (await state(page)).sockets
  await sleep(2000)
  const s = await state(page)
  assert.equal(s.sockets, n, 'stable again once pongs flow')
  assert.equal(s.status, 'connected')
  const after = await quietCounts(page, 300)
  assert.ok(after.doc - before.doc >= 1 && after.doc - before.doc <= n - 1, `one refetch per reconnect at most: ${after.doc - before.doc} for ${n - 1}`)
})

test('WebSocket: server gone for good → polling on pollingMs; back → polling stops, status connected', async (t) => {
  const { page, srv, ws } = await setup(t, { options: { pollingMs: 1000 } })
  await page.evaluate((url) => qwt.connectWebSocket(url, { backoff: { initialMs: 200, maxMs: 1000, maxAttempts: 3 } }), ws)
  await waitStatus(page, 'connected')
  await srv.server.kill()
  await waitStatus(page, 'polling', 10000)
  const start = (await state(page)).counts
  await sleep(4500)
  const polled = (await state(page)).counts
  // Intervals of 1000 ± 1000 ms, never under 1000: 2 to 4 polls in 4.5 s.
  const polls = polled.doc - start.doc
  assert.ok(polls >= 2 && polls <= 5, `doc polled ${polls} times in 4.5 s`)
  assert.equal(polled.list - start.list, polls, 'each active view polled alike')

  await srv.restart()
  await waitStatus(page, 'connected', 8000) // the transport retries about every backoff.maxMs
  const back = await quietCounts(page, 300)
  await sleep(3000)
  const later = (await state(page)).counts
  assert.deepEqual(later, back, 'no polling once realtime is back')
  assert.deepEqual(dedupe((await state(page)).statuses).slice(-2), ['polling', 'connected'])
})

test('EventSource: a server-side PATCH reaches the cache; status sequence', async (t) => {
  const { page, base, row } = await setup(t)
  await page.evaluate((url) => qwt.connectEventSource(url, { backoff: { initialMs: 200, maxMs: 1000, maxAttempts: 3 } }), `${base}/sse`)
  await waitStatus(page, 'connected')
  const title = `sse ${Date.now()}`
  await api(base, 'PATCH', `/api/work_orders/${row.id}`, { title })
  await waitFor(async () => (await page.evaluate(() => qwt.data('doc')))?.title === title, { message: 'patched over SSE' })
  await api(base, 'POST', '/api/work_orders', { factory_id: 'f1', title: 'sse insert' })
  await waitFor(async () => (await state(page)).counts.list === 2, { message: 'list refetched after an insert' })
  const s = await state(page)
  assert.equal(s.streams, 1)
  assert.ok(/channels=/.test((await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).find((n) => n.includes('/sse'))) ?? 'channels=')))
  assert.deepEqual(dedupe(s.statuses), ['disconnected', 'connecting', 'connected'])
})

test('hidden → visible: pending events flush at once', async (t) => {
  const { page, base, row, ws } = await setup(t, { options: { debounceMs: 5000, maxWaitMs: 10000 } })
  await page.evaluate((url) => qwt.connectWebSocket(url), ws)
  await waitStatus(page, 'connected')
  await page.evaluate(() => qwt.setVisibility('hidden'))
  const title = `hidden ${Date.now()}`
  await api(base, 'PATCH', `/api/work_orders/${row.id}`, { title })
  await waitFor(async () => (await state(page)).stats.received >= 1, { message: 'event received' })
  await sleep(300)
  assert.notEqual((await page.evaluate(() => qwt.data('doc'))).title, title, 'still waiting in the 5 s window')
  const t0 = Date.now()
  await page.evaluate(() => qwt.setVisibility('visible'))
  await waitFor(async () => (await page.evaluate(() => qwt.data('doc')))?.title === title, { timeoutMs: 1000, message: 'flushed on visible' })
  assert.ok(Date.now() - t0 < 1000)
})

/**
 * Kills the demo server, waits until the page is reconnecting, starts the server again and resolves
 * the page's socket count while it is still reconnecting. The backoff has full jitter (a retry
 * anywhere in 0..=8000 ms), so now and then one lands between the restart and the test's event and
 * reconnects first; that round shows nothing about the event, so the outage is made again (at most
 * three rounds). `prepare` runs before each round, `undo` after a round a retry won.
 */
async function deadSocketOutage(page, srv, event, { prepare = async () => {}, undo = async () => {} } = {}) {
  for (let round = 0; ; round++) {
    await prepare()
    await srv.server.kill()
    await waitStatus(page, 'reconnecting', 5000)
    await sleep(300)
    await srv.restart()
    const s = await state(page)
    if (s.status === 'reconnecting') return s.sockets
    assert.ok(round < 2, `a jittered retry reconnected before ${event} in ${round + 1} rounds`)
    await waitStatus(page, 'connected')
    await undo()
  }
}

test('hidden → visible with a dead socket: reconnects at once and refetches each view once', async (t) => {
  // A long backoff: the retry pending when the tab wakes would be seconds away.
  const { page, srv, ws } = await setup(t)
  await page.evaluate((url) => qwt.connectWebSocket(url, { backoff: { initialMs: 8000, maxMs: 20000, maxAttempts: 10 } }), ws)
  await waitStatus(page, 'connected')
  // Retries go on while hidden: a round where one reconnects before the wake is made again.
  let before
  const socketsAtWake = await deadSocketOutage(page, srv, 'the wake', {
    prepare: async () => {
      before = await quietCounts(page, 300)
      await page.evaluate(() => qwt.setVisibility('hidden'))
    },
    undo: () => page.evaluate(() => qwt.setVisibility('visible')),
  })
  const t0 = Date.now()
  await page.evaluate(() => qwt.setVisibility('visible'))
  await waitStatus(page, 'connected', 3000)
  const took = Date.now() - t0
  const after = await quietCounts(page, 1500)
  assert.ok((await state(page)).sockets > socketsAtWake, 'a new socket after the wake')
  assert.ok(took < 2000, `reconnected ${took} ms after visible`)
  assert.equal(after.doc - before.doc, 1, 'doc refetched once')
  assert.equal(after.list - before.list, 1, 'list refetched once')
})

test("the window's online event with a dead socket: reconnects at once, not after the backoff", async (t) => {
  // The shim's `online` listener (js/createRealtime.js) hands the core a reconnect intent.
  const { page, srv, ws } = await setup(t)
  await page.evaluate((url) => qwt.connectWebSocket(url, { backoff: { initialMs: 8000, maxMs: 20000, maxAttempts: 10 } }), ws)
  await waitStatus(page, 'connected')
  const socketsAtOnline = await deadSocketOutage(page, srv, 'the online event')
  const t0 = Date.now()
  await page.evaluate(() => window.dispatchEvent(new Event('online')))
  await waitStatus(page, 'connected', 3000)
  const took = Date.now() - t0
  assert.ok((await state(page)).sockets > socketsAtOnline, 'a new socket after online')
  assert.ok(took < 2000, `reconnected ${took} ms after online, the pending retry was seconds away`)
})
