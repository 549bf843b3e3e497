// The shim's half of a flush: js/applyPlan.js against a real QueryClient. No wasm needed.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { applyPlan } from '../../js/applyPlan.js'
import { QueryClient } from '@tanstack/query-core'
import {
  makeClient, observe, observeSettled, inactive, settle, sleep, deferred, hashKey,
  inv, patchOp, refetchOp,
} from './helpers.mjs'

function instrument(client) {
  const counts = { directGetAll: 0, invalidateQueries: [], refetchQueries: [] }
  const cache = client.getQueryCache()
  let inside = 0
  const getAll = cache.getAll.bind(cache)
  cache.getAll = () => {
    if (inside === 0) counts.directGetAll++
    return getAll()
  }
  for (const name of ['invalidateQueries', 'refetchQueries']) {
    const original = client[name].bind(client)
    client[name] = (filters, options) => {
      counts[name].push(filters)
      inside++
      try { return original(filters, options) } finally { inside-- }
    }
  }
  return counts
}

describe('one pass per flush', () => {
  test('the cache is scanned once and each refetchType group gets one invalidateQueries call', async () => {
    const client = makeClient()
    await observeSettled(client, ['doc', 'wo', '1'])
    await observeSettled(client, ['list', 'wo', 'f1', { page: 1 }])
    await inactive(client, ['list', 'wo', 'f1', { page: 2 }])
    const counts = instrument(client)

    applyPlan(client, {
      invalidate: [
        inv(['doc', 'wo', '1'], { exact: true }),
        inv(['doc', 'wo', '2']),
        inv(['list', 'wo', 'f1'], { refetchType: 'none' }),
        inv(['list', 'wo', 'f1', { page: 1 }], { refetchType: 'all' }),
      ],
      patch: [],
      refetch: [],
    })

    assert.equal(counts.directGetAll, 1)
    const types = counts.invalidateQueries.map((f) => f.refetchType).sort()
    assert.deepEqual(types, ['active', 'all', 'none'])
    for (const filters of counts.invalidateQueries) {
      assert.equal(typeof filters.predicate, 'function')
      assert.equal(filters.queryKey, undefined)
    }
    await settle(client)
  })

  test('an empty plan touches nothing', () => {
    const client = makeClient()
    const counts = instrument(client)
    assert.deepEqual(applyPlan(client, { invalidate: [], patch: [], refetch: [] }), { invalidations: 0, patches: 0 })
    assert.equal(counts.directGetAll, 0)
    assert.equal(counts.invalidateQueries.length, 0)
  })
})

describe('each active query refetches exactly once per flush', () => {
  test('even when matched by several keys and refetchTypes', async () => {
    const client = makeClient()
    const doc = await observeSettled(client, ['doc', 'wo', '1'])
    const page1 = await observeSettled(client, ['list', 'wo', 'f1', { page: 1 }])
    const page2 = await observeSettled(client, ['list', 'wo', 'f1', { page: 2 }])
    const other = await observeSettled(client, ['list', 'wo', 'f2', { page: 1 }])

    const result = applyPlan(client, {
      invalidate: [
        inv(['doc']),
        inv(['doc', 'wo'], { refetchType: 'all' }),
        inv(['doc', 'wo', '1'], { exact: true }),
        inv(['list', 'wo', 'f1'], { refetchType: 'none' }),
        inv(['list', 'wo', 'f1', { page: 1 }]),
        inv(['list', 'wo', 'f1', { page: 2 }], { refetchType: 'inactive' }),
      ],
      patch: [],
      refetch: [refetchOp(['list', 'wo', 'f1'])],
    })
    await settle(client)

    assert.equal(result.invalidations, 6)
    assert.equal(doc.calls, 2)
    assert.equal(page1.calls, 2)
    assert.equal(page2.calls, 2, "'none' and 'inactive' on an active query, plus a refetch entry: once")
    assert.equal(other.calls, 1)
  })

  test('a second flush refetches again, once', async () => {
    const client = makeClient()
    const doc = await observeSettled(client, ['doc', 'wo', '1'])
    for (let flush = 1; flush <= 3; flush++) {
      applyPlan(client, { invalidate: [inv(['doc', 'wo']), inv(['doc', 'wo', '1'])], patch: [], refetch: [] })
      await settle(client)
      assert.equal(doc.calls, 1 + flush)
    }
  })

  test('a disabled query is invalidated but not fetched', async () => {
    const client = makeClient()
    const off = observe(client, ['doc', 'wo', '3'], undefined, { enabled: false })
    applyPlan(client, { invalidate: [inv(['doc', 'wo'])], patch: [], refetch: [] })
    await settle(client)
    assert.equal(off.calls, 0)
    assert.equal(off.query.state.fetchStatus, 'idle')
  })
})

describe('matching equals TanStack partialMatchKey', () => {
  const cacheKeys = [
    [],
    ['doc'],
    ['doc', 'wo'],
    ['doc', 'wo', '1'],
    ['doc', 'wo', 1],
    ['doc', 'wo', '12'],
    ['doc', 'wo', '1', 'comments'],
    ['doc', 'wo', null],
    ['doc', 'wo', true],
    ['list', 'wo', 'f1', { page: 1 }],
    ['list', 'wo', 'f1', { page: 2 }],
    ['list', 'wo', 'f1', { page: 1, size: 10 }],
    ['list', 'wo', 'f1', { size: 10, page: 1 }, 'x'],
    ['list', 'wo', 'f1', { filter: { status: 'open', tags: ['a', 'b'] }, page: 1 }],
    ['list', 'wo', 'f2', { page: 1 }],
    ['list', { factoryId: 'f1' }, 'wo'],
    ['list', { factoryId: 'f1', extra: 1 }, 'wo'],
    ['list', ['nested', 'array'], 'x'],
    [{ scope: 'all' }],
    [{ scope: 'all', deep: { a: 1 } }],
    ['wo', 0],
    ['wo', -1],
    ['wo', ''],
  ]
  const filterKeys = [
    [],
    ['doc'],
    ['doc', 'wo'],
    ['doc', 'wo', '1'],
    ['doc', 'wo', 1],
    ['doc', 'wo', null],
    ['doc', 'wo', '1', 'comments'],
    ['doc', 'wo', '1', 'comments', 'more'],
    ['docs'],
    ['list', 'wo', 'f1'],
    ['list', 'wo', 'f1', {}],
    ['list', 'wo', 'f1', { page: 1 }],
    ['list', 'wo', 'f1', { size: 10 }],
    ['list', 'wo', 'f1', { page: 1, size: 10 }],
    ['list', 'wo', 'f1', { filter: { status: 'open' } }],
    ['list', 'wo', 'f1', { filter: { tags: ['a'] } }],
    ['list', 'wo', 'f1', { filter: { tags: ['b'] } }],
    ['list', 'wo', 'f1', { page: '1' }],
    ['list', { factoryId: 'f1' }],
    ['list', { factoryId: 'f1' }, 'wo'],
    ['list', { factoryId: 'f2' }],
    ['list', ['nested']],
    ['list', ['array']],
    [{ scope: 'all' }],
    [{ deep: { a: 1 } }],
    [{}],
    ['wo', 0],
    ['wo', false],
    ['wo', ''],
  ]

  async function build() {
    const client = makeClient()
    for (const key of cacheKeys) client.setQueryData(key, { key })
    return client
  }

  function invalidatedHashes(client) {
    return client.getQueryCache().getAll().filter((q) => q.state.isInvalidated).map((q) => q.queryHash).sort()
  }

  for (const exact of [false, true]) {
    test(`one key at a time, exact: ${exact}`, async () => {
      for (const key of filterKeys) {
        const client = await build()
        const expected = client.getQueryCache().findAll({ queryKey: key, exact }).map((q) => q.queryHash).sort()
        applyPlan(client, { invalidate: [inv(key, { exact, refetchType: 'none' })], patch: [], refetch: [] })
        assert.deepEqual(invalidatedHashes(client), expected, `key ${hashKey(key)} exact ${exact}`)
      }
    })
  }

  test('many keys at once match the union of findAll', async () => {
    const client = await build()
    const ops = filterKeys.slice(1).flatMap((key, i) => [inv(key, { exact: i % 3 === 0, refetchType: 'none' })])
    const expected = new Set()
    for (const op of ops) {
      for (const q of client.getQueryCache().findAll({ queryKey: op.queryKey, exact: op.exact })) expected.add(q.queryHash)
    }
    applyPlan(client, { invalidate: ops, patch: [], refetch: [] })
    assert.deepEqual(invalidatedHashes(client), [...expected].sort())
  })

  test('exact keys match TanStack hashing: object keys in any order', async () => {
    const client = await build()
    applyPlan(client, {
      invalidate: [inv(['list', 'wo', 'f1', { size: 10, page: 1 }], { exact: true, refetchType: 'none' })],
      patch: [],
      refetch: [],
    })
    assert.deepEqual(invalidatedHashes(client), [hashKey(['list', 'wo', 'f1', { page: 1, size: 10 }])])
  })
})

describe('patches', () => {
  test('only the named fields are written, into a new object, without a refetch', async () => {
    const client = makeClient()
    const doc = await observeSettled(client, ['doc', 'wo', '1'], () => ({ id: 1, title: 'a', status: 'open', version: 1 }))
    const before = client.getQueryData(['doc', 'wo', '1'])

    const result = applyPlan(client, { invalidate: [], patch: [patchOp(['doc', 'wo', '1'], { status: 'approved' }, 2)], refetch: [] })
    await settle(client)

    assert.deepEqual(result, { invalidations: 0, patches: 1 })
    assert.deepEqual(client.getQueryData(['doc', 'wo', '1']), { id: 1, title: 'a', status: 'approved', version: 2 })
    assert.deepEqual(before, { id: 1, title: 'a', status: 'open', version: 1 }, 'the old object is never mutated')
    assert.equal(doc.calls, 1)
    assert.equal(doc.query.state.isInvalidated, false)
  })

  test('version guard: a patch older than the cached doc is skipped, a newer one stands', async () => {
    const client = makeClient()
    client.setQueryData(['doc', 'wo', '1'], { id: 1, status: 'b', version: 5 })

    let result = applyPlan(client, { invalidate: [], patch: [patchOp(['doc', 'wo', '1'], { status: 'old' }, 4)], refetch: [] })
    assert.deepEqual(result, { invalidations: 0, patches: 0 })
    assert.deepEqual(client.getQueryData(['doc', 'wo', '1']), { id: 1, status: 'b', version: 5 })

    result = applyPlan(client, { invalidate: [], patch: [patchOp(['doc', 'wo', '1'], { status: 'same' }, 5)], refetch: [] })
    assert.equal(result.patches, 1, 'an equal version is not older')

    result = applyPlan(client, { invalidate: [], patch: [patchOp(['doc', 'wo', '1'], { status: 'new' }, 6)], refetch: [] })
    assert.deepEqual(result, { invalidations: 0, patches: 1 })
    assert.deepEqual(client.getQueryData(['doc', 'wo', '1']), { id: 1, status: 'new', version: 6 })

    result = applyPlan(client, { invalidate: [], patch: [patchOp(['doc', 'wo', '1'], { status: 'unversioned' }, null)], refetch: [] })
    assert.deepEqual(client.getQueryData(['doc', 'wo', '1']), { id: 1, status: 'unversioned', version: 6 })
  })

  test('a doc that is not in the cache becomes an invalidation of its key', async () => {
    const client = makeClient()
    let ready = false
    const doc = observe(client, ['doc', 'wo', '9'], () => {
      if (!ready) throw new Error('first fetch fails: the query has no data')
      return { id: 9, status: 'server' }
    })
    await settle(client)
    assert.equal(doc.data, undefined)
    ready = true

    const result = applyPlan(client, {
      invalidate: [inv(['doc', 'wo', '9'])],
      patch: [patchOp(['doc', 'wo', '9'], { status: 'local' }, 3), patchOp(['doc', 'wo', '10'], { status: 'x' }, 1)],
      refetch: [],
    })
    await settle(client)

    assert.deepEqual(result, { invalidations: 2, patches: 0 }, "a fallback onto a key already invalidated counts once")
    assert.equal(doc.calls, 2)
    assert.deepEqual(doc.data, { id: 9, status: 'server' })
  })

  test('__proto__, constructor and prototype are never written', async () => {
    const client = makeClient()
    client.setQueryData(['doc', 'wo', '1'], { id: 1, status: 'open' })
    const fields = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true},"status":"ok"}')

    const result = applyPlan(client, { invalidate: [], patch: [patchOp(['doc', 'wo', '1'], fields, null)], refetch: [] })

    const data = client.getQueryData(['doc', 'wo', '1'])
    assert.equal(result.patches, 1)
    assert.deepEqual(data, { id: 1, status: 'ok' })
    assert.equal(Object.getPrototypeOf(data), Object.prototype)
    assert.equal(Object.hasOwn(data, '__proto__'), false)
    assert.equal(Object.hasOwn(data, 'constructor'), false)
    assert.equal(Object.hasOwn(data, 'prototype'), false)
    assert.equal({}.polluted, undefined)
    assert.equal(Object.prototype.polluted, undefined)
  })
})

describe('nothing is lost to a fetch in flight (TanStack/query#8530)', () => {
  function server(initial) {
    const state = { value: initial, gates: [] }
    state.fn = async () => {
      const answer = state.value
      const gate = deferred()
      state.gates.push(gate)
      await gate.promise
      return { value: answer }
    }
    state.release = () => { for (const gate of state.gates.splice(0)) gate.resolve() }
    return state
  }

  test('a first fetch in flight is restarted after the flush and the post-change answer wins', async () => {
    const client = makeClient()
    const api = server('before')
    const doc = observe(client, ['doc', 'wo', '1'], api.fn)
    await sleep(0)
    assert.equal(doc.calls, 1)
    assert.equal(doc.query.state.fetchStatus, 'fetching')
    assert.equal(doc.query.state.data, undefined)

    api.value = 'after'
    applyPlan(client, { invalidate: [inv(['doc', 'wo'])], patch: [], refetch: [] })
    await sleep(0)
    api.release()
    await settle(client)
    api.release()
    await settle(client)

    assert.equal(doc.calls, 2)
    assert.deepEqual(doc.data, { value: 'after' })
    assert.equal(doc.query.state.status, 'success')
  })

  test('the callers of the first fetch get the post-change answer', async () => {
    const client = makeClient()
    const api = server('before')
    const pending = client.fetchQuery({ queryKey: ['doc', 'wo', '2'], queryFn: api.fn })
    const doc = observe(client, ['doc', 'wo', '2'], api.fn)
    await sleep(0)
    api.value = 'after'
    applyPlan(client, { invalidate: [inv(['doc', 'wo', '2'], { exact: true })], patch: [], refetch: [] })
    await sleep(0)
    api.release()
    assert.deepEqual(await pending, { value: 'after' })
    assert.equal(doc.calls, 1, 'the observer joined the running fetch; only the restart called it')
  })

  test('a refetch in flight on a query with data is restarted too', async () => {
    const client = makeClient()
    const api = server('v1')
    const doc = observe(client, ['doc', 'wo', '3'], api.fn)
    await sleep(0)
    api.release()
    await settle(client)
    doc.observer.refetch()
    await sleep(0)
    assert.equal(doc.query.state.fetchStatus, 'fetching')

    api.value = 'v3'
    applyPlan(client, { invalidate: [inv(['doc', 'wo', '3'])], patch: [], refetch: [] })
    await sleep(0)
    api.release()
    await settle(client)

    assert.equal(doc.calls, 3)
    assert.deepEqual(doc.data, { value: 'v3' })
  })

  test('a refetch entry restarts a first fetch in flight', async () => {
    const client = makeClient()
    const api = server('before')
    const list = observe(client, ['list', 'wo', 'f1', { page: 1 }], api.fn)
    await sleep(0)
    api.value = 'after'
    applyPlan(client, { invalidate: [], patch: [], refetch: [refetchOp(['list', 'wo', 'f1'])] })
    await sleep(0)
    api.release()
    await settle(client)
    assert.equal(list.calls, 2)
    assert.deepEqual(list.data, { value: 'after' })
  })

  test("a first fetch in flight that the plan does not refetch keeps running (refetchType 'none')", async () => {
    const client = makeClient()
    const api = server('before')
    const doc = observe(client, ['doc', 'wo', '4'], api.fn)
    await sleep(0)
    applyPlan(client, { invalidate: [inv(['doc', 'wo', '4'], { refetchType: 'none' })], patch: [], refetch: [] })
    await sleep(0)
    api.release()
    await settle(client)
    assert.equal(doc.calls, 1)
    assert.equal(doc.query.state.status, 'success')
    assert.equal(doc.query.state.fetchStatus, 'idle')
  })
})

describe('refetchType and activity', () => {
  test("inactive queries are invalidated but not refetched with 'active'", async () => {
    const client = makeClient()
    const gone = await inactive(client, ['doc', 'wo', '1'])
    const shown = await observeSettled(client, ['doc', 'wo', '2'])

    applyPlan(client, { invalidate: [inv(['doc', 'wo'])], patch: [], refetch: [] })
    await settle(client)

    assert.equal(gone.calls, 1)
    assert.equal(gone.query.state.isInvalidated, true)
    assert.equal(shown.calls, 2)
  })

  test("'inactive' refetches only inactive queries, 'all' both, 'none' neither", async () => {
    const client = makeClient()
    const gone = await inactive(client, ['a', 1])
    const shown = await observeSettled(client, ['a', 2])

    applyPlan(client, { invalidate: [inv(['a'], { refetchType: 'inactive' })], patch: [], refetch: [] })
    await settle(client)
    assert.deepEqual([gone.calls, shown.calls], [2, 1])

    applyPlan(client, { invalidate: [inv(['a'], { refetchType: 'all' })], patch: [], refetch: [] })
    await settle(client)
    assert.deepEqual([gone.calls, shown.calls], [3, 2])

    applyPlan(client, { invalidate: [inv(['a'], { refetchType: 'none' })], patch: [], refetch: [] })
    await settle(client)
    assert.deepEqual([gone.calls, shown.calls], [3, 2])
    assert.equal(shown.query.state.isInvalidated, true)
  })

  test('refetch entries refetch active queries under the key, without invalidating, each once', async () => {
    const client = makeClient()
    const page1 = await observeSettled(client, ['list', 'wo', 'f1', { page: 1 }])
    const page2 = await observeSettled(client, ['list', 'wo', 'f1', { page: 2 }])
    const gone = await inactive(client, ['list', 'wo', 'f1', { page: 3 }])
    const doc = await observeSettled(client, ['doc', 'wo', '1'])

    applyPlan(client, {
      invalidate: [inv(['list', 'wo', 'f1', { page: 2 }])],
      patch: [],
      refetch: [refetchOp(['list', 'wo', 'f1']), refetchOp(['list', 'wo']), refetchOp(['list', 'wo', 'f1', { page: 1 }], { exact: true })],
    })
    await settle(client)

    assert.equal(page1.calls, 2)
    assert.equal(page1.query.state.isInvalidated, false)
    assert.equal(page2.calls, 2, 'invalidated and refetched in the same plan: once')
    assert.equal(gone.calls, 1)
    assert.equal(doc.calls, 1)
  })
})

test('a 15,000-key plan over a 5,000-query cache completes', async () => {
  const client = makeClient()
  const docs = 4000
  for (let i = 0; i < docs; i++) client.setQueryData(['doc', 'wo', String(i)], { id: i, version: 1 })
  for (let i = 0; i < 1000; i++) client.setQueryData(['list', 'wo', `f${i % 10}`, { page: Math.floor(i / 10) + 1 }], { items: [] })
  const active = await observeSettled(client, ['doc', 'wo', '7'])

  const invalidate = []
  for (let i = 0; i < 10000; i++) invalidate.push(inv(['doc', 'wo', String(i * 2)], { exact: true }))
  for (let i = 0; i < 4000; i++) invalidate.push(inv(['doc', 'other', String(i)]))
  for (let i = 0; i < 1000; i++) invalidate.push(inv(['list', 'wo', `f${Math.floor(i / 50)}`, { page: (i % 50) + 1 }], { refetchType: 'all' }))
  assert.equal(invalidate.length, 15000)

  const start = performance.now()
  const result = applyPlan(client, { invalidate, patch: [], refetch: [refetchOp(['doc', 'wo'])] })
  const ms = performance.now() - start
  console.log(`# applyPlan: 15,000 keys over ${client.getQueryCache().getAll().length} queries in ${ms.toFixed(1)} ms`)

  assert.equal(result.invalidations, 15000)
  const invalidated = client.getQueryCache().getAll().filter((q) => q.state.isInvalidated)
  // Even doc ids (2,000 of 4,000); pages 1..50 of f0..f9 (the cache holds pages 1..100 of f0..f9).
  assert.equal(invalidated.length, docs / 2 + 10 * 50)
  await settle(client)
  assert.equal(active.calls, 2, 'the active doc, matched by an invalidation and a refetch entry, refetched once')
})

test('queries whose keys are hashed their own way (queryKeyHashFn) are matched by their default hash', () => {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity, queryKeyHashFn: (key) => 'own:' + JSON.stringify(key) } } })
  const keys = [['doc', 'wo', '1'], ['doc', 'wo', '2'], ['doc', 'x', '1'], ['doc', 'x', '2'], ['list', 'wo', { page: 1 }, 'a'], ['list', 'wo', { page: 2 }, 'a']]
  for (const k of keys) client.setQueryData(k, { v: 1 })
  assert.ok(client.getQueryCache().getAll().every((q) => q.queryHash.startsWith('own:')))
  applyPlan(client, {
    invalidate: [inv(['doc', 'wo']), inv(['doc', 'x', '1'], { exact: true }), inv(['list', 'wo', { page: 1 }])],
    patch: [],
    refetch: [],
  })
  const invalidated = client.getQueryCache().getAll().filter((q) => q.state.isInvalidated).map((q) => hashKey(q.queryKey)).sort()
  assert.deepEqual(invalidated, [['doc', 'wo', '1'], ['doc', 'wo', '2'], ['doc', 'x', '1'], ['list', 'wo', { page: 1 }, 'a']].map(hashKey).sort())
})
