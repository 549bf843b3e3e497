// shareConnection with the real supabase-js client (`rt.connectSupabase`) in headless Chromium:
// pages of ONE browser context (one origin, as a user's tabs), each with its own supabase-js client
// and a real QueryClient (tests/browser/share-supabase.html), against the demo server's
// Supabase-Realtime-compatible endpoint, which counts the connections it holds (`GET /api/stats`).
// Counts are asserted exactly; the one wall-time bound (a handover within 3 s) is generous.
// Needs: bash scripts/build.sh --no-setup (pkg/) and the demo server binary.
// Run:   node --test tests/browser/share-supabase.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { browserAndStatics, sleep, waitFor } from './harness.mjs'
import { api } from './demoServer.mjs'
import { shareSetup, doc, list, state, roles, allConnected, leaderOf, holdsConnections as holds, tookOver, crashPage } from './shareTabs.mjs'

const env = browserAndStatics()

async function setup(t) {
  const h = await shareSetup(t, env.browser)
  /** A new tab: its engine with `options`, `views` opened, rt.connectSupabase(its own client). */
  h.tab = (options = { shareConnection: true }, views = []) =>
    h.open(`${env.statics.url}/tests/browser/share-supabase.html`, { supabaseUrl: h.base, options: { scope: { factoryId: 'f1' }, ...options }, views })
  return h
}

/** Waits until the server holds `n` supabase connections, then 300 ms more to see it stay. */
const holdsConnections = (h, n) => holds(h, n, 'supabase')

test('3 tabs with connectSupabase hold 1 supabase connection; its client holds every tab\'s channels', async (t) => {
  const h = await setup(t)
  const [a, b] = h.rows
  const pages = [await h.tab(undefined, [doc(a.id)]), await h.tab(undefined, [doc(b.id)]), await h.tab(undefined, [list('f1')])]
  await allConnected(pages)
  await holdsConnections(h, 1)
  const leader = await leaderOf(pages)
  const all = await Promise.all(pages.map(state))
  assert.equal(all.reduce((n, s) => n + s.sockets, 0), 1, 'one socket opened in all tabs')
  assert.deepEqual((await state(leader)).channels, [`realtime:doc:work_orders:${a.id}`, `realtime:doc:work_orders:${b.id}`, 'realtime:factory:f1', 'realtime:list:work_orders:f1'].sort())
  for (const s of all) if (s.role === 'follower') assert.deepEqual(s.channels, [], 'a follower\'s client holds no channel')
  assert.deepEqual(all.flatMap((s) => s.errors), [])
})

/** One update; returns each tab's growth in refetches, invalidations, received, duplicates. */
async function oneUpdate(h, pages, id) {
  await sleep(300)
  const before = await Promise.all(pages.map(state))
  const row = (await h.update(id, { title: 'shared update' })).body
  for (const p of pages) {
    await waitFor(async () => (await p.evaluate((n) => qws.data(n), `doc:${id}`))?.version === row.version, { message: 'the new version in every tab' })
  }
  await sleep(500) // anything extra would show by now
  const after_ = await Promise.all(pages.map(state))
  return after_.map((s, i) => ({
    refetches: s.counts[`doc:${id}`] - before[i].counts[`doc:${id}`],
    invalidations: s.stats.invalidations - before[i].stats.invalidations,
    received: s.stats.received - before[i].stats.received,
    duplicates: s.stats.dropped.duplicate - before[i].stats.dropped.duplicate,
  }))
}

test('an update reaches each tab\'s cache once, as it does without sharing', async (t) => {
  const h = await setup(t)
  const [a] = h.rows
  const pages = []
  for (let i = 0; i < 3; i++) pages.push(await h.tab(undefined, [doc(a.id)]))
  await allConnected(pages)
  await holdsConnections(h, 1)
  const shared = await oneUpdate(h, pages, a.id)
  for (let i = 0; i < 3; i++) {
    assert.equal(shared[i].refetches, 1, `tab ${i}: one refetch`)
    assert.equal(shared[i].invalidations, 1, `tab ${i}: one invalidation`)
  }
  // The same tab without sharing (in the same run): the same counts, copies included (the change
  // comes on doc: and factory:, the two channels a doc view opens).
  const alone = await h.tab({}, [doc(a.id)])
  await allConnected([alone])
  await holdsConnections(h, 2)
  const [unshared] = await oneUpdate(h, [alone], a.id)
  assert.deepEqual(unshared, { refetches: 1, invalidations: 1, received: 2, duplicates: shared[0].duplicates })
  for (let i = 0; i < 3; i++) assert.deepEqual(shared[i], unshared, `tab ${i}: as an unshared tab`)
})

/** The leader goes (`kill`) while the server refuses connections and two writes are made. */
async function handover(t, kill) {
  const h = await setup(t)
  const [a, b] = h.rows
  const pages = [await h.tab(undefined, [doc(a.id), list('f1')]), await h.tab(undefined, [doc(a.id)]), await h.tab(undefined, [doc(b.id), list('f1')])]
  await allConnected(pages)
  await holdsConnections(h, 1)
  await sleep(300)
  const leader = await leaderOf(pages)
  const rest = pages.filter((p) => p !== leader)
  const before = await Promise.all(rest.map(state))
  // The server refuses realtime connections (closing the open one) from before the leader goes
  // until after the writes, so they certainly happen while no tab holds a connection: supabase
  // cannot replay, so they reach the tabs only through the takeover's recovery.
  await api(h.base, 'POST', '/api/admin/realtime', { ws: false })
  await kill(leader)
  const during = (await h.update(a.id, { title: 'during the handover' })).body
  const created = (await h.create({ factory_id: 'f1', title: 'created during the handover' })).body
  await waitFor(async () => (await roles(rest)).includes('leader'), { timeoutMs: 10_000, message: 'a new leader' })
  await sleep(300)
  const t0 = Date.now()
  await api(h.base, 'POST', '/api/admin/realtime', { ws: true })
  // t0: when the server accepted connections again
  const after_ = await tookOver(t, h, rest, before, { kind: 'supabase', t0, docId: a.id, version: during.version, createdId: created.id })
  // Each remaining tab refetched each of its views exactly once (the recovery), nothing more.
  for (let i = 0; i < rest.length; i++) {
    const want = Object.fromEntries(Object.keys(after_[i].counts).map((k) => [k, 1]))
    assert.deepEqual(after_[i].grew, want, `tab ${i}: refetches per view`)
    // The leader's client opened the socket (with retries while the server refused); a follower none.
    if (after_[i].role === 'follower') assert.equal(after_[i].sockets - before[i].sockets, 0, `tab ${i}: a follower opens no socket`)
  }
  // And the new connection carries changes: one reaches each tab of doc a once.
  const withA = rest.filter((p, i) => after_[i].counts[`doc:${a.id}`] !== undefined)
  assert.ok(withA.length >= 1)
  const grown = await oneUpdate(h, withA, a.id)
  for (const g of grown) assert.equal(g.refetches, 1)
}

test('closing the leader hands over: one new connection, a change made during the handover reaches every tab', async (t) => {
  await handover(t, (leader) => leader.close())
})

test('a crashed leader (renderer killed, no unload) hands over likewise', async (t) => {
  await handover(t, crashPage)
})

test('without the option, 3 tabs hold 3 supabase connections', async (t) => {
  const h = await setup(t)
  const [a] = h.rows
  const pages = []
  for (let i = 0; i < 3; i++) pages.push(await h.tab({}, [doc(a.id)]))
  await allConnected(pages)
  await holdsConnections(h, 3)
  assert.deepEqual(await roles(pages), ['off', 'off', 'off'])
})
