// The binary flush plan as the real engine writes it, read by js/applyPlan.js's decoder.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadWasm } from '../../js/loadWasm.js'
import { applyPlan, createPlanDecoder } from '../../js/applyPlan.js'
import { canonical } from '../../js/replay.js'
import { makeClient, hashKey } from './helpers.mjs'

async function engineWithDecoder() {
  const { WasmRealtime } = await loadWasm()
  const engine = new WasmRealtime({ debounceMs: 600000, maxWaitMs: 600000 })
  const decode = createPlanDecoder()
  const plans = []
  engine.setHandlers({ plan: (bytes) => plans.push(decode(bytes)), error: (e) => { throw e } })
  const invalidate = (queryKey, extra = {}) => engine.ingestText('invalidate', JSON.stringify({ queryKey, ...extra }))
  return { engine, plans, invalidate }
}

test('decoded plans have the INTERFACES.md shape; new keys (any UTF-16) cross once and are reused', async () => {
  const { engine, plans, invalidate } = await engineWithDecoder()
  const keys = [['doc', 'wo', 'é😀'], ['doc', 'wo', 'x\u2028y'], ['list', 'wo', { page: 1, f: 'ü' }], ['a']]
  invalidate(keys[0])
  invalidate(keys[1], { exact: true, refetchType: 'all' })
  invalidate(keys[2], { refetchType: 'none' })
  engine.flush()
  invalidate(keys[0])
  invalidate(keys[3], { refetchType: 'inactive' })
  engine.flush()
  engine.dispose()
  assert.equal(plans.length, 2)
  const ops = plans.map((p) => p.invalidate.map((o) => ({ queryKey: o.queryKey, queryHash: o.queryHash, exact: o.exact, refetchType: o.refetchType })))
  assert.deepEqual(ops[0], [
    { queryKey: keys[0], queryHash: hashKey(keys[0]), exact: false, refetchType: 'active' },
    { queryKey: keys[1], queryHash: hashKey(keys[1]), exact: true, refetchType: 'all' },
    { queryKey: keys[2], queryHash: hashKey(keys[2]), exact: false, refetchType: 'none' },
  ])
  assert.deepEqual(ops[1], [
    { queryKey: keys[0], queryHash: hashKey(keys[0]), exact: false, refetchType: 'active' },
    { queryKey: keys[3], queryHash: hashKey(keys[3]), exact: false, refetchType: 'inactive' },
  ])
  // Serialised (traces, replay) as plain data: the op lists and nothing else.
  const json = JSON.parse(JSON.stringify(plans[0]))
  assert.deepEqual(Object.keys(json), ['invalidate', 'patch', 'refetch'])
  assert.equal(json.invalidate[1].queryHash, hashKey(keys[1]))
  assert.equal(canonical(plans[1]), canonical({ invalidate: ops[1], patch: [], refetch: [] }))
})

test('a decoded plan and the same plan as objects apply alike', async () => {
  const { engine, plans, invalidate } = await engineWithDecoder()
  const keys = [['doc', 'wo', '1'], ['list', 'wo', 'f1'], ['list', 'wo', { page: 1 }], ['doc', 'wo', 'ü']]
  for (const k of keys) invalidate(k)
  engine.flush()
  engine.dispose()
  const setUp = () => {
    const client = makeClient()
    for (const k of [['doc', 'wo', '1'], ['doc', 'wo', '2'], ['doc', 'wo', 'ü'], ['list', 'wo', 'f1', { page: 1 }], ['list', 'wo', { page: 1, size: 2 }], ['list', 'wo', { page: 2 }], ['list']]) {
      client.setQueryData(k, { v: 1 })
    }
    return client
  }
  const invalidated = (client) => client.getQueryCache().getAll().filter((q) => q.state.isInvalidated).map((q) => q.queryHash).sort()
  const a = setUp()
  const b = setUp()
  const ra = applyPlan(a, plans[0])
  const rb = applyPlan(b, JSON.parse(JSON.stringify(plans[0], (k, v) => v)))
  assert.deepEqual(ra, rb)
  assert.equal(ra.invalidations, 4)
  assert.deepEqual(invalidated(a), invalidated(b))
  assert.deepEqual(invalidated(a), [['doc', 'wo', '1'], ['doc', 'wo', 'ü'], ['list', 'wo', 'f1', { page: 1 }], ['list', 'wo', { page: 1, size: 2 }]].map(hashKey).sort())
})

test('keys are found by the number the core sends and told apart by their text', async () => {
  // ["doc","wo","qebdui"] and ["doc","wo","hmgfgu"] have the same FNV-1a (the number plan keys
  // are filed under, plan.rs text_hash): only the text tells them apart.
  const { engine, plans, invalidate } = await engineWithDecoder()
  invalidate(['doc', 'wo', 'qebdui'])
  invalidate(['doc', 'wo', 'é😀'], { exact: true })
  invalidate(['list', 'wo', { page: 1 }])
  engine.flush()
  engine.dispose()
  const cached = [
    ['doc', 'wo', 'qebdui'], ['doc', 'wo', 'hmgfgu'], ['doc', 'wo', 'qebdui', 'sub'], ['doc', 'wo', 'hmgfgu', 'sub'],
    ['doc', 'wo', 'é😀'], ['doc', 'wo', 'é😀', 'sub'], ['list', 'wo', { page: 1 }, 'x'], ['list', 'wo', { page: 2 }, 'x'], ['list', 'wo'],
  ]
  const setUp = () => {
    const client = makeClient()
    for (const k of cached) client.setQueryData(k, { v: 1 })
    return client
  }
  const invalidated = (client) => client.getQueryCache().getAll().filter((q) => q.state.isInvalidated).map((q) => q.queryHash).sort()
  const want = [['doc', 'wo', 'qebdui'], ['doc', 'wo', 'qebdui', 'sub'], ['doc', 'wo', 'é😀'], ['list', 'wo', { page: 1 }, 'x']].map(hashKey).sort()
  const decoded = setUp()
  assert.deepEqual(applyPlan(decoded, plans[0]), { invalidations: 3, patches: 0 })
  assert.deepEqual(invalidated(decoded), want)
  // The same plan as objects: the shim computes the numbers itself, and they agree.
  const objects = setUp()
  assert.deepEqual(applyPlan(objects, JSON.parse(JSON.stringify(plans[0]))), { invalidations: 3, patches: 0 })
  assert.deepEqual(invalidated(objects), want)
})

test('an all-ASCII plan is matched by its bytes and still reads as strings', async () => {
  // No key outside ASCII: the decoder keeps the plan's text as bytes and the matcher compares
  // those; the FNV twins above must still be told apart, and the op lists read afterwards hold
  // the same hashes a string plan would.
  const { engine, plans, invalidate } = await engineWithDecoder()
  const keys = [['doc', 'wo', 'qebdui'], ['doc', 'wo', 'x'], ['list', 'wo', { page: 1 }]]
  invalidate(keys[0])
  invalidate(keys[1], { exact: true })
  invalidate(keys[2])
  engine.flush()
  engine.dispose()
  const client = makeClient()
  const cached = [
    ['doc', 'wo', 'qebdui'], ['doc', 'wo', 'hmgfgu'], ['doc', 'wo', 'qebdui', 'sub'], ['doc', 'wo', 'hmgfgu', 'sub'],
    ['doc', 'wo', 'x'], ['doc', 'wo', 'x', 'sub'], ['list', 'wo', { page: 1 }, 'x'], ['list', 'wo', { page: 2 }, 'x'],
  ]
  for (const k of cached) client.setQueryData(k, { v: 1 })
  assert.deepEqual(applyPlan(client, plans[0]), { invalidations: 3, patches: 0 })
  const invalidated = client.getQueryCache().getAll().filter((q) => q.state.isInvalidated).map((q) => q.queryHash).sort()
  assert.deepEqual(invalidated, [['doc', 'wo', 'qebdui'], ['doc', 'wo', 'qebdui', 'sub'], ['doc', 'wo', 'x'], ['list', 'wo', { page: 1 }, 'x']].map(hashKey).sort())
  assert.deepEqual(plans[0].invalidate.map((o) => [o.queryHash, o.queryKey]), keys.map((k) => [hashKey(k), k]))
})
