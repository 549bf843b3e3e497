// The lazy connector module (docs/API.md, "what each import loads") must not lose what the client
// does while the module loads: apps call `centrifuge.connect()` right after `rt.connectCentrifuge`,
// and a bad token closes the connection (3500) in about one round trip, often before the chunk
// has arrived. This file must be the first in its process to load js/connectCentrifuge.js (node
// --test runs each file in a process of its own). The client is a stand-in with centrifuge-js's
// event-emitter surface, because the point is the ORDER (events before the module) made
// deterministic; tests/browser/centrifugo.test.mjs runs the same case with the real client.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { createRealtime } from '../../js/index.js'
import { makeClient } from './helpers.mjs'

function fakeCentrifuge() {
  const c = new EventEmitter()
  c.state = 'disconnected'
  c.newSubscription = () => Object.assign(new EventEmitter(), { state: 'unsubscribed', subscribe() {}, unsubscribe() {} })
  c.getSubscription = () => null
  c.removeSubscription = () => {}
  return c
}

test('client events while the centrifugo connector loads reach the core: connecting, then a final 3500 is status error with onError unauthorized', async () => {
  const errors = []
  const rt = await createRealtime({ queryClient: makeClient(), onError: (e) => errors.push(e) })
  const statuses = []
  rt.onStatus((s) => statuses.push(s))
  const c = fakeCentrifuge()
  rt.connectCentrifuge(c)
  // centrifuge.connect(), then the server refuses the token, all before the module arrived.
  c.state = 'connecting'
  c.emit('connecting', { code: 0, reason: 'connect called' })
  c.state = 'disconnected'
  c.emit('disconnected', { code: 3500, reason: 'invalid token' })
  assert.equal(c.listenerCount('disconnected'), 1, 'recorded while loading')
  await rt._connectorsLoaded
  assert.equal(rt.status(), 'error')
  assert.deepEqual(statuses, ['connecting', 'error'])
  assert.deepEqual(errors.map((e) => [e.code, e.source]), [['unauthorized', 'centrifugo']])
  assert.equal(c.listenerCount('disconnected'), 1, 'the recorder is gone, the connector listens')
  // Later events reach the connector as usual.
  c.state = 'connecting'
  c.emit('connecting', { code: 0 })
  assert.equal(rt.status(), 'connecting')
  rt.dispose()
})
