// rt.connectCentrifuge with a real QueryClient and a FAKE Centrifuge client.
//
// The REAL centrifuge-js against the demo server's Centrifugo endpoint is tested by
// examples/server/test/centrifugo.test.mjs (Node) and tests/browser/centrifugo.test.mjs (Chromium):
// channels following views, offsets, recovery across a restart, stream resets, bad tokens, getToken.
// This fake stays for what that server cannot be made to do: a stream without recovery (the demo
// server forces recovery on every channel, so a return with `wasRecovering: false` never happens
// there), a subscription `error` event from the server, and exact control of the event order within
// one tick (StrictMode churn against the client's registry, a subscription the app registered first).
//
// FakeCentrifuge below implements only the subset of centrifuge-js v5 (installed as a devDependency)
// that the connector calls:
// Centrifuge#newSubscription / getSubscription / removeSubscription / on / removeListener / state,
// Subscription#on / removeListener / subscribe / unsubscribe / state. Its registry semantics follow
// centrifuge-js 5.8 (newSubscription throws when the channel is registered; removeSubscription
// ignores a stale subscription), and every event context has the shape declared in
// node_modules/centrifuge/build/types.d.ts (PublicationContext, SubscribedContext,
// ConnectingContext, ConnectedContext, DisconnectedContext, UnsubscribedContext,
// SubscriptionErrorContext). The test checks those shapes against the installed version's enums.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { State, SubscriptionState } from 'centrifuge'
import { createRealtime } from '../../js/index.js'
import { makeClient, observe, settle, sleep, waitFor } from './helpers.mjs'

class FakeSubscription extends EventEmitter {
  constructor(client, channel, options) {
    super()
    this.client = client
    this.channel = channel
    this.options = options ?? {}
    this.state = SubscriptionState.Unsubscribed
    this.subscribeCalls = 0
    this.unsubscribeCalls = 0
    this.offset = 0
  }
  subscribe() {
    this.subscribeCalls++
    if (this.state !== SubscriptionState.Unsubscribed) return
    this._setState(SubscriptionState.Subscribing)
    this.emit('subscribing', { channel: this.channel, code: 0, reason: 'subscribe called' })
    if (this.client.state === State.Connected) this._subscribed({ wasRecovering: false, recovered: false })
  }
  unsubscribe() {
    this.unsubscribeCalls++
    if (this.state === SubscriptionState.Unsubscribed) return
    this._setState(SubscriptionState.Unsubscribed)
    this.emit('unsubscribed', { channel: this.channel, code: 0, reason: 'unsubscribe called' })
  }
  _setState(s) {
    const old = this.state
    this.state = s
    this.emit('state', { channel: this.channel, newState: s, oldState: old })
  }
  /** SubscribedContext as centrifuge-js emits it. */
  _subscribed({ wasRecovering, recovered, epoch }) {
    this._setState(SubscriptionState.Subscribed)
    const recoverable = !!this.options.recoverable || epoch !== undefined
    this.emit('subscribed', {
      channel: this.channel,
      recoverable,
      positioned: !!this.options.positioned || recoverable,
      ...(recoverable ? { streamPosition: { offset: this.offset, epoch: epoch ?? 'e1' } } : {}),
      wasRecovering,
      recovered,
      hasRecoveredPublications: false,
    })
  }
  /** PublicationContext as centrifuge-js emits it. */
  publish(data) {
    this.offset++
    this.emit('publication', { channel: this.channel, data, offset: this.offset })
  }
}

class FakeCentrifuge extends EventEmitter {
  constructor() {
    super()
    this.state = State.Disconnected
    this._subs = {}
    this.created = []
    this.removed = []
  }
  newSubscription(channel, options) {
    if (this.getSubscription(channel) !== null) throw new Error('Subscription to the channel ' + channel + ' already exists')
    const sub = new FakeSubscription(this, channel, options)
    this._subs[channel] = sub
    this.created.push(sub)
    return sub
  }
  getSubscription(channel) {
    return this._subs[channel] ?? null
  }
  removeSubscription(sub) {
    if (!sub || this._subs[sub.channel] !== sub) return
    delete this._subs[sub.channel]
    if (sub.state !== SubscriptionState.Unsubscribed) sub.unsubscribe()
    this.removed.push(sub)
  }
  subscriptions() {
    return { ...this._subs }
  }
  _setState(s) {
    this.state = s
  }
  connect() {
    this._setState(State.Connecting)
    this.emit('connecting', { code: 0, reason: 'connect called' })
    this.reconnect() // subscriptions waiting in 'subscribing' are subscribed now
  }
  _connected() {
    this._setState(State.Connected)
    this.emit('connected', { client: 'c1', transport: 'websocket' })
  }
  /** A transport drop: centrifuge-js goes to connecting (code 3, transport closed), subs to subscribing. */
  drop() {
    this._setState(State.Connecting)
    this.emit('connecting', { code: 3, reason: 'transport closed' })
    for (const sub of Object.values(this._subs)) {
      if (sub.state === SubscriptionState.Subscribed) {
        sub._setState(SubscriptionState.Subscribing)
        sub.emit('subscribing', { channel: sub.channel, code: 3, reason: 'transport closed' })
      }
    }
  }
  /** Reconnect; `recovery(channel)` says what the server answered for each resubscribe. */
  reconnect(recovery = () => ({ wasRecovering: false, recovered: false })) {
    this._connected()
    for (const sub of Object.values(this._subs)) {
      if (sub.state === SubscriptionState.Subscribing) sub._subscribed(recovery(sub.channel))
    }
  }
  disconnect() {
    this._setState(State.Disconnected)
    this.emit('disconnected', { code: 0, reason: 'disconnect called' })
  }
  listenerTotal() {
    return this.eventNames().reduce((n, e) => n + this.listenerCount(e), 0)
  }
}

async function setup(extra = {}) {
  const client = makeClient()
  const errors = []
  const rt = await createRealtime({ queryClient: client, debounceMs: 10, maxWaitMs: 100, scope: { factoryId: 'f1' }, onError: (e) => errors.push(e), ...extra })
  const statuses = []
  rt.onStatus((s) => statuses.push(s))
  const centrifuge = new FakeCentrifuge()
  return { client, rt, errors, statuses, centrifuge }
}

const names = (c) => Object.keys(c.subscriptions()).sort()

test('subscriptions follow the views (ref counted, StrictMode churn does nothing), publications reach the cache', async () => {
  const { client, rt, statuses, centrifuge } = await setup()
  centrifuge.connect()
  const stop = rt.connectCentrifuge(centrifuge, { recoverable: true })
  await rt._connectorsLoaded // the connector's module loads on the first connect (js/createRealtime.js)
  const doc = observe(client, ['doc', 'work_orders', '12'])
  const list = observe(client, ['list', 'work_orders', 'f1', { page: 1 }])
  await settle(client)

  const a = rt.subscribe({ kind: 'doc', type: 'work_orders', id: 12 })
  const b = rt.subscribe({ kind: 'doc', type: 'work_orders', id: '12' })
  let l = rt.subscribe({ kind: 'list', type: 'work_orders' })
  l() // StrictMode: unmount + remount in one tick
  l = rt.subscribe({ kind: 'list', type: 'work_orders' })
  await sleep(10)
  assert.deepEqual(names(centrifuge), ['doc:work_orders:12', 'factory:f1', 'list:work_orders:f1'])
  assert.equal(centrifuge.created.length, 3, 'one newSubscription per channel, none for the churn')
  for (const s of centrifuge.created) {
    assert.equal(s.subscribeCalls, 1)
    assert.equal(s.state, 'subscribed')
    assert.equal(s.options.recoverable, true)
  }
  assert.equal(rt.status(), 'connected')
  assert.deepEqual(statuses, ['connected'])

  // A publication of an invalidate event, then an envelope (the contract's sources inside `data`).
  centrifuge.getSubscription('doc:work_orders:12').publish({ event: 'invalidate', queryKey: ['doc', 'work_orders', '12'] })
  await waitFor(() => doc.calls === 2, { message: 'doc refetched' })
  centrifuge.getSubscription('list:work_orders:f1').publish({ type: 'realtime', entity: 'work_orders', action: 'insert', data: { id: 99, factory_id: 'f1', title: 'x' }, timestamp: new Date().toISOString(), id: 'chg-1' })
  await waitFor(() => list.calls === 2, { message: 'list refetched' })
  // The same offset again on the same channel is a duplicate.
  const sub = centrifuge.getSubscription('list:work_orders:f1')
  sub.emit('publication', { channel: sub.channel, data: { event: 'invalidate', queryKey: ['list', 'work_orders', 'f1'] }, offset: sub.offset })
  await sleep(50)
  await settle(client)
  assert.equal(list.calls, 2)
  assert.equal(rt.stats().dropped.duplicate, 1)

  a()
  await sleep(10)
  assert.equal(centrifuge.removed.length, 0)
  b()
  await sleep(10)
  assert.deepEqual(centrifuge.removed.map((s) => s.channel), ['doc:work_orders:12'])
  assert.equal(centrifuge.removed[0].unsubscribeCalls, 1)
  assert.equal(centrifuge.removed[0].listenerCount('publication'), 0, 'our listeners removed')
  l()
  await sleep(10)
  assert.deepEqual(names(centrifuge), [])

  stop()
  stop()
  assert.equal(centrifuge.listenerTotal(), 0, 'client listeners removed')
  assert.equal(rt.status(), 'disconnected')
  rt.dispose()
})

test('reconnect: a failed recovery, a non-recoverable return or a new epoch refetches the views once; a recovered one does not', async () => {
  const { client, rt, statuses, centrifuge } = await setup()
  centrifuge.connect()
  const stop = rt.connectCentrifuge(centrifuge)
  await rt._connectorsLoaded // the connector's module loads on the first connect (js/createRealtime.js)
  const doc = observe(client, ['doc', 'work_orders', '12'])
  const other = observe(client, ['doc', 'work_orders', '13'])
  const list = observe(client, ['list', 'work_orders', 'f1', { page: 1 }])
  await settle(client)
  const offs = [
    rt.subscribe({ kind: 'doc', type: 'work_orders', id: 12 }),
    rt.subscribe({ kind: 'doc', type: 'work_orders', id: 13 }),
    rt.subscribe({ kind: 'list', type: 'work_orders' }),
  ]
  await sleep(10)

  // 1. Everything recovered from history: no refetch at all.
  centrifuge.drop()
  assert.equal(rt.status(), 'reconnecting')
  centrifuge.reconnect(() => ({ wasRecovering: true, recovered: true }))
  assert.equal(rt.status(), 'connected')
  await sleep(300)
  await settle(client)
  assert.deepEqual([doc.calls, other.calls, list.calls], [1, 1, 1])

  // 2. Only doc:12's recovery failed: only its view refetches, once.
  centrifuge.drop()
  centrifuge.reconnect((ch) => ({ wasRecovering: true, recovered: ch !== 'doc:work_orders:12' }))
  await waitFor(() => doc.calls === 2)
  await sleep(300)
  await settle(client)
  assert.deepEqual([doc.calls, other.calls, list.calls], [2, 1, 1])

  // 3. No recovery at all (not recoverable): every view refetches exactly once, even though the
  //    factory channel and each view's own channel both came back.
  centrifuge.drop()
  centrifuge.reconnect()
  await waitFor(() => doc.calls === 3 && other.calls === 2 && list.calls === 2)
  await sleep(300)
  await settle(client)
  assert.deepEqual([doc.calls, other.calls, list.calls], [3, 2, 2])

  // 4. Recovered streams with an epoch: nothing. 5. doc:13's stream was reset (a new epoch), even
  //    if the flags say recovered (only a fake can say that): only its view refetches.
  centrifuge.drop()
  centrifuge.reconnect(() => ({ wasRecovering: true, recovered: true, epoch: 'e1' }))
  await sleep(300)
  await settle(client)
  assert.deepEqual([doc.calls, other.calls, list.calls], [3, 2, 2])
  centrifuge.drop()
  centrifuge.reconnect((ch) => ({ wasRecovering: true, recovered: true, epoch: ch === 'doc:work_orders:13' ? 'e2' : 'e1' }))
  await waitFor(() => other.calls === 3)
  await sleep(300)
  await settle(client)
  assert.deepEqual([doc.calls, other.calls, list.calls], [3, 3, 2])
  assert.deepEqual(statuses, ['connected', 'reconnecting', 'connected', 'reconnecting', 'connected', 'reconnecting', 'connected', 'reconnecting', 'connected', 'reconnecting', 'connected'])

  centrifuge.disconnect()
  assert.equal(rt.status(), 'disconnected')
  stop()
  offs.forEach((o) => o())
  rt.dispose()
})

test('a subscription the app registered itself is shared, not removed; errors are reported; dispose disconnects', async () => {
  const { rt, errors, centrifuge } = await setup()
  const mine = centrifuge.newSubscription('doc:work_orders:12')
  mine.subscribe()
  const appListener = () => {}
  mine.on('publication', appListener)
  const off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: 12 })
  rt.connectCentrifuge(centrifuge, { subscription: (name) => ({ data: { name } }) })
  await rt._connectorsLoaded // the connector's module loads on the first connect (js/createRealtime.js)
  await sleep(0) // channels open on the next tick
  assert.equal(rt.status(), 'disconnected', 'the client is not connected yet')
  centrifuge.connect()
  assert.equal(rt.status(), 'connected')
  assert.equal(centrifuge.getSubscription('doc:work_orders:12'), mine, 'reused')
  assert.deepEqual(centrifuge.getSubscription('factory:f1').options, { data: { name: 'factory:f1' } })
  assert.equal(mine.listenerCount('publication'), 2)

  const sub = centrifuge.getSubscription('factory:f1')
  sub.emit('error', { channel: 'factory:f1', type: 'subscribe', error: { code: 100, message: 'internal server error' } })
  sub.emit('unsubscribed', { channel: 'factory:f1', code: 103, reason: 'permission denied' })
  assert.deepEqual(errors.map((e) => [e.code, e.source]), [['subscription_error', 'centrifugo'], ['unsubscribed', 'centrifugo']])

  rt.dispose()
  assert.equal(centrifuge.getSubscription('doc:work_orders:12'), mine, 'the app\'s subscription stays registered')
  assert.equal(mine.state, 'subscribed')
  assert.deepEqual(mine.listeners('publication'), [appListener], 'only our listener removed')
  assert.equal(centrifuge.getSubscription('factory:f1'), null, 'ours removed')
  assert.equal(centrifuge.listenerTotal(), 0)
  off()
})
