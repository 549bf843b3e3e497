// CONTRACT "Keys": docKey / listKey / listPrefix against the real engine's doc/list policy and its
// views, for string, number and uuid ids (and numeric factory ids), with a real QueryClient whose
// queryFns count their fetches. A key built with the builders is the key the policy refreshes and
// the key a view's recovery refetches, whatever the id's JSON type.
import { test, describe, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRealtime, docKey, listKey, listPrefix } from '../../js/index.js'
import { makeClient, observeSettled, settle, sleep, waitFor } from './helpers.mjs'

const T = 'work_orders'
const engines = []
afterEach(() => {
  for (const rt of engines.splice(0)) rt.dispose()
})

async function start(client, options = {}) {
  const errors = []
  const rt = await createRealtime({ queryClient: client, debounceMs: 60_000, maxWaitMs: 120_000, onError: (e) => errors.push(e), ...options })
  engines.push(rt)
  return { rt, errors }
}

/**
 * A connector on the public rt.attachConnector interface (docs/CONNECTORS.md): it records the
 * channels the engine opens; `lost(name)` reports a rejoin whose replay failed, which refetches
 * that channel's views once (after the engine's settle window), the recovery path of every connector.
 */
function connector(rt) {
  const opened = new Set()
  const port = rt.attachConnector({ source: 'event', open: ({ name }) => opened.add(name), close: (name) => { opened.delete(name); port.left(name) } })
  return {
    opened,
    async lost(name) {
      await waitFor(() => opened.has(name), { message: `${name} opened` })
      port.joined(name, 'lost')
      await sleep(200)
      rt.flush()
    },
  }
}

const IDS = [
  ['string', 'wo-12'],
  ['number', 12],
  ['uuid', '9b2f6c1e-4d3a-4f7e-8a21-0c5d2e7f9a10'],
  ['large number', 2 ** 53],
  ['fraction', 1.5],
]

describe('the builders', () => {
  test('shapes: docKey, listKey (page 1 by default), listPrefix', () => {
    assert.deepEqual(docKey(T, 12), ['doc', T, '12'])
    assert.deepEqual(docKey(T, 'a'), ['doc', T, 'a'])
    assert.deepEqual(listKey(T, 'f1'), ['list', T, 'f1', { page: 1 }])
    assert.deepEqual(listKey(T, 'f1', 3), ['list', T, 'f1', { page: 3 }])
    assert.deepEqual(listKey(T, 7), ['list', T, '7', { page: 1 }])
    assert.deepEqual(listPrefix(T, 'f1'), ['list', T, 'f1'])
    assert.deepEqual(docKey(T, 12), docKey(T, '12'), 'a number and its string are one key')
  })
})

describe('builders, policy and views agree', () => {
  for (const [kind, id] of IDS) {
    test(`${kind} id: the policy invalidates docKey(type, id), and a view with that id opens doc:<type>:String(id)`, async () => {
      const client = makeClient()
      const { rt, errors } = await start(client, { patch: false })
      const doc = await observeSettled(client, docKey(T, id), () => ({ id }))
      rt.subscribe({ kind: 'doc', type: T, id })
      await sleep(0) // channel sync runs on the next task
      assert.ok(rt._engine.channels().includes(`doc:${T}:${String(id)}`), rt._engine.channels().join())
      // Supabase row with the id in its own JSON type, an app event with a string id.
      rt.ingest('supabase', { schema: 'public', table: T, commit_timestamp: 't', eventType: 'UPDATE', new: { id, title: 'x' }, old: { id }, errors: null })
      rt.flush()
      await settle(client)
      assert.equal(doc.calls, 2, 'one refetch after the update')
      rt.ingest('event', { type: T, id: String(id), action: 'update' })
      rt.flush()
      await settle(client)
      assert.equal(doc.calls, 3)
      assert.deepEqual(errors, [])
    })

    test(`${kind} id: a view's recovery refetches the docKey query`, async () => {
      const client = makeClient()
      const { rt } = await start(client)
      const doc = await observeSettled(client, docKey(T, id), () => ({ id }))
      const other = await observeSettled(client, docKey(T, 'other'), () => ({}))
      const c = connector(rt)
      rt.subscribe({ kind: 'doc', type: T, id })
      await c.lost(`doc:${T}:${String(id)}`)
      await settle(client)
      assert.equal(doc.calls, 2, 'the view\'s query refetched once')
      assert.equal(other.calls, 1, 'a query of no open view is left alone')
    })
  }

  test('a patch lands on the docKey query for a numeric id', async () => {
    const client = makeClient()
    const { rt } = await start(client)
    const doc = await observeSettled(client, docKey(T, 12), () => ({ id: 12, status: 'open', version: 1 }))
    rt.ingest('supabase', { schema: 'public', table: T, commit_timestamp: 't', eventType: 'UPDATE',
      new: { id: 12, status: 'done', version: 2 }, old: { id: 12, status: 'open', version: 1 }, errors: null })
    rt.flush()
    await settle(client)
    assert.equal(doc.data.status, 'done')
    assert.equal(doc.calls, 1, 'patched, not refetched')
  })

  for (const factoryId of ['f1', 7]) {
    test(`factory id ${JSON.stringify(factoryId)}: a create invalidates listKey(type, factoryId), a list view's recovery refetches every listPrefix page`, async () => {
      const client = makeClient()
      const { rt } = await start(client, { scope: { factoryId } })
      const head = await observeSettled(client, listKey(T, factoryId), () => ({ page: 1 }))
      const page2 = await observeSettled(client, listKey(T, factoryId, 2), () => ({ page: 2 }))
      rt.ingest('supabase', { schema: 'public', table: T, commit_timestamp: 't', eventType: 'INSERT', new: { id: 1, factory_id: factoryId }, old: {}, errors: null })
      rt.flush()
      await settle(client)
      assert.deepEqual([head.calls, page2.calls], [2, 1], 'the head refetched, page 2 left alone')

      const c = connector(rt)
      rt.subscribe({ kind: 'list', type: T })
      await sleep(0)
      assert.deepEqual(rt._engine.channels(), [`factory:${factoryId}`, `list:${T}:${factoryId}`])
      await c.lost(`list:${T}:${factoryId}`)
      await settle(client)
      assert.deepEqual([head.calls, page2.calls], [3, 2], 'every page under listPrefix refetched once')
      assert.deepEqual(client.getQueryCache().findAll({ queryKey: listPrefix(T, factoryId) }).length, 2)
    })
  }
})

describe('development check: a doc query cached under another id type', () => {
  const capture = () => {
    const original = console.warn
    const warnings = []
    console.warn = (m) => warnings.push(String(m))
    return { warnings, restore: () => { console.warn = original } }
  }

  test('a view { id: 12 } whose query is [\'doc\', type, 12] gets one warning naming docKey', async () => {
    const w = capture()
    try {
      const client = makeClient()
      const { rt } = await start(client)
      await observeSettled(client, ['doc', T, 12], () => ({}))
      const off1 = rt.subscribe({ kind: 'doc', type: T, id: 12 })
      rt.subscribe({ kind: 'doc', type: T, id: '12' }) // same view again
      off1()
      rt.subscribe({ kind: 'doc', type: T, id: 12 })
      await sleep(0)
      assert.equal(w.warnings.length, 1, w.warnings.join('\n'))
      assert.match(w.warnings[0], /\["doc","work_orders","12"\]/)
      assert.match(w.warnings[0], /docKey\("work_orders", id\)/)
    } finally {
      w.restore()
    }
  })

  test('the query created after the view opened (a child that mounts later) is noticed too', async () => {
    const w = capture()
    try {
      const client = makeClient()
      const { rt } = await start(client)
      rt.subscribe({ kind: 'doc', type: T, id: 5 })
      assert.equal(w.warnings.length, 0)
      await observeSettled(client, ['doc', T, 5], () => ({}))
      assert.equal(w.warnings.length, 1)
    } finally {
      w.restore()
    }
  })

  test('no warning when the keys agree, for a view of no cached query, or in production', async () => {
    const w = capture()
    const env = process.env.NODE_ENV
    try {
      const client = makeClient()
      const { rt } = await start(client)
      await observeSettled(client, docKey(T, 1), () => ({}))
      rt.subscribe({ kind: 'doc', type: T, id: 1 })
      rt.subscribe({ kind: 'doc', type: T, id: 2 })
      await observeSettled(client, ['doc', T, 3], () => ({}))
      await observeSettled(client, docKey(T, 3), () => ({}))
      rt.subscribe({ kind: 'doc', type: T, id: 3 }) // both exist: the string one is refreshed
      assert.deepEqual(w.warnings, [])

      process.env.NODE_ENV = 'production'
      const prodClient = makeClient()
      const { rt: prod } = await start(prodClient)
      await observeSettled(prodClient, ['doc', T, 12], () => ({}))
      prod.subscribe({ kind: 'doc', type: T, id: 12 })
      assert.deepEqual(w.warnings, [], 'production builds do not check')
    } finally {
      process.env.NODE_ENV = env
      w.restore()
    }
  })
})
