// connectCentrifuge with the REAL centrifuge-js 5.x against the demo server's Centrifugo endpoint
// (/connection/websocket), each scenario with a real @tanstack/query-core QueryClient whose queryFns
// fetch from the server's REST API (the server counts those requests). Written once, run twice:
// in Node by examples/server/test/centrifugo.test.mjs and in Chromium by
// tests/browser/centrifugo.test.mjs (the page imports this file; `centrifuge` and
// `@tanstack/query-core` come from its import map).
//
// A scenario is `{ name, env, run(ctx) }`: the runner starts a demo server with `env` added to
// its environment (its own database: SQLite file, or a fresh PostgreSQL database) and calls `run`
// with `ctx = { srv, websocket }`:
//   srv.base                the server's http://127.0.0.1:port
//   srv.api(method, path, body)   JSON, throws on a non-2xx answer
//   srv.kill(), srv.start() SIGKILL the server, start it again on the same port and database
//   websocket               the WebSocket class for centrifuge-js (Node: `ws`; browser: undefined)
// `run` throws on a failed check and returns a summary for the runner to print.
import { Centrifuge } from 'centrifuge'
import { createRealtime } from '../../js/index.js'
import { makeClient, observe, settle, sleep, waitFor } from '../js/helpers.mjs'

// --- checks (no node:assert in a page) ---------------------------------------------------------

function canon(v) {
  if (Array.isArray(v)) return v.map(canon)
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]))
  return v
}
function eq(actual, expected, message) {
  const a = JSON.stringify(canon(actual))
  const e = JSON.stringify(canon(expected))
  if (a !== e) throw new Error(`${message}: expected ${e}, got ${a}`)
}
function ok(value, message) {
  if (!value) throw new Error(message)
}

// --- the parts ---------------------------------------------------------------------------------

const wsUrl = (srv) => `${srv.base.replace(/^http/, 'ws')}/connection/websocket`
const tokenFor = (srv, body = {}) => srv.api('POST', '/api/centrifugo/token', body).then((r) => r.token)
const requests = async (srv) => (await srv.api('GET', '/api/stats')).requests ?? {}
const fetches = async (srv) => {
  const r = await requests(srv)
  return { list: r['GET /api/work_orders'] ?? 0, doc: r['GET /api/work_orders/:id'] ?? 0 }
}
const dedupe = (xs) => xs.filter((x, i) => x !== xs[i - 1])

/** An engine, a QueryClient and a centrifuge-js client connected through connectCentrifuge. */
async function setup(ctx, { centrifuge: copts } = {}) {
  const { srv, websocket, cleanups } = ctx
  const client = makeClient()
  const errors = []
  const rt = await createRealtime({
    queryClient: client, debounceMs: 20, maxWaitMs: 200, scope: { factoryId: 'f1' },
    onError: (e) => errors.push(e),
  })
  cleanups.push(() => rt.dispose())
  const statuses = []
  rt.onStatus((s) => statuses.push(s))
  const centrifuge = newCentrifuge(ctx, copts)
  rt.connectCentrifuge(centrifuge)
  centrifuge.connect()
  return { client, rt, errors, statuses, centrifuge }
}

function newCentrifuge({ srv, websocket, cleanups }, opts = {}) {
  const c = new Centrifuge(wsUrl(srv), {
    ...(websocket ? { websocket } : {}),
    getToken: () => tokenFor(srv),
    minReconnectDelay: 100,
    maxReconnectDelay: 500,
    ...opts,
  })
  cleanups.push(() => c.disconnect())
  return c
}

/** Real queries on the server's REST API, the doc and the list head, each with its view. */
async function views(srv, rt, client, id) {
  const get = (p) => srv.api('GET', p)
  const doc = observe(client, ['doc', 'work_orders', String(id)], () => get(`/api/work_orders/${id}`))
  const list = observe(client, ['list', 'work_orders', 'f1', { page: 1 }], () => get('/api/work_orders?factory_id=f1&page=1&pageSize=10'))
  rt.subscribe({ kind: 'doc', type: 'work_orders', id })
  rt.subscribe({ kind: 'list', type: 'work_orders' })
  await settle(client, 5000)
  return { doc, list }
}

const rows = async (srv) => (await srv.api('GET', '/api/work_orders?factory_id=f1&page=1&pageSize=10')).items

async function allSubscribed(centrifuge, n) {
  return waitFor(() => {
    const subs = Object.values(centrifuge.subscriptions())
    return subs.length === n && subs.every((s) => s.state === 'subscribed') && subs.map((s) => s.channel).sort()
  }, { timeoutMs: 10_000, message: `${n} subscriptions subscribed` })
}

function recordSubscribed(centrifuge) {
  const seen = []
  for (const sub of Object.values(centrifuge.subscriptions())) sub.on('subscribed', (c) => seen.push(c))
  return seen
}

// --- the scenarios -----------------------------------------------------------------------------

const writeOnce = {
  name: 'channels follow the views; a write reaches the cache once; DELETE+INSERT refetches once; status follows the client',
  async run(ctx) {
    const { srv } = ctx
    const { client, rt, errors, statuses, centrifuge } = await setup(ctx)
    const id = (await rows(srv))[1].id // [0] is the row the DELETE+INSERT below deletes
    const { doc, list } = await views(srv, rt, client, id)
    eq(await allSubscribed(centrifuge, 3), [`doc:work_orders:${id}`, 'factory:f1', 'list:work_orders:f1'], 'one subscription per view channel')
    await waitFor(() => rt.status() === 'connected', { message: 'connected' })
    eq(dedupe(statuses), ['connecting', 'connected'], 'statuses')
    eq([doc.calls, list.calls], [1, 1], 'first fetches')

    // An update is published on the doc, list and factory channels (a whole row without changed
    // columns named: querywire refetches the doc rather than patching it): one doc refetch.
    const before = rt.stats()
    const updated = await srv.api('PATCH', `/api/work_orders/${id}`, { title: 'Updated over Centrifugo' })
    await waitFor(() => doc.data?.title === updated.title, { timeoutMs: 5000, message: 'the update' })
    await sleep(300)
    await settle(client)
    const s = rt.stats()
    eq(s.received - before.received, 3, 'three publications')
    eq(s.invalidations - before.invalidations, 1, 'one key invalidated')
    eq(doc.calls, 2, 'the doc refetched once')
    eq(list.calls, 1, 'an update never refetches a list')
    eq(doc.data.version, updated.version, 'the new version')

    // DELETE + INSERT in one window: the list head refetches once.
    await srv.api('POST', '/api/burst', { factory_id: 'f1', count: 1, ms: 0, kind: 'delete_insert' })
    await waitFor(() => list.calls === 2, { timeoutMs: 5000, message: 'the list refetch' })
    await sleep(400)
    await settle(client)
    eq(list.calls, 2, 'DELETE+INSERT refetched the list once')
    eq(list.data.items.map((r) => r.id), (await rows(srv)).map((r) => r.id), 'the list equals the database')

    rt.dispose()
    await sleep(50)
    eq(Object.keys(centrifuge.subscriptions()).length, 0, 'dispose removed the subscriptions')
    eq(errors, [], 'no errors')
    return { doc: doc.calls, list: list.calls }
  },
}

const replay = {
  name: 'a replayed publication is not applied twice (offset dedupe, rows and seed 000 invalidations)',
  async run(ctx) {
    const { srv } = ctx
    const { client, rt, centrifuge } = await setup(ctx)
    const id = (await rows(srv))[1].id
    const { doc, list } = await views(srv, rt, client, id)
    await allSubscribed(centrifuge, 3)
    // The seed 000 channel `org:f1` carries { event: 'invalidate', queryKey: ['list', 'work_orders', 'f1'] }:
    // the app subscribes to it on the same client and hands its publications to querywire.
    const org = centrifuge.newSubscription('org:f1')
    const orgPubs = []
    org.on('publication', (p) => { orgPubs.push(p); rt.ingest('centrifugo', p) })
    const subscribed = new Promise((resolve) => org.once('subscribed', (c) => resolve(c.streamPosition)))
    org.subscribe()
    const pos = await subscribed
    const docChannel = `doc:work_orders:${id}`
    const docPubs = []
    centrifuge.getSubscription(docChannel).on('publication', (p) => docPubs.push(p))

    await srv.api('PATCH', `/api/work_orders/${id}`, { qty: 77 })
    await waitFor(() => doc.data?.qty === 77 && list.calls === 2, { timeoutMs: 5000, message: 'the doc refetch and the org: invalidation' })
    await sleep(300)
    await settle(client)
    eq(orgPubs.length, 1, 'one org: publication')
    eq(orgPubs[0].data, { event: 'invalidate', queryKey: ['list', 'work_orders', 'f1'] }, 'the invalidation service\'s payload')
    eq(orgPubs[0].offset, pos.offset + 1, 'its offset')
    eq(docPubs.length, 1, 'one doc publication')
    eq([doc.calls, list.calls], [2, 2], 'each refetched once')

    // A second client replays both streams from before that write (`since`): the same publications
    // with the same offsets; querywire drops each as a duplicate.
    const before = rt.stats()
    const other = newCentrifuge(ctx)
    const replayed = []
    const since = { 'org:f1': pos, [docChannel]: { offset: docPubs[0].offset - 1, epoch: pos.epoch } }
    for (const [ch, position] of Object.entries(since)) {
      const sub = other.newSubscription(ch, { since: position })
      sub.on('publication', (p) => { replayed.push(p); rt.ingest('centrifugo', p) })
      sub.subscribe()
    }
    other.connect()
    await waitFor(() => replayed.length === 2, { timeoutMs: 5000, message: 'the replayed publications' })
    eq(replayed.map((p) => p.offset).sort(), [orgPubs[0].offset, docPubs[0].offset].sort(), 'the same offsets')
    await sleep(300)
    await settle(client)
    const after = rt.stats()
    eq(after.dropped.duplicate - before.dropped.duplicate, 2, 'both replays were duplicates')
    eq(after.invalidations, before.invalidations, 'nothing invalidated again')
    eq([doc.calls, list.calls], [2, 2], 'no second refetch')
    return { duplicates: after.dropped.duplicate - before.dropped.duplicate }
  },
}

const restartWithin = {
  name: 'kill and restart within the history window: recovered from history, no recovery refetch',
  async run(ctx) {
    const { srv } = ctx
    const { client, rt, errors, statuses, centrifuge } = await setup(ctx, { centrifuge: { minReconnectDelay: 1500, maxReconnectDelay: 2000 } })
    const id = (await rows(srv))[2].id
    const { doc, list } = await views(srv, rt, client, id)
    await allSubscribed(centrifuge, 3)
    await srv.api('PATCH', `/api/work_orders/${id}`, { title: 'Seen live' })
    await waitFor(() => doc.data?.title === 'Seen live', { timeoutMs: 5000, message: 'the live update' })
    await settle(client)
    const docCalls = doc.calls
    const seen = recordSubscribed(centrifuge)

    await srv.kill()
    await waitFor(() => rt.status() === 'reconnecting', { timeoutMs: 5000, message: 'reconnecting' })
    await srv.start() // same port, same database; its request counters start at zero
    const missed = await srv.api('PATCH', `/api/work_orders/${id}`, { title: 'Missed while away', qty: 4242 })
    await waitFor(() => seen.length === 3, { timeoutMs: 10_000, message: 'three resubscribes' })
    await waitFor(() => doc.data?.title === missed.title, { timeoutMs: 5000, message: 'the recovered update' })
    await sleep(500)
    await settle(client)
    for (const c of seen) eq([c.wasRecovering, c.recovered], [true, true], `${c.channel} recovered`)
    ok(seen.every((c) => c.hasRecoveredPublications), 'the missed publications came with the subscribe replies')
    // The list is not refetched at all; the doc once, for the missed update itself (an envelope
    // update refetches its doc), not for the reconnect.
    const f = await fetches(srv)
    eq(f, { list: 0, doc: 1 }, 'no recovery refetch')
    eq([doc.calls, list.calls], [docCalls + 1, 1], 'query fetches')
    eq(doc.data.qty, 4242, 'the missed value')
    eq(dedupe(statuses), ['connecting', 'connected', 'reconnecting', 'connected'], 'statuses')
    eq(errors, [], 'no errors')
    return f
  },
}

function restartBeyond(name, env, away) {
  return {
    name: `kill and restart ${name}: not recovered, exactly one refetch per active view`,
    env,
    async run(ctx) {
      const { srv } = ctx
      const { client, rt, errors, centrifuge } = await setup(ctx, { centrifuge: { minReconnectDelay: 1500, maxReconnectDelay: 2000 } })
      const id = (await rows(srv))[3].id
      const { doc, list } = await views(srv, rt, client, id)
      await allSubscribed(centrifuge, 3)
      await srv.api('PATCH', `/api/work_orders/${id}`, { title: 'Seen live' })
      await waitFor(() => doc.data?.title === 'Seen live', { timeoutMs: 5000, message: 'the live update' })
      await settle(client)
      const calls = { doc: doc.calls, list: list.calls }
      const epochBefore = (await srv.api('GET', '/api/admin/centrifugo')).epoch
      const seen = recordSubscribed(centrifuge)

      await srv.kill()
      await srv.start()
      await away(srv, id)
      const created = await srv.api('POST', '/api/work_orders', { factory_id: 'f1', title: 'Created while away' })
      await waitFor(() => seen.length === 3, { timeoutMs: 10_000, message: 'three resubscribes' })
      await waitFor(() => list.data?.items.some((r) => r.id === created.id), { timeoutMs: 5000, message: 'the refetched list' })
      await sleep(600)
      await settle(client)
      ok(seen.some((c) => c.wasRecovering && !c.recovered), `not recovered: ${JSON.stringify(seen)}`)
      const f = await fetches(srv)
      eq(f, { list: 1, doc: 1 }, 'one refetch per active view')
      eq({ doc: doc.calls, list: list.calls }, { doc: calls.doc + 1, list: calls.list + 1 }, 'query fetches')
      eq(doc.data, await srv.api('GET', `/api/work_orders/${id}`), 'the doc equals the database')
      const epochAfter = (await srv.api('GET', '/api/admin/centrifugo')).epoch
      if (env.CENTRIFUGO_HISTORY_SIZE) {
        eq(epochAfter, epochBefore, 'the epoch survives a restart')
      } else {
        ok(epochAfter !== epochBefore, 'a new epoch')
        ok(seen.every((c) => c.streamPosition.epoch === epochAfter), 'the subscriptions took the new epoch')
      }
      eq(errors, [], 'no errors')
      return f
    },
  }
}

const badToken = {
  name: 'a bad token: status error, onError with a code, no retry storm',
  async run(ctx) {
    const { srv } = ctx
    const forged = () => tokenFor(srv).then((t) => t.slice(0, -2) + (t.endsWith('AA') ? 'BB' : 'AA'))
    const { rt, errors, statuses } = await setup(ctx, { centrifuge: { getToken: forged } })
    rt.subscribe({ kind: 'list', type: 'work_orders' })
    await waitFor(() => rt.status() === 'error', { timeoutMs: 5000, message: 'status error' })
    eq(errors.length, 1, `one error: ${JSON.stringify(errors)}`)
    eq([errors[0].code, errors[0].source], ['unauthorized', 'centrifugo'], 'the error')
    ok(/3500 invalid token/.test(errors[0].message), errors[0].message)
    await sleep(3000) // centrifuge-js's reconnect delays here are 100-500 ms: a storm would show
    const attempts = (await requests(srv))['GET /connection/websocket']
    eq(attempts, 1, 'one connection attempt')
    eq(rt.status(), 'error', 'status stays error')
    eq(dedupe(statuses), ['connecting', 'error'], 'statuses')
    return { attempts }
  },
}

const tokenRefresh = {
  name: 'tokens refresh through the client\'s getToken: an expired token is replaced, a short one refreshed in place',
  async run(ctx) {
    const { srv } = ctx
    let calls = 0
    const expired = async () => {
      const t = await tokenFor(srv, { ttl: 1 }) // signed by the server, then outlived
      await sleep(1100)
      return t
    }
    const getToken = () => { calls++; return calls === 1 ? expired() : tokenFor(srv, { ttl: 2 }) }
    const { rt, errors, centrifuge } = await setup(ctx, { centrifuge: { getToken } })
    rt.subscribe({ kind: 'list', type: 'work_orders' })
    await waitFor(() => rt.status() === 'connected', { timeoutMs: 10_000, message: 'connected' })
    eq(calls, 2, 'getToken was asked again after "token expired" (109)')
    eq((await requests(srv))['GET /connection/websocket'], 2, 'one reconnect for it')
    await sleep(4500) // two refreshes of the 2 s token on the open connection
    ok(calls >= 4, `refreshed through getToken (${calls} calls)`)
    eq((await requests(srv))['GET /connection/websocket'], 2, 'refreshed without reconnecting')
    eq([centrifuge.state, rt.status()], ['connected', 'connected'], 'still connected')
    eq(errors, [], 'no errors')
    return { getToken: calls }
  },
}

export const scenarios = [
  writeOnce,
  replay,
  restartWithin,
  restartBeyond('with the history cleared (a stream reset, new epoch)', {}, async (srv) => {
    await srv.api('POST', '/api/admin/centrifugo', { reset: true })
  }),
  restartBeyond('beyond the history size', { CENTRIFUGO_HISTORY_SIZE: '3' }, async (srv, id) => {
    for (let i = 0; i < 5; i++) await srv.api('PATCH', `/api/work_orders/${id}`, { qty: 500 + i })
  }),
  badToken,
  tokenRefresh,
].map((s) => ({ env: {}, ...s }))

/** Runs the scenario called `name`; cleans up what it made, also when it fails. */
export async function runScenario(name, { srv, websocket }) {
  const s = scenarios.find((x) => x.name === name)
  if (!s) throw new Error(`no scenario ${name}`)
  const cleanups = []
  try {
    return await s.run({ srv, websocket, cleanups })
  } finally {
    for (const c of cleanups.reverse()) {
      try { await c() } catch { /* already gone */ }
    }
  }
}
