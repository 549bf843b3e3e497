// centrifuge-js v5 connector: one Subscription per view channel the engine needs, created and
// removed as views come and go; publications go to `rt.ingest('centrifugo', ctx)` (the engine
// dedupes by `offset` per channel), the client's connection state to the engine's status.
//
// Options (all optional):
//   recoverable  passed to `newSubscription` (stream recovery from Centrifugo's history)
//   positioned   passed to `newSubscription`
//   subscription extra SubscriptionOptions (an object, or `(channelName) => object`), e.g. getToken
//
// The app owns the client: it calls `centrifuge.connect()` itself (before or after this), and its
// tokens: centrifuge-js calls the app's `getToken` on connect, on `token expired` (error 109) and
// before the token's `ttl` runs out (a `refresh` on the open connection), so nothing here refreshes.
// Status: the client's `connecting` / `connected` / `disconnected` events; a `disconnected` the app
// did not ask for (code != 0: 3500 invalid token, 1 unauthorized from getToken, other 35xx/45xx
// server codes) is final in centrifuge-js (it does not retry), so it is status `error` and
// `onError({ code: 'unauthorized' | 'forbidden' | 'disconnected', … })`.
// Recovery: a subscription that comes back (`subscribed` after it had been subscribed) refetches
// its views once, unless Centrifugo recovered what it missed (`wasRecovering && recovered`):
// `wasRecovering && !recovered` (history too short, epoch changed) and a non-recoverable
// subscription that returns both refetch, and so does a stream whose epoch changed (a stream reset).
// Subscriptions that return together (one reconnect) are
// recovered together, so a view under two channels (its own and `factory:`) is refetched once.
// A subscription already registered on the client (`getSubscription(name)`) is shared: our
// listeners are added, and on close only removed; it is neither unsubscribed nor removed.

import { channelSync } from './channelSync.js'

export function connectCentrifuge(rt, centrifuge, opts = {}) {
  if (!centrifuge || typeof centrifuge.newSubscription !== 'function' || typeof centrifuge.on !== 'function') {
    throw new TypeError('connectCentrifuge: expected a centrifuge-js v5 Centrifuge client')
  }
  const engine = rt._engine
  const report = (code, message) => rt._report({ code, message, source: 'centrifugo' })

  let everConnected = false
  const offs = []
  // entries: name → { name, sub, own, everSubscribed, offs }
  const sync = channelSync(rt, { open, close })
  const { entries } = sync

  function subOptions(name) {
    const o = {}
    if (opts.recoverable !== undefined) o.recoverable = !!opts.recoverable
    if (opts.positioned !== undefined) o.positioned = !!opts.positioned
    const extra = typeof opts.subscription === 'function' ? opts.subscription(name) : opts.subscription
    return { ...o, ...(extra ?? {}) }
  }

  function listen(target, event, fn) {
    target.on(event, fn)
    return () => {
      if (typeof target.removeListener === 'function') target.removeListener(event, fn)
      else if (typeof target.off === 'function') target.off(event, fn)
    }
  }

  function open(name) {
    let sub
    let own = false
    try {
      sub = typeof centrifuge.getSubscription === 'function' ? centrifuge.getSubscription(name) : null
      if (!sub) {
        sub = centrifuge.newSubscription(name, subOptions(name))
        own = true
      }
    } catch (e) {
      report('subscription_failed', `could not create subscription ${name}: ${e?.message ?? e}`)
      return
    }
    const entry = { name, sub, own, everSubscribed: sub.state === 'subscribed', epoch: null, offs: [] }
    entry.offs.push(listen(sub, 'publication', (ctx) => rt.ingest('centrifugo', ctx)))
    entry.offs.push(listen(sub, 'subscribed', (ctx) => {
      if (sync.stopped || entries.get(name) !== entry) return
      const recovered = !!(ctx && ctx.wasRecovering && ctx.recovered)
      const failedRecovery = !!(ctx && ctx.wasRecovering && !ctx.recovered)
      const epoch = ctx?.streamPosition?.epoch ?? null
      const epochChanged = entry.epoch !== null && epoch !== null && epoch !== entry.epoch
      if (failedRecovery || epochChanged || (entry.everSubscribed && !recovered)) sync.noteReturn(name)
      entry.everSubscribed = true
      if (epoch !== null) entry.epoch = epoch
    }))
    entry.offs.push(listen(sub, 'error', (ctx) => {
      report('subscription_error', `${name}: ${ctx?.type ?? 'error'} ${ctx?.error?.code ?? ''} ${ctx?.error?.message ?? ''}`.trim())
    }))
    entry.offs.push(listen(sub, 'unsubscribed', (ctx) => {
      // Code 0 is a client-side unsubscribe (ours or the app's); others come from the server.
      if (!sync.stopped && entries.get(name) === entry && ctx && ctx.code !== 0) {
        report('unsubscribed', `${name}: ${ctx.code} ${ctx.reason ?? ''}`.trim())
      }
    }))
    entries.set(name, entry)
    if (own || sub.state === 'unsubscribed') {
      try { sub.subscribe() } catch (e) { report('subscription_failed', `${name}: ${e?.message ?? e}`) }
    }
  }

  function close(entry) {
    for (const off of entry.offs.splice(0)) off()
    if (!entry.own) return
    try {
      entry.sub.unsubscribe()
      centrifuge.removeSubscription(entry.sub)
    } catch (e) {
      report('subscription_failed', `could not remove subscription ${entry.name}: ${e?.message ?? e}`)
    }
  }

  function clientState(s, ctx) {
    if (sync.stopped) return
    if (s === 'connected') {
      everConnected = true
      engine.setStatus('connected')
    } else if (s === 'connecting') {
      engine.setStatus(everConnected ? 'reconnecting' : 'connecting')
    } else {
      everConnected = false
      const code = ctx?.code ?? 0
      if (code === 0) {
        engine.setStatus('disconnected')
      } else {
        report(disconnectCode(code), `centrifugo disconnected the client: ${code} ${ctx.reason ?? ''}`.trim())
        engine.setStatus('error')
      }
    }
  }
  offs.push(listen(centrifuge, 'connecting', (ctx) => clientState('connecting', ctx)))
  offs.push(listen(centrifuge, 'connected', (ctx) => clientState('connected', ctx)))
  offs.push(listen(centrifuge, 'disconnected', (ctx) => clientState('disconnected', ctx)))
  offs.push(listen(centrifuge, 'error', (ctx) => {
    // Token callbacks that failed (centrifuge-js retries them with backoff); transport errors of a
    // reconnect in progress are not reported (the status says it).
    if (!sync.stopped && (ctx?.type === 'connectToken' || ctx?.type === 'refreshToken')) {
      report('token', `centrifuge-js getToken failed (${ctx.type}): ${ctx.error?.message ?? ''}`.trim())
    }
  }))
  clientState(centrifuge.state ?? 'disconnected')
  return sync.start(offs)
}

/** A final Centrifugo disconnect code as querywire's error code. */
function disconnectCode(code) {
  if (code === 1 || code === 3500 || code === 109) return 'unauthorized' // getToken said so, invalid token
  if (code === 3507 || code === 103) return 'forbidden' // permission denied
  return 'disconnected'
}
