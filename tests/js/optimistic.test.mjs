// CONTRACT "Optimistic updates" with a real QueryClient and real MutationObservers (what useMutation
// runs): an optimistic `onMutate` + `setQueryData` with rollback on error, and realtime echoes that
// arrive before, during and after the mutation. While a mutation whose mutationKey (or
// meta.querywire.keys) is a prefix of a query's key is pending, patches and invalidations of that
// query wait and are applied once after the last such mutation settles; other queries are not delayed.
import { test, describe, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { MutationObserver } from '@tanstack/query-core'
import { createRealtime, docKey, listKey, listPrefix } from '../../js/index.js'
import { summarizeTrace } from '../../js/devtools.js'
import { makeClient, observeSettled, settle, deferred, sleep } from './helpers.mjs'

const T = 'work_orders'
const engines = []
afterEach(() => { for (const rt of engines.splice(0)) rt.dispose() })

async function start(client) {
  const errors = []
  const rt = await createRealtime({ queryClient: client, debounceMs: 60_000, maxWaitMs: 120_000, scope: { factoryId: 'f1' }, onError: (e) => errors.push(e) })
  engines.push(rt)
  return { rt, errors }
}

/** The server's row, which queryFns read; a mutation writes it when its mutationFn resolves. */
function server() {
  const rows = new Map([[1, { id: 1, title: 'one', version: 1 }], [2, { id: 2, title: 'two', version: 1 }]])
  return { rows, get: (id) => ({ ...rows.get(id) }) }
}

/** A rename mutation the way the TanStack docs write an optimistic update. */
function rename(client, id, { key = docKey(T, id), meta, gate = deferred(), fail = false } = {}) {
  const db = client.__db
  const observer = new MutationObserver(client, {
    mutationKey: key,
    meta,
    mutationFn: async (title) => {
      await gate.promise
      if (fail) throw new Error('rejected by the server')
      const row = db.rows.get(id)
      const next = { ...row, title, version: row.version + 1 }
      db.rows.set(id, next)
      return next
    },
    onMutate: async (title) => {
      await client.cancelQueries({ queryKey: docKey(T, id) })
      const before = client.getQueryData(docKey(T, id))
      client.setQueryData(docKey(T, id), (old) => ({ ...old, title }))
      return { before }
    },
    onError: (_e, _v, ctx) => client.setQueryData(docKey(T, id), ctx.before),
    onSuccess: (row) => client.setQueryData(docKey(T, id), row),
  })
  const unsubscribe = observer.subscribe(() => {})
  return { observer, gate, run: (title) => observer.mutate(title).catch(() => {}), unsubscribe }
}

const echo = (row, changed) => ({ type: T, id: row.id, factoryId: 'f1', action: 'update', version: row.version, ...(changed ? { changedKeys: changed, data: Object.fromEntries(changed.map((k) => [k, row[k]])) } : {}) })

async function screen() {
  const client = makeClient()
  client.__db = server()
  const { rt, errors } = await start(client)
  const doc1 = await observeSettled(client, docKey(T, 1), () => client.__db.get(1))
  const doc2 = await observeSettled(client, docKey(T, 2), () => client.__db.get(2))
  return { client, rt, errors, doc1, doc2 }
}

describe('optimistic updates are never clobbered by realtime', () => {
  test('an echo before the mutation applies at once; during it waits, the optimistic value stays; after the settle it is applied once', async () => {
    const { client, rt, errors, doc1, doc2 } = await screen()
    // Before: another client's change, no mutation pending: applied now (a patch).
    client.__db.rows.set(1, { id: 1, title: 'one (elsewhere)', version: 2 })
    rt.ingest('event', echo(client.__db.get(1), ['title']))
    rt.flush()
    assert.equal(doc1.data.title, 'one (elsewhere)')

    const m = rename(client, 1)
    m.run('renamed')
    await sleep(0)
    assert.equal(doc1.data.title, 'renamed', 'the optimistic value')
    // During: the server's own echo (it applied the rename before answering) and a stale-looking
    // invalidation of the same doc; the other doc's change is not delayed.
    client.__db.rows.set(1, { id: 1, title: 'renamed', version: 3 })
    rt.ingest('event', echo({ id: 1, title: 'renamed (server)', version: 3 }, ['title']))
    rt.ingest('invalidate', { queryKey: docKey(T, 1) })
    client.__db.rows.set(2, { id: 2, title: 'two (elsewhere)', version: 2 })
    rt.ingest('event', echo(client.__db.get(2), ['title']))
    rt.flush()
    await settle(client)
    assert.equal(doc1.data.title, 'renamed', 'not clobbered while pending')
    assert.equal(doc1.calls, 1, 'no refetch of the held query while pending')
    assert.equal(doc2.data.title, 'two (elsewhere)', 'another doc is not delayed')

    // Settle: the held operations are applied once (one invalidation: one refetch).
    m.gate.resolve()
    await settle(client)
    await sleep(5)
    await settle(client)
    assert.equal(doc1.calls, 2, 'the echo cost one refetch after the mutation settled')
    assert.deepEqual(doc1.data, client.__db.get(1))

    // After: a later change applies as usual.
    rt.ingest('event', echo({ id: 1, title: 'later', version: 4 }, ['title']))
    rt.flush()
    assert.equal(doc1.data.title, 'later')
    assert.deepEqual(errors, [])
    m.unsubscribe()
  })

  test('a patch-only echo costs no refetch: it lands after the settle, on the server\'s answer', async () => {
    const { client, rt, doc1 } = await screen()
    const m = rename(client, 1)
    m.run('renamed')
    await sleep(0)
    rt.ingest('event', echo({ id: 1, title: 'renamed', version: 2 }, ['title']))
    rt.flush()
    assert.equal(doc1.data.title, 'renamed')
    assert.equal(doc1.data.version, 1, 'still the optimistic value, no patch yet')
    m.gate.resolve()
    await settle(client)
    await sleep(5)
    assert.deepEqual(doc1.data, { id: 1, title: 'renamed', version: 2 })
    assert.equal(doc1.calls, 1, 'no refetch at all')
    m.unsubscribe()
  })

  test('rollback on error: the held invalidation refetches the server\'s state once after the rollback', async () => {
    const { client, rt, doc1 } = await screen()
    const m = rename(client, 1, { fail: true })
    m.run('doomed')
    await sleep(0)
    assert.equal(doc1.data.title, 'doomed')
    client.__db.rows.set(1, { id: 1, title: 'one (elsewhere)', version: 2 })
    rt.ingest('envelope', { type: 'realtime', entity: T, action: 'update', data: client.__db.get(1), timestamp: 't', id: 'chg-1' })
    rt.flush()
    assert.equal(doc1.data.title, 'doomed', 'held while pending')
    m.gate.resolve()
    await settle(client)
    await sleep(5)
    await settle(client)
    assert.equal(m.observer.getCurrentResult().status, 'error')
    assert.equal(doc1.calls, 2)
    assert.equal(doc1.data.title, 'one (elsewhere)', 'rolled back, then the held change applied')
    m.unsubscribe()
  })

  test('two mutations on one doc: released once, after the last settles', async () => {
    const { client, rt, doc1 } = await screen()
    const a = rename(client, 1)
    const b = rename(client, 1)
    a.run('a')
    b.run('b')
    await sleep(0)
    rt.ingest('invalidate', { queryKey: docKey(T, 1) })
    rt.flush()
    a.gate.resolve()
    await settle(client)
    await sleep(5)
    assert.equal(doc1.calls, 1, 'still held: b is pending')
    rt.ingest('invalidate', { queryKey: docKey(T, 1) }) // more of the same while held
    rt.flush()
    b.gate.resolve()
    await settle(client)
    await sleep(5)
    await settle(client)
    assert.equal(doc1.calls, 2, 'one refetch for everything held')
    a.unsubscribe()
    b.unsubscribe()
  })

  test('meta.querywire.keys holds other queries; a broad invalidation applies now to what no mutation names and later to the rest', async () => {
    const { client, rt, doc1, doc2 } = await screen()
    const head = await observeSettled(client, listKey(T, 'f1'), () => ({ page: 1 }))
    const records = []
    rt.inspect((r) => records.push(r))
    const m = rename(client, 1, { key: ['rename'], meta: { querywire: { keys: [docKey(T, 1), listPrefix(T, 'f1')] } } })
    m.run('renamed')
    await sleep(0)
    rt.ingest('invalidate', { queryKey: ['doc', T] }) // both docs
    rt.ingest('supabase', { schema: 'public', table: T, commit_timestamp: 't', eventType: 'INSERT', new: { id: 3, factory_id: 'f1' }, old: {}, errors: null })
    rt.flush()
    await settle(client)
    assert.equal(doc2.calls, 2, 'doc 2 (named by no mutation) refetched now')
    assert.equal(doc1.calls, 1, 'doc 1 waits')
    assert.equal(head.calls, 1, 'the list head (under a meta key) waits')
    assert.equal(doc1.data.title, 'renamed')
    // The plan that went out names the held key it left alone; the devtools show it and the hold.
    const s = summarizeTrace({ records })
    assert.deepEqual(s.flushes.map((f) => f.hold), [[JSON.stringify(docKey(T, 1))]])
    assert.deepEqual(s.mutations.map((x) => x.keys), [['["rename"]', JSON.stringify(docKey(T, 1)), JSON.stringify(listPrefix(T, 'f1'))]])
    m.gate.resolve()
    await settle(client)
    await sleep(5)
    await settle(client)
    assert.deepEqual([doc1.calls, doc2.calls, head.calls], [2, 2, 2], 'each held query refetched once after the settle')
    m.unsubscribe()
  })

  test('a mutation without a mutationKey or meta keys holds nothing', async () => {
    const { client, rt, doc1 } = await screen()
    const gate = deferred()
    const observer = new MutationObserver(client, { mutationFn: () => gate.promise })
    observer.mutate().catch(() => {})
    await sleep(0)
    rt.ingest('invalidate', { queryKey: docKey(T, 1) })
    rt.flush()
    await settle(client)
    assert.equal(doc1.calls, 2)
    gate.resolve()
  })
})
