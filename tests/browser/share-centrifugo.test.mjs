// shareConnection with the real centrifuge-js client (`rt.connectCentrifuge`) in headless Chromium:
// pages of ONE browser context (one origin, as a user's tabs), each with its own centrifuge-js client
// and a real QueryClient (tests/browser/share-centrifugo.html), against the demo server's
// Centrifugo-protocol endpoint, which counts the connections it holds (`GET /api/stats`) and keeps
// each channel's history (offsets, epoch) for recovery. Counts are asserted exactly; the one
// wall-time bound (a handover within 3 s) is generous.
// Needs: bash scripts/build.sh --no-setup (pkg/) and the demo server binary.
// Run:   node --test tests/browser/share-centrifugo.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { browserAndStatics, sleep, waitFor } from './harness.mjs'
import { api } from './demoServer.mjs'
import { shareSetup, doc, list, state, roles, allConnected, leaderOf, holdsConnections as holds, crashPage } from './shareTabs.mjs'

const env = browserAndStatics()

async function setup(t) {
  const h = await shareSetup(t, env.browser)
  /** A new tab: its engine with `options`, `views` opened, rt.connectCentrifuge(its own client). */
  h.tab = (options = { shareConnection: true }, views = [], extra = {}) =>
    h.open(`${env.statics.url}/tests/browser/share-centrifugo.html`, { options: { scope: { factoryId: 'f1' }, ...options }, views, ...extra })
  return h
}

/** Waits until the server holds `n` Centrifugo connections, then 300 ms more to see it stay. */
const holdsConnections = (h, n) => holds(h, n, 'centrifugo')
const version = (page, name) => page.evaluate((n) => qws.data(n)?.version ?? null, name)

test('2 tabs with connectCentrifuge hold 1 Centrifugo connection; its client subscribes every tab\'s channels; an update reaches both', async (t) => {
  const h = await setup(t)
  const [a, b] = h.rows
  const pages = [await h.tab(undefined, [doc(a.id)]), await h.tab(undefined, [doc(b.id), list('f1')])]
  await allConnected(pages)
  await holdsConnections(h, 1)
  const leader = await leaderOf(pages)
  const all = await Promise.all(pages.map(state))
  assert.equal(all.reduce((n, s) => n + s.sockets, 0), 1, 'one WebSocket opened in all tabs')
  assert.deepEqual((await state(leader)).channels, [`doc:work_orders:${a.id}`, `doc:work_orders:${b.id}`, 'factory:f1', 'list:work_orders:f1'].sort())
  for (const s of all) {
    if (s.role === 'follower') {
      assert.deepEqual(s.channels, [], 'a follower\'s client subscribes nothing')
      assert.equal(s.client, 'disconnected', 'and stays disconnected')
    }
    assert.equal(s.status, 'connected', 'status: the leader\'s, in every tab')
  }
  await sleep(300)
  const before = await Promise.all(pages.map(state))
  const ra = (await h.update(a.id, { title: 'shared a' })).body
  const rb = (await h.update(b.id, { title: 'shared b' })).body
  await waitFor(async () => (await version(pages[0], `doc:${a.id}`)) === ra.version, { message: 'tab 0 sees a' })
  await waitFor(async () => (await version(pages[1], `doc:${b.id}`)) === rb.version, { message: 'tab 1 sees b' })
  await sleep(500)
  const after_ = await Promise.all(pages.map(state))
  assert.equal(after_[0].counts[`doc:${a.id}`] - before[0].counts[`doc:${a.id}`], 1, 'tab 0: one refetch of doc a')
  assert.equal(after_[1].counts[`doc:${b.id}`] - before[1].counts[`doc:${b.id}`], 1, 'tab 1: one refetch of doc b')
  assert.deepEqual(after_.flatMap((s) => s.errors), [])
})

/** The leader goes (`kill`) while the server refuses connections and a write is made. */
async function handover(t, kill) {
  const h = await setup(t)
  const [a, b] = h.rows
  const pages = [await h.tab(undefined, [doc(a.id)]), await h.tab(undefined, [doc(a.id), doc(b.id), list('f1')])]
  await allConnected(pages)
  await holdsConnections(h, 1)
  await sleep(300)
  const leader = await leaderOf(pages)
  // Make sure the survivor is tab 1 (it has every view): the leader must be tab 0.
  assert.equal(leader, pages[0], 'the first tab leads (it asked first)')
  const survivor = pages[1]
  // A live update first: what one update does to the survivor's views with the connection up
  // (and a position on doc a's stream for every tab).
  const start = await state(survivor)
  const r1 = (await h.update(a.id, { title: 'before' })).body
  await waitFor(async () => (await version(survivor, `doc:${a.id}`)) === r1.version, { message: 'the survivor sees the first update' })
  await sleep(500)
  const before = await state(survivor)
  const growth = (from, to) => Object.fromEntries(Object.keys(to.counts).map((k) => [k, to.counts[k] - from.counts[k]]))
  const live = growth(start, before)
  assert.equal(live[`doc:${a.id}`], 1)
  assert.equal(live[`doc:${b.id}`], 0)
  // The server refuses connections (closing the open one) from before the leader goes until
  // after the write, so it certainly happens while no tab holds a connection: it reaches the
  // survivor only through the new leader's recovery (`since`).
  await api(h.base, 'POST', '/api/admin/realtime', { ws: false })
  await kill(leader)
  const during = (await h.update(a.id, { title: 'during the handover' })).body
  await waitFor(async () => (await state(survivor)).role === 'leader', { timeoutMs: 10_000, message: 'a new leader' })
  await sleep(300)
  const t0 = Date.now()
  await api(h.base, 'POST', '/api/admin/realtime', { ws: true })
  await allConnected([survivor])
  await waitFor(async () => (await h.stats()).connections.centrifugo === 1, { timeoutMs: 10_000, message: 'one connection again' })
  const handoverMs = Date.now() - t0
  t.diagnostic(`reconnected ${handoverMs} ms after the server accepted connections again (wall time)`)
  assert.ok(handoverMs < 3000, `a new leader holds the connection within 3 s (took ${handoverMs} ms)`)
  await waitFor(async () => (await version(survivor, `doc:${a.id}`)) === during.version, { message: 'the update made during the handover' })
  await holdsConnections(h, 1)
  await sleep(500)
  const after_ = await state(survivor)
  // Recovered from history: the update made during the handover did what the live one did (doc a
  // refetched once, for the replayed event), and the handover itself refetched nothing (doc b).
  assert.deepEqual(growth(before, after_), live, 'refetches per view, as for a live update')
  assert.equal(after_.stats.invalidations - before.stats.invalidations, before.stats.invalidations - start.stats.invalidations, 'invalidations, as for a live update')
  assert.ok(after_.statuses.slice(before.statuses.length).includes('reconnecting'), `reconnecting during the handover: ${after_.statuses}`)
  assert.equal(after_.status, 'connected')
  assert.deepEqual(after_.channels, [`doc:work_orders:${a.id}`, `doc:work_orders:${b.id}`, 'factory:f1', 'list:work_orders:f1'].sort())
  assert.deepEqual(after_.errors, [])
  // And the new connection carries changes.
  const r3 = (await h.update(b.id, { title: 'after' })).body
  await waitFor(async () => (await version(survivor, `doc:${b.id}`)) === r3.version, { message: 'an update after the handover' })
}

test('closing the leader hands over: the new leader subscribes from the last position, an update made during the handover is replayed, not refetched', async (t) => {
  await handover(t, (leader) => leader.close())
})

test('a crashed leader (renderer killed, no unload) hands over likewise', async (t) => {
  await handover(t, crashPage)
})

test('an app that calls centrifuge.connect() in every tab anyway still holds 1 connection', async (t) => {
  const h = await setup(t)
  const [a] = h.rows
  const pages = [await h.tab(undefined, [doc(a.id)], { appConnects: true }), await h.tab(undefined, [doc(a.id)], { appConnects: true })]
  await allConnected(pages)
  await holdsConnections(h, 1)
  const all = await Promise.all(pages.map(state))
  for (const s of all) if (s.role === 'follower') assert.equal(s.client, 'disconnected')
})

test('without the option, 2 tabs hold 2 Centrifugo connections', async (t) => {
  const h = await setup(t)
  const [a] = h.rows
  const pages = [await h.tab({}, [doc(a.id)]), await h.tab({}, [doc(a.id)])]
  await allConnected(pages)
  await holdsConnections(h, 2)
  assert.deepEqual(await roles(pages), ['off', 'off'])
})
