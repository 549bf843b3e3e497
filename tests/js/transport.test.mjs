// Our own transports' socket handles (js/transport.js) against the real engine: the core's link
// decides when to connect and what a close means; these tests check what the handles do with its
// connect / close / send and what they report back. Node has no EventSource, so a stand-in on
// globalThis (an EventTarget with the browser's `onopen` / `onmessage` / `onerror` and `close()`)
// plays the server; the WebSocket side runs on `ws` in tests/js/createRealtime.test.mjs and both
// on Chromium's real sockets in tests/browser/transport.test.mjs.
import { test, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRealtime } from '../../js/index.js'
import { makeClient, sleep, waitFor } from './helpers.mjs'

const sources = []
class FakeEventSource extends EventTarget {
  constructor(url) {
    super()
    this.url = url
    this.closed = false
    this.onopen = this.onmessage = this.onerror = null
    sources.push(this)
  }
  close() { this.closed = true }
  // What the browser does: the handler property, then the listeners; nothing once closed.
  fire(type, data) {
    if (this.closed) return
    const e = new MessageEvent(type, { data })
    this[`on${type}`]?.(e)
    this.dispatchEvent(e)
  }
}

const had = globalThis.EventSource
afterEach(() => {
  sources.length = 0
  globalThis.EventSource = had
})

const frame = (id) => JSON.stringify({ channel: 'factory:f1', seq: id, payload: { type: 'realtime', entity: 'work_orders', action: 'update', data: { id, factory_id: 'f1', title: 't', status: 'open', qty: 1, version: 1, updated_at: '2026-12-01T08:00:00Z' }, timestamp: '2026-12-01T08:00:00Z', id: `chg-${id}` } })

test('EventSource: the URL carries the channels and the token; frames reach the engine, a ping proves life; an error closes it and the core reconnects', async () => {
  globalThis.EventSource = FakeEventSource
  const rt = await createRealtime({ queryClient: makeClient(), scope: { factoryId: 'f1' }, backoff: { initialMs: 10, maxMs: 20 } })
  const off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: 12 })
  const frames = []
  const stop = rt.inspect((r) => { if (r.kind === 'frame') frames.push(r.text) })
  const disconnect = rt.connectEventSource('http://127.0.0.1:1/sse?x=1', { token: () => 'a b' })
  try {
    await waitFor(() => sources.length === 1)
    const [first] = sources
    const url = new URL(first.url)
    assert.equal(url.searchParams.get('x'), '1')
    assert.deepEqual(url.searchParams.get('channels').split(','), ['doc:work_orders:12', 'factory:f1'])
    assert.equal(url.searchParams.get('token'), 'a b')
    first.fire('open')
    assert.equal(rt.status(), 'connected')
    first.fire('message', frame(1))
    assert.equal(rt.stats().received, 1)
    first.fire('ping')
    assert.deepEqual(frames, [frame(1), '{"type":"pong"}'], 'the inspector sees each frame, the ping as a pong')
    first.fire('error')
    assert.equal(first.closed, true, 'the core\'s backoff decides, not EventSource\'s own retry')
    assert.equal(rt.status(), 'reconnecting')
    await waitFor(() => sources.length === 2, { message: 'reconnected after the backoff' })
    sources[1].fire('open')
    assert.equal(rt.status(), 'connected')
    sources[1].fire('message', frame(3))
    assert.equal(rt.stats().received, 2)
  } finally {
    stop()
    disconnect()
    off()
    rt.dispose()
  }
  assert.equal(sources.at(-1).closed, true, 'disconnect closes the socket')
})

test('a token that arrives after a disconnect opens nothing; one that arrives in time opens', async () => {
  globalThis.EventSource = FakeEventSource
  const rt = await createRealtime({ queryClient: makeClient(), scope: { factoryId: 'f1' } })
  const off = rt.subscribe({ kind: 'list', type: 'work_orders' })
  let resolve
  const disconnect = rt.connectEventSource('http://127.0.0.1:1/sse', { token: () => new Promise((r) => { resolve = r }) })
  await waitFor(() => resolve !== undefined)
  disconnect()
  resolve('late')
  await sleep(5)
  assert.equal(sources.length, 0)
  assert.equal(rt.status(), 'disconnected')
  resolve = undefined
  const disconnect2 = rt.connectEventSource('http://127.0.0.1:1/sse', { token: () => new Promise((r) => { resolve = r }) })
  await waitFor(() => resolve !== undefined)
  resolve('')
  await waitFor(() => sources.length === 1)
  assert.equal(new URL(sources[0].url).searchParams.get('token'), null, 'an empty token is no token')
  disconnect2()
  off()
  rt.dispose()
})

test('a new connect replaces the transport: the old source is closed and its late events are ignored', async () => {
  globalThis.EventSource = FakeEventSource
  const rt = await createRealtime({ queryClient: makeClient(), scope: { factoryId: 'f1' } })
  const off = rt.subscribe({ kind: 'list', type: 'work_orders' })
  rt.connectEventSource('http://127.0.0.1:1/a')
  await waitFor(() => sources.length === 1)
  const [first] = sources
  const { onmessage, onopen } = first // what a late event would still reach
  const disconnect = rt.connectEventSource('http://127.0.0.1:1/b')
  await waitFor(() => sources.length === 2)
  assert.equal(first.closed, true)
  assert.ok(sources[1].url.startsWith('http://127.0.0.1:1/b?channels='))
  onopen?.(new MessageEvent('open'))
  onmessage?.(new MessageEvent('message', { data: frame(1) }))
  assert.equal(rt.stats().received, 0, 'a replaced source\'s events do not reach the engine')
  assert.equal(rt.status(), 'connecting')
  sources[1].fire('open')
  sources[1].fire('message', frame(2))
  assert.equal(rt.stats().received, 1)
  disconnect()
  off()
  rt.dispose()
})
