// The contract ("Creating an engine" through "Inspecting", and views) against the real engine:
// `createRealtime` from the package entry, a real QueryClient, real observers, counted queryFns.
// These keep to what JS adds (plans applied to a real cache, the glue's timer, callbacks, bad
// input that JS can hand over); the core's own decisions (versions, dedupe memories, rule
// templates, subsumption, the 10-events-in-200-ms window) are tested once, in Rust
// (crates/core/tests/contract_engine.rs, guard.rs, rules.rs; issue 11).
import { test, describe, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRealtime } from '../../js/index.js'
import { WebSocket, WebSocketServer } from 'ws'
import { makeClient, observeSettled, inactive, settle, sleep, waitFor, supabasePayload, virtualClock } from './helpers.mjs'

const TYPE = 'work_orders'
const docKey = (id) => ['doc', TYPE, String(id)]
const headKey = (factoryId = 'f1') => ['list', TYPE, factoryId, { page: 1 }]
const pageKey = (page, factoryId = 'f1') => ['list', TYPE, factoryId, { page }]
const row = (id, fields = {}) => ({ id, factory_id: 'f1', title: `wo ${id}`, status: 'open', qty: 1, version: 1, updated_at: '2026-01-01T00:00:00Z', ...fields })

const engines = []
afterEach(() => {
  for (const rt of engines.splice(0)) {
    try { rt.dispose() } catch { /* a test may have disposed it already */ }
  }
})

/** An engine that only flushes when told to, unless the test passes its own timings. */
async function start(client, options = {}) {
  const errors = []
  const rt = await createRealtime({
    queryClient: client,
    debounceMs: 60_000,
    maxWaitMs: 120_000,
    scope: { factoryId: 'f1' },
    onError: (e) => errors.push(e),
    ...options,
  })
  engines.push(rt)
  return { rt, errors }
}

/** The cache a work-order screen holds: two docs and two pages of the f1 list, all active. */
async function screen(client) {
  return {
    doc: await observeSettled(client, docKey(12), () => row(12)),
    other: await observeSettled(client, docKey(13), () => row(13)),
    head: await observeSettled(client, headKey(), () => ({ items: [], page: 1 })),
    page2: await observeSettled(client, pageKey(2), () => ({ items: [], page: 2 })),
  }
}

const calls = (s) => Object.fromEntries(Object.entries(s).map(([name, q]) => [name, q.calls]))

/** The screen and an engine (`options` as in `start`); `feed` ingests, then one flush is applied. */
async function afterFlush(feed, options) {
  const client = makeClient()
  const s = await screen(client)
  const { rt, errors } = await start(client, options)
  feed(rt)
  rt.flush()
  await settle(client)
  return { client, s, rt, errors }
}

describe('creating an engine', () => {
  test('createRealtime returns a Promise of an engine with every contract method', async () => {
    const client = makeClient()
    const pending = createRealtime({ queryClient: client })
    assert.ok(pending instanceof Promise)
    const rt = await pending
    engines.push(rt)
    for (const name of ['ingest', 'ingestText', 'flush', 'dispose', 'stats', 'subscribe', 'setScope', 'connectSupabase',
      'connectWebSocket', 'connectEventSource', 'connectCentrifuge', 'status', 'onStatus']) {
      assert.equal(typeof rt[name], 'function', name)
    }
    assert.equal(rt.status(), 'disconnected', 'before a connect')
    assert.deepEqual(rt.stats(), {
      received: 0, flushes: 0, invalidations: 0, patches: 0,
      dropped: { invalid: 0, stale: 0, duplicate: 0, outOfScope: 0 },
    })
  })

  test('the engine calls behind the one command export each reach their own core call (js/loadWasm.js COMMANDS order)', async () => {
    const { rt } = await start(makeClient())
    const e = rt._engine
    assert.equal(e.status(), 'disconnected')
    assert.deepEqual(e.channels(), [])
    assert.equal(e.stats().received, 0)
    assert.equal(typeof JSON.parse(e.columns()), 'object')
    assert.ok(e.inputBuffer(64) > 0 && e.slotBuffer(16) > 0, 'buffers are addresses in wasm memory')
    const h = e.subscribe({ kind: 'list', type: TYPE })
    assert.equal(typeof h, 'number')
    assert.ok(e.channels().includes(`list:${TYPE}:f1`), JSON.stringify(e.channels()))
    e.unsubscribe(h)
    assert.deepEqual(e.channels(), [])
    e.recordInvalid('event', 'refused by the shim')
    assert.equal(e.stats().dropped.invalid, 1)
  })

  test('a malformed view throws a coded error, whatever its members hold; members the core does not read are ignored', async () => {
    const { rt } = await start(makeClient())
    const cycle = { a: 1 }
    cycle.self = cycle
    const needsId = [10n, NaN, Infinity, true, { a: 1 }, cycle, null, undefined]
    for (const id of needsId) {
      assert.throws(() => rt.subscribe({ kind: 'doc', type: TYPE, id }), (e) => e instanceof Error && e.code === 'wrong_type' && /needs an id/.test(e.message), `id ${String(id)}`)
    }
    for (const v of [null, undefined, 'doc', 5, 10n, [], { kind: 'nope', type: TYPE }, { kind: 'doc', type: 1n, id: 1 }, { kind: 'list', type: cycle }]) {
      assert.throws(() => rt.subscribe(v), (e) => e instanceof Error && e.code === 'wrong_type', `view ${typeof v}`)
    }
    const off = rt.subscribe({ kind: 'list', type: TYPE, meta: cycle, big: 1n })
    assert.ok(rt._engine.channels().includes(`list:${TYPE}:f1`), JSON.stringify(rt._engine.channels()))
    off()
    assert.deepEqual(rt._engine.channels(), [])
  })

  test('two engines on two clients are independent', async () => {
    const a = makeClient()
    const b = makeClient()
    const qa = await observeSettled(a, headKey())
    const qb = await observeSettled(b, headKey())
    const { rt } = await start(a)
    await start(b)
    rt.ingest('event', { type: TYPE, id: 1, factoryId: 'f1', action: 'create' })
    rt.flush()
    await settle(a)
    await settle(b)
    assert.equal(qa.calls, 2)
    assert.equal(qb.calls, 1)
  })
})

describe('seed 001: the doc/list policy', () => {
  test('a doc update with changed values patches only its doc, without a refetch', async () => {
    const { client, s, rt } = await afterFlush((rt) => rt.ingest('event', { type: TYPE, id: 12, factoryId: 'f1', action: 'update', changedKeys: ['status'], version: 2, data: { status: 'approved' } }))
    assert.deepEqual(client.getQueryData(docKey(12)), row(12, { status: 'approved', version: 2 }))
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 1, page2: 1 })
    assert.equal(rt.stats().patches, 1)
    assert.equal(rt.stats().invalidations, 0)
  })

  test('a Supabase UPDATE patches only the columns that differ between new and old', async () => {
    const client = makeClient()
    const s = await screen(client)
    client.setQueryData(docKey(12), row(12, { title: 'edited here' }))
    const { rt } = await start(client)

    rt.ingest('supabase', supabasePayload('UPDATE', TYPE, {
      new: row(12, { status: 'approved', version: 2 }),
      old: row(12),
    }))
    rt.flush()
    await settle(client)

    const doc = client.getQueryData(docKey(12))
    assert.equal(doc.status, 'approved')
    assert.equal(doc.version, 2)
    assert.equal(doc.title, 'edited here', 'an unchanged column is not written')
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 1, page2: 1 })
  })

  test('ingestText takes a payload as JSON text, exactly as ingest takes the object', async () => {
    const client = makeClient()
    const s = await screen(client)
    client.setQueryData(docKey(12), row(12, { title: 'edited here' }))
    const { rt, errors } = await start(client)

    // As a socket hands it over: pretty-printed, with a column nothing reads holding what only
    // JSON.parse accepts (a lone surrogate escape, a number beyond a double).
    const text = JSON.stringify(supabasePayload('UPDATE', TYPE, {
      new: row(12, { status: 'approved', version: 2, note: 'NOTE' }),
      old: row(12, { note: 'NOTE' }),
    }), null, 2).replaceAll('"NOTE"', '"\\ud800"').replace('"qty": 1,', '"qty": 1, "big": 1e400,')
    assert.doesNotThrow(() => JSON.parse(text))
    rt.ingestText('supabase', text)
    rt.ingestText('supabase', '{"table": ')
    rt.flush()
    await settle(client)

    const doc = client.getQueryData(docKey(12))
    assert.equal(doc.status, 'approved')
    assert.equal(doc.version, 2)
    assert.equal(doc.title, 'edited here', 'an unchanged column is not written')
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 1, page2: 1 }, 'patched, no refetch')
    assert.deepEqual(errors.map((e) => [e.code, e.source]), [['bad_json', 'supabase']])
    assert.deepEqual(rt.stats().dropped.invalid, 1)
    assert.equal(rt.stats().received, 2)
  })

  test('a doc update invalidates only its doc when patching is off', async () => {
    const { s, rt } = await afterFlush((rt) => rt.ingest('event', { type: TYPE, id: 12, factoryId: 'f1', action: 'update', changedKeys: ['status'], data: { status: 'approved' } }), { patch: false })
    assert.deepEqual(calls(s), { doc: 2, other: 1, head: 1, page2: 1 })
    assert.equal(rt.stats().invalidations, 1)
    assert.equal(rt.stats().patches, 0)
  })

  test('a doc update without values invalidates only its doc', async () => {
    const { s } = await afterFlush((rt) => rt.ingest('event', { type: TYPE, id: 12, factoryId: 'f1', action: 'update' }))
    assert.deepEqual(calls(s), { doc: 2, other: 1, head: 1, page2: 1 })
  })

  test('a doc update for a doc not in the cache invalidates its key instead of patching', async () => {
    const { client, s, rt } = await afterFlush((rt) => rt.ingest('event', { type: TYPE, id: 14, factoryId: 'f1', action: 'update', changedKeys: ['status'], data: { status: 'x' } }))
    assert.equal(client.getQueryData(docKey(14)), undefined)
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 1, page2: 1 })
    assert.equal(rt.stats().patches, 0)
  })

  test('a create refetches only the list head, not other pages or docs', async () => {
    const { s } = await afterFlush((rt) => rt.ingest('event', { type: TYPE, id: 99, factoryId: 'f1', action: 'create', data: row(99) }))
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 2, page2: 1 })
  })

  test('a delete refetches the list head and the doc', async () => {
    const { s } = await afterFlush((rt) => rt.ingest('envelope', { type: 'realtime', entity: TYPE, action: 'delete', data: row(12), timestamp: new Date().toISOString(), id: 'chg-1' }))
    assert.deepEqual(calls(s), { doc: 2, other: 1, head: 2, page2: 1 })
  })

  test('a patch never replaces cached data whose version is higher', async () => {
    const client = makeClient()
    await screen(client)
    client.setQueryData(docKey(12), row(12, { status: 'fetched', version: 9 }))
    const { rt } = await start(client)
    rt.ingest('event', { type: TYPE, id: 12, factoryId: 'f1', action: 'update', changedKeys: ['status'], version: 8, data: { status: 'late' } })
    rt.flush()
    assert.equal(client.getQueryData(docKey(12)).status, 'fetched')
  })
})

describe('seed 002: coalescing across sources and tables', () => {
  test('a Supabase DELETE followed by an INSERT of the same row refetches each key once', async () => {
    const { s, rt } = await afterFlush((rt) => {
      rt.ingest('supabase', supabasePayload('DELETE', TYPE, { new: {}, old: row(12) }))
      rt.ingest('supabase', supabasePayload('INSERT', TYPE, { new: row(12, { version: 2 }), old: {} }))
    })
    assert.deepEqual(calls(s), { doc: 2, other: 1, head: 2, page2: 1 })
    assert.equal(rt.stats().flushes, 1)
  })

  test('several tables touching the same keys through rules give one refetch per key', async () => {
    const client = makeClient()
    const s = await screen(client)
    const lines = await observeSettled(client, ['lines', 12])
    const { rt } = await start(client, {
      rules: [
        { table: 'work_order_lines', invalidate: [['lines', '{work_order_id}'], ['list', TYPE, '{factory_id}']] },
        { table: 'work_order_notes', invalidate: [['lines', '{work_order_id}'], { queryKey: ['list', TYPE, '{factory_id}'] }] },
      ],
    })

    const line = { id: 1, work_order_id: 12, factory_id: 'f1', qty: 3 }
    const note = { id: 7, work_order_id: 12, factory_id: 'f1', body: 'hi' }
    rt.ingest('supabase', supabasePayload('INSERT', 'work_order_lines', { new: line }))
    rt.ingest('supabase', supabasePayload('UPDATE', 'work_order_lines', { new: { ...line, qty: 4 }, old: { id: 1 } }))
    rt.ingest('supabase', supabasePayload('INSERT', 'work_order_notes', { new: note }))
    rt.ingest('supabase', supabasePayload('DELETE', 'work_order_lines', { old: line }))
    rt.flush()
    await settle(client)

    assert.equal(lines.calls, 2)
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 2, page2: 2 })
    assert.equal(rt.stats().invalidations, 2, "['lines', 12] and ['list', type, 'f1']")
  })

  test("an 'invalidate' payload honours exact and refetchType", async () => {
    const client = makeClient()
    const s = await screen(client)
    const gone = await inactive(client, pageKey(3))
    const { rt } = await start(client)
    rt.ingest('invalidate', { queryKey: headKey(), exact: true })
    rt.ingest('invalidate', { queryKey: ['list', TYPE, 'f1', { page: 3 }], refetchType: 'inactive' })
    rt.flush()
    await settle(client)
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 2, page2: 1 })
    assert.equal(gone.calls, 2)
  })
})

describe('guards', () => {
  test('scope guard: another factoryId or factory_id is dropped before the cache', async () => {
    const client = makeClient()
    const s = await screen(client)
    const f2 = await observeSettled(client, headKey('f2'))
    const { rt } = await start(client, { scope: { factoryId: 'f1' } })

    rt.ingest('event', { type: TYPE, id: 50, factoryId: 'f2', action: 'create' })
    rt.ingest('supabase', supabasePayload('INSERT', TYPE, { new: row(51, { factory_id: 'f2' }) }))
    rt.ingest('envelope', { type: 'realtime', entity: TYPE, action: 'delete', data: row(12, { factory_id: 'f2' }), timestamp: new Date().toISOString(), id: 'chg-9' })
    rt.flush()
    await settle(client)
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 1, page2: 1 })
    assert.equal(f2.calls, 1)
    assert.equal(rt.stats().dropped.outOfScope, 3)

    rt.ingest('supabase', supabasePayload('INSERT', TYPE, { new: row(52, { factory_id: 'f1' }) }))
    rt.ingest('event', { type: TYPE, id: 53, factoryId: 'f1', action: 'create' })
    rt.flush()
    await settle(client)
    assert.equal(s.head.calls, 2)
  })

  test('tenant isolation holds in every spelling: one foreign spelling drops the event even beside ours', async () => {
    const client = makeClient()
    const s = await screen(client)
    const { rt } = await start(client, { scope: { factoryId: 'f1' } })
    const ts = new Date().toISOString()
    rt.ingest('event', { type: TYPE, id: 12, factoryId: 'f1', action: 'update', changedKeys: ['status'], data: { status: 'leak', factory_id: 'f2' } })
    rt.ingest('event', { type: TYPE, id: 12, factoryId: 'f1', factory_id: 'f2', action: 'update', changedKeys: ['status'], data: { status: 'leak' } })
    rt.ingest('supabase', supabasePayload('UPDATE', TYPE, { new: row(12, { status: 'leak', version: 9, factoryId: 'f2' }), old: row(12) }))
    rt.ingest('envelope', { type: 'realtime', entity: TYPE, action: 'insert', factory_id: 'f2', data: row(90), timestamp: ts, id: 'chg-t1' })
    rt.ingest('centrifugo', { channel: 'factory:f1', offset: 1, data: { type: TYPE, id: 91, factoryId: 'f2', action: 'create', data: { factory_id: 'f1' } } })
    rt.flush()
    await settle(client)
    assert.equal(client.getQueryData(docKey(12)).status, 'open', 'never patched')
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 1, page2: 1 }, 'nothing refetched')
    assert.equal(rt.stats().dropped.outOfScope, 5)
  })

  test('setScope moves the guard to the new scope', async () => {
    const client = makeClient()
    const f2 = await observeSettled(client, headKey('f2'))
    const { rt } = await start(client, { scope: { factoryId: 'f1' } })
    rt.setScope({ factoryId: 'f2' })
    rt.ingest('event', { type: TYPE, id: 60, factoryId: 'f2', action: 'create' })
    rt.ingest('event', { type: TYPE, id: 61, factoryId: 'f1', action: 'create' })
    rt.flush()
    await settle(client)
    assert.equal(f2.calls, 2)
    assert.equal(rt.stats().dropped.outOfScope, 1)
  })

  test('event-id dedupe: the same envelope id from three channels applies once, across windows', async () => {
    const client = makeClient()
    const s = await screen(client)
    const { rt } = await start(client)
    const envelope = { type: 'realtime', entity: TYPE, action: 'delete', data: row(12), timestamp: new Date().toISOString(), id: 'chg-77' }

    for (let copy = 0; copy < 3; copy++) {
      rt.ingest('envelope', structuredClone(envelope))
      rt.flush()
      await settle(client)
    }
    assert.deepEqual(calls(s), { doc: 2, other: 1, head: 2, page2: 1 })
    assert.equal(rt.stats().dropped.duplicate, 2)
  })

  test('a Centrifugo publication may carry any other payload shape', async () => {
    const client = makeClient()
    const s = await screen(client)
    const { rt } = await start(client)
    rt.ingest('centrifugo', {
      channel: 'factory:f1',
      offset: 1,
      data: { type: 'realtime', entity: TYPE, action: 'insert', data: row(70), timestamp: new Date().toISOString(), id: 'chg-70' },
    })
    rt.flush()
    await settle(client)
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 2, page2: 1 })
  })

  test('a Supabase broadcast carrying an event payload is routed like the event', async () => {
    const client = makeClient()
    const s = await screen(client)
    const { rt } = await start(client)
    rt.ingest('supabase', { type: 'broadcast', event: 'change', payload: { type: TYPE, id: 12, factoryId: 'f1', action: 'approve', changedKeys: ['status'], version: 3, data: { status: 'approved' } } })
    rt.flush()
    await settle(client)
    assert.equal(client.getQueryData(docKey(12)).status, 'approved')
    assert.deepEqual(calls(s), { doc: 1, other: 1, head: 1, page2: 1 })
  })
})

describe('callbacks may call back', () => {
  // CONTRACT: from inside onError, an onStatus listener, a queryFn or any other function querywire
  // calls, every rt method works, is applied in order, and never throws. The wasm engine traps
  // (RuntimeError: unreachable) if it calls JS while it holds its state (issue 11).
  // Three creates of the f1 list (by object, by the object path's slots, as text) and one bad
  // input: `received` grows by 4, `invalid` by 1, and the list head refetches once.
  const every = (rt, tag) => {
    rt.ingest('event', { type: TYPE, id: 900 + tag, factoryId: 'f1', action: 'create' })
    rt.ingest('event', 'bad input from inside a callback')
    rt.ingest('supabase', supabasePayload('INSERT', TYPE, { new: row(910 + tag) }))
    rt.ingestText('event', JSON.stringify({ type: TYPE, id: 920 + tag, factoryId: 'f1', action: 'create' }))
    const off = rt.subscribe({ kind: 'doc', type: TYPE, id: 900 + tag })
    rt.setScope({ factoryId: 'f1' })
    assert.equal(typeof rt.stats().received, 'number')
    assert.equal(typeof rt.status(), 'string')
    assert.equal(rt.shareRole(), 'off')
    rt.inspect(() => {})()
    rt.flush()
    off()
  }

  test('onError may call every rt method', async () => {
    const client = makeClient()
    const s = await screen(client)
    let calls = 0
    const { rt, errors } = await start(client, {
      onError: (e) => {
        errors.push(e)
        if (calls++ === 0) assert.doesNotThrow(() => every(rt, 1))
      },
    })
    assert.doesNotThrow(() => rt.ingest('event', 'bad'))
    await settle(client)
    assert.equal(errors.length, 2, 'the first error, then the one ingested from inside onError')
    assert.equal(rt.stats().flushes, 1, 'the flush from inside onError')
    assert.equal(s.head.calls, 2, 'its creates refetched the list head once')
    assert.equal(rt.stats().received, 5, 'every payload ingested from inside onError counted')
    assert.equal(rt.stats().dropped.invalid, 2)
  })

  test('an onStatus listener may call every rt method, and dispose', async () => {
    const client = makeClient()
    const s = await screen(client)
    const { rt, errors } = await start(client)
    const seen = []
    rt.onStatus((st) => {
      seen.push(st)
      if (st === 'connecting') assert.doesNotThrow(() => every(rt, 2))
      if (st === 'connected') assert.doesNotThrow(() => rt.dispose())
    })
    const port = rt.attachConnector({ source: 'test', open: ({ name }) => port.joined(name), close: (name) => port.left(name) })
    rt.subscribe({ kind: 'list', type: TYPE })
    await waitFor(() => seen.includes('connected'))
    await settle(client)
    assert.deepEqual(seen, ['connecting', 'connected'])
    assert.equal(errors.length, 1)
    assert.equal(rt.stats().received, 4)
    assert.equal(s.head.calls, 2)
    assert.equal(rt.status(), 'disconnected', 'disposed from inside the listener')
  })

  test('a queryFn that runs inside invalidateQueries may ingest and flush; its plan follows in order', async () => {
    const client = makeClient()
    const { rt } = await start(client)
    let rtRef = rt
    const head = await observeSettled(client, headKey(), () => ({ items: [] }))
    let fed = false
    const doc = await observeSettled(client, docKey(12), (n) => {
      // Runs synchronously inside the plan's invalidateQueries (the doc is active).
      if (n === 2 && !fed) {
        fed = true
        rtRef.ingest('event', { type: TYPE, id: 99, factoryId: 'f1', action: 'create' })
        rtRef.flush()
      }
      return row(12)
    })
    rt.ingest('event', { type: TYPE, id: 12, factoryId: 'f1', action: 'update' })
    rt.flush()
    await settle(client)
    assert.equal(fed, true)
    assert.equal(doc.calls, 2)
    assert.equal(head.calls, 2, 'the event fed from inside the queryFn reached the cache')
    assert.equal(rt.stats().flushes, 2)
    rtRef = null
  })

  test('a token function may call every rt method; what it did reaches the wire and the engine', async () => {
    // Our own transport in Node: the glue's WebSocket is `ws`'s, against a local server.
    const wss = new WebSocketServer({ port: 0 })
    const frames = []
    wss.on('connection', (socket) => socket.on('message', (m) => frames.push(JSON.parse(String(m)))))
    const had = globalThis.WebSocket
    globalThis.WebSocket = WebSocket
    const { rt, errors } = await start(makeClient())
    let inside = 0
    const off = rt.connectWebSocket(`ws://127.0.0.1:${wss.address().port}/ws`, {
      token: () => {
        inside++
        assert.doesNotThrow(() => every(rt, 3))
        rt.subscribe({ kind: 'doc', type: TYPE, id: 7 })
        return 'tok'
      },
    })
    try {
      await waitFor(() => frames.some((f) => f.type === 'subscribe'), { timeoutMs: 5000 })
      assert.equal(inside, 1)
      assert.deepEqual(frames[0], { type: 'auth', token: 'tok' })
      assert.ok(frames.find((f) => f.type === 'subscribe').channels.includes('doc:work_orders:7'), JSON.stringify(frames))
      assert.equal(rt.stats().received, 4)
      assert.equal(rt.stats().flushes, 1)
      assert.deepEqual(errors.map((e) => e.code), ['not_object'])
    } finally {
      off()
      wss.close()
      globalThis.WebSocket = had
    }
  })

  test('a connector\'s open and close may report facts and detach at once', async () => {
    const client = makeClient()
    const { rt } = await start(client)
    const opened = []
    const port = rt.attachConnector({
      source: 'test',
      open: ({ name }) => { opened.push(name); port.joined(name) },
      close: (name) => { port.left(name); port.detach() },
    })
    const off = rt.subscribe({ kind: 'doc', type: TYPE, id: 1 })
    await waitFor(() => rt.status() === 'connected')
    assert.deepEqual(opened, ['doc:work_orders:1', 'factory:f1'])
    off()
    await waitFor(() => rt.status() === 'disconnected')
    assert.equal(port.detached, true)
  })
})

describe('bad input is reported, counted and never thrown', () => {
  const big = 'x'.repeat(1024 * 1024 + 16)
  const cases = [
    ['not an object: a string', 'event', 'hello'],
    ['not an object: null', 'supabase', null],
    ['not an object: a number', 'envelope', 42],
    ['not an object: undefined', 'invalidate', undefined],
    ['unknown source', 'kafka', { type: TYPE, id: 1, action: 'create' }],
    ['missing source', undefined, { type: TYPE, id: 1, action: 'create' }],
    ['missing table (supabase)', 'supabase', { schema: 'public', commit_timestamp: '2026-01-01T00:00:00Z', eventType: 'INSERT', new: row(1), old: {}, errors: null }],
    ['missing id (supabase row without a primary key column)', 'supabase', supabasePayload('INSERT', TYPE, { new: { title: 'no id', factory_id: 'f1' } })],
    ['missing type (event)', 'event', { id: 1, action: 'create' }],
    ['missing id (event)', 'event', { type: TYPE, action: 'create' }],
    ['missing entity (envelope)', 'envelope', { type: 'realtime', action: 'insert', data: row(1), timestamp: '2026-01-01T00:00:00Z', id: 'chg-x' }],
    ['missing queryKey (invalidate)', 'invalidate', { exact: true }],
    ['missing data (centrifugo)', 'centrifugo', { channel: 'factory:f1', offset: 3 }],
    ['wrong type: unknown eventType', 'supabase', { ...supabasePayload('INSERT', TYPE, { new: row(1) }), eventType: 'MERGE' }],
    ['wrong type: unknown action', 'event', { type: TYPE, id: 1, action: 'explode' }],
    ['wrong type: id is an object', 'event', { type: TYPE, id: { nested: 1 }, action: 'update' }],
    ['wrong type: table is a number', 'supabase', supabasePayload('INSERT', 7, { new: row(1) })],
    ['wrong type: changedKeys is a string', 'event', { type: TYPE, id: 1, action: 'update', changedKeys: 'status' }],
    ['wrong type: version is an object', 'event', { type: TYPE, id: 1, action: 'update', version: { v: 1 } }],
    ['wrong type: queryKey is a string', 'invalidate', { queryKey: 'doc' }],
    ['wrong type: refetchType is unknown', 'invalidate', { queryKey: ['doc'], refetchType: 'sometimes' }],
    ['wrong type: envelope data is a string', 'envelope', { type: 'realtime', entity: TYPE, action: 'update', data: 'row', timestamp: '2026-01-01T00:00:00Z', id: 'chg-y' }],
    ['payload over 1 MiB', 'event', { type: TYPE, id: 1, action: 'update', data: { blob: big } }],
    ['payload over 1 MiB (supabase)', 'supabase', supabasePayload('UPDATE', TYPE, { new: row(1, { notes: big }), old: { id: 1 } })],
  ]

  for (const [name, source, payload] of cases) {
    test(name, async () => {
      const client = makeClient()
      const { rt, errors } = await start(client)
      assert.doesNotThrow(() => rt.ingest(source, payload))
      rt.flush()
      assert.equal(errors.length, 1, JSON.stringify(errors))
      const [error] = errors
      assert.equal(typeof error.code, 'string')
      assert.ok(error.code.length > 0)
      assert.equal(typeof error.message, 'string')
      assert.equal(typeof error.source, 'string')
      if (typeof source === 'string') assert.equal(error.source, source)
      assert.equal(rt.stats().dropped.invalid, 1)
    })
  }

  test('after every bad input, good events keep flowing', async () => {
    const client = makeClient()
    const s = await screen(client)
    const { rt, errors } = await start(client)
    for (const [, source, payload] of cases) rt.ingest(source, payload)
    rt.ingest('event', { type: TYPE, id: 80, factoryId: 'f1', action: 'create' })
    rt.flush()
    await settle(client)
    assert.equal(errors.length, cases.length)
    assert.equal(rt.stats().dropped.invalid, cases.length)
    assert.equal(s.head.calls, 2)
  })

  test('an onError that throws does not break ingest', async () => {
    const client = makeClient()
    const s = await screen(client)
    const { rt } = await start(client, { onError: () => { throw new Error('app bug') } })
    assert.doesNotThrow(() => rt.ingest('event', 'bad'))
    rt.ingest('event', { type: TYPE, id: 81, factoryId: 'f1', action: 'create' })
    rt.flush()
    await settle(client)
    assert.equal(s.head.calls, 2)
  })
})

describe('prototype pollution', () => {
  function assertClean(doc) {
    assert.equal(Object.getPrototypeOf(doc), Object.prototype)
    for (const field of ['__proto__', 'constructor', 'prototype']) assert.equal(Object.hasOwn(doc, field), false, field)
    assert.equal({}.polluted, undefined)
    assert.equal(Object.prototype.polluted, undefined)
    assert.equal(doc.polluted, undefined)
  }

  test('__proto__, constructor and prototype in an event\'s changed fields are never written', async () => {
    const client = makeClient()
    await screen(client)
    const { rt } = await start(client)
    const payload = JSON.parse(`{"type":"${TYPE}","id":12,"factoryId":"f1","action":"update","version":2,
      "changedKeys":["__proto__","constructor","prototype","status"],
      "data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true},"status":"ok"}}`)
    rt.ingest('event', payload)
    rt.flush()
    const doc = client.getQueryData(docKey(12))
    assert.equal(doc.status, 'ok')
    assertClean(doc)
  })

  test('a Supabase row with __proto__ columns parsed from JSON text pollutes nothing', async () => {
    const client = makeClient()
    await screen(client)
    const { rt } = await start(client)
    const text = `{"schema":"public","table":"${TYPE}","commit_timestamp":"2026-01-01T00:00:00Z","eventType":"UPDATE",
      "new":{"id":12,"factory_id":"f1","status":"done","__proto__":{"polluted":true},"constructor":{"polluted":true}},
      "old":{"id":12,"factory_id":"f1","status":"open","__proto__":{},"constructor":{}},"errors":null}`
    rt.ingest('supabase', JSON.parse(text))
    rt.flush()
    const doc = client.getQueryData(docKey(12))
    assert.equal(doc.status, 'done')
    assertClean(doc)
  })

  test('an envelope row and an id named __proto__ pollute nothing', async () => {
    const client = makeClient()
    await screen(client)
    const { rt } = await start(client)
    rt.ingest('envelope', JSON.parse(`{"type":"realtime","entity":"${TYPE}","action":"update","timestamp":"2026-01-01T00:00:00Z","id":"chg-p",
      "data":{"id":12,"factory_id":"f1","status":"x","__proto__":{"polluted":true}}}`))
    rt.ingest('event', JSON.parse(`{"type":"__proto__","id":"__proto__","action":"update","data":{"polluted":true}}`))
    rt.flush()
    assertClean(client.getQueryData(docKey(12)))
  })
})

describe('flush triggers', () => {
  test('maxWaitMs: a continuous stream still flushes', async (t) => {
    const client = makeClient()
    const s = await screen(client)
    const clock = virtualClock(t)
    const { rt } = await start(client, { debounceMs: 50, maxWaitMs: 150 })

    // An event every 20 ms for 600 ms: the trailing 50 ms window never closes on its own.
    const flushedAt = []
    for (let n = 0; n < 30; n++) {
      rt.ingest('event', { type: TYPE, id: 200 + n, factoryId: 'f1', action: 'create' })
      for (let ms = 0; ms < 20; ms++) {
        const before = rt.stats().flushes
        await clock.advance(1)
        if (rt.stats().flushes > before) flushedAt.push(n * 20 + ms + 1)
      }
    }
    await clock.advance(100)
    await clock.settle(client)
    // Each window opens with its first event and closes 150 ms later; the last one trails off.
    assert.deepEqual(flushedAt, [150, 310, 470])
    assert.equal(rt.stats().flushes, 4)
    assert.equal(s.head.calls, 5, 'the list head refetched once per flush')
  })

  test('debounceMs: the window restarts on each event', async (t) => {
    const client = makeClient()
    const s = await screen(client)
    const clock = virtualClock(t)
    const { rt } = await start(client, { debounceMs: 300, maxWaitMs: 10_000 })
    for (let i = 0; i < 5; i++) {
      rt.ingest('event', { type: TYPE, id: 300 + i, factoryId: 'f1', action: 'create' })
      await clock.advance(i < 4 ? 50 : 0)
    }
    // The last event came at 200 ms: the window closes at 500 ms, not at 300.
    await clock.advance(299)
    assert.equal(rt.stats().flushes, 0, 'events 50 ms apart keep a 300 ms window open past the first 300 ms')
    await clock.advance(1)
    assert.equal(rt.stats().flushes, 1)
    await clock.settle(client)
    assert.equal(s.head.calls, 2)
  })

  test('debounceMs 0 flushes on the next macrotask', async (t) => {
    const client = makeClient()
    const s = await screen(client)
    const clock = virtualClock(t)
    const { rt } = await start(client, { debounceMs: 0 })
    rt.ingest('event', { type: TYPE, id: 400, factoryId: 'f1', action: 'create' })
    rt.ingest('event', { type: TYPE, id: 401, factoryId: 'f1', action: 'create' })
    assert.equal(rt.stats().flushes, 0)
    await clock.advance(0)
    assert.equal(rt.stats().flushes, 1)
    await clock.settle(client)
    assert.equal(s.head.calls, 2)
  })

  test('flush() applies what is pending now', async () => {
    const client = makeClient()
    const s = await screen(client)
    const { rt } = await start(client)
    rt.ingest('event', { type: TYPE, id: 500, factoryId: 'f1', action: 'create' })
    assert.equal(rt.stats().flushes, 0)
    rt.flush()
    assert.equal(rt.stats().flushes, 1)
    assert.equal(s.head.query.state.isInvalidated, true, 'applied synchronously')
    await settle(client)
    assert.equal(s.head.calls, 2)
    rt.flush()
    await settle(client)
    assert.equal(s.head.calls, 2, 'nothing pending, nothing refetched')
  })

  test('dispose() flushes what is pending, then stops everything', async (t) => {
    const client = makeClient()
    const s = await screen(client)
    const clock = virtualClock(t)
    const { rt } = await start(client, { debounceMs: 30, maxWaitMs: 60 })
    rt.ingest('event', { type: TYPE, id: 600, factoryId: 'f1', action: 'create' })
    rt.dispose()
    await clock.settle(client)
    assert.equal(s.head.calls, 2)

    assert.doesNotThrow(() => rt.ingest('event', { type: TYPE, id: 601, factoryId: 'f1', action: 'create' }))
    assert.doesNotThrow(() => rt.flush())
    await clock.advance(1_000)
    await clock.settle(client)
    assert.equal(s.head.calls, 2, 'nothing applies after dispose')
    assert.doesNotThrow(() => rt.dispose(), 'a second dispose is harmless')
  })

  test('each affected active query refetches exactly once per flush', async () => {
    const client = makeClient()
    const s = await screen(client)
    const { rt } = await start(client, { patch: false })
    rt.ingest('event', { type: TYPE, id: 12, factoryId: 'f1', action: 'update' })
    rt.ingest('envelope', { type: 'realtime', entity: TYPE, action: 'delete', data: row(12), timestamp: new Date().toISOString(), id: 'chg-d' })
    rt.ingest('supabase', supabasePayload('INSERT', TYPE, { new: row(700) }))
    rt.ingest('invalidate', { queryKey: docKey(12), exact: true })
    rt.ingest('invalidate', { queryKey: ['list', TYPE, 'f1'], refetchType: 'all' })
    rt.flush()
    await settle(client)
    assert.deepEqual(calls(s), { doc: 2, other: 1, head: 2, page2: 2 })
  })
})

describe('views', () => {
  // A supabase-js client stand-in that records which channels are open.
  function fakeSupabase() {
    const open = new Map()
    let made = 0
    const client = {
      made: () => made,
      open,
      channel(name) {
        made++
        const ch = {
          topic: name,
          on() { return ch },
          subscribe(cb) { open.set(ch, name); queueMicrotask(() => cb?.('SUBSCRIBED')); return ch },
          unsubscribe() { open.delete(ch); return Promise.resolve('ok') },
        }
        return ch
      },
      removeChannel(ch) { open.delete(ch); return Promise.resolve('ok') },
      getChannels() { return [...open.keys()] },
      realtime: { setAuth() { return Promise.resolve() } },
      auth: { onAuthStateChange() { return { data: { subscription: { unsubscribe() {} } } } } },
    }
    return client
  }

  test('the same view twice opens its channels once; they close with the last unsubscribe', async (t) => {
    const client = makeClient()
    const clock = virtualClock(t)
    const { rt } = await start(client)
    const supabase = fakeSupabase()
    const disconnect = rt.connectSupabase(supabase, { schema: 'public', tables: [TYPE] })
    await rt._connectorsLoaded // the connector's module loads on the first connect (js/createRealtime.js)
    const view = { kind: 'doc', type: TYPE, id: 12 }

    const first = rt.subscribe(view)
    assert.equal(supabase.open.size, 0, 'channel changes apply on the next tick (StrictMode-safe)')
    await clock.advance(0)
    assert.deepEqual([...supabase.open.values()].sort(), ['doc:work_orders:12', 'factory:f1'])
    const second = rt.subscribe({ ...view })
    await clock.advance(0)
    assert.equal(supabase.made(), 2, 'the same view again opens nothing')

    first()
    first()
    await clock.advance(0)
    assert.equal(supabase.open.size, 2, 'calling the same unsubscribe again does nothing')
    second()
    await clock.advance(0)
    assert.equal(supabase.open.size, 0, 'the last unsubscribe closes them')
    disconnect()
  })
})
