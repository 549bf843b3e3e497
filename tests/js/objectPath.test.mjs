// The object path (`rt.ingest('supabase', payload)`): the shim writes only the columns the core says it
// reads (crates/core/src/columns.rs), so it must give exactly what the text path gives for the same
// payload as JSON text (`rt.ingestText`): the same QueryClient calls, the same cache, the same stats
// and errors. Each scenario runs twice on a real QueryClient, once per path, and compares.
import { test, describe, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { hashKey } from '@tanstack/query-core'
import { createRealtime } from '../../js/index.js'
import { createStream, STREAM_RULES } from '../../bench/stream.js'
import { makeClient } from './helpers.mjs'

const engines = []
afterEach(() => {
  for (const rt of engines.splice(0)) rt.dispose()
})

const TABLES = ['work_orders', 'work_order_items', 'machines', 'inspections', 'goals']

/** A cache with docs of every table (so patches apply), list heads of every tenant and the rules' keys. */
function populate(client) {
  for (const t of TABLES) {
    for (let id = 0; id < 60; id++) client.setQueryData(['doc', t, String(id)], { id, version: 0, title: 'cached' })
    for (const f of ['f1', 'f2', 'f3', 'f4', '7']) client.setQueryData(['list', t, f, { page: 1 }], { items: [] })
  }
  // keys the rules below build from non-string values (a slot of each kind must cross as itself)
  for (const v of [true, false, null, 0, 7, 1.5, 'u', 'L1']) client.setQueryData(['goals', v], {})
  for (let id = 0; id < 60; id++) {
    client.setQueryData(['work_orders', 'items', id], [])
    client.setQueryData(['work_orders', 'inspections', id], [])
    client.setQueryData(['inspection', id], {})
  }
}

/** Records every QueryClient call a plan makes: what each invalidation matched, what each patch wrote. */
function record(client) {
  const log = []
  const invalidate = client.invalidateQueries.bind(client)
  const setData = client.setQueryData.bind(client)
  client.invalidateQueries = (filters = {}, options) => {
    const matched = client.getQueryCache().findAll(filters).map((q) => q.queryHash).sort()
    log.push(['invalidate', filters.refetchType ?? null, matched])
    return invalidate(filters, options)
  }
  client.setQueryData = (key, updater, options) => {
    const out = setData(key, updater, options)
    log.push(['set', hashKey(key), JSON.stringify(client.getQueryData(key))])
    return out
  }
  return log
}

function cache(client) {
  return client.getQueryCache().getAll().map((q) => [q.queryHash, JSON.stringify(q.state.data), q.state.isInvalidated]).sort()
}

/**
 * Runs `steps` (payload objects, `{ setScope }`, or 'flush') through one path and returns what the
 * client saw. `object`: rt.ingest with the object; otherwise rt.ingestText with JSON.stringify of it.
 */
async function run(object, steps, options) {
  const client = makeClient()
  populate(client)
  const errors = []
  const rt = await createRealtime({ queryClient: client, debounceMs: 60_000, maxWaitMs: 120_000, onError: (e) => errors.push(e), ...options })
  engines.push(rt)
  let picked = 0 // payloads the core read from slots
  let offered = 0 // payloads written as slots (the core may want some whole: a patched whole old row)
  let rows = 0 // of those, the ones whose rows the core asked for
  let typed = 0 // of those, the ones read from the slots with their rows (the others: rows as text)
  let again = false // the next call brings the rows (when they can be written as slots)
  const engine = rt._engine
  const ingestSlots = engine.ingestSlots
  engine.ingestSlots = function (...args) { // (words, len, epoch, now): counts; the real export runs
    const r = ingestSlots.apply(this, args)
    if (again) {
      again = false
      if (r === 0) typed++
      return r
    }
    offered++
    if (r === 0) picked++
    if (r === 3) {
      rows++
      again = true
    }
    return r
  }
  const log = record(client)
  for (const s of steps) {
    if (s === 'flush') rt.flush()
    else if (typeof s === 'function') s(rt, object) // calls rt itself
    else if (s && s.setScope !== undefined) rt.setScope(s.setScope)
    else if (object) {
      again = false // a second call in this payload brings its rows
      rt.ingest('supabase', s)
    }
    else rt.ingestText('supabase', JSON.stringify(s) ?? 'undefined')
  }
  rt.flush()
  return { log, cache: cache(client), stats: rt.stats(), errors: errors.map((e) => [e.code, e.message]), picked, offered, rows, typed }
}

async function same(steps, options, { minPicked = 1, minOffered = 1, minTyped = 0 } = {}) {
  const text = await run(false, steps, options)
  const obj = await run(true, steps, options)
  assert.deepEqual(obj.errors, text.errors, 'errors')
  assert.deepEqual(obj.stats, text.stats, 'stats')
  assert.deepEqual(obj.log, text.log, 'QueryClient calls')
  assert.deepEqual(obj.cache, text.cache, 'cache')
  assert.ok(obj.picked >= minPicked, `only ${obj.picked} payloads were read from slots`)
  assert.ok(obj.offered >= minOffered, `only ${obj.offered} payloads were written as slots`)
  assert.ok(obj.typed >= minTyped, `only ${obj.typed} payloads crossed with their rows as slots`)
  return obj
}

const sb = (eventType, table, nw, old, extra = {}) => ({
  schema: 'public', table, commit_timestamp: '2026-01-01T00:00:00.000+00:00', eventType, new: nw, old, errors: null, ...extra,
})
const wo = (id, f = {}) => ({ id, factory_id: 'f1', title: `wo ${id}`, status: 'open', qty: 1, version: 1, meta: { tags: ['a'] }, ...f })

/** Hand-made payloads around every rule of columns.rs: whole and key-only old rows, empty and odd rows, values. */
function edgeCases() {
  return [
    // UPDATE with the whole old row: only what changed is patched (unchanged columns are dropped on the way)
    sb('UPDATE', 'work_orders', wo(1, { status: 'done', version: 2 }), wo(1)),
    // nothing but unchanged columns (all dropped) and no version: an empty patch, not an invalidation
    sb('UPDATE', 'goals', { id: 2, a: 1, b: 'x' }, { id: 2, a: 1, b: 'x' }),
    // old with one unneeded column that did not change: still a whole old row
    sb('UPDATE', 'goals', { id: 3, a: 1, b: 'y' }, { id: 3, a: 1 }),
    // key-only old (no REPLICA IDENTITY FULL): the doc is invalidated
    sb('UPDATE', 'work_orders', wo(4, { version: 3 }), { id: 4 }),
    // old holding the key and version only: a "whole" old row by the adapter's rule, so a patch of everything else
    sb('UPDATE', 'goals', { id: 5, a: 1, version: 4 }, { id: 5, version: 3 }),
    // a changed nested value and an unchanged one (objects are always carried, the core compares)
    sb('UPDATE', 'work_orders', wo(6, { meta: { tags: ['b'] }, version: 2 }), wo(6)),
    sb('UPDATE', 'work_orders', wo(7, { qty: 2, version: 2 }), wo(7)),
    // forbidden fields and odd values in a patch
    sb('UPDATE', 'goals', { id: 8, constructor: 1, prototype: 2, note: 'é "q" \\ \n \ud800', n: -0, big: 2 ** 40, f: 1.5e300, tiny: 5e-7 }, { id: 8, constructor: 0, prototype: 2, note: '' }),
    // undefined and function values are left out, as JSON.stringify leaves them
    sb('UPDATE', 'goals', { id: 9, gone: undefined, fn: () => 1, a: 2 }, { id: 9, gone: 1, a: 1 }),
    // a new row with none of the needed columns, and new null with a whole old row
    sb('UPDATE', 'goals', { title: 'no id' }, { id: 10, title: 'x' }),
    sb('UPDATE', 'goals', null, { id: 11, title: 'x' }),
    sb('UPDATE', 'goals', { id: 12, title: 'x' }, null),
    sb('UPDATE', 'goals', { id: 13, title: 'x' }, undefined),
    // INSERT / DELETE: only the key, version and scope columns cross
    sb('INSERT', 'work_orders', wo(14), {}),
    sb('DELETE', 'work_orders', {}, wo(15)),
    sb('DELETE', 'work_orders', {}, { id: 16 }),
    sb('DELETE', 'machines', { id: 17, factory_id: 'f1' }, {}),
    // a row with members but none the core reads stays non-empty (the adapter picks `new` or `old` by that)
    sb('DELETE', 'goals', { id: 50, factory_id: 'f1' }, { title: 'x' }),
    sb('INSERT', 'goals', { title: 'x' }, { id: 51, factory_id: 'f2' }),
    sb('INSERT', 'work_order_items', { title: 'x' }, { id: 52, factory_id: 'f1', work_order_id: 3 }),
    // ids under other key columns, numbers as strings, escapes in the table name
    sb('INSERT', 'goals', { uuid: 'u-18', factory_id: 'f1' }, {}),
    sb('INSERT', 'goals', { code: 19, factory_id: 'f1' }, {}),
    sb('INSERT', 'go"als', { id: 20, factory_id: 'f1' }, {}),
    // scope in both spellings, agreeing and not
    sb('INSERT', 'goals', { id: 21, factoryId: 'f1', factory_id: 'f1' }, {}),
    sb('INSERT', 'goals', { id: 22, factoryId: 'f1', factory_id: 'f2' }, {}),
    sb('UPDATE', 'goals', { id: 23, factoryId: 'f2', a: 1 }, { id: 23, factoryId: 'f2', a: 2 }),
    // stale and duplicate versions
    sb('UPDATE', 'work_orders', wo(1, { status: 'old', version: 1 }), wo(1)),
    sb('UPDATE', 'work_orders', wo(1, { status: 'done', version: 2 }), wo(1)),
    // bad input: every error is the text path's
    sb('INSERT', 'goals', { title: 'no id' }, {}),
    sb('MERGE', 'goals', { id: 24 }, {}),
    sb('INSERT', 7, { id: 25 }, {}),
    sb('INSERT', 'goals', [1, 2], {}),
    sb('INSERT', 'goals', 'row', {}),
    { type: 'broadcast', event: 'change', payload: { type: 'goals', id: 26, action: 'update', factoryId: 'f1' } },
    'flush',
  ]
}

describe('the object path gives what the text path gives', () => {
  test('the benchmark stream (4 tables, rules, a whole old row on work_orders)', async () => {
    const s = createStream({ seed: 5, rowsPerTable: 15 })
    const steps = []
    for (let i = 0; i < 3000; i++) {
      steps.push(s.next())
      if (i % 500 === 499) steps.push('flush')
    }
    // Every payload is written as slots; the core wants the rows too only of the in-scope UPDATEs
    // of work_orders (a whole old row, patched from the diff): ~40 % tenant f1 of 40 % x 70 %.
    // Their rows hold no object value: each crosses as slots again, with the rows.
    const r = await same(steps, { scope: { factoryId: 'f1' }, rules: STREAM_RULES }, { minPicked: 2500, minOffered: 3000 })
    assert.ok(r.rows > 0 && r.picked + r.rows === 3000, `${r.picked} + ${r.rows}: the patched whole-row UPDATEs cross with their rows`)
    assert.equal(r.typed, r.rows, 'the rows cross as slots')
    assert.ok(r.stats.patches > 0 && r.stats.invalidations > 0, JSON.stringify(r.stats))
  })

  test('the same stream with patch off, under the snake_case scope spelling', async () => {
    const s = createStream({ seed: 6, rowsPerTable: 15 })
    const steps = Array.from({ length: 1500 }, () => s.next())
    await same(steps, { scope: { factory_id: 'f2' }, rules: STREAM_RULES, patch: false }, { minPicked: 1500, minOffered: 1500 })
  })

  test('edge cases: whole and key-only old rows, empty rows, odd values, bad input', async () => {
    await same(edgeCases(), { scope: { factoryId: 'f1' } })
  })

  test('whole rows crossing as slots: every kind of value, names and values as JSON writes them', async () => {
    const steps = [
      // every scalar kind, changed and not: null, true, false, NaN and ±Infinity (null in JSON), -0 (0)
      sb('UPDATE', 'goals', { id: 70, a: true, b: null, c: NaN, d: -0, e: 1e21, f: false, g: Infinity, h: 0.1 + 0.2 }, { id: 70, a: false, b: 0, c: null, d: 0, e: 1e21, f: false, g: null, h: 0.3 }),
      sb('UPDATE', 'goals', { id: 71, a: null, b: true, c: 'x' }, { id: 71, a: 'null', b: 'true', c: 'x' }),
      // non-ASCII values and names (a surrogate pair makes the rows cross as text)
      sb('UPDATE', 'goals', { id: 72, é: 'ü', note: '漢字' }, { id: 72, é: 'u', note: '字' }),
      sb('UPDATE', 'goals', { id: 69, note: '漢字 😀' }, { id: 69, note: '漢字' }),
      // other orders, a column only in old, one only in new
      sb('UPDATE', 'goals', { id: 73, b: 2, a: 1, n: 'new' }, { id: 73, a: 1, b: 1, o: 'old' }),
      // new with no member: the row read is old (its rows still cross)
      sb('UPDATE', 'goals', {}, { id: 74, a: 1 }),
      // undefined and function members are left out of the rows, as JSON.stringify leaves them
      sb('UPDATE', 'goals', { id: 75, gone: undefined, fn: () => 1, a: 2 }, { id: 75, gone: 1, a: 1, fn: undefined }),
      // integer-like names come first in both (JS key order)
      sb('UPDATE', 'goals', { id: 76, b: 1, 2: 'two', 1: 'one' }, { id: 76, 1: 'one', b: 0 }),
      // these cross as their rows' text too: an object value, a name or a value that needs an escape
      sb('UPDATE', 'goals', { id: 77, meta: { a: 1 }, v: 1 }, { id: 77, meta: { a: 1 }, v: 0 }),
      sb('UPDATE', 'goals', { id: 78, 'a"b': 1 }, { id: 78, 'a"b': 0 }),
      sb('UPDATE', 'goals', { id: 79, t: 'line\n' }, { id: 79, t: 'line' }),
      // versions: the same guards as the text
      sb('UPDATE', 'goals', { id: 70, a: 1, version: 5 }, { id: 70, a: 0, version: 4 }),
      sb('UPDATE', 'goals', { id: 70, a: 2, version: 4 }, { id: 70, a: 1, version: 3 }),
      'flush',
    ]
    const ids = new Set(steps.filter((s) => s !== 'flush').map((s) => s.old.id))
    for (const id of ids) steps.push(sb('DELETE', 'goals', {}, { id })) // and each doc goes
    const r = await same(steps, {}, { minTyped: 9 })
    assert.equal(r.rows - r.typed, 4, 'four cross as text')
  })

  test('edge cases without a scope, with rules whose placeholders read other columns', async () => {
    const rules = [
      { table: 'goals', events: ['UPDATE'], invalidate: [['goals', '{owner}'], { queryKey: ['goal-{id}-{lot}'], exact: true }] },
      { table: 'work_orders', events: ['INSERT', 'DELETE'], invalidate: [['wo', '{factory_id}', '{site}']] },
    ]
    const steps = [
      ...edgeCases(),
      sb('UPDATE', 'goals', { id: 30, owner: { name: 'x' }, lot: 'L1', other: 1 }, { id: 30 }),
      sb('UPDATE', 'goals', { id: 31, lot: 2 }, { id: 31, owner: 'u', lot: 1 }),
      sb('INSERT', 'work_orders', wo(32, { site: 9 }), {}),
      sb('DELETE', 'work_orders', {}, wo(33, { site: 'b' })),
      // placeholder values of every slot kind: booleans, null, numbers, a NaN (null as JSON writes it)
      // (a flush after each: a plan's operations come sorted, so two swapped values would not show)
      sb('UPDATE', 'goals', { id: 34, owner: true, lot: 1 }, { id: 34 }),
      'flush',
      sb('UPDATE', 'goals', { id: 35, owner: false, lot: 1.5 }, { id: 35 }),
      'flush',
      sb('UPDATE', 'goals', { id: 36, owner: null, lot: 0 }, { id: 36 }),
      'flush',
      sb('UPDATE', 'goals', { id: 37, owner: NaN, lot: 7 }, { id: 37 }),
      'flush',
    ]
    await same(steps, { rules, primaryKey: ['id', 'uuid'] })
  })

  test('members as JSON.stringify reads them: a getter called once, a non-enumerable member not there', async () => {
    const hidden = (o, k) => {
      const v = o[k]
      delete o[k]
      return Object.defineProperty(o, k, { value: v, enumerable: false })
    }
    const calls = { table: 0, version: 0, row: 0 }
    const steps = [
      hidden(sb('INSERT', 'goals', { id: 1, factory_id: 'f1' }, {}), 'table'), // no table: the text path's error
      hidden(sb('INSERT', 'goals', { id: 2, factory_id: 'f1' }, { id: 3, factory_id: 'f1' }), 'new'), // the row read is old
      sb('DELETE', 'goals', {}, hidden({ id: 4, uuid: 'u4', factory_id: 'f1' }, 'id')), // the id is the uuid
      sb('INSERT', 'goals', hidden({ id: 5, factory_id: 'f1', version: 2 }, 'factory_id'), {}),
      { ...sb('INSERT', '', { id: 6, factory_id: 'f1' }, {}), get table() { calls.table++; return 'goals' } },
      sb('INSERT', 'goals', { id: 7, factory_id: 'f1', get version() { calls.version++; return 3 } }, {}),
      { ...sb('UPDATE', 'goals', null, { id: 8 }), get new() { calls.row++; return { id: 8, factory_id: 'f1', version: 1 } } },
      'flush',
    ]
    await same(steps, { scope: { factoryId: 'f1' } }, { minPicked: 3 })
    assert.deepEqual(calls, { table: 2, version: 2, row: 2 }, 'each getter once per path')
  })

  test('the 1 MiB limit is the whole payload\'s, even where the core reads none of the big column', async () => {
    const steps = [
      sb('INSERT', 'goals', { id: 60, factory_id: 'f1', notes: 'n'.repeat(1048576) }, {}),
      sb('UPDATE', 'goals', { id: 61, factory_id: 'f1', notes: 'é'.repeat(600000) }, { id: 61 }),
      sb('INSERT', 'goals', { id: 62, factory_id: 'f1', notes: 'n'.repeat(900000) }, {}),
      sb('INSERT', 'goals', { id: 63, factory_id: 'f1', notes: 'n'.repeat(1000) }, {}),
      'flush',
    ]
    const r = await same(steps, { scope: { factoryId: 'f1' } })
    assert.deepEqual(r.errors.map((e) => e[0]), ['too_large', 'too_large'])
  })

  test('setScope naming another field: the core refuses the old needs and the next payloads follow the new ones', async () => {
    const steps = [
      sb('INSERT', 'goals', { id: 40, factory_id: 'f1', site_id: 's1' }, {}),
      { setScope: { siteId: 's2' } },
      sb('INSERT', 'goals', { id: 41, factory_id: 'f1', site_id: 's1' }, {}),
      sb('INSERT', 'goals', { id: 42, factory_id: 'f1', siteId: 's2' }, {}),
      sb('UPDATE', 'goals', { id: 43, site_id: 's1', a: 1 }, { id: 43, site_id: 's1', a: 0 }),
      'flush',
    ]
    const r = await same(steps, { scope: { factoryId: 'f1' } })
    assert.equal(r.stats.dropped.outOfScope, 2, JSON.stringify(r.stats))
  })
})

describe('callbacks may call back: a getter or toJSON read from a payload may call rt', () => {
  // App code runs while the shim reads a payload (a getter, a toJSON JSON.stringify calls). When it
  // calls rt, what the client sees is what it sees for the two payloads ingested one after the
  // other, the inner first (as the text path reads them: JSON.stringify calls the getter first).
  const calls = { n: 0 }
  // `o[k]` as a getter that calls `fn(rt)` once, then gives the value; without rt, the plain value.
  const getter = (o, k, rt, fn) => {
    const v = o[k]
    if (!rt) return o
    return Object.defineProperty(o, k, { get() { calls.n++; fn(rt); return v }, enumerable: true, configurable: true })
  }
  const send = (rt, object, p) => (object ? rt.ingest('supabase', p) : rt.ingestText('supabase', JSON.stringify(p)))
  const inners = () => [
    sb('INSERT', 'goals', { id: 30, factory_id: 'f1', version: 1 }, {}), // slots
    sb('UPDATE', 'work_orders', wo(31, { status: 'done', version: 2 }), wo(31)), // slots, then the rows as text (meta)
    sb('UPDATE', 'goals', { id: 32, a: 2, b: 'y', version: 2 }, { id: 32, a: 1, b: 'x', version: 1 }), // slots with rows
  ]
  // Outer payloads of each kind, whose read calls `fn` (with rt) at a row value, a whole old row's
  // value, the table name, or a nested value's toJSON.
  const outers = (rt, fn) => [
    sb('UPDATE', 'work_orders', getter(wo(1, { status: 'done', version: 2 }), 'title', rt, fn), wo(1)),
    sb('UPDATE', 'goals', { id: 2, a: 2, b: 'q', version: 2 }, getter({ id: 2, a: 1, b: 'p', version: 1 }, 'b', rt, fn)),
    getter(sb('INSERT', 'goals', { id: 3, factory_id: 'f1', version: 1 }, {}), 'table', rt, fn),
    sb('INSERT', 'work_orders', wo(4, { meta: rt ? { toJSON() { calls.n++; fn(rt); return { tags: ['t'] } } } : { tags: ['t'] } }), {}),
    sb('DELETE', 'machines', {}, getter({ id: 5, factory_id: 'f1', version: 1 }, 'id', rt, fn)),
    // read, then sent whole: an id that needs an escape, a table name that does, a broadcast
    sb('INSERT', 'goals', getter({ id: 'x"6', factory_id: 'f1', version: 1 }, 'version', rt, fn), {}),
    sb('INSERT', 'go"als', getter({ id: 7, factory_id: 'f1', version: 1 }, 'version', rt, fn), {}),
    getter({ type: 'broadcast', event: 'change', payload: { type: 'goals', id: 8, action: 'update', factoryId: 'f1' } }, 'payload', rt, fn),
  ]
  // Each outer payload with `inner(rt)` called from inside its read, against the same payloads in order.
  async function check(inner, after) {
    for (const [i, innerP] of inners().entries()) {
      for (let o = 0; o < outers(null).length; o++) {
        const label = `outer ${o}, inner ${i}`
        const seq = [innerP, ...after, outers(null)[o], 'flush']
        const expected = await run(true, seq, { scope: { factoryId: 'f1' } })
        calls.n = 0
        const step = (rt, object) => send(rt, object, outers(rt, (r) => inner(r, innerP))[o])
        for (const object of [true, false]) {
          const got = await run(object, [step, 'flush'], { scope: { factoryId: 'f1' } })
          assert.deepEqual(got.errors, expected.errors, `${label}: errors`)
          assert.deepEqual(got.stats, expected.stats, `${label}: stats`)
          assert.deepEqual(got.log, expected.log, `${label}: QueryClient calls`)
          assert.deepEqual(got.cache, expected.cache, `${label}: cache`)
        }
        assert.equal(calls.n, 2, `${label}: the app code ran once per path`)
        assert.ok(expected.stats.received === 2 && expected.errors.length === 0, `${label}: ${JSON.stringify(expected)}`)
      }
    }
  }

  test('rt.ingest of another payload object', async () => {
    await check((rt, p) => rt.ingest('supabase', p), [])
  })

  test('rt.ingestText of another payload', async () => {
    await check((rt, p) => rt.ingestText('supabase', JSON.stringify(p)), [])
  })

  test('rt.ingest of another payload, then rt.flush', async () => {
    await check((rt, p) => { rt.ingest('supabase', p); rt.flush() }, ['flush'])
  })

  test('rt.setScope from inside the read: the payload follows the new scope, as JSON.stringify first then ingest would', async () => {
    // The getter sits on a scope column, the id, the table name or a row value read before them; the
    // new scope changes which columns the core reads (siteId), so the read's needs change under it.
    const scopes = [{ factoryId: 'f2' }, { factoryId: 'f1', siteId: 's2' }, {}]
    const payloads = (rt, fn) => [
      sb('INSERT', 'goals', getter({ id: 50, factory_id: 'f1', site_id: 's1', version: 1 }, 'factory_id', rt, fn), {}),
      sb('INSERT', 'goals', getter({ id: 51, factory_id: 'f2', site_id: 's2', version: 1 }, 'id', rt, fn), {}),
      getter(sb('INSERT', 'goals', { id: 52, factory_id: 'f2', version: 1 }, {}), 'table', rt, fn),
      sb('UPDATE', 'work_orders', getter(wo(53, { factory_id: 'f2', status: 'done', version: 2 }), 'title', rt, fn), wo(53, { factory_id: 'f2' })),
      sb('UPDATE', 'goals', { id: 54, a: 2, factory_id: 'f1', site_id: 's2', version: 2 }, getter({ id: 54, a: 1, factory_id: 'f1', site_id: 's2', version: 1 }, 'a', rt, fn)),
    ]
    let checked = 0
    for (const scope of scopes) {
      for (let o = 0; o < payloads(null).length; o++) {
        const label = `payload ${o}, setScope(${JSON.stringify(scope)})`
        const expected = await run(true, [{ setScope: scope }, payloads(null)[o], 'flush'], { scope: { factoryId: 'f1' } })
        for (const object of [true, false]) {
          calls.n = 0
          const step = (rt, obj) => send(rt, obj, payloads(rt, (r) => r.setScope(scope))[o])
          const got = await run(object, [step, 'flush'], { scope: { factoryId: 'f1' } })
          assert.deepEqual(got.errors, expected.errors, `${label}: errors`)
          assert.deepEqual(got.stats, expected.stats, `${label}: stats`)
          assert.deepEqual(got.log, expected.log, `${label}: QueryClient calls`)
          assert.deepEqual(got.cache, expected.cache, `${label}: cache`)
          assert.equal(calls.n, 1, `${label}: the getter ran once`)
        }
        if (expected.stats.dropped.outOfScope === 0) checked++
      }
    }
    assert.ok(checked >= 5, `some payloads pass the new scope (${checked})`)
  })
})

describe('text crosses as UTF-8, ASCII or not', () => {
  test('patched strings arrive as they were sent, on both paths', async () => {
    const values = ['plain', 'é at 1', 'ünicode first', 'emoji 😀 pair', 'lone \ud800 high', 'lone \udc00 low', '\u2028 sep', 'tab\tquote"back\\', 'x'.repeat(5000) + 'é']
    for (const object of [false, true]) {
      const client = makeClient()
      const rt = await createRealtime({ queryClient: client, debounceMs: 60_000, onError: (e) => assert.fail(JSON.stringify(e)) })
      engines.push(rt)
      values.forEach((v, id) => client.setQueryData(['doc', 'notes', String(id)], { id, version: 0, body: '' }))
      values.forEach((v, id) => {
        const p = sb('UPDATE', 'notes', { id, body: v, version: 1 }, { id, body: '', version: 0 })
        if (object) rt.ingest('supabase', p)
        else rt.ingestText('supabase', JSON.stringify(p))
      })
      rt.flush()
      // JSON turns a lone surrogate into U+FFFD only if the text was not escaped; JSON.stringify escapes it
      values.forEach((v, id) => assert.equal(client.getQueryData(['doc', 'notes', String(id)]).body, v, `${object ? 'object' : 'text'} path, value ${id}`))
    }
  })
})
