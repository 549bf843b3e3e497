// Nothing stale for long while realtime is down, with a JS-held connector: the REAL
// @supabase/supabase-js v2 client against the demo server's Phoenix endpoint (examples/server), a
// real QueryClient. While supabase-js reports its socket down the engine polls the active views
// (status stays `reconnecting`); the return refetches each view once and polling stops. The exact
// poll times are tested on the core's virtual clock (crates/core/tests/link_connectors.rs); here
// only what happens, not when.
// Needs the demo server binary: cargo build --release --manifest-path examples/server/Cargo.toml
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRealtime } from '../../js/index.js'
import { makeClient, observe, settle, sleep, waitFor } from './helpers.mjs'
import { api } from '../browser/demoServer.mjs'
import { demoServerForFile, supabaseClient, firstRow } from './demo.mjs'

const server = demoServerForFile()

test('supabase-js socket down: the views are polled while reconnecting, the return refetches each once, then no more polls', async () => {
  const client = makeClient()
  const rt = await createRealtime({ queryClient: client, debounceMs: 20, maxWaitMs: 200, scope: { factoryId: 'f1' } })
  const statuses = []
  rt.onStatus((s) => statuses.push(s))
  const supabase = supabaseClient(server.base)
  try {
    const row = await firstRow(server.base)
    const doc = observe(client, ['doc', 'work_orders', String(row.id)], async () => (await api(server.base, 'GET', `/api/work_orders/${row.id}`)).body)
    const list = observe(client, ['list', 'work_orders', 'f1', { page: 1 }], async () =>
      (await api(server.base, 'GET', '/api/work_orders?factory_id=f1&page=1&pageSize=10')).body)
    await settle(client)
    const offs = [rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id }), rt.subscribe({ kind: 'list', type: 'work_orders' })]
    const stop = rt.connectSupabase(supabase, { tables: ['work_orders'] })
    await waitFor(() => rt.status() === 'connected', { timeoutMs: 5000 })
    assert.deepEqual([doc.calls, list.calls], [1, 1])

    // Realtime goes away (the server closes the socket and refuses new ones); the HTTP API stays up
    // and a row changes meanwhile: only a poll can show it.
    await api(server.base, 'POST', '/api/admin/realtime', { ws: false })
    await waitFor(() => rt.status() === 'reconnecting', { timeoutMs: 3000, message: `reconnecting, got ${rt.status()}` })
    const changed = await api(server.base, 'PATCH', `/api/work_orders/${row.id}`, { title: 'Changed while realtime was away' })
    assert.equal(changed.status, 200)
    await waitFor(() => doc.calls === 2 && list.calls === 2, { timeoutMs: 9000, message: `a poll of each view: doc ${doc.calls}, list ${list.calls}` })
    await settle(client)
    assert.equal(rt.status(), 'reconnecting', 'polling keeps the status')
    assert.equal(doc.data.title, 'Changed while realtime was away', 'the poll brought the change')

    // Realtime is back; the app (or the connector's `online` handler) reconnects supabase-js now.
    await api(server.base, 'POST', '/api/admin/realtime', { ws: true })
    supabase.realtime.connect()
    await waitFor(() => rt.status() === 'connected', { timeoutMs: 8000, message: `connected, got ${rt.status()}` })
    const atReturn = [doc.calls, list.calls]
    await waitFor(() => doc.calls === atReturn[0] + 1 && list.calls === atReturn[1] + 1, { timeoutMs: 3000, message: 'one recovery refetch each' })
    await sleep(7000) // longer than a polling interval: polling stopped
    await settle(client)
    assert.deepEqual([doc.calls, list.calls], [atReturn[0] + 1, atReturn[1] + 1], 'each view refetched once on return, no poll after it')
    assert.deepEqual(statuses.filter((s, i) => s !== statuses[i - 1]), ['connecting', 'connected', 'reconnecting', 'connected'])
    stop()
    offs.forEach((o) => o())
    doc.unsubscribe()
    list.unsubscribe()
  } finally {
    await api(server.base, 'POST', '/api/admin/realtime', { ws: true }).catch(() => {})
    await supabase.removeAllChannels().catch(() => {})
    await supabase.realtime.disconnect()
    rt.dispose()
  }
})
