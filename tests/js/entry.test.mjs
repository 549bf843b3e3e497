// The npm entry split (the table of entries at the top of docs/API.md): `import { createRealtime } from 'querywire'` loads
// neither connector, React, the devtools nor the replay code; `rt.connectSupabase` /
// `rt.connectCentrifuge` load their module on first use, with nothing lost while it loads.
// The REAL @supabase/supabase-js and centrifuge-js clients, the demo server (examples/server).
// This file must be the first in its process to load js/connectSupabase.js and js/connectCentrifuge.js
// (node --test runs each file in a process of its own), so it imports neither.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Centrifuge } from 'centrifuge'
import { createRealtime } from '../../js/index.js'
import { makeClient, waitFor } from './helpers.mjs'
import { api } from '../browser/demoServer.mjs'
import { demoServerForFile, supabaseClient, firstRow } from './demo.mjs'

const server = demoServerForFile()

function makeSupabase() {
  const supabase = supabaseClient(server.base)
  const calls = { channel: 0, authListeners: 0 }
  const channel = supabase.channel.bind(supabase)
  supabase.channel = (...args) => { calls.channel++; return channel(...args) }
  const onAuth = supabase.auth.onAuthStateChange.bind(supabase.auth)
  supabase.auth.onAuthStateChange = (cb) => { calls.authListeners++; return onAuth(cb) }
  return { supabase, calls }
}

// A child Node process whose module loader reports every file it loads (a module.register hook),
// and fails to load js/connectCentrifuge.js, so the module graph of `querywire` is seen as Node
// builds it. The child prints one JSON line.
const child = String.raw`
import { register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'
const hooks = ${'`'}
let port
export function initialize(data) { port = data.port; port.on('message', (m) => port.postMessage(m)) }
export async function load(url, context, next) {
  port.postMessage(url)
  if (url.endsWith('/js/connectCentrifuge.js')) throw new Error('blocked by the test')
  return next(url, context)
}${'`'}
const { port1, port2 } = new MessageChannel()
const loaded = []
let synced
port1.on('message', (m) => { if (m === 'sync') synced(); else loaded.push(m) })
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] })
// Every load message posted before this round trip has arrived once it returns.
const sync = () => new Promise((r) => { synced = r; port1.postMessage('sync') })
const files = () => loaded.filter((u) => u.includes('/querywire/') || u.includes(process.env.QW_ROOT)).map((u) => u.slice(u.lastIndexOf('/') + 1)).filter((f) => f.endsWith('.js'))

const { QueryClient } = await import('@tanstack/query-core')
const { createClient } = await import('@supabase/supabase-js')
const { default: WebSocket } = await import('ws')
const { createRealtime } = await import(process.env.QW_ROOT + '/js/index.js')
const errors = []
const rt = await createRealtime({ queryClient: new QueryClient(), debounceMs: 10, scope: { factoryId: 'f1' }, onError: (e) => errors.push(e) })
rt.ingest('event', { type: 'work_orders', id: 1, action: 'update' })
rt.flush()
await sync()
const afterCreate = files()

// An engine disposed while the module loads: its client is never touched.
const rt2 = await createRealtime({ queryClient: new QueryClient(), scope: { factoryId: 'f1' } })
rt2.subscribe({ kind: 'list', type: 'work_orders' })
const disposedClient = createClient(process.env.QW_BASE, 'anon', { realtime: { transport: WebSocket }, auth: { persistSession: false, autoRefreshToken: false } })
let disposedCalls = 0
const realChannel = disposedClient.channel.bind(disposedClient)
disposedClient.channel = (...a) => { disposedCalls++; return realChannel(...a) }
rt2.connectSupabase(disposedClient, { tables: ['work_orders'] })
rt2.dispose()

// A view opened before the connect, one while the module loads: both channels open once it attaches.
const supabase = createClient(process.env.QW_BASE, 'anon', { realtime: { transport: WebSocket }, auth: { persistSession: false, autoRefreshToken: false } })
const offA = rt.subscribe({ kind: 'doc', type: 'work_orders', id: 1 })
const off = rt.connectSupabase(supabase, { tables: ['work_orders'] })
const offB = rt.subscribe({ kind: 'list', type: 'work_orders' })
const channelsAtCall = supabase.getChannels().length
await rt._connectorsLoaded
for (let i = 0; i < 500 && !(supabase.getChannels().length === 3 && supabase.getChannels().every((c) => c.state === 'joined')); i++) await new Promise((r) => setTimeout(r, 10))
const topics = supabase.getChannels().filter((c) => c.state === 'joined').map((c) => c.topic).sort()
const status = rt.status()
await sync()
const afterSupabase = files()

// A module that cannot be loaded: reported to onError, nothing thrown, the engine goes on.
const offC = rt.connectCentrifuge({ newSubscription() {}, on() {} })
await rt._connectorsLoaded
offC()
offA(); offB(); off()
await supabase.removeAllChannels()
await supabase.realtime.disconnect()
rt.dispose()
await rt2._connectorsLoaded
const disposed = { calls: disposedCalls, channels: disposedClient.getChannels().length }
console.log(JSON.stringify({ afterCreate, afterSupabase, channelsAtCall, topics, status, errors, disposed }))
process.exit(0)
`

test('importing querywire and creating an engine loads no connector, React, devtools or replay module; a connector loads on its first use, dispose during the load attaches nothing', async () => {
  const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '')
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', child], { cwd: root, env: { ...process.env, QW_ROOT: root, QW_BASE: server.base }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)))
  })
  const r = JSON.parse(out.trim().split('\n').at(-1))
  assert.ok(r.afterCreate.includes('createRealtime.js') && r.afterCreate.includes('querywire.js'), `the hook sees the engine load: ${r.afterCreate}`)
  for (const f of ['connectSupabase.js', 'connectCentrifuge.js', 'react.js', 'devtools.js', 'replay.js']) {
    assert.ok(!r.afterCreate.includes(f), `${f} is not loaded by createRealtime: ${r.afterCreate}`)
  }
  assert.ok(r.afterSupabase.includes('connectSupabase.js'), 'rt.connectSupabase loaded its module')
  assert.ok(!r.afterSupabase.includes('connectCentrifuge.js'), 'and only its own')
  assert.equal(r.channelsAtCall, 0, 'no channel before the module arrived')
  assert.deepEqual(r.topics, ['realtime:doc:work_orders:1', 'realtime:factory:f1', 'realtime:list:work_orders:f1'], 'views opened before and during the load')
  assert.equal(r.status, 'connected')
  assert.deepEqual(r.errors.map((e) => [e.code, e.source]), [['load_failed', 'centrifugo']])
  assert.match(r.errors[0].message, /connectCentrifuge: could not load its module: .*blocked by the test/)
  assert.deepEqual(r.disposed, { calls: 0, channels: 0 }, 'an engine disposed during the load attaches nothing')
})

test('a disconnect (or a newer connector) before the connector module arrives leaves no channel open', async () => {
  const errors = []
  const rt = await createRealtime({ queryClient: makeClient(), debounceMs: 10, scope: { factoryId: 'f1' }, onError: (e) => errors.push(e) })
  const row = await firstRow(server.base)
  const offView = rt.subscribe({ kind: 'doc', type: 'work_orders', id: row.id })

  // 1. The app disconnects at once (a React effect torn down before the chunk arrived).
  const { supabase, calls } = makeSupabase()
  const off = rt.connectSupabase(supabase, { tables: ['work_orders'] })
  assert.equal(typeof off, 'function', 'the disconnect function is returned synchronously')
  off()
  off() // idempotent
  await rt._connectorsLoaded
  assert.equal(calls.channel, 0, 'supabase.channel() never called')
  assert.equal(calls.authListeners, 0, 'no auth listener registered')
  assert.deepEqual(supabase.getChannels(), [])
  assert.equal(rt.status(), 'disconnected')

  // 2. A newer connector attached while centrifuge-js's module loads replaces it, as a later
  //    connect does: the centrifuge client gets no subscription.
  const centrifuge = new Centrifuge(`ws://127.0.0.1:${new URL(server.base).port}/connection/websocket`)
  const offCentrifuge = rt.connectCentrifuge(centrifuge)
  const opened = []
  const port = rt.attachConnector({ source: 'event', open: ({ name }) => { opened.push(name); port.joined(name) }, close: (name) => port.left(name) })
  await rt._connectorsLoaded
  assert.deepEqual(centrifuge.subscriptions(), {}, 'the superseded connector attached nothing')
  await waitFor(() => opened.length === 2, { message: `the newer connector holds the views: ${opened}` })
  offCentrifuge() // superseded: does nothing
  assert.equal(port.detached, false)
  port.detach()

  // The server holds no supabase socket from any of this.
  const stats = await api(server.base, 'GET', '/api/stats')
  assert.equal(stats.body.connections.supabase, 0)

  // Control: the module is loaded now; a connect attaches synchronously and its channels join.
  const second = makeSupabase()
  const off2 = rt.connectSupabase(second.supabase, { tables: ['work_orders'] })
  assert.equal(second.calls.authListeners, 1, 'attached synchronously once the module is loaded')
  await waitFor(() => second.supabase.getChannels().length === 2 && second.supabase.getChannels().every((c) => c.state === 'joined'), { timeoutMs: 5000 })

  off2()
  await waitFor(() => second.supabase.getChannels().length === 0, { timeoutMs: 3000 })
  offView()
  rt.dispose()
  await second.supabase.realtime.disconnect()
  assert.deepEqual(supabase.getChannels(), [])
  assert.deepEqual(errors, [])
})
