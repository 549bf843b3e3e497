// The page's visibility and the window's `online` event reach the engine through the shim
// (js/createRealtime.js): the glue holds no DOM listener. Node has no document or window, so each
// test puts a stand-in on globalThis (an EventTarget with `visibilityState`, dispatched as the
// browser does); the engine, the QueryClient and the clock's decisions are the real ones. The
// browser stage runs the same listeners on Chromium's real document (tests/browser/transport.test.mjs).
import { test, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRealtime } from '../../js/index.js'
import { makeClient, observeSettled, virtualClock } from './helpers.mjs'

class FakeDocument extends EventTarget {
  visibilityState = 'visible'
  turn(state) {
    this.visibilityState = state
    this.dispatchEvent(new Event('visibilitychange'))
  }
}

const listening = (target, type) => target.counts.get(type) ?? 0
/** Counts added minus removed listeners per event type (what a leak would show). */
function counted(target) {
  target.counts = new Map()
  const add = target.addEventListener.bind(target)
  const remove = target.removeEventListener.bind(target)
  target.addEventListener = (type, fn, o) => { target.counts.set(type, listening(target, type) + 1); add(type, fn, o) }
  target.removeEventListener = (type, fn, o) => { target.counts.set(type, listening(target, type) - 1); remove(type, fn, o) }
  return target
}

afterEach(() => {
  delete globalThis.document
  delete globalThis.window
})

test('a page turning visible flushes at once; hidden keeps the window, dispose removes the listener', async (t) => {
  const client = makeClient()
  const list = await observeSettled(client, ['list', 'wo'], (n) => ({ items: [], n }))
  const doc = (globalThis.document = counted(new FakeDocument()))
  doc.visibilityState = 'hidden' // hidden at creation: passed to the engine once
  const clock = virtualClock(t)
  const rt = await createRealtime({ queryClient: client, debounceMs: 10_000, maxWaitMs: 20_000 })
  assert.equal(listening(doc, 'visibilitychange'), 1)

  rt.ingest('invalidate', { queryKey: ['list', 'wo'] })
  await clock.advance(5_000)
  assert.equal(rt.stats().flushes, 0, 'hidden: the 10 s window is still open')
  doc.turn('visible')
  assert.equal(rt.stats().flushes, 1, 'visible flushes at once, before the window closes')
  await clock.settle(client)
  assert.equal(list.calls, 2, 'the list refetched once')

  rt.dispose()
  assert.equal(listening(doc, 'visibilitychange'), 0, 'dispose removes the listener')
  assert.doesNotThrow(() => { doc.turn('hidden'); doc.turn('visible') })
  assert.equal(rt.stats().flushes, 1)
})

test('the visibility at creation counts: a page created visible flushes only when its window closes', async (t) => {
  const client = makeClient()
  globalThis.document = new FakeDocument()
  const clock = virtualClock(t)
  const rt = await createRealtime({ queryClient: client, debounceMs: 300, maxWaitMs: 1_000 })
  t.after(() => rt.dispose())
  rt.ingest('invalidate', { queryKey: ['a'] })
  document.turn('visible') // no change of state: nothing to flush early
  assert.equal(rt.stats().flushes, 0)
  await clock.advance(300)
  assert.equal(rt.stats().flushes, 1)
})

test('without a document or window (Node, SSR) the engine is a visible page', async (t) => {
  const client = makeClient()
  const clock = virtualClock(t)
  const rt = await createRealtime({ queryClient: client, debounceMs: 300, maxWaitMs: 1_000 })
  t.after(() => rt.dispose())
  rt.ingest('invalidate', { queryKey: ['a'] })
  await clock.advance(299)
  assert.equal(rt.stats().flushes, 0)
  await clock.advance(1)
  assert.equal(rt.stats().flushes, 1, 'flushed on its window, not held as a hidden page would be')
})

test("the window's online event reaches the engine as a reconnect intent until dispose", async () => {
  // What the intent does (a dead socket reconnects at once) needs a real WebSocket: the browser
  // stage tests it. Here a spy on the real engine's `online` export counts what the shim forwards.
  const win = (globalThis.window = counted(new EventTarget()))
  const rt = await createRealtime({ queryClient: makeClient() })
  let intents = 0
  const online = rt._engine.online.bind(rt._engine)
  rt._engine.online = () => { intents++; online() }
  assert.equal(listening(win, 'online'), 1)
  win.dispatchEvent(new Event('online'))
  win.dispatchEvent(new Event('offline'))
  assert.equal(intents, 1)
  rt.dispose()
  assert.equal(listening(win, 'online'), 0, 'dispose removes the listener')
  win.dispatchEvent(new Event('online'))
  assert.equal(intents, 1, 'never called once disposed')
})
