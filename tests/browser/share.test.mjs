// shareConnection (one connection per browser) in headless Chromium: several pages of ONE browser
// context (one origin, as a user's tabs) with a real QueryClient each (tests/browser/share.html),
// against the demo server, which counts the connections it holds (`GET /api/stats`).
// Counts are asserted exactly; the one wall-time bound (a handover within 3 s) is generous and
// measured, since a handover's time is inherently wall time (lock release, a socket, a resubscribe).
// Needs: bash scripts/build.sh --no-setup (pkg/) and the demo server binary.
// Run:   node --test tests/browser/share.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { browserAndStatics, sleep, waitFor } from './harness.mjs'
import { api } from './demoServer.mjs'
import { shareSetup, doc, list, state, roles, allConnected, leaderOf, holdsConnections as holds, tookOver, crashPage } from './shareTabs.mjs'

const env = browserAndStatics()

async function setup(t) {
  const h = await shareSetup(t, env.browser)
  const ws = h.base.replace('http', 'ws') + '/ws'
  /** A new tab: opens the page, creates the engine with `options`, opens `views`, connects. */
  h.tab = (options = { shareConnection: true }, views = [], { connect = true, sse = false, token } = {}) =>
    h.open(`${env.statics.url}/tests/browser/share.html`, { wsUrl: connect && !sse ? ws : null, sseUrl: connect && sse ? `${h.base}/sse` : null, token, options: { scope: { factoryId: 'f1' }, ...options }, views })
  return h
}

/** Waits until the server holds `n` WebSocket connections, then for 300 ms more to see it stay. */
const holdsConnections = (h, n) => holds(h, n, 'ws')

/** Every subscribe minus every unsubscribe a tab sent. */
function subscribedBy(sent) {
  const set = new Set()
  for (const f of sent) {
    if (f.type === 'subscribe') for (const c of f.channels) set.add(c)
    if (f.type === 'unsubscribe') for (const c of f.channels) set.delete(c)
  }
  return [...set].sort()
}

test('3 tabs hold 1 connection, subscribed to the union of their channels', async (t) => {
  const h = await setup(t)
  const [a, b, c] = h.rows
  const pages = [await h.tab(undefined, [doc(a.id)]), await h.tab(undefined, [doc(b.id)]), await h.tab(undefined, [list('f1')])]
  await allConnected(pages)
  await holdsConnections(h, 1)
  const leader = await leaderOf(pages)
  const sockets = await Promise.all(pages.map(async (p) => (await state(p)).sockets))
  assert.equal(sockets.reduce((x, y) => x + y, 0), 1, `one socket opened in all tabs: ${sockets}`)
  await waitFor(async () => subscribedBy((await state(leader)).sent).length === 4, { message: 'the union subscribed' })
  assert.deepEqual(subscribedBy((await state(leader)).sent), [`doc:work_orders:${a.id}`, `doc:work_orders:${b.id}`, 'factory:f1', 'list:work_orders:f1'].sort())
  void c
})

test('an update reaches each tab\'s cache once', async (t) => {
  const h = await setup(t)
  const [a] = h.rows
  const pages = []
  for (let i = 0; i < 3; i++) pages.push(await h.tab(undefined, [doc(a.id)]))
  await allConnected(pages)
  await holdsConnections(h, 1)
  await sleep(300)
  const before = await Promise.all(pages.map(state))
  const row = (await h.update(a.id, { title: 'shared update' })).body
  for (const p of pages) {
    await waitFor(async () => (await p.evaluate((n) => qws.data(n), `doc:${a.id}`))?.version === row.version, { message: 'the new version in every tab' })
  }
  await sleep(500) // anything extra would show by now
  const after_ = await Promise.all(pages.map(state))
  for (let i = 0; i < 3; i++) {
    assert.equal(after_[i].counts[`doc:${a.id}`] - before[i].counts[`doc:${a.id}`], 1, `tab ${i}: one refetch`)
    assert.equal(after_[i].stats.invalidations - before[i].stats.invalidations, 1, `tab ${i}: one invalidation`)
    // The change is published on doc:, list: and factory:; this tab subscribes doc: and factory:.
    assert.equal(after_[i].stats.received - before[i].stats.received, 2, `tab ${i}: its two copies`)
    assert.equal(after_[i].stats.dropped.duplicate - before[i].stats.dropped.duplicate, 1, `tab ${i}: one copy deduped`)
  }
})

/** Closes or crashes the leader, writes during the handover, and checks the survivors. */
async function handover(t, kill, { gap = false } = {}) {
  const h = await setup(t)
  const [a, b] = h.rows
  const pages = [await h.tab(undefined, [doc(a.id), list('f1')]), await h.tab(undefined, [doc(a.id)]), await h.tab(undefined, [doc(b.id), list('f1')])]
  await allConnected(pages)
  await holdsConnections(h, 1)
  // Some traffic first, so every tab has seen a seq on its channels.
  const v1 = (await h.update(a.id, { title: 'before' })).body
  for (const p of pages.slice(0, 2)) await waitFor(async () => (await p.evaluate((n) => qws.data(n), `doc:${a.id}`))?.version === v1.version, { message: 'first update' })
  const v2 = (await h.update(b.id, { title: 'before b' })).body
  await waitFor(async () => (await pages[2].evaluate((n) => qws.data(n), `doc:${b.id}`))?.version === v2.version, { message: 'b updated' })
  await sleep(300)
  const leader = await leaderOf(pages)
  const rest = pages.filter((p) => p !== leader)
  const before = await Promise.all(rest.map(state))
  // `gap`: the server refuses WebSocket connections (closing the open one) from before the leader
  // goes until after both writes, so they certainly happen while no tab holds a connection.
  if (gap) await api(h.base, 'POST', '/api/admin/realtime', { ws: false })
  let t0 = Date.now()
  await kill(leader)
  // Written while there is no leader: must reach every remaining tab.
  const during = (await h.update(a.id, { title: 'during the handover' })).body
  const created = (await h.create({ factory_id: 'f1', title: 'created during the handover' })).body
  if (gap) {
    await sleep(300)
    t0 = Date.now()
    await api(h.base, 'POST', '/api/admin/realtime', { ws: true })
  }
  await waitFor(async () => (await roles(rest)).includes('leader'), { timeoutMs: 10_000, message: 'a new leader' })
  const after_ = await tookOver(t, h, rest, before, { kind: 'ws', t0, docId: a.id, version: during.version, createdId: created.id })
  // Every channel had seen a seq, so the new leader resubscribed with `since` and the server
  // replayed the two changes: each view refetches because of its change (doc a updated, a row
  // created in f1's list), and for nothing else: doc b changed before, not during, the handover.
  for (let i = 0; i < rest.length; i++) {
    const want = Object.fromEntries(Object.keys(after_[i].counts).map((k) => [k, k === `doc:${b.id}` ? 0 : 1]))
    assert.deepEqual(after_[i].grew, want, `tab ${i}: refetches per view`)
  }
  return { h, rest }
}

test('closing the leader tab hands over within 3 s, no update lost (one sent during the handover)', async (t) => {
  await handover(t, (leader) => leader.close())
})

test('a crashed leader (renderer killed, no unload) hands over likewise', async (t) => {
  await handover(t, crashPage)
})

test('changes made while no tab holds the connection are replayed to every tab', async (t) => {
  await handover(t, (leader) => leader.close(), { gap: true })
})

test('a frozen leader (Page Lifecycle freeze) hands over likewise', async (t) => {
  await handover(t, async (leader) => {
    // The browser fires `freeze` before it freezes a page. Headless Chromium's CDP
    // Page.setWebLifecycleState freezes without firing it, so the test fires it, then freezes.
    await leader.evaluate(() => document.dispatchEvent(new Event('freeze')))
    const cdp = await leader.context().newCDPSession(leader)
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' })
  })
})

test('tabs with different scopes see only their own tenant', async (t) => {
  const h = await setup(t)
  const f2 = (await h.create({ factory_id: 'f2', title: 'f2 order' })).body
  const p1 = await h.tab({ shareConnection: true, scope: { factoryId: 'f1' } }, [list('f1')])
  const p2 = await h.tab({ shareConnection: true, scope: { factoryId: 'f2' } }, [list('f2'), doc(f2.id)])
  await allConnected([p1, p2])
  await holdsConnections(h, 1)
  await sleep(300)
  const [s1, s2] = await Promise.all([state(p1), state(p2)])
  const row = (await h.update(f2.id, { title: 'f2 changed' })).body
  await waitFor(async () => (await p2.evaluate((n) => qws.data(n), `doc:${f2.id}`))?.version === row.version, { message: 'f2 tab sees its change' })
  await sleep(500)
  const [e1, e2] = await Promise.all([state(p1), state(p2)])
  assert.equal(e1.stats.received, s1.stats.received, 'the f1 tab applies nothing of f2')
  assert.equal(e1.counts['list:f1'], s1.counts['list:f1'], 'the f1 tab fetches nothing')
  assert.equal(e1.stats.dropped.outOfScope, 0, 'f2 frames never reach the f1 engine')
  assert.ok(e2.stats.received > s2.stats.received)
  // setScope stays per tab: the f1 tab moves to f2 and now gets f2 changes.
  await p1.evaluate(() => qws.setScope({ factoryId: 'f2' }))
  await sleep(300)
  const leader = await leaderOf([p1, p2])
  await waitFor(async () => subscribedBy((await state(leader)).sent).includes('list:work_orders:f2'), { message: 'f2 list subscribed' })
  assert.ok(!subscribedBy((await state(leader)).sent).includes('list:work_orders:f1'), 'no tab needs the f1 list any more')
})

test('a hidden leader hands over to a visible tab', async (t) => {
  const h = await setup(t)
  const [a] = h.rows
  const opts = { shareConnection: { hiddenHandoverMs: 300 } }
  const pages = [await h.tab(opts, [doc(a.id)]), await h.tab(opts, [doc(a.id)])]
  await allConnected(pages)
  const leader = await leaderOf(pages)
  const other = pages.find((p) => p !== leader)
  await leader.evaluate(() => qws.setVisibility('hidden'))
  await waitFor(async () => (await state(other)).role === 'leader', { timeoutMs: 5000, message: 'the visible tab leads' })
  assert.equal((await state(leader)).role, 'follower')
  await allConnected(pages)
  await holdsConnections(h, 1)
  const row = (await h.update(a.id, { title: 'after the visible handover' })).body
  for (const p of pages) await waitFor(async () => (await p.evaluate((n) => qws.data(n), `doc:${a.id}`))?.version === row.version, { message: 'both tabs updated' })
})

test('a tab that closes releases the channels only it needed', async (t) => {
  const h = await setup(t)
  const [a, b] = h.rows
  const p1 = await h.tab(undefined, [doc(a.id)])
  const p2 = await h.tab(undefined, [doc(b.id)])
  await allConnected([p1, p2])
  const leader = await leaderOf([p1, p2])
  const other = leader === p1 ? p2 : p1
  const otherDoc = `doc:work_orders:${other === p1 ? a.id : b.id}`
  await waitFor(async () => subscribedBy((await state(leader)).sent).includes(otherDoc), { message: 'the other tab\'s doc subscribed' })
  await other.close()
  await waitFor(async () => !subscribedBy((await state(leader)).sent).includes(otherDoc), { message: 'its doc unsubscribed' })
  assert.ok(subscribedBy((await state(leader)).sent).includes('factory:f1'), 'the leader still needs factory:f1')
})

test('over SSE too: 2 tabs hold 1 EventSource, and a handover loses nothing', async (t) => {
  const h = await setup(t)
  const [a] = h.rows
  const pages = [await h.tab(undefined, [doc(a.id)], { sse: true }), await h.tab(undefined, [doc(a.id)], { sse: true })]
  await allConnected(pages)
  const sse = async () => (await h.stats()).connections.sse
  await waitFor(async () => (await sse()) === 1, { timeoutMs: 10_000, message: 'one EventSource' })
  const row = (await h.update(a.id, { title: 'over sse' })).body
  for (const p of pages) await waitFor(async () => (await p.evaluate((n) => qws.data(n), `doc:${a.id}`))?.version === row.version, { message: 'both tabs updated' })
  const leader = await leaderOf(pages)
  const other = pages.find((p) => p !== leader)
  await leader.close()
  const during = (await h.update(a.id, { title: 'during the sse handover' })).body
  await waitFor(async () => (await state(other)).role === 'leader', { timeoutMs: 10_000, message: 'the other tab leads' })
  await allConnected([other])
  await waitFor(async () => (await sse()) === 1, { timeoutMs: 10_000, message: 'one EventSource again' })
  // SSE cannot resend a position: the takeover refetches the doc, which brings the change.
  await waitFor(async () => (await other.evaluate((n) => qws.data(n), `doc:${a.id}`))?.version === during.version, { message: 'the change made during the handover' })
})

test('the token comes from the leader tab\'s token function', async (t) => {
  const h = await setup(t)
  const [a] = h.rows
  const first = await h.tab(undefined, [doc(a.id)], { token: 'token-first' })
  await allConnected([first])
  const second = await h.tab(undefined, [doc(a.id)], { token: 'token-second' })
  await allConnected([first, second])
  const auths = async (p) => (await state(p)).sent.filter((f) => f.type === 'auth').map((f) => f.token)
  assert.deepEqual(await auths(first), ['token-first'], 'the leader authenticates with its own token')
  assert.deepEqual(await auths(second), [], 'a follower opens nothing')
  await first.close()
  await waitFor(async () => (await state(second)).role === 'leader', { timeoutMs: 10_000, message: 'the second tab leads' })
  await waitFor(async () => (await auths(second)).length === 1, { message: 'the new leader authenticated' })
  assert.deepEqual(await auths(second), ['token-second'], 'with its own token function')
})

test('without the option each tab holds its own connection', async (t) => {
  const h = await setup(t)
  const [a] = h.rows
  const pages = []
  for (let i = 0; i < 3; i++) pages.push(await h.tab({}, [doc(a.id)]))
  await allConnected(pages)
  await holdsConnections(h, 3)
  assert.deepEqual(await roles(pages), ['off', 'off', 'off'])
})
