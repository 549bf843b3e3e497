// The demo server's Centrifugo-compatible endpoint (/connection/websocket), driven by the REAL
// `centrifuge` npm client 5.x through querywire's connectCentrifuge, with a real
// @tanstack/query-core QueryClient whose queryFns fetch from the server (the server counts them).
// Run from the repo root: node --test examples/server/test/
// The server binary: QW_E2E_SERVER_BIN, else the release or debug build (built with cargo when
// neither exists). Each test gets its own SQLite file (kill/restart keeps it), or a fresh PostgreSQL
// database when DATABASE_URL is set.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Centrifuge } from 'centrifuge'
import WebSocket from 'ws'
import { createRealtime } from '../../../js/index.js'
import { makeClient, observe, settle, sleep, waitFor } from '../../../tests/js/helpers.mjs'
import { DemoServer, ROOT, freePort, serverBinary } from '../../../tests/e2e/harness.mjs'

if (!serverBinary()) {
  const r = spawnSync('cargo', ['build', '--quiet', '--manifest-path', path.join(ROOT, 'examples/server/Cargo.toml')], { stdio: 'inherit' })
  assert.equal(r.status, 0, 'cargo build of the demo server')
}

const cleanups = []
after(async () => { for (const c of cleanups.reverse()) await c() })

function freshPg(baseUrl) {
  const name = `qw_cf_${process.pid}_${Date.now().toString(36)}_${cleanups.length}`
  const psql = (url, sql) => spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8' }).status === 0
  if (!psql(baseUrl, `CREATE DATABASE ${name}`)) return { url: baseUrl, drop() {} }
  const u = new URL(baseUrl)
  u.pathname = `/${name}`
  return { url: u.toString(), drop: () => psql(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

async function startServer(env = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qw-cf-'))
  const pg = process.env.DATABASE_URL ? freshPg(process.env.DATABASE_URL) : null
  const server = new DemoServer({
    port: await freePort(),
    dbPath: path.join(tmp, 'demo.sqlite'),
    databaseUrl: pg?.url,
    env: { CENTRIFUGO_PING_MS: '1000', CENTRIFUGO_PONG_TIMEOUT_MS: '3000', ...env },
  })
  await server.start()
  cleanups.push(async () => { await server.stop(); pg?.drop(); rmSync(tmp, { recursive: true, force: true }) })
  return server
}

const tokenFor = (server, body = {}) => server.api('POST', '/api/centrifugo/token', body).then((r) => r.token)

function centrifugeFor(server, opts = {}) {
  const c = new Centrifuge(`ws://127.0.0.1:${server.port}/connection/websocket`, {
    websocket: WebSocket,
    getToken: () => tokenFor(server),
    minReconnectDelay: 100,
    maxReconnectDelay: 500,
    ...opts,
  })
  cleanups.push(() => c.disconnect())
  return c
}

/** An engine, a QueryClient and centrifuge-js connected through connectCentrifuge. */
async function setup(server, { centrifuge: copts, engine } = {}) {
  const client = makeClient()
  const errors = []
  const rt = await createRealtime({
    queryClient: client, debounceMs: 20, maxWaitMs: 200, scope: { factoryId: 'f1' },
    onError: (e) => errors.push(e), ...engine,
  })
  cleanups.push(() => rt.dispose())
  const statuses = []
  rt.onStatus((s) => statuses.push(s))
  const centrifuge = centrifugeFor(server, copts)
  rt.connectCentrifuge(centrifuge)
  centrifuge.connect()
  return { client, rt, errors, statuses, centrifuge }
}

/** Real queries on the server's REST API: the doc and the list head, each with its view. */
async function views(server, rt, client, id) {
  const doc = observe(client, ['doc', 'work_orders', String(id)], () => server.get(id))
  const list = observe(client, ['list', 'work_orders', 'f1', { page: 1 }], () => server.list('f1', 1))
  rt.subscribe({ kind: 'doc', type: 'work_orders', id })
  rt.subscribe({ kind: 'list', type: 'work_orders' })
  await settle(client, 5000)
  return { doc, list }
}

/** Waits until every subscription of the client is subscribed; returns their names. */
async function allSubscribed(centrifuge, n) {
  return waitFor(() => {
    const subs = Object.values(centrifuge.subscriptions())
    return subs.length === n && subs.every((s) => s.state === 'subscribed') && subs.map((s) => s.channel).sort()
  }, { timeoutMs: 10_000, message: `${n} subscriptions subscribed` })
}

/** Every `subscribed` context of the client's subscriptions from now on. */
function recordSubscribed(centrifuge) {
  const seen = []
  for (const sub of Object.values(centrifuge.subscriptions())) sub.on('subscribed', (ctx) => seen.push(ctx))
  return seen
}

const fetches = async (server) => {
  const r = await server.requests()
  return { list: r['GET /api/work_orders'] ?? 0, doc: r['GET /api/work_orders/:id'] ?? 0 }
}

test('channels follow the views; a write reaches the cache once; DELETE+INSERT refetches once; status follows the client', async () => {
  const server = await startServer()
  const { client, rt, errors, statuses, centrifuge } = await setup(server)
  const { items } = await server.list('f1', 1)
  const id = items[0].id
  const { doc, list } = await views(server, rt, client, id)
  assert.deepEqual(await allSubscribed(centrifuge, 3), [`doc:work_orders:${id}`, 'factory:f1', 'list:work_orders:f1'])
  await waitFor(() => rt.status() === 'connected', { message: 'connected' })
  assert.deepEqual(statuses.slice(0, 2), ['connecting', 'connected'])
  assert.equal(doc.calls, 1)
  assert.equal(list.calls, 1)

  // An update: published on the doc, list and factory channels (a whole row, no changed columns
  // named: querywire refetches the doc rather than patching it); the doc refetches once.
  const before = rt.stats()
  const updated = await server.update(id, { title: 'Updated over Centrifugo' })
  await waitFor(() => doc.data?.title === updated.title, { timeoutMs: 5000, message: 'the update' })
  await sleep(300)
  await settle(client)
  const s = rt.stats()
  assert.equal(s.received - before.received, 3, 'three publications')
  assert.equal(s.invalidations - before.invalidations, 1, 'one key invalidated')
  assert.equal(doc.calls, 2, 'the doc refetched once')
  assert.equal(list.calls, 1, 'an update never refetches a list')
  assert.equal(doc.data.version, updated.version)

  // DELETE + INSERT in one window: the list head refetches once.
  await server.api('POST', '/api/burst', { factory_id: 'f1', count: 1, ms: 0, kind: 'delete_insert' })
  await waitFor(() => list.calls === 2, { timeoutMs: 5000, message: 'the list refetch' })
  await sleep(400)
  await settle(client)
  assert.equal(list.calls, 2, 'DELETE+INSERT refetched the list once')
  assert.deepEqual(list.data.items.map((r) => r.id), (await server.list('f1', 1)).items.map((r) => r.id))

  // Views going away close their subscriptions on the client.
  rt.dispose()
  await sleep(50)
  assert.equal(Object.keys(centrifuge.subscriptions()).length, 0)
  assert.deepEqual(errors, [])
})

test('a replayed publication is not applied twice (offset dedupe, rows and seed 000 invalidations)', async () => {
  const server = await startServer()
  const { client, rt, centrifuge } = await setup(server)
  const { items } = await server.list('f1', 1)
  const id = items[1].id
  const { doc, list } = await views(server, rt, client, id)
  await allSubscribed(centrifuge, 3)
  // The seed 000 channel `org:f1` carries { event: 'invalidate', queryKey: ['list', 'work_orders', 'f1'] }:
  // an app subscribes to it on the same client and hands its publications to querywire.
  const org = centrifuge.newSubscription('org:f1')
  const orgPubs = []
  org.on('publication', (ctx) => { orgPubs.push(ctx); rt.ingest('centrifugo', ctx) })
  org.subscribe()
  const pos = await new Promise((resolve) => org.once('subscribed', (ctx) => resolve(ctx.streamPosition)))

  const docChannel = `doc:work_orders:${id}`
  const docPubs = []
  centrifuge.getSubscription(docChannel).on('publication', (ctx) => docPubs.push(ctx))

  await server.update(id, { qty: 77 })
  await waitFor(() => doc.data?.qty === 77 && list.calls === 2, { timeoutMs: 5000, message: 'the doc refetch + the org invalidation' })
  await sleep(300)
  await settle(client)
  assert.equal(orgPubs.length, 1)
  assert.deepEqual(orgPubs[0].data, { event: 'invalidate', queryKey: ['list', 'work_orders', 'f1'] })
  assert.equal(orgPubs[0].offset, pos.offset + 1)
  assert.equal(docPubs.length, 1)
  assert.equal(doc.calls, 2, 'the doc refetched once')
  assert.equal(list.calls, 2, 'the org: invalidation refetched the list once')

  // A second client replays both streams from before that write (`since`): the server sends the
  // same publications with the same offsets, and querywire drops each as a duplicate.
  const before = rt.stats()
  const other = centrifugeFor(server)
  const replayed = []
  const since = {
    'org:f1': pos,
    [docChannel]: { offset: docPubs[0].offset - 1, epoch: pos.epoch },
  }
  for (const [ch, position] of Object.entries(since)) {
    const sub = other.newSubscription(ch, { since: position })
    sub.on('publication', (ctx) => { replayed.push(ctx); rt.ingest('centrifugo', ctx) })
    sub.subscribe()
  }
  other.connect()
  await waitFor(() => replayed.length === 2, { timeoutMs: 5000, message: 'the replayed publications' })
  assert.deepEqual(replayed.map((p) => p.offset).sort(), [orgPubs[0].offset, docPubs[0].offset].sort())
  await sleep(300)
  await settle(client)
  const after1 = rt.stats()
  assert.equal(after1.dropped.duplicate - before.dropped.duplicate, 2, 'both replays were duplicates')
  assert.equal(after1.invalidations, before.invalidations)
  assert.equal(list.calls, 2, 'no second refetch')
  assert.equal(doc.calls, 2)
})

test('kill and restart within the history window: recovered from history, no recovery refetch', async () => {
  const server = await startServer()
  const { client, rt, errors, statuses, centrifuge } = await setup(server, { centrifuge: { minReconnectDelay: 1500, maxReconnectDelay: 2000 } })
  const { items } = await server.list('f1', 1)
  const id = items[2].id
  const { doc, list } = await views(server, rt, client, id)
  await allSubscribed(centrifuge, 3)
  await server.update(id, { title: 'Seen live' })
  await waitFor(() => doc.data?.title === 'Seen live', { timeoutMs: 5000, message: 'the live update' })
  await settle(client)
  const docCalls = doc.calls
  const seen = recordSubscribed(centrifuge)

  await server.kill()
  await waitFor(() => rt.status() === 'reconnecting', { timeoutMs: 5000, message: 'reconnecting' })
  await server.start() // same port, same database; its request counters start at zero
  const missed = await server.update(id, { title: 'Missed while away', qty: 4242 }) // before the client is back
  await waitFor(() => seen.length === 3, { timeoutMs: 10_000, message: 'three resubscribes' })
  await waitFor(() => doc.data?.title === missed.title, { timeoutMs: 5000, message: 'the recovered update' })
  await sleep(500)
  await settle(client)
  for (const ctx of seen) {
    assert.equal(ctx.wasRecovering, true, ctx.channel)
    assert.equal(ctx.recovered, true, ctx.channel)
  }
  assert.ok(seen.every((ctx) => ctx.hasRecoveredPublications), 'the missed publications came with the subscribe replies')
  // The list is not refetched at all; the doc once, for the missed update itself (an envelope
  // update refetches its doc), not for the reconnect.
  assert.deepEqual(await fetches(server), { list: 0, doc: 1 }, 'no recovery refetch')
  assert.equal(doc.calls, docCalls + 1)
  assert.equal(list.calls, 1)
  assert.equal(doc.data.qty, 4242)
  assert.deepEqual(statuses.filter((s, i) => s !== statuses[i - 1]), ['connecting', 'connected', 'reconnecting', 'connected'])
  assert.deepEqual(errors, [])
})

for (const [name, env, away] of [
  ['with the history cleared (a stream reset, new epoch)', {}, async (server) => {
    await server.api('POST', '/api/admin/centrifugo', { reset: true })
  }],
  ['beyond the history size', { CENTRIFUGO_HISTORY_SIZE: '3' }, async (server, id) => {
    for (let i = 0; i < 5; i++) await server.update(id, { qty: 500 + i })
  }],
]) {
  test(`kill and restart ${name}: not recovered, exactly one refetch per active view`, async () => {
    const server = await startServer(env)
    const { client, rt, errors, centrifuge } = await setup(server, { centrifuge: { minReconnectDelay: 1500, maxReconnectDelay: 2000 } })
    const { items } = await server.list('f1', 1)
    const id = items[3].id
    const { doc, list } = await views(server, rt, client, id)
    await allSubscribed(centrifuge, 3)
    await server.update(id, { title: 'Seen live' })
    await waitFor(() => doc.data?.title === 'Seen live', { timeoutMs: 5000, message: 'the live update' })
    await settle(client)
    const calls = { doc: doc.calls, list: list.calls }
    const epochBefore = (await server.api('GET', '/api/admin/centrifugo')).epoch
    const seen = recordSubscribed(centrifuge)

    await server.kill()
    await server.start()
    await away(server, id)
    const created = await server.create({ factory_id: 'f1', title: 'Created while away' })
    await waitFor(() => seen.length === 3, { timeoutMs: 10_000, message: 'three resubscribes' })
    await waitFor(() => list.data?.items.some((r) => r.id === created.id), { timeoutMs: 5000, message: 'the refetched list' })
    await sleep(600)
    await settle(client)
    assert.ok(seen.some((ctx) => ctx.wasRecovering && !ctx.recovered), JSON.stringify(seen))
    assert.deepEqual(await fetches(server), { list: 1, doc: 1 }, 'one refetch per active view')
    assert.deepEqual({ doc: doc.calls, list: list.calls }, { doc: calls.doc + 1, list: calls.list + 1 })
    assert.deepEqual(doc.data, await server.get(id))
    const epochAfter = (await server.api('GET', '/api/admin/centrifugo')).epoch
    if (name.includes('reset')) {
      assert.notEqual(epochAfter, epochBefore, 'a new epoch')
      assert.ok(seen.every((ctx) => ctx.streamPosition.epoch === epochAfter))
    } else {
      assert.equal(epochAfter, epochBefore, 'the epoch survives a restart')
    }
    assert.deepEqual(errors, [])
  })
}

test('a bad token: status error, onError with a code, no retry storm', async () => {
  const server = await startServer()
  const { rt, errors, statuses } = await setup(server, {
    centrifuge: { getToken: () => tokenFor(server).then((t) => t.slice(0, -2) + (t.endsWith('AA') ? 'BB' : 'AA')) },
  })
  rt.subscribe({ kind: 'list', type: 'work_orders' })
  await waitFor(() => rt.status() === 'error', { timeoutMs: 5000, message: 'status error' })
  assert.equal(errors.length, 1, JSON.stringify(errors))
  assert.equal(errors[0].code, 'unauthorized')
  assert.equal(errors[0].source, 'centrifugo')
  assert.match(errors[0].message, /3500 invalid token/)
  await sleep(3000) // centrifuge-js's reconnect delays here are 100-500 ms: a storm would show
  assert.equal(await server.requests('GET /connection/websocket'), 1, 'one connection attempt')
  assert.equal(rt.status(), 'error')
  assert.deepEqual(statuses.filter((s, i) => s !== statuses[i - 1]), ['connecting', 'error'])
})

test('tokens refresh through the client\'s getToken: an expired token is replaced, a short one refreshed in place', async () => {
  const server = await startServer()
  let calls = 0
  const { rt, errors, centrifuge } = await setup(server, {
    centrifuge: {
      // First an already expired token (the server answers error 109), then 2 s tokens.
      getToken: () => { calls++; return calls === 1 ? expiredToken() : tokenFor(server, { ttl: 2 }) },
    },
  })
  async function expiredToken() {
    // Signed by the server for a user, then outlived: ttl 1 s, used 1.1 s later.
    const t = await tokenFor(server, { ttl: 1 })
    await sleep(1100)
    return t
  }
  rt.subscribe({ kind: 'list', type: 'work_orders' })
  await waitFor(() => rt.status() === 'connected', { timeoutMs: 10_000, message: 'connected' })
  assert.equal(calls, 2, 'getToken was asked again after "token expired"')
  assert.equal(await server.requests('GET /connection/websocket'), 2)
  await sleep(4500) // two refreshes of the 2 s token on the open connection
  assert.ok(calls >= 4, `refreshed through getToken (${calls} calls)`)
  assert.equal(await server.requests('GET /connection/websocket'), 2, 'refreshed without reconnecting')
  assert.equal(centrifuge.state, 'connected')
  assert.equal(rt.status(), 'connected')
  assert.deepEqual(errors, [])
})
