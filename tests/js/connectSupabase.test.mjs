// rt.connectSupabase against the REAL @supabase/supabase-js v2 client (createClient), talking to the
// demo server's Supabase-Realtime-compatible Phoenix endpoint (examples/server), with a real
// QueryClient. Observation is done by wrapping methods of the real client object (channel,
// removeChannel, realtime.setAuth) so the calls are counted while the real code still runs.
// Needs the demo server binary: cargo build --release --manifest-path examples/server/Cargo.toml
import { test } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { createRealtime } from '../../js/index.js'
import { makeClient, observe, settle, sleep, waitFor } from './helpers.mjs'
import { api } from '../browser/demoServer.mjs'
import { demoServerForFile, supabaseClient, firstRow } from './demo.mjs'

const cleanups = []
const server = demoServerForFile({ afterAll: async () => { for (const c of cleanups.splice(0).reverse()) await c() } })

/** A real supabase-js client whose WebSocket is `ws` (Node 20 has none), with spies on the calls we make. */
function makeSupabase({ transport = WebSocket } = {}) {
  const supabase = supabaseClient(server.base, { transport })
  const calls = { channel: [], removeChannel: [], setAuth: [] }
  const channel = supabase.channel.bind(supabase)
  supabase.channel = (name, ...rest) => {
    calls.channel.push(name)
    return channel(name, ...rest)
  }
  const removeChannel = supabase.removeChannel.bind(supabase)
  supabase.removeChannel = (ch) => {
    calls.removeChannel.push(ch)
    return removeChannel(ch)
  }
  const setAuth = supabase.realtime.setAuth.bind(supabase.realtime)
  supabase.realtime.setAuth = (token) => {
    calls.setAuth.push(token)
    return setAuth(token)
  }
  cleanups.push(async () => {
    await supabase.removeAllChannels().catch(() => {})
    await supabase.realtime.disconnect().catch(() => {})
  })
  return { supabase, calls }
}

const topics = (supabase) => supabase.getChannels().map((c) => c.topic).sort()

async function makeEngine(extra = {}) {
  const client = makeClient()
  const errors = []
  const rt = await createRealtime({
    queryClient: client,
    debounceMs: 20,
    maxWaitMs: 200,
    scope: { factoryId: 'f1' },
    onError: (e) => errors.push(e),
    ...extra,
  })
  const statuses = []
  rt.onStatus((s) => statuses.push(s))
  cleanups.push(() => rt.dispose())
  return { client, rt, errors, statuses }
}


function observeDoc(client, id) {
  return observe(client, ['doc', 'work_orders', String(id)], async () => (await api(server.base, 'GET', `/api/work_orders/${id}`)).body)
}
function observeList(client, factory = 'f1') {
  return observe(client, ['list', 'work_orders', factory, { page: 1 }], async () =>
    (await api(server.base, 'GET', `/api/work_orders?factory_id=${factory}&page=1&pageSize=10`)).body)
}

const allSubscribed = (supabase) => supabase.getChannels().length > 0 && supabase.getChannels().every((c) => c.state === 'joined')

test('views open supabase-js channels (ref counted), a PATCH and an INSERT reach the cache, the last unsubscribe removes the channel', async () => {
  const { client, rt, statuses } = await makeEngine()
  const { supabase, calls } = makeSupabase()
  const stop = rt.connectSupabase(supabase, { tables: ['work_orders'] })
  const row = await firstRow(server.base)

  const doc = observeDoc(client, row.id)
  const list = observeList(client)
  await settle(client)
  assert.equal(doc.calls, 1)
  assert.equal(list.calls, 1)

  const offA = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
  const offB = rt.subscribe({ kind: 'doc', type: 'work_orders', id: String(row.id) }) // same view twice
  const offList = rt.subscribe({ kind: 'list', type: 'work_orders' })
  await waitFor(() => allSubscribed(supabase) && topics(supabase).length === 3, { timeoutMs: 5000, message: 'channels joined' })
  assert.deepEqual(topics(supabase), [`realtime:doc:work_orders:${row.id}`, 'realtime:factory:f1', 'realtime:list:work_orders:f1'])
  assert.deepEqual([...calls.channel].sort(), [`doc:work_orders:${row.id}`, 'factory:f1', 'list:work_orders:f1'], 'one supabase.channel() per channel name')
  await waitFor(() => rt.status() === 'connected', { message: `status connected, got ${rt.status()}` })
  assert.equal(statuses[0], 'connecting')

  // Default filters: the doc channel on its id, list and factory channels on factory_id.
  const bindingFilters = Object.fromEntries(supabase.getChannels().map((c) => [c.subTopic, c.bindings.postgres_changes.map((b) => b.filter)]))
  assert.deepEqual(bindingFilters[`doc:work_orders:${row.id}`], [{ event: '*', schema: 'public', table: 'work_orders', filter: `id=eq.${row.id}` }])
  assert.deepEqual(bindingFilters['list:work_orders:f1'], [{ event: '*', schema: 'public', table: 'work_orders', filter: 'factory_id=eq.f1' }])
  assert.deepEqual(bindingFilters['factory:f1'], [{ event: '*', schema: 'public', table: 'work_orders', filter: 'factory_id=eq.f1' }])

  // An UPDATE over HTTP: the doc is patched in place (patch: true), no refetch, and the list is left alone.
  const title = `patched ${Date.now()}`
  const patched = await api(server.base, 'PATCH', `/api/work_orders/${row.id}`, { title })
  assert.equal(patched.status, 200)
  await waitFor(() => doc.data?.title === title, { timeoutMs: 3000, message: 'patched title in the cache' })
  await settle(client)
  assert.equal(doc.calls, 1, 'patched, not refetched')
  assert.equal(doc.data.version, patched.body.version)
  assert.equal(list.calls, 1)

  // An INSERT: the list head refetches exactly once, although three channels carried the change.
  const created = await api(server.base, 'POST', '/api/work_orders', { factory_id: 'f1', title: 'new one' })
  assert.equal(created.status, 201)
  await waitFor(() => list.calls === 2, { timeoutMs: 3000, message: 'list refetched' })
  await sleep(300)
  await settle(client)
  assert.equal(list.calls, 2, 'one refetch for one insert')
  assert.equal(list.data.items[0].id, created.body.id)

  // A change in another factory never reaches this client's channels.
  const before = rt.stats().received
  await api(server.base, 'PATCH', `/api/work_orders/${(await firstRow(server.base, 'f2')).id}`, { title: 'elsewhere' })
  await sleep(300)
  assert.equal(rt.stats().received, before)

  // Ref counting: one of two doc subscriptions goes, the channel stays; the last one removes it.
  offA()
  offA() // idempotent
  await sleep(50)
  assert.equal(calls.removeChannel.length, 0)
  offB()
  await waitFor(() => calls.removeChannel.length === 1, { message: 'removeChannel called' })
  assert.equal(calls.removeChannel[0].topic, `realtime:doc:work_orders:${row.id}`)
  await waitFor(() => !topics(supabase).includes(`realtime:doc:work_orders:${row.id}`), { timeoutMs: 3000 })
  assert.deepEqual(topics(supabase), ['realtime:factory:f1', 'realtime:list:work_orders:f1'])

  offList()
  await waitFor(() => topics(supabase).length === 0, { timeoutMs: 3000, message: 'all channels removed' })
  assert.equal(calls.removeChannel.length, 3)

  stop()
  stop() // idempotent
  assert.equal(rt.status(), 'disconnected')
  doc.unsubscribe()
  list.unsubscribe()
})

test('payloads reach ingest in exactly the shape realtime-js delivers', async () => {
  const { rt } = await makeEngine()
  const { supabase } = makeSupabase()
  const seen = []
  const ingest = rt.ingest
  rt.ingest = (source, payload) => {
    seen.push({ source, payload })
    return ingest.call(rt, source, payload)
  }
  const row = await firstRow(server.base)
  const off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
  const stop = rt.connectSupabase(supabase, { tables: ['work_orders'] })
  await waitFor(() => allSubscribed(supabase) && topics(supabase).length === 2, { timeoutMs: 5000 })

  await api(server.base, 'PATCH', `/api/work_orders/${row.id}`, { qty: 7 })
  await waitFor(() => seen.length >= 2, { timeoutMs: 3000, message: 'payloads from the doc and factory channels' })
  for (const { source, payload: p } of seen) {
    assert.equal(source, 'supabase')
    assert.deepEqual(Object.keys(p).sort(), ['commit_timestamp', 'errors', 'eventType', 'new', 'old', 'schema', 'table'])
    assert.equal(p.eventType, 'UPDATE')
    assert.equal(p.schema, 'public')
    assert.equal(p.table, 'work_orders')
    assert.equal(p.new.id, row.id)
    assert.equal(p.new.qty, 7)
    assert.equal(p.old.id, row.id)
    assert.equal(typeof p.commit_timestamp, 'string')
  }
  // Duplicates of one change over two channels are one received event each, deduped in the window.
  await sleep(100)
  assert.equal(rt.stats().received, seen.length)

  // Broadcast: a message on the channel's topic in realtime-js's own delivery path.
  const ch = supabase.getChannels().find((c) => c.subTopic === `doc:work_orders:${row.id}`)
  const phx = ch.channelAdapter.channel // the phoenix Channel under the RealtimeChannel
  const payload = { type: 'work_orders', id: row.id, action: 'update', data: { status: 'x' }, version: 99 }
  phx.trigger('broadcast', { type: 'broadcast', event: 'change', payload })
  const b = seen.at(-1)
  assert.deepEqual(b, { source: 'supabase', payload: { type: 'broadcast', event: 'change', payload } })
  stop()
  off()
})

test('filter option: a string, or a function of the channel name; no tables = one whole-schema binding', async () => {
  const { rt } = await makeEngine()
  const row = await firstRow(server.base)
  {
    const { supabase } = makeSupabase()
    const off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
    const stop = rt.connectSupabase(supabase, { schema: 'public', tables: ['work_orders'], filter: 'factory_id=eq.f1' })
    await waitFor(() => topics(supabase).length === 2)
    for (const c of supabase.getChannels()) {
      assert.deepEqual(c.bindings.postgres_changes.map((b) => b.filter), [{ event: '*', schema: 'public', table: 'work_orders', filter: 'factory_id=eq.f1' }])
    }
    stop()
    off()
    await waitFor(() => topics(supabase).length === 0, { timeoutMs: 3000 })
  }
  {
    const { supabase } = makeSupabase()
    const asked = []
    const off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
    const stop = rt.connectSupabase(supabase, {
      tables: ['work_orders'],
      filter: (name) => {
        asked.push(name)
        const m = /^doc:work_orders:(.+)$/.exec(name)
        return m ? `id=eq.${m[1]}` : undefined
      },
    })
    await waitFor(() => allSubscribed(supabase) && topics(supabase).length === 2, { timeoutMs: 5000 })
    assert.deepEqual(asked.sort(), [`doc:work_orders:${row.id}`, 'factory:f1'])
    const f = Object.fromEntries(supabase.getChannels().map((c) => [c.subTopic, c.bindings.postgres_changes[0].filter.filter]))
    assert.deepEqual(f, { [`doc:work_orders:${row.id}`]: `id=eq.${row.id}`, 'factory:f1': undefined })
    stop()
    off()
  }
  {
    const { supabase } = makeSupabase()
    const off = rt.subscribe({ kind: 'list', type: 'work_orders' })
    const stop = rt.connectSupabase(supabase) // no tables: the whole schema
    await waitFor(() => allSubscribed(supabase) && topics(supabase).length === 2, { timeoutMs: 5000 })
    for (const c of supabase.getChannels()) {
      assert.deepEqual(c.bindings.postgres_changes.map((b) => b.filter), [{ event: '*', schema: 'public' }])
    }
    stop()
    off()
  }
})

test('StrictMode churn (unsubscribe + subscribe in one tick) never reaches supabase-js; reopening while the old channel leaves gets a new channel', async () => {
  const { client, rt } = await makeEngine()
  const { supabase, calls } = makeSupabase()
  const stop = rt.connectSupabase(supabase, { tables: ['work_orders'] })
  const row = await firstRow(server.base)
  let off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
  off()
  off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
  await waitFor(() => allSubscribed(supabase) && topics(supabase).length === 2, { timeoutMs: 5000 })
  await sleep(100)
  assert.equal(calls.channel.length, 2)
  assert.equal(calls.removeChannel.length, 0)

  // Close for real, then reopen at once: the old channel is still leaving (in getChannels, state
  // 'leaving'), and supabase.channel(name) would hand it back. The connector waits for it to go.
  off()
  await waitFor(() => calls.removeChannel.length === 2)
  const old = calls.removeChannel.find((c) => c.subTopic === `doc:work_orders:${row.id}`)
  off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
  await waitFor(() => allSubscribed(supabase) && topics(supabase).length === 2, { timeoutMs: 5000, message: 'reopened' })
  const now = supabase.getChannels().find((c) => c.subTopic === `doc:work_orders:${row.id}`)
  assert.notEqual(now, old, 'a fresh channel, not the one that left')
  assert.equal(now.state, 'joined')

  const doc = observeDoc(client, row.id)
  await settle(client)
  const title = `after reopen ${Date.now()}`
  await api(server.base, 'PATCH', `/api/work_orders/${row.id}`, { title })
  await waitFor(() => doc.data?.title === title, { timeoutMs: 3000, message: 'events flow on the reopened channel' })
  stop()
  off()
  doc.unsubscribe()
})

test('a socket drop: status reconnecting, supabase-js rejoins, each active view refetches exactly once', async () => {
  const { client, rt, statuses } = await makeEngine()
  const { supabase } = makeSupabase()
  const row = await firstRow(server.base)
  const doc = observeDoc(client, row.id)
  const list = observeList(client)
  await settle(client)
  const offs = [rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id }), rt.subscribe({ kind: 'list', type: 'work_orders' })]
  const stop = rt.connectSupabase(supabase, { tables: ['work_orders'] })
  await waitFor(() => rt.status() === 'connected', { timeoutMs: 5000 })
  assert.equal(doc.calls, 1)
  assert.equal(list.calls, 1)

  // The server closes every realtime socket (1013) and refuses new ones for a while.
  await api(server.base, 'POST', '/api/admin/realtime', { ws: false })
  await waitFor(() => rt.status() === 'reconnecting', { timeoutMs: 3000, message: `reconnecting, got ${rt.status()}` })
  await sleep(300)
  assert.equal(doc.calls, 1, 'nothing refetched while down')
  await api(server.base, 'POST', '/api/admin/realtime', { ws: true })
  await waitFor(() => rt.status() === 'connected', { timeoutMs: 15000, message: 'back' })
  await waitFor(() => doc.calls === 2 && list.calls === 2, { timeoutMs: 3000, message: `one refetch each: doc ${doc.calls}, list ${list.calls}` })
  await sleep(800)
  await settle(client)
  assert.equal(doc.calls, 2, 'doc refetched exactly once')
  assert.equal(list.calls, 2, 'list refetched exactly once')
  assert.deepEqual(statuses.filter((s, i) => s !== statuses[i - 1]), ['connecting', 'connected', 'reconnecting', 'connected'])
  assert.equal(supabase.getChannels().length, 3, 'no duplicated channels')
  stop()
  offs.forEach((o) => o())
  doc.unsubscribe()
  list.unsubscribe()
})

test('auth: TOKEN_REFRESHED calls realtime.setAuth once per token without duplicating channels; SIGNED_OUT removes them', async () => {
  const { rt, statuses } = await makeEngine()
  const { supabase, calls } = makeSupabase()
  // Stubbed on the REAL client object: the demo server has no GoTrue, so auth events are simulated
  // by capturing the listener connectSupabase registers.
  let authListener
  supabase.auth.onAuthStateChange = (cb) => {
    authListener = cb
    return { data: { subscription: { unsubscribe() { authListener = undefined } } } }
  }
  const row = await firstRow(server.base)
  const off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
  const stop = rt.connectSupabase(supabase, { tables: ['work_orders'] })
  await rt._connectorsLoaded // the connector's module loads on the first connect (js/createRealtime.js)
  assert.equal(typeof authListener, 'function')
  await waitFor(() => rt.status() === 'connected', { timeoutMs: 5000 })
  const channelsBefore = supabase.getChannels().slice()
  const setAuthBefore = calls.setAuth.length

  authListener('TOKEN_REFRESHED', { access_token: 'token-1' })
  authListener('TOKEN_REFRESHED', { access_token: 'token-1' })
  authListener('SIGNED_IN', { access_token: 'token-1' })
  await waitFor(() => calls.setAuth.includes('token-1'))
  await sleep(100)
  assert.deepEqual(calls.setAuth.slice(setAuthBefore).filter((t) => t === 'token-1'), ['token-1'], 'setAuth once for one token')
  assert.deepEqual(supabase.getChannels(), channelsBefore, 'the same channel objects, none added')
  for (const c of supabase.getChannels()) assert.equal(c.joinPush.payload().access_token, 'token-1', 'a rejoin would carry the new token')

  authListener('TOKEN_REFRESHED', { access_token: 'token-2' })
  await waitFor(() => calls.setAuth.includes('token-2'))
  assert.equal(supabase.getChannels().length, 2)

  authListener('SIGNED_OUT', null)
  await waitFor(() => supabase.getChannels().length === 0, { timeoutMs: 3000, message: 'channels removed on sign out' })
  assert.equal(rt.status(), 'disconnected')

  authListener('SIGNED_IN', { access_token: 'token-3' })
  await waitFor(() => rt.status() === 'connected' && allSubscribed(supabase) && supabase.getChannels().length === 2, { timeoutMs: 5000, message: 'back after sign in' })
  assert.ok(statuses.includes('disconnected'))
  stop()
  assert.equal(authListener, undefined, 'the auth listener is removed on disconnect')
  off()
})

test('tab wake / online: the session is refreshed and set on the socket before any channel rejoins', async () => {
  const { rt } = await makeEngine()
  // Record the Phoenix frames the client sends, through the transport option.
  const sent = []
  class SpyWebSocket extends WebSocket {
    send(data, ...rest) {
      sent.push(String(data))
      return super.send(data, ...rest)
    }
  }
  const { supabase, calls } = makeSupabase({ transport: SpyWebSocket })
  // Stubbed on the REAL client object: no GoTrue here. The token expires while the tab sleeps;
  // getSession (which supabase-js itself also calls, through its accessToken callback) resolves
  // slowly, as a refresh does, with the refreshed token once the tab woke.
  supabase.auth.onAuthStateChange = () => ({ data: { subscription: { unsubscribe() {} } } })
  let woke = false
  let sessionsAfterWake = 0
  supabase.auth.getSession = async () => {
    const fresh = woke
    if (fresh) sessionsAfterWake++
    await sleep(150)
    return { data: { session: { access_token: fresh ? 'fresh-token' : 'stale-token' } }, error: null }
  }
  // Node has no document/window: give the connector minimal ones (EventTargets) for this test.
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' })
  const win = new EventTarget()
  globalThis.document = doc
  globalThis.window = win
  let stop
  try {
    const row = await firstRow(server.base)
    const off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
    stop = rt.connectSupabase(supabase, { tables: ['work_orders'] })
    await rt._connectorsLoaded // the connector's module loads on the first connect (js/createRealtime.js)
    cleanups.push(() => { off(); stop() })
  } finally {
    delete globalThis.document
    delete globalThis.window
  }
  await waitFor(() => rt.status() === 'connected', { timeoutMs: 5000 })

  // The tab sleeps, and the socket dies meanwhile.
  doc.visibilityState = 'hidden'
  win.dispatchEvent(new Event('visibilitychange'))
  await api(server.base, 'POST', '/api/admin/realtime', { ws: false })
  await waitFor(() => rt.status() === 'reconnecting', { timeoutMs: 3000 })
  // Wake: the server is reachable again at the same moment.
  const mark = sent.length
  woke = true
  doc.visibilityState = 'visible'
  win.dispatchEvent(new Event('visibilitychange'))
  await api(server.base, 'POST', '/api/admin/realtime', { ws: true })
  await waitFor(() => rt.status() === 'connected', { timeoutMs: 10000, message: 'rejoined' })
  assert.ok(sessionsAfterWake >= 1, 'the session was read after the wake')
  assert.ok(calls.setAuth.includes('fresh-token'))
  const joins = sent.slice(mark).map((t) => JSON.parse(t)).filter((f) => f[3] === 'phx_join')
  assert.ok(joins.length >= 2, `joins after wake: ${joins.length}`)
  for (const j of joins) assert.equal(j[4].access_token, 'fresh-token', `${j[2]} rejoined with the refreshed token`)

  win.dispatchEvent(new Event('online'))
  await sleep(400)
  assert.equal(supabase.getChannels().length, 2, 'no duplicated channels')
})

test('rt.dispose() disconnects the connector (channels removed, listeners gone)', async () => {
  const { rt } = await makeEngine()
  const { supabase, calls } = makeSupabase()
  const row = await firstRow(server.base)
  rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })
  rt.connectSupabase(supabase, { tables: ['work_orders'] })
  await waitFor(() => allSubscribed(supabase) && supabase.getChannels().length === 2, { timeoutMs: 5000 })
  rt.dispose()
  await waitFor(() => supabase.getChannels().length === 0, { timeoutMs: 3000 })
  assert.equal(calls.removeChannel.length, 2)
  assert.equal(rt.status(), 'disconnected')
})
