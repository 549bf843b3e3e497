// rt.inspect and replayTrace with the real engine and a real QueryClient: a session recorded live
// (real timers, Date.now()) replays into a fresh engine to the same plans; a changed option or a
// tampered record is reported as a difference, not hidden.
import { test, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRealtime, docKey, listKey } from '../../js/index.js'
import { replayTrace, canonical } from '../../js/replay.js'
import { summarizeTrace } from '../../js/devtools.js'
import { MutationObserver } from '@tanstack/query-core'
import { makeClient, observeSettled, settle, sleep, waitFor, deferred } from './helpers.mjs'

const T = 'work_orders'
const engines = []
afterEach(() => { for (const rt of engines.splice(0)) rt.dispose() })

const envelope = (id, action, n, data = {}) => ({ type: 'realtime', entity: T, action, data: { id, factory_id: 'f1', version: n, ...data }, timestamp: 't', id: `chg-${n}` })

async function record(options = {}) {
  const client = makeClient()
  const rt = await createRealtime({ queryClient: client, debounceMs: 30, maxWaitMs: 120, scope: { factoryId: 'f1' }, onError: () => {}, ...options })
  engines.push(rt)
  const records = []
  const stop = rt.inspect((r) => records.push(r))
  return { client, rt, records, stop }
}

test('inspect: a start record, then inputs, plans with what they refetched, status and errors', async () => {
  const { client, rt, records, stop } = await record()
  const doc = await observeSettled(client, docKey(T, 1), () => ({ id: 1 }))
  const off = rt.subscribe({ kind: 'doc', type: T, id: 1 })
  rt.ingest('envelope', envelope(1, 'update', 2))
  rt.ingest('envelope', 42)
  await waitFor(() => records.some((r) => r.kind === 'plan'))
  await settle(client)
  assert.equal(records[0].kind, 'start')
  assert.deepEqual(records[0].options.scope, { factoryId: 'f1' })
  assert.deepEqual(records.map((r) => r.kind).filter((k) => k !== 'channels'), ['start', 'subscribe', 'ingest', 'ingest', 'error', 'plan'])
  const plan = records.find((r) => r.kind === 'plan')
  assert.deepEqual(plan.plan.invalidate.map((o) => o.queryKey), [docKey(T, 1)])
  assert.deepEqual(plan.refetched, [JSON.stringify(docKey(T, 1))], 'the fetch the flush started')
  assert.equal(doc.calls, 2)
  stop()
  off()
  const n = records.length
  rt.ingest('envelope', envelope(1, 'update', 3))
  assert.equal(records.length, n, 'nothing is recorded after stop')
})

test('a burst recorded live replays to the same plans; a tampered trace or another option differs', async () => {
  const { client, rt, records } = await record()
  await observeSettled(client, docKey(T, 1), () => ({}))
  await observeSettled(client, listKey(T, 'f1'), () => ({}))
  rt.subscribe({ kind: 'list', type: T })
  let n = 0
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 40; i++) rt.ingest('envelope', envelope(1 + (i % 4), i % 10 === 0 ? 'insert' : 'update', ++n))
    rt.ingest('envelope', envelope(9, 'update', n)) // a duplicate event id
    await sleep(round === 1 ? 5 : 60) // round 1 runs into the next: one window, cut by maxWaitMs
  }
  rt.ingest('event', { type: T, id: 2, factoryId: 'f2', action: 'update' }) // out of scope
  rt.flush()
  rt.ingest('invalidate', { queryKey: ['dashboard'] })
  rt.dispose()
  const trace = { version: 1, options: records[0].options, records }
  const plans = records.filter((r) => r.kind === 'plan')
  assert.ok(plans.length >= 3, `${plans.length} plans`)

  const r = await replayTrace(JSON.parse(JSON.stringify(trace)))
  assert.equal(r.same, true, `first difference at ${r.firstDifference}: ${canonical(r.plans[r.firstDifference])} vs ${canonical(r.recorded[r.firstDifference])}`)
  assert.equal(r.plans.length, plans.length)
  assert.deepEqual(r.stats.dropped, rt.stats().dropped, 'the same drops, by reason')
  assert.equal(r.stats.received, rt.stats().received)
  assert.equal((await replayTrace(JSON.stringify(trace))).same, true, 'JSON text works too')

  const tampered = structuredClone(trace)
  tampered.records.find((x) => x.kind === 'plan').plan.invalidate.pop()
  const t = await replayTrace(tampered)
  assert.equal(t.same, false)
  assert.equal(t.firstDifference, 0)

  const other = await replayTrace(trace, { patch: false, rules: [{ table: T, invalidate: [['everything']] }] })
  assert.equal(other.same, false, 'another rule set makes other plans')
  assert.ok(other.plans.every((p) => p.plan.invalidate.every((o) => o.queryHash === '["everything"]' || o.queryHash === '["dashboard"]')))
})

test('a trace across an optimistic mutation (held, then released at the settle) replays to the same plans', async () => {
  const { client, rt, records } = await record({ debounceMs: 5, maxWaitMs: 20 })
  await observeSettled(client, docKey(T, 1), () => ({ title: 'server' }))
  await observeSettled(client, docKey(T, 2), () => ({ title: 'two' }))
  const gate = deferred()
  const m = new MutationObserver(client, { mutationKey: docKey(T, 1), mutationFn: () => gate.promise,
    onMutate: () => client.setQueryData(docKey(T, 1), { title: 'optimistic' }) })
  m.mutate().catch(() => {})
  await sleep(0)
  rt.ingest('envelope', envelope(1, 'update', 1))
  rt.ingest('envelope', envelope(2, 'update', 2))
  await sleep(40)
  assert.equal(client.getQueryData(docKey(T, 1)).title, 'optimistic', 'held')
  gate.resolve({})
  await sleep(20)
  await settle(client)
  const plans = records.filter((r) => r.kind === 'plan')
  assert.deepEqual(plans.map((p) => p.plan.invalidate.map((o) => o.queryKey[2])), [['2'], ['1']], 'doc 2 now, doc 1 after the settle')
  assert.ok(records.some((r) => r.kind === 'mutation') && records.some((r) => r.kind === 'settled'))
  const r = await replayTrace({ version: 1, options: records[0].options, records })
  assert.equal(r.same, true, `first difference at ${r.firstDifference}`)
  // The devtools' summary: the mutation held doc 1 while pending, and is gone after its settle.
  const settledAt = records.findIndex((x) => x.kind === 'settled')
  assert.deepEqual(summarizeTrace({ records: records.slice(0, settledAt) }).mutations.map((x) => x.keys), [[JSON.stringify(docKey(T, 1))]])
  assert.deepEqual(summarizeTrace({ records }).mutations, [])
  // Without the mutation records, the replay releases nothing late: the difference shows.
  const without = await replayTrace({ version: 1, options: records[0].options, records: records.filter((x) => x.kind !== 'mutation') })
  assert.equal(without.same, false)
})

test('replayTrace rejects what is not a trace', async () => {
  await assert.rejects(replayTrace({}), (e) => e.code === 'bad_trace')
  await assert.rejects(replayTrace('{not json'), SyntaxError)
})

// Hand-written traces on their own clock (what src/replay.rs's unit tests checked before the replay
// moved to js/replay.js): each record's `t` is the time the fresh engine sees.
const ingestAt = (t, id, n, factory = 'f1') => ({ t, kind: 'ingest', source: 'envelope', text: JSON.stringify(envelope(id, 'update', n, { factory_id: factory })) })
const docView = (handle, id) => ({ handle, view: { kind: 'doc', type: T, id } })
const keysOf = (p) => p.plan.invalidate.map((o) => o.queryKey[2]).sort()

test('replay on the trace\'s clock: the window closes where the live timer fired, not on the wall clock', async () => {
  const records = [{ t: 1000, kind: 'start', views: [docView(1, 1)] }]
  for (let i = 0; i < 50; i++) records.push(ingestAt(1000 + i, i % 5, i))
  // The live timer fired late (300 ms after the last event is 1349; the plan was applied at 1352).
  records.push({ t: 1352, kind: 'plan' }, ingestAt(1400, 1, 99), { t: 1401, kind: 'flush' })
  const trace = { version: 1, options: { debounceMs: 300, maxWaitMs: 1000, scope: { factoryId: 'f1' } }, records }
  const wall = Date.now()
  const r = await replayTrace(trace)
  assert.deepEqual(r.plans.map((p) => p.t), [1352, 1401])
  assert.deepEqual(keysOf(r.plans[0]), ['0', '1', '2', '3', '4'], 'five docs, each once')
  assert.deepEqual(keysOf(r.plans[1]), ['1'])
  assert.equal(r.stats.received, 51)
  assert.equal(r.stats.flushes, 2)
  assert.equal(r.same, false, 'the hand-written plan records carry no plans to compare')
  assert.deepEqual(await replayTrace(trace), r, 'deterministic')
  assert.ok(Date.now() >= wall, 'the real clock is back')
  // Overrides are merged over the trace's options: another scope drops every event.
  const other = await replayTrace(trace, { scope: { factoryId: 'f2' } })
  assert.deepEqual(other.plans, [])
  assert.equal(other.stats.dropped.outOfScope, 51)
  // Without the plan record no timer fires: the events wait for the flush.
  const noTimer = await replayTrace({ ...trace, records: records.filter((x) => x.kind !== 'plan') })
  assert.deepEqual(noTimer.plans.map((p) => [p.t, keysOf(p)]), [[1401, ['0', '1', '2', '3', '4']]])
})

test('replay: wire frames (a copy on a second channel is a duplicate), visibility, refused inputs', async () => {
  const frame = (t, channel, seq, id, n) => ({ t, kind: 'frame', text: JSON.stringify({ channel, seq, source: 'envelope', payload: envelope(id, 'update', n) }) })
  const records = [
    { t: 5000, kind: 'start', visible: false, views: [docView(7, 1), docView(8, 2)] },
    frame(5000, 'doc:work_orders:1', 1, 1, 1),
    frame(5001, 'factory:f1', 10, 1, 1), // the same change on another channel
    { t: 5002, kind: 'frame', text: '{not a frame' },
    // The page turned visible: the engine flushes at once, before the 300 ms window ends.
    { t: 5100, kind: 'visible', visible: true },
    { t: 5150, kind: 'unsubscribe', handle: 8 },
    frame(5160, 'factory:f1', 11, 2, 2),
    { t: 5200, kind: 'ingest', source: 'envelope', text: '42' },
    { t: 5500, kind: 'plan' },
  ]
  const r = await replayTrace({ version: 1, options: { debounceMs: 300, scope: { factoryId: 'f1' } }, records })
  assert.deepEqual(r.plans.map((p) => [p.t, keysOf(p)]), [[5100, ['1']], [5500, ['2']]])
  assert.equal(r.stats.dropped.duplicate, 1)
  assert.equal(r.errors, 2, 'the bad frame and the non-object payload')
  // Without the visibility records the first plan waits for the window.
  const hidden = await replayTrace({ version: 1, options: { debounceMs: 300, scope: { factoryId: 'f1' } },
    records: records.filter((x) => x.kind !== 'visible').map((x) => (x.kind === 'start' ? { ...x, visible: true } : x)) })
  assert.deepEqual(hidden.plans.map((p) => [p.t, keysOf(p)]), [[5500, ['1', '2']]])
})

test('replay restores the real Date.now / setTimeout / clearTimeout, also when the engine refuses the trace', async () => {
  const saved = [Date.now, globalThis.setTimeout, globalThis.clearTimeout]
  await replayTrace({ records: [{ t: 1, kind: 'ingest', source: 'envelope', text: '{}' }, { t: 2, kind: 'plan' }] })
  assert.deepEqual([Date.now, globalThis.setTimeout, globalThis.clearTimeout], saved)
  await assert.rejects(replayTrace({ options: { debounceMs: 'soon' }, records: [] }), (e) => e.code === 'invalid_option')
  assert.deepEqual([Date.now, globalThis.setTimeout, globalThis.clearTimeout], saved)
  // Malformed records are skipped or refused, never a crash.
  const r = await replayTrace({ records: [{ kind: 'ingest', t: -5, text: 3 }, { kind: 'subscribe', view: 1 }, null, { kind: 'scope', scope: 5 }, { kind: 'plan' }] })
  assert.deepEqual(r.plans, [])
  assert.deepEqual([Date.now, globalThis.setTimeout, globalThis.clearTimeout], saved)
})
